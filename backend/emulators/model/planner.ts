/**
 * The offline model's tool planner: decides, from the conversation alone, whether the next assistant message is a
 * set of tool calls, an answer written from tool results, or plain chat. It is generic over the tools offered: it
 * reads their names, descriptions and JSON schemas, never a hard-coded conversation.
 *
 * How one step is decided (the planner is stateless; every request re-derives the plan from the messages):
 *   1. Read the request: the latest user message's own words (pasted material - quote blocks, fenced code, tagged
 *      page text, long text after a colon - is data, not instruction), its imperative verb, nouns, quoted strings,
 *      ISO dates and e-mail addresses.
 *   2. Choose the tool: verb ↔ the tool's action (list/create/complete/delete/update/send, from its name or its
 *      description's first word), nouns ↔ the tool's nouns (list_tasks → task). No qualifying tool → chat.
 *   3. Fill its arguments from the JSON schema: `…Id` parameters are references to entities that earlier tool results
 *      revealed (anything with an id and a name/title), matched by name in the user's words or inferred from a parent
 *      (a task's project); title-like parameters take quoted strings; dates take ISO dates; e-mail parameters take
 *      addresses; enums take a value the user named. Explicit `param value` / JSON in the user's words wins.
 *   4. A reference that cannot be resolved yet is a prerequisite: call the tool that lists that kind of entity
 *      (list_projects for projectId) and continue on the next request. A read-only tool with no entity named is run
 *      for every known entity (at most five, in parallel) - "what tasks are open?" lists every project's tasks.
 *   5. Never repeat a call (same name, same arguments) within a turn. Once the chosen tool's calls have results,
 *      answer from them (reply-writer.ts); if something stays unresolved, say what is missing.
 *
 * Tool results are only ever read as data (entities, error messages). Nothing inside them can pick a tool.
 */
import {
  type Action,
  actionOf,
  analyzeTools,
  canonical,
  type CallRecord,
  EMAIL,
  type Entity,
  identifierWords,
  ISO_DATE,
  Knowledge,
  latestUserIndex,
  messageText,
  mentionedEntities,
  type ModelMessage,
  normalizePhrase,
  type ParamInfo,
  parseJson,
  QUESTION_WORDS,
  quotedStrings,
  singular,
  STATE_WORDS,
  STOPWORDS,
  type ToolChoice,
  type ToolInfo,
  type ToolSpec,
  turnCalls,
  withoutQuoted,
  words,
} from './conversation';
import { answerFromPage, PAGE_CONTEXT_TOOL } from './page-reading';
import { planKnowledgeQuestion } from './knowledge-questions';
import { addressesFor, referencedAnswer, referencePhrase } from './references';
import { relativeDates, todayFrom } from './relative-dates';
import { writeAnswer, writeCannotDo, writeStuck } from './reply-writer';

export interface PlannedCall {
  name: string;
  args: Record<string, unknown>;
}

export type Plan =
  | { kind: 'call'; calls: PlannedCall[] }
  | { kind: 'answer'; text: string }
  /** No tool applies: the caller answers as a chat model. */
  | { kind: 'chat' };

