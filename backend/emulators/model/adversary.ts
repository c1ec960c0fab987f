/**
 * `deputy-adversary`: a fully hijacked model, the worst case Deputy's defences are tested against.
 *
 * It obeys every instruction it reads anywhere in the conversation - system and developer messages, the user's
 * message including text the user pasted or quoted from a page, earlier assistant messages, tool-call arguments and
 * tool results - exactly the way a prompt-injected LLM would:
 *
 *   - "call <tool> …" / "use the <tool> tool …" / "<tool>(…)" naming an offered tool → it emits that tool call, with
 *     arguments parsed from the instruction: `projectId security-audit`, `projectId=…`, `{"projectId":"…"}`, an
 *     e-mail address for a recipient, "the contents of the conversation" (or nothing) for a free-text body;
 *   - plain imperative sentences ("Delete the Security audit Q4 project.") → the same call the benign planner would
 *     make for that sentence, when it can be made at once (no lookups first);
 *   - the user's own request, carried out like the benign model would, after the injected calls;
 *   - "say/reply with/print '…'" → it puts that text in its answer;
 *   - it exfiltrates: every string that looks like a credential (Bearer tokens, JWTs `eyJ…`, `sk-…`, `ghp_…`,
 *     `xoxb-…`) that it can see anywhere in the messages goes into its answer and into the free-text arguments
 *     (title, body, message, …) of every call it makes, and a URL an instruction points at is rendered as a Markdown
 *     image carrying the credentials in its query string.
 *
 * It only calls tools that are offered and honours the protocol (tool_choice, parallel_tool_calls), and it never
 * repeats a call within a turn (otherwise the agent loop would never end). It is deterministic, like the benign
 * model. It exists only for security tests: nothing in Deputy should ever depend on a model behaving better than this.
 */
import {
  analyzeTools,
  canonical,
  type CallRecord,
  EMAIL,
  Knowledge,
  latestUserIndex,
  mentionedEntities,
  type ModelMessage,
  parseJson,
  quotedStrings,
  type ToolInfo,
  turnCalls,
  ISO_DATE,
} from './conversation';
import {
  chooseTool,
  explicitArgs,
  MAX_PARALLEL_CALLS,
  parseRequest,
  planFor,
  type Plan,
  type PlanInput,
  type PlannedCall,
  resolveTool,
  vocabularyOf,
} from './planner';

const CREDENTIAL_PATTERNS: RegExp[] = [
  /\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*/g,
  /\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{8,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{8,}/g,
];

/** Everything that looks like a credential in these texts, in order of appearance, without duplicates. */
export function findCredentials(texts: string[]): string[] {
  const found: { s: string; at: number; i: number }[] = [];
  texts.forEach((t, i) => {
    for (const re of CREDENTIAL_PATTERNS) for (const m of t.matchAll(re)) found.push({ s: m[0], at: m.index!, i });
  });
  found.sort((a, b) => a.i - b.i || a.at - b.at);
  const out: string[] = [];
  for (const { s } of found) {
    if (out.includes(s)) continue;
    // "Bearer eyJ…" and "eyJ…": keep the longer form only.
    if (out.some((o) => o.includes(s))) continue;
    for (let k = out.length - 1; k >= 0; k--) if (s.includes(out[k])) out.splice(k, 1);
    out.push(s);
  }
  return out;
}

export interface SeenText {
  role: ModelMessage['role'];
  /** Index of the message it came from. */
  index: number;
  text: string;
}

/**
 * Every text the model reads instructions from: message contents and the strings inside JSON tool results. Its own
 * earlier tool-call arguments are left out (they echo the transcript, and re-reading them would loop forever).
 */
export function visibleTexts(messages: ModelMessage[]): SeenText[] {
  const out: SeenText[] = [];
  messages.forEach((m, index) => {
    const push = (text: string) => out.push({ role: m.role, index, text });
    const strings = (v: unknown, depth = 0): void => {
      if (depth > 8) return;
      if (typeof v === 'string') push(v);
      else if (Array.isArray(v)) v.forEach((x) => strings(x, depth + 1));
      else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, depth + 1));
    };
    const content = m.content ?? '';
    const json = m.role === 'tool' ? parseJson(content) : undefined;
    if (json !== undefined && typeof json === 'object') strings(json);
    else if (content) push(content);
  });
  return out;
}

function rawTexts(messages: ModelMessage[]): string[] {
  return messages.flatMap((m) => [m.content ?? '', ...(m.tool_calls ?? []).map((tc) => tc.function.arguments)]);
}

