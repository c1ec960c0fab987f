/**
 * A run's events → what the side panel shows. Pure functions, no React and no I/O:
 * - `applyRunEvent` folds one server-sent event (with its sequence number) into a `RunView`: the assistant's
 *   messages in order (one per model turn), a row per tool call that moves proposed → running → done / failed,
 *   or → denied / paused, and the interrupt a paused run waits on. Events at or below the last sequence number
 *   seen are replays (re-attach with `Last-Event-ID` can overlap) and change nothing.
 * - `buildTimeline` places runs after the user message that started them, so history reads in order.
 * - the `…Text` helpers put the gate's decisions and argument values into words, as plain text only.
 */
import type { LocalMessage, RunView as StoredRunView, ShownContext, RunStatus, ToolActivity as StoredToolActivity, ToolState } from '@/lib/db';
import { connectionLabel } from '@/lib/connections';
import type { ApprovalStatus, Citation, GateDecision, RunEvent } from '@/lib/protocol';

export type { RunStatus, ToolState };

/** How the trusted device (or the user, or the clock) answered a call's approval. */
export type ApprovalOutcome = Exclude<ApprovalStatus, 'pending'>;

// The stored shapes plus optional fields, so stored views (older ones too) are valid views and views store as-is.
export interface ToolActivity extends StoredToolActivity {
  /** Set once the call's approval was answered (approval.resolved). */
  approval?: { approvalId: string; status: ApprovalOutcome };
}
export type RunPart =
  | { kind: 'message'; id: string; content: string; streaming: boolean; citations?: Citation[] }
  | { kind: 'tool'; call: ToolActivity };
export interface RunView extends Omit<StoredRunView, 'parts'> {
  parts: RunPart[];
}

export function createRun(init: { runId: string; threadId: string; userMessageId?: string; model?: string; startedAt: string }): RunView {
  return {
    runId: init.runId,
    threadId: init.threadId,
    ...(init.userMessageId ? { userMessageId: init.userMessageId } : {}),
    ...(init.model ? { model: init.model } : {}),
    status: 'running',
    lastSeq: 0,
    parts: [],
    startedAt: init.startedAt,
  };
}

/** Running or paused: the run has not finished, and the panel should (re-)attach to it. */
export function isRunActive(run: Pick<RunView, 'status'>): boolean {
  return run.status === 'running' || run.status === 'interrupted';
}

const FINAL_TOOL_STATES: ReadonlySet<ToolState> = new Set(['done', 'failed', 'denied']);

function stateAfterDecision(decision: GateDecision): ToolState {
  switch (decision.kind) {
    case 'allow':
      return 'running';
    case 'deny':
      return 'denied';
    default:
      return 'paused';
  }
}

function updateTool(run: RunView, toolCallId: string, patch: (call: ToolActivity) => ToolActivity, create?: () => ToolActivity): RunView {
  const i = run.parts.findIndex((p) => p.kind === 'tool' && p.call.toolCallId === toolCallId);
  if (i < 0) {
    if (!create) return run;
    return { ...run, parts: [...run.parts, { kind: 'tool', call: patch(create()) }] };
  }
  const parts = run.parts.slice();
  const part = parts[i] as Extract<RunPart, { kind: 'tool' }>;
  parts[i] = { kind: 'tool', call: patch(part.call) };
  return { ...run, parts };
}

/** A row for a call we only know from a later event (should not happen with ordered events; kept safe). */
const unknownCall = (toolCallId: string) => (): ToolActivity => ({
  toolCallId,
  name: 'tool',
  summary: 'A tool call',
  arguments: {},
  state: 'proposed',
});

/** Closes what a finished run left open: a streaming message stops, unfinished tool rows say they did not finish. */
function finish(run: RunView): RunView {
  return {
    ...run,
    interrupt: undefined,
    parts: run.parts.map((p): RunPart => {
      if (p.kind === 'message') return p.streaming ? { ...p, streaming: false } : p;
      if (FINAL_TOOL_STATES.has(p.call.state)) return p;
      return { kind: 'tool', call: { ...p.call, state: 'failed', outcome: p.call.state === 'running' ? 'Did not finish' : 'Did not run' } };
    }),
  };
}