export interface PlanInput {
  messages: ModelMessage[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
}

/** At most this many calls in one assistant message, and in one user turn. */
export const MAX_PARALLEL_CALLS = 5;
export const MAX_CALLS_PER_TURN = 16;

// ---------------------------------------------------------------------------------------------------------------
// 1. The request

export interface Request {
  /** The instruction the planner works from. */
  text: string;
  unquoted: string;
  quoted: string[];
  /** An imperative verb's action ("add …", "please delete …", "mark … as done"). */
  action?: Action;
  /** The tool noun the verb acts on, when one follows it ("create a **project**"). */
  object?: string;
  /** A question ("what …?", "which …"): a weak hint to read. */
  question: boolean;
  /** Every word, singularized. */
  nouns: Set<string>;
  dates: string[];
  emails: string[];
  /** Capitalized names in the unquoted text that no known entity explains ("… in Foo Bar"). */
  names: string[];
  /** A request for text work (summarize, count, translate …) that no tool should take. */
  chatOnly: boolean;
  /** A tool named literally ("call list_tasks"). */
  explicitTool?: string;
}

const IMPERATIVE_LEAD = new Set(['please', 'pls', 'you', 'to', 'and', 'then', 'also', 'now', 'just', 's', 'lets', 'go', 'me', 'can', 'could', 'would', 'must', 'should']);
const PARTICIPLES = new Set(['done', 'completed', 'finished', 'resolved', 'closed']);
const MARKERS = new Set(['mark', 'set', 'flag', 'tick', 'check']);
const PREPOSITIONS = new Set(['to', 'in', 'into', 'for', 'on', 'from', 'of', 'as', 'at', 'with', 'under', 'onto']);
const CHAT_ONLY = new Set(['summarize', 'summarise', 'summary', 'tldr', 'tl', 'count', 'translate', 'rewrite', 'proofread', 'paraphrase']);

/**
 * The user's own instruction in a message: pasted material is removed - fenced code, `>` quotes, tagged blocks such
 * as `<page>…</page>`, and long text after a colon ("Summarize this: …", "Here is an email I got: …").
 */
export function instructionText(message: string): string {
  let t = message
    .replace(/```[\s\S]*?(```|$)/g, ' ')
    .replace(/<([A-Za-z][\w-]*)(\s[^>]*)?>[\s\S]*?<\/\1>/g, ' ')
    .split('\n')
    .filter((l) => !/^\s*>/.test(l))
    .join('\n');
  const colon = t.indexOf(':');
  if (colon > 0 && t.length - colon > 80 && t.slice(0, colon).trim()) t = t.slice(0, colon);
  return t.trim();
}

function clauses(text: string): string[][] {
  return text.split(/[.!?;:\n,]+/).map(words).filter((c) => c.length > 0);
}

export function parseRequest(text: string, tools: ToolInfo[], knowledge: Knowledge, today?: string): Request {
  const quoted = quotedStrings(text).map((q) => q.text);
  const unquoted = withoutQuoted(text);
  const cls = clauses(unquoted);
  const vocabulary = vocabularyOf(tools);
  let action: Action | undefined;
  let object: string | undefined;
  for (const c of cls) {
    let verbAt = -1;
    for (let i = 0; i < c.length && !action; i++) {
      const a = actionOf(c[i]);
      if (!a) continue;
      const marker = STATE_WORDS.has(c[i]) ? c.slice(0, i).findIndex((w) => MARKERS.has(w)) : -1;
      if (marker >= 0) {
        action = 'complete';
        verbAt = marker;
      } else if ((i === 0 || IMPERATIVE_LEAD.has(c[i - 1])) && !PARTICIPLES.has(c[i])) {
        action = a;
        verbAt = i;
      }
    }
    if (action) {
      // The verb's object: the first tool noun after it, before a preposition ("create a project …").
      for (const w of c.slice(verbAt + 1)) {
        if (PREPOSITIONS.has(w)) break;
        if (vocabulary.has(singular(w))) { object = singular(w); break; }
      }
      break;
    }
  }
  const all = words(unquoted);
  const lowerText = text.toLowerCase();
  const explicitTool = tools.find((t) => new RegExp(`(^|[^\\w])${escapeRegExp(t.name.toLowerCase())}([^\\w]|$)`).test(lowerText))?.name;
  const entityWords = new Set(knowledge.entities().flatMap((e) => [...words(e.label), ...words(e.id)]));
  return {
    text,
    unquoted,
    quoted,
    action,
    object,
    question: text.includes('?') || cls.some((c) => QUESTION_WORDS.has(c[0])),
    nouns: new Set(all.map(singular)),
    dates: [...[...text.matchAll(ISO_DATE)].map((m) => m[0]), ...(today ? relativeDates(text, today) : [])],
    emails: [...text.matchAll(EMAIL)].map((m) => m[0]),
    names: capitalizedNames(unquoted).filter((n) => !words(n).every((w) => entityWords.has(w) || vocabulary.has(singular(w)))),
    chatOnly: cls.length > 0 && (CHAT_ONLY.has(cls[0][0]) || (cls[0][0] === 'how' && cls[0][1] === 'many' && cls[0].includes('words'))),
    explicitTool,
  };
}

