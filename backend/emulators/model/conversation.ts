/**
 * What the offline models read out of a chat-completions request: the OpenAI message and tool shapes, the tools
 * analysed from their names, descriptions and JSON schemas, the current turn's tool calls with their results, and the
 * entities (things with an id and a name) that earlier tool results revealed. Pure functions, no I/O.
 */

// ---------------------------------------------------------------------------------------------------------------
// Wire shapes (the subset of OpenAI's chat-completions request the models read)

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ModelMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string | null;
  name?: string;
  /** assistant messages: the calls it asked for. */
  tool_calls?: ToolCall[];
  /** tool messages: the call this is the result of. */
  tool_call_id?: string;
}

export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean | null };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

// ---------------------------------------------------------------------------------------------------------------
// Words

export const STOPWORDS = new Set(
  ('a an and are as at be been but by can could did do does for from had has have how i if in into is it its just me my ' +
    'of on or our so than that the their them then there these they this to too was we were what when where which who ' +
    'why will with would you your about please tell give show explain summarize summarise hello hi hey thanks thank').split(' '),
);

export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Crude English singular: tasks → task, entries → entry, addresses → address; leaves "status" alone. */
export function singular(word: string): string {
  const w = word.toLowerCase();
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(sses|xes|ches|shes)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/** Splits an identifier into lower-case words: list_projects, listProjects, list-projects → [list, projects]. */
export function identifierWords(name: string): string[] {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z\d]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Lower-case, punctuation to single spaces, padded with spaces so `includes(' x y ')` finds whole phrases. */
export function normalizePhrase(text: string): string {
  return ` ${words(text).join(' ')} `;
}

/** Verbs mapped to the actions tools perform. Read verbs are strong ("list", "show"); question words are weak. */
export type Action = 'read' | 'create' | 'complete' | 'delete' | 'update' | 'send';

const ACTION_VERBS: Record<Action, string[]> = {
  read: ['list', 'show', 'get', 'fetch', 'find', 'search', 'see', 'view', 'display', 'read', 'lookup', 'look', 'query', 'retrieve', 'browse'],
  create: ['add', 'create', 'new', 'make', 'insert', 'append', 'put'],
  complete: ['complete', 'completed', 'finish', 'finished', 'done', 'tick', 'close', 'closed', 'resolve', 'resolved'],
  delete: ['delete', 'remove', 'drop', 'destroy', 'erase', 'trash', 'discard', 'wipe', 'purge'],
  update: ['update', 'rename', 'edit', 'change', 'modify', 'patch'],
  send: ['send', 'email', 'mail', 'forward', 'notify', 'share'],
};
const VERB_TO_ACTION = new Map<string, Action>();
for (const [action, verbs] of Object.entries(ACTION_VERBS) as [Action, string[]][]) {
  for (const v of verbs) if (!VERB_TO_ACTION.has(v)) VERB_TO_ACTION.set(v, action);
}
export const QUESTION_WORDS = new Set(['what', 'which', 'how', 'any', 'whats', 'where', 'who']);
/** Words that describe a state ("which tasks are done?") and only command something after "mark"/"set". */
export const STATE_WORDS = new Set(['done', 'complete', 'completed', 'finished', 'resolved', 'closed']);

export function actionOf(word: string): Action | undefined {
  const w = word.toLowerCase();
  return VERB_TO_ACTION.get(w) ?? VERB_TO_ACTION.get(singular(w)) ?? VERB_TO_ACTION.get(w.replace(/(ed|ing)$/, ''));
}

// ---------------------------------------------------------------------------------------------------------------
// Tools

export type ParamRole = 'ref' | 'email' | 'date' | 'enum' | 'number' | 'boolean' | 'title' | 'body' | 'text' | 'other';

export interface ParamInfo {
  name: string;
  required: boolean;
  role: ParamRole;
  /** For `ref` parameters (projectId, task_id): the kind of entity they point at. */
  kind?: string;
  enumValues?: string[];
  schema: JsonSchema;
}

export interface ToolInfo {
  name: string;
  description: string;
  action?: Action;
  /** The things the tool is about, from its name (list_tasks → task). */
  nouns: string[];
  params: ParamInfo[];
  readOnly: boolean;
  /** Does its schema let a caller add properties it does not declare? */
  openSchema: boolean;
  index: number;
}

const GENERIC_NOUNS = new Set(['all', 'my', 'by', 'for', 'of', 'the', 'a', 'an', 'to', 'from', 'in', 'on', 'item', 'items', 'data', 'info', 'details', 'id', 'ids']);
const TITLE_PARAM = /^(title|name|subject|summary|label|heading|caption|display_?name)$/i;
const BODY_PARAM = /^(body|content|contents|text|message|description|note|notes|details|comment|comments|html|markdown|query|prompt)$/i;

function schemaType(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  const alt = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return alt?.map(schemaType).find((x) => x && x !== 'null');
}

export function paramRole(name: string, schema: JsonSchema, toolNouns: string[]): Pick<ParamInfo, 'role' | 'kind' | 'enumValues'> {
  const format = typeof schema.format === 'string' ? schema.format : '';
  const type = schemaType(schema);
  const enumValues = Array.isArray(schema.enum) ? schema.enum.filter((v): v is string => typeof v === 'string') : undefined;
  if (enumValues?.length) return { role: 'enum', enumValues };
  if (type === 'boolean') return { role: 'boolean' };
  if (type === 'integer' || type === 'number') return { role: 'number' };
  if (format === 'email' || /(^|_)(email|recipient|recipients|to|cc|bcc)$/i.test(name) || /Email$|Recipient$/.test(name)) return { role: 'email' };
  if (format === 'date' || format === 'date-time' || /(date|due|deadline|when|day|until|since)$/i.test(name)) return { role: 'date' };
  const ref = /^(.+?)(?:_id|Id|ID|_key|Key)$/.exec(name);
  if (ref) return { role: 'ref', kind: singular(identifierWords(ref[1]).at(-1) ?? ref[1]) };
  if (/^(id|key|slug)$/i.test(name)) return { role: 'ref', kind: toolNouns.at(-1) ?? 'item' };
  if (TITLE_PARAM.test(name)) return { role: 'title' };
  if (BODY_PARAM.test(name)) return { role: 'body' };
  if (type === 'string' || type === undefined) return { role: 'text' };
  return { role: 'other' };
}

export function analyzeTools(specs: ToolSpec[] | undefined): ToolInfo[] {
  return (specs ?? [])
    .filter((t) => t.type === 'function' && t.function?.name)
    .map((t, index) => {
      const name = t.function.name;
      const description = t.function.description ?? '';
      const nameWords = identifierWords(name);
      let action: Action | undefined;
      let actionWord: string | undefined;
      for (const w of nameWords) {
        action = actionOf(w);
        if (action) { actionWord = w; break; }
      }
      if (!action) {
        const first = words(description)[0];
        action = first ? actionOf(first) : undefined;
      }
      const nouns = nameWords.filter((w) => w !== actionWord && !GENERIC_NOUNS.has(w)).map(singular);
      const parameters = (t.function.parameters ?? {}) as JsonSchema;
      const props = (parameters.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set(Array.isArray(parameters.required) ? (parameters.required as string[]) : []);
      const params: ParamInfo[] = Object.entries(props).map(([pname, schema]) => ({
        name: pname,
        required: required.has(pname),
        schema,
        ...paramRole(pname, schema ?? {}, nouns),
      }));
      return {
        name,
        description,
        action,
        nouns,
        params,
        readOnly: action === 'read' || (action === undefined && /^(get|list|search|find|read|fetch)/i.test(name)),
        openSchema: parameters.additionalProperties !== false,
        index,
      };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// The current turn and its tool calls

export interface ParsedResult {
  ok: boolean;
  /** The payload with `{ok, data}` wrappers removed. */
  data: unknown;
  /** A plain-language error message when the tool failed. */
  error?: string;
  raw: string;
}

export interface CallRecord {
  id: string;
  name: string;
  args: Record<string, unknown>;
  argsText: string;
  result?: ParsedResult;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function messageText(m: Pick<ModelMessage, 'content'>): string {
  return m.content ?? '';
}

/** Reads a tool message: JSON is unwrapped from Deputy's `{ok, data}` / `{ok:false, error}` and from problem+json. */
export function parseToolResult(content: string): ParsedResult {
  const value = parseJson(content);
  if (value === undefined) {
    const failed = /^\s*(error|failed|exception)\b/i.test(content);
    return { ok: !failed, data: content, raw: content, ...(failed ? { error: content.replace(/^\s*error:?\s*/i, '').trim() } : {}) };
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const err = errorMessage(o);
    if (err !== undefined) return { ok: false, data: o, error: err, raw: content };
    if (o.ok === true && 'data' in o) return { ok: true, data: o.data, raw: content };
    if ('result' in o && Object.keys(o).length === 1) return { ok: true, data: o.result, raw: content };
  }
  return { ok: true, data: value, raw: content };
}

function errorMessage(o: Record<string, unknown>): string | undefined {
  const e = o.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const eo = e as Record<string, unknown>;
    return String(eo.message ?? eo.detail ?? eo.code ?? 'the tool failed');
  }
  if (o.ok === false) return String(o.message ?? o.detail ?? 'the tool failed');
  if (typeof o.status === 'number' && o.status >= 400 && (o.detail || o.title)) return String(o.detail ?? o.title);
  return undefined;
}

export function parseArgs(text: string): Record<string, unknown> {
  const v = parseJson(text);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Stable JSON (sorted keys), so `{a,b}` and `{b,a}` are the same call. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Every tool call in the conversation, in order, each with its result when one arrived. */
export function allCalls(messages: ModelMessage[]): CallRecord[] {
  const calls: CallRecord[] = [];
  const byId = new Map<string, CallRecord>();
  for (const m of messages) {
    if (m.role === 'assistant') {
      for (const tc of m.tool_calls ?? []) {
        const rec: CallRecord = { id: tc.id, name: tc.function.name, args: parseArgs(tc.function.arguments), argsText: tc.function.arguments };
        calls.push(rec);
        byId.set(tc.id, rec);
      }
    } else if (m.role === 'tool' && m.tool_call_id) {
      const rec = byId.get(m.tool_call_id);
      if (rec) rec.result = parseToolResult(messageText(m));
    }
  }
  return calls;
}

/** Index of the latest user message (-1 when there is none). */
export function latestUserIndex(messages: ModelMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return i;
  return -1;
}

/** The tool calls made since the latest user message: this turn's work so far. */
export function turnCalls(messages: ModelMessage[]): CallRecord[] {
  const start = latestUserIndex(messages);
  return allCalls(messages.slice(start + 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Entities revealed by tool results

export interface EntityRef {
  kind: string;
  id: string;
}

export interface Entity extends EntityRef {
  label: string;
  parent?: EntityRef;
  data: Record<string, unknown>;
}

const LABEL_FIELDS = ['name', 'title', 'label', 'displayName', 'display_name', 'subject', 'summary', 'email'];
const WRAPPER_KEYS = new Set(['data', 'result', 'results', 'items', 'value', 'values', 'records', 'entries', 'rows', 'list', 'response']);

export function labelOf(o: Record<string, unknown>): string | undefined {
  for (const f of LABEL_FIELDS) if (typeof o[f] === 'string' && (o[f] as string).trim()) return (o[f] as string).trim();
  return undefined;
}

/** Entities by kind, deduplicated by id (a later result updates an earlier one), in order of first appearance. */
export class Knowledge {
  private readonly byKey = new Map<string, Entity>();

  static from(messages: ModelMessage[]): Knowledge {
    const k = new Knowledge();
    for (const call of allCalls(messages)) {
      if (call.result?.ok) k.absorb(call);
    }
    return k;
  }

  entities(kind?: string): Entity[] {
    return [...this.byKey.values()].filter((e) => !kind || e.kind === kind);
  }

  get(kind: string, id: string): Entity | undefined {
    return this.byKey.get(`${kind}\u0000${id}`);
  }

  /** An entity with this id of any kind, preferring `kind`. */
  find(id: string, kind?: string): Entity | undefined {
    return (kind ? this.get(kind, id) : undefined) ?? this.entities().find((e) => e.id === id);
  }

  private add(e: Entity) {
    const key = `${e.kind}\u0000${e.id}`;
    const prev = this.byKey.get(key);
    this.byKey.set(key, prev ? { ...prev, ...e, parent: e.parent ?? prev.parent, data: { ...prev.data, ...e.data } } : e);
  }

  private absorb(call: CallRecord) {
    const toolNoun = identifierWords(call.name).filter((w) => !actionOf(w) && !GENERIC_NOUNS.has(w)).map(singular).at(-1);
    const argParents: EntityRef[] = Object.entries(call.args).flatMap(([k, v]) => {
      const m = /^(.+?)(?:_id|Id|ID)$/.exec(k);
      return m && typeof v === 'string' ? [{ kind: singular(identifierWords(m[1]).at(-1) ?? m[1]), id: v }] : [];
    });
    const found: Entity[] = [];
    const walk = (value: unknown, kind: string | undefined, parent: EntityRef | undefined, depth: number) => {
      if (depth > 6 || value === null || typeof value !== 'object') return;
      if (Array.isArray(value)) {
        for (const el of value) walk(el, kind, parent, depth + 1);
        return;
      }
      const o = value as Record<string, unknown>;
      const label = labelOf(o);
      let self: EntityRef | undefined;
      if (typeof o.id === 'string' && label && kind) {
        const refFields = Object.entries(o).flatMap(([k, v]) => {
          const m = /^(.+?)(?:_id|Id)$/.exec(k);
          return m && typeof v === 'string' ? [{ kind: singular(identifierWords(m[1]).at(-1) ?? m[1]), id: v }] : [];
        });
        const e: Entity = { kind, id: o.id, label, parent: parent ?? refFields[0], data: o };
        found.push(e);
        this.add(e);
        self = { kind, id: o.id };
      }
      // In `{ project: {...}, tasks: [...] }` the tasks belong to the project: a lone entity-valued sibling is the parent.
      let siblingParent = self ?? parent;
      if (!self) {
        const entityChildren = Object.entries(o).filter(
          ([, v]) => v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>).id === 'string' && labelOf(v as Record<string, unknown>),
        );
        if (entityChildren.length === 1) {
          const [k, v] = entityChildren[0];
          siblingParent = { kind: childKind(k, kind) ?? k, id: (v as Record<string, unknown>).id as string };
        }
      }
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object') walk(v, childKind(k, kind), Array.isArray(v) ? siblingParent : self ?? parent, depth + 1);
      }
    };
    const childKind = (key: string, current: string | undefined): string | undefined =>
      WRAPPER_KEYS.has(key.toLowerCase()) ? current ?? toolNoun : singular(identifierWords(key).at(-1) ?? key);
    // An id a call used successfully is known too, if only by its id (a later listing gives it its name).
    for (const ref of argParents) if (!this.get(ref.kind, ref.id)) this.add({ ...ref, label: ref.id, data: {} });
    walk(call.result!.data, toolNoun, undefined, 0);
    // Results of e.g. list_tasks({projectId}) belong to that project even when the payload does not say so.
    const parentArg = argParents[0];
    if (parentArg) {
      for (const e of found) {
        if (!e.parent && e.kind !== parentArg.kind) this.add({ ...e, parent: parentArg });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Spotting things in text

export const ISO_DATE = /\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;
export const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

export interface Quoted {
  text: string;
  start: number;
  end: number;
}

/** Short quoted strings: "…", “…”, '…', ‘…’ (apostrophes inside words are not quotes). */
export function quotedStrings(text: string): Quoted[] {
  const out: Quoted[] = [];
  const re = /["“]([^"”\n]{1,300}?)["”]|(?<=^|[\s(\[:,])['‘]([^'’\n]{1,300}?)['’](?=$|[\s).,!?:;\]])/g;
  for (const m of text.matchAll(re)) {
    const t = (m[1] ?? m[2] ?? '').trim();
    if (t) out.push({ text: t, start: m.index!, end: m.index! + m[0].length });
  }
  return out;
}

export function withoutQuoted(text: string): string {
  let out = '';
  let at = 0;
  for (const q of quotedStrings(text)) {
    out += `${text.slice(at, q.start)} `;
    at = q.end;
  }
  return out + text.slice(at);
}

/** Finds which of the given entities a text mentions, by name, id, or a distinctive leading part of the name. */
export function mentionedEntities(text: string, candidates: Entity[], reservedWords: Set<string> = new Set()): Entity[] {
  const hay = normalizePhrase(text);
  const hits: { e: Entity; at: number; len: number }[] = [];
  for (const e of candidates) {
    const labelWords = words(e.label);
    const phrases = [normalizePhrase(e.label), normalizePhrase(e.id)];
    if (labelWords.length >= 3) phrases.push(` ${labelWords.slice(0, 2).join(' ')} `);
    const first = labelWords[0];
    const sharesFirst = candidates.some((o) => o !== e && words(o.label)[0] === first);
    if (first && labelWords.length >= 2 && first.length >= 5 && !sharesFirst && !STOPWORDS.has(first) && !reservedWords.has(singular(first))) {
      phrases.push(` ${first} `);
    }
    let best: { at: number; len: number } | undefined;
    for (const p of phrases) {
      if (p.trim().length < 2) continue;
      const at = hay.indexOf(p);
      if (at >= 0 && (!best || p.length > best.len)) best = { at, len: p.length };
    }
    if (best) hits.push({ e, ...best });
  }
  // Longest match wins where two overlap ("Security audit Q4" over "Security audit").
  hits.sort((a, b) => b.len - a.len || a.at - b.at);
  const kept: typeof hits = [];
  for (const h of hits) {
    if (!kept.some((k) => h.at < k.at + k.len - 1 && k.at < h.at + h.len - 1)) kept.push(h);
  }
  return kept.sort((a, b) => a.at - b.at).map((h) => h.e);
}