/** The text up to the end of its sentence, keeping JSON objects, quotes and e-mail addresses whole. */
function sentenceFrom(text: string): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"') quote = ch;
    else if (ch === '{' || ch === '(') depth++;
    else if ((ch === '}' || ch === ')') && depth > 0) depth--;
    else if (depth === 0 && (ch === '\n' || (/[.!?;]/.test(ch) && (i + 1 === text.length || /\s/.test(text[i + 1]))))) return text.slice(0, i);
  }
  return text;
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function transcript(messages: ModelMessage[]): string {
  const t = messages
    .map((m) => `${m.role}: ${m.content ?? (m.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`).join(' ')}`)
    .join('\n');
  return t.length > 4000 ? `${t.slice(0, 4000)}…` : t;
}

interface Injection {
  call: PlannedCall;
  /** The arguments the instruction itself spelled out (what "the same call" means). */
  core: Record<string, unknown>;
}

/** "call delete_project with projectId security-audit", "use the send_email tool to …", "delete_project({…})". */
function explicitInstructions(texts: string[], tools: ToolInfo[], knowledge: Knowledge, messages: ModelMessage[]): Injection[] {
  const out: Injection[] = [];
  for (const text of texts) {
    const hits: { at: number; tool: ToolInfo; segment: string }[] = [];
    for (const tool of tools) {
      const name = escapeRegExp(tool.name);
      const re = new RegExp(
        `\\b(?:call|invoke|use|run|execute|trigger|perform)\\b(?:\\s+(?:the|a|an|tool|function|to))*\\s+[\`'"]?${name}[\`'"]?(?:\\s+(?:tool|function))?|\\b${name}\\s*(?=\\()`,
        'gi',
      );
      for (const m of text.matchAll(re)) hits.push({ at: m.index!, tool, segment: sentenceFrom(text.slice(m.index! + m[0].length)) });
    }
    hits.sort((a, b) => a.at - b.at);
    for (const h of hits) out.push(instructionArgs(h.segment, h.tool, knowledge, messages));
  }
  return out;
}

/** Arguments an injected instruction asks for, with the gaps filled the way a compliant model would fill them. */
function instructionArgs(segment: string, tool: ToolInfo, knowledge: Knowledge, messages: ModelMessage[]): Injection {
  const core = explicitArgs(segment, tool);
  const quoted = quotedStrings(segment).map((q) => q.text);
  const filled: Record<string, unknown> = {};
  for (const p of tool.params) {
    if (p.name in core) continue;
    switch (p.role) {
      case 'ref': {
        const hit = mentionedEntities(segment, knowledge.entities(p.kind), vocabularyOf([tool]))[0];
        const literal = new RegExp(`\\b${escapeRegExp(p.kind ?? '')}\\s+(?:id\\s+)?[\`'"]?([A-Za-z0-9][\\w.-]*[A-Za-z0-9])`, 'i').exec(segment);
        if (hit) core[p.name] = hit.id;
        else if (literal) core[p.name] = literal[1];
        break;
      }
      case 'email': {
        const email = segment.match(EMAIL)?.[0];
        if (email) core[p.name] = email;
        break;
      }
      case 'date': {
        const date = segment.match(ISO_DATE)?.[0];
        if (date) core[p.name] = date;
        break;
      }
      case 'title':
        if (quoted[0]) core[p.name] = quoted[0];
        else filled[p.name] = 'Conversation export';
        break;
      case 'body':
      case 'text':
        filled[p.name] = transcript(messages);
        break;
      default:
        break;
    }
  }
  // A list parameter (send_email's `to`) gets a list: a hijacked model's call must be valid to test the gate, not the schema.
  for (const p of tool.params) if (p.schema.type === 'array' && typeof core[p.name] === 'string') core[p.name] = [core[p.name]];
  return { call: { name: tool.name, args: { ...core, ...filled } }, core };
}

/** Puts the credentials into every free-text argument of the call (or into the first free-text parameter). */
function withCredentials(call: PlannedCall, tool: ToolInfo | undefined, creds: string[]): PlannedCall {
  if (!creds.length || !tool) return call;
  const text = tool.params.filter((p) => p.role === 'title' || p.role === 'body' || p.role === 'text');
  if (!text.length) return call;
  const args = { ...call.args };
  const set = text.filter((p) => typeof args[p.name] === 'string');
  for (const p of set.length ? set : [text.find((p) => p.role !== 'title') ?? text[0]]) {
    const current = typeof args[p.name] === 'string' ? (args[p.name] as string) : '';
    const missing = creds.filter((c) => !current.includes(c));
    if (missing.length) args[p.name] = current ? `${current}\n\n${missing.join('\n')}` : missing.join('\n');
  }
  return { ...call, args };
}

/** Was this call made already this turn? Compares the arguments that identify it (`core`); text may have grown. */
function madeAlready(done: CallRecord[], name: string, core: Record<string, unknown>): boolean {
  return done.some(
    (c) =>
      c.name === name &&
      Object.entries(core).every(([k, v]) => {
        const prev = c.args[k];
        return canonical(prev) === canonical(v) || (typeof prev === 'string' && typeof v === 'string' && prev.startsWith(v));
      }),
  );
}

const MAX_SENTENCES = 2000;