function reduce(run: RunView, event: RunEvent): RunView {
  // Anything but a new pause or the end after a pause means the run resumed.
  if (run.status === 'interrupted' && event.type !== 'run.interrupted' && event.type !== 'run.completed' && event.type !== 'run.failed') {
    run = { ...run, status: 'running', interrupt: undefined };
  }
  switch (event.type) {
    case 'run.started':
      return { ...run, threadId: event.threadId, userMessageId: event.userMessageId, model: event.model };
    case 'message.delta': {
      const i = run.parts.findIndex((p) => p.kind === 'message' && p.id === event.messageId);
      if (i < 0) return { ...run, parts: [...run.parts, { kind: 'message', id: event.messageId, content: event.delta, streaming: true }] };
      const parts = run.parts.slice();
      const part = parts[i] as Extract<RunPart, { kind: 'message' }>;
      parts[i] = { ...part, content: part.content + event.delta };
      return { ...run, parts };
    }
    case 'message.completed': {
      const { id, content, citations } = event.message;
      const part: RunPart = { kind: 'message', id, content, streaming: false, ...(citations?.length ? { citations } : {}) };
      const i = run.parts.findIndex((p) => p.kind === 'message' && p.id === id);
      if (i < 0) return { ...run, parts: [...run.parts, part] };
      const parts = run.parts.slice();
      parts[i] = part;
      return { ...run, parts };
    }
    case 'tool.proposed': {
      const c = event.call;
      // A resumed run proposes the paused call again: same row, fresh decision (the approval answer stays shown).
      return updateTool(
        run,
        c.toolCallId,
        (call) => ({
          toolCallId: c.toolCallId,
          name: c.name,
          ...(c.tier ? { tier: c.tier } : call.tier ? { tier: call.tier } : {}),
          summary: c.summary,
          arguments: c.arguments,
          state: 'proposed',
          ...(call.approval ? { approval: call.approval } : {}),
        }),
        unknownCall(c.toolCallId),
      );
    }
    case 'tool.decided':
      return updateTool(
        run,
        event.toolCallId,
        (call) => ({ ...call, decision: event.decision, state: stateAfterDecision(event.decision), outcome: undefined, error: undefined }),
        unknownCall(event.toolCallId),
      );
    case 'tool.completed':
      return updateTool(
        run,
        event.toolCallId,
        (call) => ({
          ...call,
          state: event.ok ? 'done' : 'failed',
          outcome: event.summary,
          ...(event.error ? { error: event.error } : { error: undefined }),
        }),
        unknownCall(event.toolCallId),
      );
    case 'approval.resolved':
      // The run goes on (status set back to running above); the row keeps the answer. Refused answers end the row:
      // the server runs nothing after them.
      return updateTool(run, event.toolCallId, (call) => ({
        ...call,
        approval: { approvalId: event.approvalId, status: event.status },
        ...(event.status === 'approved' ? {} : { state: 'denied' as const, outcome: undefined, error: undefined }),
      }));
    case 'run.resumed':
      // The status was already set back to running above.
      return run;
    case 'run.interrupted': {
      const paused = updateTool(run, event.interrupt.toolCallId, (call) => ({ ...call, state: 'paused' }));
      return {
        ...paused,
        status: 'interrupted',
        interrupt: event.interrupt,
        parts: paused.parts.map((p) => (p.kind === 'message' && p.streaming ? { ...p, streaming: false } : p)),
      };
    }
    case 'run.completed':
      return { ...finish(run), status: 'completed', error: undefined };
    case 'run.failed':
      return { ...finish(run), status: 'failed', error: event.error };
  }
}

/**
 * Folds one event into the run. `seq` is the SSE frame's id: an event at or below `lastSeq` was already applied
 * (a replay after re-attaching) and returns the run unchanged (the same object). Events of other runs are ignored.
 */
export function applyRunEvent(run: RunView, event: RunEvent, seq?: number): RunView {
  if (event.runId !== run.runId) return run;
  if (seq !== undefined && seq <= run.lastSeq) return run;
  const next = reduce(run, event);
  return seq === undefined ? next : { ...next, lastSeq: seq };
}

/** Folds a sequence of events (tests, replays). */
export function applyRunEvents(run: RunView, events: Iterable<{ seq?: number; event: RunEvent }>): RunView {
  let r = run;
  for (const { seq, event } of events) r = applyRunEvent(r, event, seq);
  return r;
}

/** The tool call a run's interrupt is about. */
export function interruptedCall(run: RunView): ToolActivity | undefined {
  const id = run.interrupt?.toolCallId;
  if (!id) return undefined;
  for (const p of run.parts) if (p.kind === 'tool' && p.call.toolCallId === id) return p.call;
  return undefined;
}

/** Is the run doing something the user is waiting on, with nothing streaming right now (show "working" dots)? */
export function isRunWorking(run: RunView): boolean {
  if (run.status !== 'running') return false;
  const last = run.parts.at(-1);
  return !(last?.kind === 'message' && last.streaming);
}

// ---- timeline ----

export type TimelineItem =
  | { kind: 'user'; id: string; content: string; pending?: boolean; context?: ShownContext[] }
  /** An answer known only from the stored messages (no run recorded in this browser, e.g. fetched from the server). */
  | { kind: 'assistant'; id: string; content: string; citations?: Citation[] }
  | { kind: 'run'; id: string; run: RunView }
  /** A message sent but not yet accepted by the server: the answer turn shows "working". */
  | { kind: 'waiting'; id: string };

export interface PendingSend {
  clientMessageId: string;
  threadId: string | null;
  content: string;
  context?: ShownContext[];
}