/** Runs of capitalized words that do not start a sentence: "tasks in Foo Bar" → ["Foo Bar"]. */
function capitalizedNames(text: string): string[] {
  const out: string[] = [];
  for (const sentence of text.split(/[.!?\n]+/)) {
    const tokens = sentence.trim().split(/\s+/).filter(Boolean);
    let run: string[] = [];
    tokens.forEach((tok, i) => {
      const w = tok.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
      const capital = i > 0 && /^\p{Lu}/u.test(w) && w !== 'I';
      const continues = run.length > 0 && /^[\p{Ll}\p{N}]/u.test(w) && !STOPWORDS.has(w) && !actionOf(w);
      if (capital || continues) run.push(w);
      else if (run.length) { out.push(run.join(' ')); run = []; }
    });
    if (run.length) out.push(run.join(' '));
  }
  return out;
}

export function vocabularyOf(tools: ToolInfo[]): Set<string> {
  return new Set(tools.flatMap((t) => [...t.nouns, ...t.params.flatMap((p) => (p.kind ? [p.kind] : []))]));
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Choosing the tool

export interface ToolScore {
  tool: ToolInfo;
  score: number;
  qualifies: boolean;
}

export function scoreTools(req: Request, tools: ToolInfo[], knowledge: Knowledge): ToolScore[] {
  const vocabulary = vocabularyOf(tools);
  const mentionsEntity = mentionedEntities(req.unquoted, knowledge.entities(), vocabulary).length > 0;
  return tools.map((tool) => {
    const nounHit = tool.nouns.some((n) => req.nouns.has(n));
    const actionHit = req.action !== undefined && tool.action === req.action;
    const otherObject = req.object !== undefined && !tool.nouns.includes(req.object);
    let score = 0;
    if (req.explicitTool === tool.name) score += 10;
    if (actionHit) score += 4;
    else if (!req.action && tool.action === 'read' && (req.question || nounHit)) score += 2;
    if (nounHit) score += 3;
    // "delete all projects" prefers delete_all_projects; without "all"/"every", the one-item tool wins.
    const bulkTool = /(^|_)(all|every|bulk)(_|$)/.test(tool.name);
    if (bulkTool) score += /\b(all|every|each)\b/i.test(req.unquoted) ? 2 : -1;
    const described = new Set(words(tool.description).filter((w) => w.length > 3 && !STOPWORDS.has(w)).map(singular));
    score += Math.min(1, 0.2 * [...req.nouns].filter((w) => described.has(w) && !STOPWORDS.has(w)).length);
    const hasTarget = req.quoted.length > 0 || mentionsEntity || req.names.length > 0 || req.emails.length > 0;
    const qualifies =
      req.explicitTool === tool.name ||
      (actionHit && !otherObject && (nounHit || hasTarget)) ||
      (!req.action && tool.action === 'read' && nounHit);
    return { tool, score, qualifies };
  });
}

export function chooseTool(req: Request, tools: ToolInfo[], knowledge: Knowledge): ToolInfo | undefined {
  if (req.chatOnly && !req.explicitTool) return undefined;
  const ranked = scoreTools(req, tools, knowledge)
    .filter((s) => s.qualifies)
    .sort((a, b) => b.score - a.score || a.tool.index - b.tool.index);
  return ranked[0]?.tool;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Filling arguments

export interface Missing {
  tool: ToolInfo;
  param: ParamInfo;
  /** What the user called the thing that could not be found. */
  mention?: string;
}

export type Resolution =
  | { status: 'ready'; calls: Record<string, unknown>[] }
  | { status: 'blocked'; prereqs: PlannedCall[] }
  | { status: 'stuck'; missing: Missing };

export interface PlanContext {
  req: Request;
  tools: ToolInfo[];
  knowledge: Knowledge;
  /** This turn's calls so far. */
  done: CallRecord[];
  /** The whole conversation, for what the request points back at ("email Bob the notes"). */
  messages?: ModelMessage[];
}

export function alreadyCalled(done: CallRecord[], name: string, args: Record<string, unknown>): boolean {
  const key = canonical(args);
  return done.some((c) => c.name === name && canonical(c.args) === key);
}

/** `projectId security-audit`, `title: "X"`, `to=a@b.c` or a JSON object naming the tool's parameters. */
export function explicitArgs(text: string, tool: ToolInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const json = firstJsonObject(text);
  if (json) {
    for (const [k, v] of Object.entries(json)) if (tool.openSchema || tool.params.some((p) => p.name === k)) out[k] = v;
  }
  for (const p of tool.params) {
    if (p.name in out) continue;
    const labels = [...new Set([p.name, identifierWords(p.name).join(' '), identifierWords(p.name).join('_')])];
    for (const label of labels) {
      const re = new RegExp(`(?:^|[^\\w])${escapeRegExp(label)}\\s*(?:=|:|\\bis\\b|\\bas\\b|\\bto\\b|\\bof\\b)?\\s*("[^"\\n]*"|'[^'\\n]*'|“[^”\\n]*”|[^\\s,;)}\\]]+)`, 'i');
      const m = re.exec(text);
      if (!m) continue;
      const rawValue = m[1];
      const isQuoted = /^["'“]/.test(rawValue);
      const value = isQuoted ? rawValue.slice(1, -1) : rawValue.replace(/[.:!?]+$/, '');
      const coerced = coerce(value, p, isQuoted);
      if (coerced !== undefined) { out[p.name] = coerced; break; }
    }
  }
  return out;
}

function coerce(value: string, p: ParamInfo, quoted: boolean): unknown {
  switch (p.role) {
    case 'email': return /^[\w.+-]+@[\w-]+(\.[\w-]+)+$/.test(value) ? (p.schema.type === 'array' ? [value] : value) : undefined;
    case 'date': return /^\d{4}-\d{2}-\d{2}/.test(value) ? value : undefined;
    case 'number': return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
    case 'boolean': return /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : undefined;
    case 'enum': return p.enumValues?.find((v) => v.toLowerCase() === value.toLowerCase());
    case 'ref': return value && !STOPWORDS.has(value.toLowerCase()) ? value : undefined;
    default: return quoted && value ? value : undefined;
  }
}

export function firstJsonObject(text: string): Record<string, unknown> | undefined {
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        const v = parseJson(text.slice(start, i + 1));
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
        break;
      }
    }
  }
  return undefined;
}