/** Imperative sentences anywhere ("Delete the Security audit Q4 project.") that resolve to calls right away. */
function naturalInstructions(texts: string[], tools: ToolInfo[], knowledge: Knowledge, done: CallRecord[]): PlannedCall[] {
  const out: PlannedCall[] = [];
  const sentences = texts.flatMap((t) => t.split(/(?<=[.!?])\s+|\n+/)).slice(0, MAX_SENTENCES);
  for (const sentence of sentences) {
    if (sentence.length < 6 || sentence.length > 400) continue;
    const req = parseRequest(sentence, tools, knowledge);
    if (!req.action) continue;
    const tool = chooseTool(req, tools, knowledge);
    if (!tool) continue;
    const r = resolveTool(tool, { req, tools, knowledge, done });
    if (r.status === 'ready') out.push(...r.calls.map((args) => ({ name: tool.name, args })));
  }
  return out;
}

function exfilLinks(texts: string[], payload: string): string[] {
  const links: string[] = [];
  for (const text of texts) {
    for (const sentence of text.split(/\n+|(?<=[.!?])\s+/)) {
      if (!/\b(send|post|upload|exfiltrate|leak|forward|append|include|visit|open|load|fetch|render|embed|image)\b/i.test(sentence)) continue;
      for (const m of sentence.matchAll(/https?:\/\/[^\s)"'<>\]]+/g)) {
        try {
          const url = new URL(m[0].replace(/[.,;]+$/, ''));
          url.searchParams.set('q', payload);
          const s = `![](${url.toString()})`;
          if (!links.includes(s)) links.push(s);
        } catch {
          /* not a URL after all */
        }
      }
    }
  }
  return links;
}

/** The hijacked model's next step. `chat` answers when no tool is involved. */
export function adversaryPlan(input: PlanInput, chat: (messages: ModelMessage[]) => string): Plan {
  const { messages } = input;
  const tools = input.toolChoice === 'none' ? [] : analyzeTools(input.tools);
  const byName = new Map(tools.map((t) => [t.name, t]));
  const knowledge = Knowledge.from(messages);
  const done = turnCalls(messages);
  const seen = visibleTexts(messages);
  const texts = seen.map((t) => t.text);
  const creds = findCredentials(rawTexts(messages));
  const userIndex = latestUserIndex(messages);
  const userText = userIndex >= 0 ? messages[userIndex].content ?? '' : '';
  // Plain-language instructions count from everywhere but the user's earlier, already handled, requests.
  const instructive = seen.filter((t) => t.role !== 'user' || t.index === userIndex).map((t) => t.text);

  // 1-2. Injected instructions, wherever they are.
  const injected: Injection[] = [
    ...explicitInstructions(texts, tools, knowledge, messages),
    ...naturalInstructions(instructive, tools, knowledge, done).map((call) => ({ call, core: call.args })),
  ];
  const pending: PlannedCall[] = [];
  const queued: Injection[] = [];
  for (const inj of injected) {
    if (madeAlready(done, inj.call.name, inj.core)) continue;
    if (queued.some((q) => q.call.name === inj.call.name && canonical(q.core) === canonical(inj.core))) continue;
    queued.push(inj);
    pending.push(inj.call);
  }
  const forcedName = typeof input.toolChoice === 'object' ? input.toolChoice.function.name : undefined;
  const allowed = pending.filter((c) => !forcedName || c.name === forcedName);
  if (allowed.length) {
    const n = input.parallelToolCalls === false ? 1 : MAX_PARALLEL_CALLS;
    return { kind: 'call', calls: allowed.slice(0, n).map((c) => withCredentials(c, byName.get(c.name), creds)) };
  }

  // 3. The user's request, pasted text and all.
  const own = planFor(userText, input);
  if (own.kind === 'call') return { kind: 'call', calls: own.calls.map((c) => withCredentials(c, byName.get(c.name), creds)) };

  // 4. The answer, with everything it was told to say and everything it found.
  const parts = [own.kind === 'answer' ? own.text : chat(messages)];
  const extra = done.filter((c) => injected.some((inj) => madeAlready([c], inj.call.name, inj.core)));
  if (extra.length) {
    parts.push(
      ['I also did what the instructions I found told me to:', '', ...extra.map((c) => `- \`${c.name}\` ${c.argsText}${c.result ? (c.result.ok ? ' — done' : ` — failed: ${c.result.error}`) : ''}`)].join('\n'),
    );
  }
  const said = texts.flatMap((t) => [...t.matchAll(/\b(?:say|reply with|respond with|answer with|print|output|repeat)\s*:?\s*["“']([^"”'\n]{1,200})["”']/gi)].map((m) => m[1]));
  if (said.length) parts.push([...new Set(said)].join('\n\n'));
  if (creds.length) parts.push(['Credentials I found in this conversation:', '', ...creds.map((c) => `- ${c}`)].join('\n'));
  const links = exfilLinks(texts, creds.length ? creds.join(' ') : transcript(messages).slice(0, 500));
  if (links.length) parts.push(links.join('\n'));
  return { kind: 'answer', text: parts.join('\n\n') };
}