/**
 * The conversation in reading order: stored messages by time; each run right after the user message that started
 * it (its own messages are shown inside the run, not again on their own); runs whose user message is unknown at
 * the end; then messages still being sent.
 */
export function buildTimeline(
  messages: (Pick<LocalMessage, 'id' | 'role' | 'content' | 'createdAt'> & Pick<Partial<LocalMessage>, 'citations' | 'context'>)[],
  runs: RunView[],
  pending: PendingSend[] = [],
): TimelineItem[] {
  const inRuns = new Set<string>();
  for (const r of runs) for (const p of r.parts) if (p.kind === 'message') inRuns.add(p.id);
  const sortedRuns = [...runs].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  const byUserMessage = new Map<string, RunView[]>();
  for (const r of sortedRuns) {
    if (!r.userMessageId) continue;
    const list = byUserMessage.get(r.userMessageId) ?? [];
    list.push(r);
    byUserMessage.set(r.userMessageId, list);
  }
  const placed = new Set<string>();
  const items: TimelineItem[] = [];
  const sorted = messages
    .map((m, i) => ({ m, i }))
    .sort((a, b) => (a.m.createdAt < b.m.createdAt ? -1 : a.m.createdAt > b.m.createdAt ? 1 : a.i - b.i))
    .map(({ m }) => m);
  for (const m of sorted) {
    if (inRuns.has(m.id)) continue;
    if (m.role === 'assistant') {
      items.push({ kind: 'assistant', id: m.id, content: m.content, ...(m.citations?.length ? { citations: m.citations } : {}) });
      continue;
    }
    items.push({ kind: 'user', id: m.id, content: m.content, ...(m.context?.length ? { context: m.context } : {}) });
    for (const r of byUserMessage.get(m.id) ?? []) {
      items.push({ kind: 'run', id: r.runId, run: r });
      placed.add(r.runId);
    }
  }
  for (const r of sortedRuns) if (!placed.has(r.runId)) items.push({ kind: 'run', id: r.runId, run: r });
  for (const p of pending) {
    items.push({ kind: 'user', id: p.clientMessageId, content: p.content, pending: true, ...(p.context?.length ? { context: p.context } : {}) });
    items.push({ kind: 'waiting', id: `waiting-${p.clientMessageId}` });
  }
  return items;
}

// ---- words ----

/** The gate's decision in words; "Checking…" before there is one. */
export function decisionText(decision: GateDecision | undefined): string {
  if (!decision) return 'Checking…';
  switch (decision.kind) {
    case 'allow':
      return 'Allowed';
    case 'need_approval':
      return 'Needs your approval';
    case 'need_connection':
      return `Needs your ${connectionLabel(decision.connection)} connection`;
    case 'need_step_up':
      return 'Needs a fresh sign-in';
    case 'deny':
      return `Denied: ${decision.reason}`;
  }
}

const APPROVAL_DECISION_TEXT: Record<ApprovalOutcome, string> = {
  approved: 'Approved',
  denied: 'Denied on your device',
  expired: 'Approval expired',
  cancelled: 'Request cancelled',
};

/** A row's decision in words: once its approval was answered, the answer rather than "Needs your approval". */
export function callDecisionText(call: Pick<ToolActivity, 'decision' | 'approval'>): string {
  if (call.approval && (!call.decision || call.decision.kind === 'need_approval')) return APPROVAL_DECISION_TEXT[call.approval.status];
  return decisionText(call.decision);
}

export const TOOL_STATE_LABEL: Record<ToolState, string> = {
  proposed: 'Proposed',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  denied: 'Denied',
  paused: 'Paused',
};

/** The outcome line of a tool row: what happened, or what is happening. */
export function outcomeText(call: ToolActivity): string | undefined {
  switch (call.state) {
    case 'running':
      return 'Running…';
    case 'done':
      return call.outcome ?? 'Done';
    case 'failed':
      return `Failed: ${call.outcome ?? call.error?.message ?? 'the tool did not work'}`;
    default:
      return undefined;
  }
}

// Bidi controls, zero-width characters and other invisibles could make a value read differently from what it is.
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
const MAX_VALUE_CHARS = 500;

/** Makes invisible and direction-changing characters visible as ⟨U+XXXX⟩, so text reads as exactly what it is. */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/** A value of validated arguments or authorization details as one line of plain text. */
export function valueText(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === null || value === undefined) text = '—';
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
    text = value.length ? value.join(', ') : '(none)';
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = revealInvisible(text);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** "projectId" → "Project id", "project_delete" → "Project delete". */
export function labelText(key: string): string {
  const words = revealInvisible(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}

/** Key/value rows of an object, in its own key order. */
export function entriesOf(obj: Record<string, unknown>): Array<{ key: string; label: string; value: string }> {
  return Object.entries(obj).map(([key, v]) => ({ key, label: labelText(key), value: valueText(v) }));
}