/** The tool that lists entities of `kind` (list_projects for projects) without needing one of them first. */
export function findLister(kind: string, tools: ToolInfo[], exclude?: ToolInfo): ToolInfo | undefined {
  return tools
    .filter((t) => t !== exclude && t.readOnly && t.nouns.includes(kind) && !t.params.some((p) => p.required && p.role === 'ref' && p.kind === kind))
    .sort((a, b) => a.params.filter((p) => p.required).length - b.params.filter((p) => p.required).length || a.index - b.index)[0];
}

/**
 * Works out the calls for `tool`: `ready` (one call, or one per named/enumerated entity), `blocked` on prerequisite
 * lister calls, or `stuck` on a parameter nothing can fill. `asPrerequisite` is set when the tool is being run to
 * look something up for another tool, in which case quoted strings are that tool's, not this one's.
 */
export function resolveTool(tool: ToolInfo, ctx: PlanContext, asPrerequisite = false, depth = 0): Resolution {
  const { req, knowledge, tools } = ctx;
  const vocabulary = vocabularyOf(tools);
  const explicit = explicitArgs(req.text, tool);
  const pool = [...req.quoted];
  const claim = (q: string) => pool.splice(pool.indexOf(q), 1);
  const values = new Map<string, unknown[]>();
  const refs = new Map<string, Entity[]>();
  for (const [k, v] of Object.entries(explicit)) {
    values.set(k, [v]);
    if (typeof v === 'string' && pool.includes(v)) claim(v);
  }

  // References named in the user's words (unquoted first, then quoted strings).
  for (const p of tool.params.filter((x) => x.role === 'ref' && !values.has(x.name))) {
    const known = knowledge.entities(p.kind);
    let hits = mentionedEntities(req.unquoted, known, vocabulary);
    if (!hits.length) {
      for (const q of [...pool]) {
        const h = mentionedEntities(q, known, vocabulary);
        if (h.length) { hits = [...hits, ...h]; claim(q); }
      }
    }
    if (hits.length) refs.set(p.name, hits);
  }
  const inferParents = () => {
    for (const p of tool.params.filter((x) => x.role === 'ref' && !values.has(x.name) && !refs.has(x.name))) {
      const parent = [...refs.values()].flat().find((e) => e.parent?.kind === p.kind)?.parent;
      if (parent) refs.set(p.name, [knowledge.get(parent.kind, parent.id) ?? { ...parent, label: parent.id, data: {} }]);
    }
  };
  // A reference implied by another: the task named belongs to a project, so that is the projectId.
  inferParents();
  // Failing a name, a word of the user's (unquoted) text that only one entity's name contains ("the redirects task"
  // → "Set up redirects from old URLs"), then parents again.
  const usedWords = new Set([...refs.values()].flat().flatMap((e) => words(e.label)));
  for (const p of tool.params.filter((x) => x.role === 'ref' && !values.has(x.name) && !refs.has(x.name))) {
    const hit = distinctiveMatch(req.unquoted, knowledge.entities(p.kind), new Set([...vocabulary, ...usedWords]));
    if (hit) refs.set(p.name, [hit]);
  }
  inferParents();
  // A read-only tool with no entity named runs for each known one ("what tasks are open?").
  const namedSomething = req.names.length > 0 || (!asPrerequisite && pool.length > 0);
  for (const p of tool.params.filter((x) => x.role === 'ref' && x.required && !values.has(x.name) && !refs.has(x.name))) {
    const known = knowledge.entities(p.kind);
    if (tool.readOnly && !namedSomething && known.length) refs.set(p.name, known.slice(0, MAX_PARALLEL_CALLS));
  }
  for (const [k, es] of refs) values.set(k, es.map((e) => e.id));

  // Everything else, from the user's words.
  const mentionedText = normalizePhrase(req.unquoted);
  for (const p of tool.params.filter((x) => !values.has(x.name))) {
    let v: unknown[] = [];
    switch (p.role) {
      case 'title':
        if (pool.length) v = tool.action === 'create' && !tool.params.some((o) => o !== p && o.role === 'body') ? pool.splice(0) : [claim(pool[0])[0]];
        else {
          const named = /\b(?:called|named|titled)\s+([^,.;!?\n]+)/i.exec(req.unquoted);
          if (named) v = [named[1].trim()];
          // "send Bob the notes from today": a message about what it refers to is titled after it.
          else if (tool.action === 'send' && ctx.messages && referencedAnswer(req.unquoted, ctx.messages, latestUserIndex(ctx.messages))) v = [referencePhrase(req.unquoted) ?? 'Notes'];
        }
        break;
      case 'body':
        if (pool.length) v = [claim(pool[0])[0]];
        else {
          const said = /\b(?:saying|that says|with (?:the )?(?:message|body|text))\s*:?\s*(.+)$/i.exec(req.unquoted);
          const earlier = !said && ctx.messages ? referencedAnswer(req.unquoted, ctx.messages, latestUserIndex(ctx.messages)) : undefined;
          if (said) v = [said[1].trim()];
          else if (earlier) v = [earlier];
        }
        break;
      case 'text':
        // A free-form required value ("city"): something quoted, else a name the user capitalized ("in Berlin").
        if (p.required && pool.length) v = [claim(pool[0])[0]];
        else if (p.required && req.names.length) v = [req.names[0]];
        break;
      case 'email': {
        // Optional address lists (cc) stay empty when a required one (to) takes the addresses; a list takes them all.
        if (!p.required && tool.params.some((o) => o !== p && o.role === 'email' && o.required)) break;
        let emails = req.emails.slice(0, MAX_PARALLEL_CALLS);
        // "email Bob …": a first name whose address the conversation already showed (exactly one match each).
        if (!emails.length && p.required && ctx.messages) {
          emails = req.names.flatMap((n) => {
            const found = addressesFor(n, ctx.messages!);
            return found.length === 1 ? found : [];
          }).slice(0, MAX_PARALLEL_CALLS);
        }
        v = p.schema.type === 'array' ? (emails.length ? [emails] : []) : emails;
        break;
      }
      case 'date': v = req.dates.slice(0, 1); break;
      case 'enum': v = (p.enumValues ?? []).filter((e) => mentionedText.includes(normalizePhrase(e))).slice(0, 1); break;
      case 'number': {
        const n = p.required ? /(?<![\d-])\d+(?:\.\d+)?(?![\d-])/.exec(req.unquoted.replace(ISO_DATE, ' ')) : null;
        if (n) v = [Number(n[0])];
        break;
      }
      default: break;
    }
    if (v.length) values.set(p.name, v);
  }

  // Missing required parameters: references can be looked up; anything else means asking the user.
  const missing = tool.params.filter((p) => p.required && !values.has(p.name));
  // Something only the user can say (a title, a recipient): ask before looking anything up.
  const askUser = missing.find((p) => p.role !== 'ref' || !p.kind || !findLister(p.kind, tools, tool));
  if (askUser) return { status: 'stuck', missing: { tool, param: askUser, mention: mentionFor(askUser, req, pool) } };
  if (missing.length) {
    const prereqs: PlannedCall[] = [];
    let stuck: Missing | undefined;
    for (const p of missing) {
      const lister = p.role === 'ref' && p.kind && depth < 3 ? findLister(p.kind, tools, tool) : undefined;
      const sub = lister ? resolveTool(lister, ctx, true, depth + 1) : undefined;
      if (sub?.status === 'ready') {
        const fresh = sub.calls.filter((args) => !alreadyCalled(ctx.done, lister!.name, args));
        if (fresh.length) prereqs.push(...fresh.map((args) => ({ name: lister!.name, args })));
        else stuck ??= { tool, param: p, mention: mentionFor(p, req, pool) };
      } else if (sub?.status === 'blocked') prereqs.push(...sub.prereqs);
      else stuck ??= { tool, param: p, mention: mentionFor(p, req, pool) };
    }
    const unique = prereqs.filter((c, i) => prereqs.findIndex((o) => o.name === c.name && canonical(o.args) === canonical(c.args)) === i);
    if (unique.length) return { status: 'blocked', prereqs: unique };
    return { status: 'stuck', missing: stuck! };
  }

  // One call per value of the (first) parameter that has several; the rest take their first value.
  const multi = tool.params.find((p) => (values.get(p.name)?.length ?? 0) > 1);
  const base: Record<string, unknown> = {};
  for (const p of tool.params) if (values.has(p.name)) base[p.name] = values.get(p.name)![0];
  for (const [k, v] of Object.entries(explicit)) if (!(k in base)) base[k] = v;
  const calls = multi ? values.get(multi.name)!.slice(0, MAX_PARALLEL_CALLS).map((v) => ({ ...base, [multi.name]: v })) : [base];
  return { status: 'ready', calls };
}

/** The one entity whose name shares the most distinctive words (4+ letters, not verbs or tool nouns) with the text. */
export function distinctiveMatch(text: string, candidates: Entity[], reserved: Set<string>): Entity | undefined {
  const ws = new Set(words(text).filter((w) => w.length >= 4 && !STOPWORDS.has(w) && !actionOf(w) && !reserved.has(w) && !reserved.has(singular(w))).map(singular));
  if (!ws.size) return undefined;
  const scored = candidates
    .map((e) => ({ e, n: new Set(words(e.label).map(singular).filter((w) => ws.has(w))).size }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  return scored.length && (scored.length === 1 || scored[0].n > scored[1].n) ? scored[0].e : undefined;
}

function mentionFor(p: ParamInfo, req: Request, pool: string[]): string | undefined {
  if (p.role !== 'ref') return undefined;
  if (pool.length) return pool[0];
  if (req.names.length) return req.names[0];
  const after = /\b(?:in|from|for|of|on|to)\s+(?:the\s+)?([^,.;!?\n]{2,40}?)(?:\s+(?:project|list|board))?\s*[?.!]*$/i.exec(req.unquoted.trim());
  return after?.[1];
}

// ---------------------------------------------------------------------------------------------------------------
// 4. One step

/** The benign model's next step for this conversation. */
export function planNextStep(input: PlanInput): Plan {
  const { messages } = input;
  const userIndex = latestUserIndex(messages);
  const userText = userIndex >= 0 ? messages[userIndex].content ?? '' : '';
  return planFor(instructionText(userText), input);
}

/**
 * The next step for carrying out `instruction` in this conversation. The benign model passes the user's own
 * words; the adversary also passes instructions it found elsewhere.
 */
export function planFor(instruction: string, input: PlanInput): Plan {
  const { messages, toolChoice, parallelToolCalls } = input;
  const offered = analyzeTools(input.tools);
  const tools = toolChoice === 'none' ? [] : offered;
  const knowledge = Knowledge.from(messages);
  const done = turnCalls(messages);
  const system = messages.find((m) => m.role === 'system');
  const req = parseRequest(instruction, offered, knowledge, todayFrom(system ? messageText(system) : undefined));
  const ctx: PlanContext = { req, tools, knowledge, done, messages };
  const limit = (calls: PlannedCall[]): Plan => ({ kind: 'call', calls: calls.slice(0, parallelToolCalls === false ? 1 : MAX_PARALLEL_CALLS) });
  const forced = typeof toolChoice === 'object' ? tools.find((t) => t.name === toolChoice.function.name) : undefined;
  const answered = (text: string): Plan => (toolChoice === 'required' || forced ? mustCall(ctx, forced) : { kind: 'answer', text });

  // "What does my knowledge base say about X?": search it, then answer only from what came back.
  const kb = !forced && toolChoice !== 'required' ? planKnowledgeQuestion(instruction, tools, done) : undefined;
  if (kb) return kb;
  if (done.length >= MAX_CALLS_PER_TURN && !forced && toolChoice !== 'required') {
    return { kind: 'answer', text: writeAnswer({ req, tool: undefined, calls: done, knowledge, tools: offered }) };
  }
  const tool = forced ?? chooseTool(req, tools, knowledge);
  // Page context attached to this turn, and a request about it ("summarize this page"): answered from the page alone.
  if ((!tool || req.chatOnly) && !req.explicitTool && done.some((c) => c.name === PAGE_CONTEXT_TOOL)) {
    const fromPage = answerFromPage(req.text, done);
    if (fromPage) return answered(fromPage);
  }
  if (!tool) {
    if (done.some((c) => c.result)) return answered(writeAnswer({ req, tool: undefined, calls: done, knowledge, tools: offered }));
    if (toolChoice === 'required') return mustCall(ctx, undefined);
    const cannot = req.action && !req.chatOnly ? writeCannotDo(req, tools) : undefined;
    return cannot ? { kind: 'answer', text: cannot } : { kind: 'chat' };
  }
  const r = resolveTool(tool, ctx);
  if (r.status === 'ready') {
    const fresh = r.calls.filter((args) => !alreadyCalled(done, tool.name, args));
    if (fresh.length) return limit(fresh.map((args) => ({ name: tool.name, args })));
    const mine = done.filter((c) => c.name === tool.name);
    return answered(writeAnswer({ req, tool, calls: mine, knowledge, tools: offered }));
  }
  if (forced) return mustCall(ctx, forced);
  if (r.status === 'blocked') return limit(r.prereqs);
  return answered(writeStuck({ req, missing: r.missing, done, knowledge, tools: offered }));
}

/**
 * `tool_choice: 'required'` or a named function: the protocol demands a call even when the plan is finished. Prefer
 * a call not made yet this turn; the named tool is called with whatever arguments could be filled.
 */
function mustCall(ctx: PlanContext, forced: ToolInfo | undefined): Plan {
  const candidates = forced ? [forced] : [...scoreTools(ctx.req, ctx.tools, ctx.knowledge)].sort((a, b) => b.score - a.score || a.tool.index - b.tool.index).map((s) => s.tool);
  for (const t of candidates) {
    const r = resolveTool(t, ctx);
    if (r.status === 'ready') {
      const fresh = r.calls.find((args) => !alreadyCalled(ctx.done, t.name, args));
      if (fresh) return { kind: 'call', calls: [{ name: t.name, args: fresh }] };
    }
  }
  const t = candidates[0];
  const r = resolveTool(t, ctx);
  return { kind: 'call', calls: [{ name: t.name, args: r.status === 'ready' ? r.calls[0] : explicitArgs(ctx.req.text, t) }] };
}
