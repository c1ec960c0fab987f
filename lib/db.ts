/**
 * Local conversation history (IndexedDB through Dexie), what the side panel shows instantly on open. The backend keeps
 * the authoritative threads; this is a per-user copy. Every row carries the user's `sub` and is part of the primary key,
 * and every query goes through `historyFor(sub)`, so one user never sees another user's local history.
 *
 * Runs (one per user turn) are kept too: what the panel showed of each (answer text, tool activity, a pause), the
 * last event sequence number seen, and per thread the run that has not finished yet, so a reopened panel shows the
 * tool activity and re-attaches to an unfinished run with `Last-Event-ID`.
 *
 * Never stores tokens: only thread summaries, message text, and the tool activity the server sent for display.
 */
import Dexie, { type Table } from 'dexie';
import type { Citation, ContextRef, GateDecision, Interrupt } from './protocol';

/** The run of a thread that has not finished (no run.completed / run.failed seen yet). */
export interface ActiveRunPointer {
  runId: string;
  /** The last event sequence number this browser has seen (for `Last-Event-ID`). */
  lastSeq: number;
  status: 'running' | 'interrupted';
}

export interface LocalThread {
  sub: string;
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  activeRun?: ActiveRunPointer;
}

export type ToolState = 'proposed' | 'running' | 'done' | 'failed' | 'denied' | 'paused';
export type RunStatus = 'running' | 'interrupted' | 'completed' | 'failed';

/** One tool call as the panel shows it, from tool.proposed / tool.decided / tool.completed. */
export interface ToolActivity {
  toolCallId: string;
  name: string;
  tier?: 'read' | 'write' | 'high' | 'critical';
  /** One human line from the server ("Add task “Write launch post” to website-relaunch"). */
  summary: string;
  /** The validated arguments (shown as text only). */
  arguments: Record<string, unknown>;
  state: ToolState;
  decision?: GateDecision;
  /** Human summary of the outcome ("2 projects", "Task added"), or why it did not finish. */
  outcome?: string;
  error?: { code: string; message: string };
}

/** What a run showed, in order: the assistant's messages (one per model turn) and its tool calls. */
export type RunPart =
  | { kind: 'message'; id: string; content: string; streaming: boolean; citations?: Citation[] }
  | { kind: 'tool'; call: ToolActivity };

/** The panel's view of one run, built from its events (see components/run-state.ts). */
export interface RunView {
  runId: string;
  threadId: string;
  userMessageId?: string;
  model?: string;
  status: RunStatus;
  /** The highest event sequence number applied; events at or below it are replays and are ignored. */
  lastSeq: number;
  parts: RunPart[];
  /** Why the run is paused (status `interrupted`). */
  interrupt?: Interrupt;
  /** Why the run failed (status `failed`). */
  error?: { code: string; message: string };
  startedAt: string;
}

export interface LocalRun extends RunView {
  sub: string;
  updatedAt: string;
}

export interface LocalMessage {
  sub: string;
  id: string;
  threadId: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: string;
  /**
   * Assistant answers: the knowledge-base sources they cite. Not indexed, so no schema version is needed: rows
   * stored before it simply have none.
   */
  citations?: Citation[];
  /** User turns: the page context they carried (what the panel shows of it; not indexed either). */
  context?: ShownContext[];
}

/** A context item as a user turn shows it: its provenance, and for selections the start of the quoted text. */
export interface ShownContext extends ContextRef {
  quote?: string;
}

export class DeputyDb extends Dexie {
  threads!: Table<LocalThread, [string, string]>;
  messages!: Table<LocalMessage, [string, string]>;
  runs!: Table<LocalRun, [string, string]>;

  constructor(name = 'deputy-history') {
    super(name);
    this.version(1).stores({
      threads: '[sub+id], [sub+updatedAt]',
      messages: '[sub+id], [sub+threadId+createdAt]',
    });
    this.version(2).stores({
      threads: '[sub+id], [sub+updatedAt]',
      messages: '[sub+id], [sub+threadId+createdAt]',
      runs: '[sub+runId], [sub+threadId+startedAt]',
    });
  }
}

let shared: DeputyDb | undefined;
export function getDb(): DeputyDb {
  shared ??= new DeputyDb();
  return shared;
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0].replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New conversation';
}

export interface LocalHistory {
  readonly sub: string;
  listThreads(): Promise<LocalThread[]>;
  getThread(id: string): Promise<LocalThread | undefined>;
  listMessages(threadId: string): Promise<LocalMessage[]>;
  /** Adds a thread or updates its title and times (keeps its active-run pointer). */
  upsertThread(thread: Omit<LocalThread, 'sub' | 'activeRun'>): Promise<void>;
  /** Merges server summaries: adds missing threads, updates changed titles/times (never deletes local ones). */
  mergeThreads(threads: Omit<LocalThread, 'sub'>[]): Promise<void>;
  putMessages(messages: Omit<LocalMessage, 'sub'>[]): Promise<void>;
  /** The runs of a thread, oldest first. */
  listRuns(threadId: string): Promise<RunView[]>;
  getRun(runId: string): Promise<RunView | undefined>;
  /**
   * Stores a run's view, and in the same transaction its thread's active-run pointer: set while the run is running
   * or paused, cleared when it completed or failed. Never replaces a stored view that has seen later events.
   */
  putRun(run: RunView): Promise<void>;
  /** Forgets this user's local history (the server keeps its copy). */
  clear(): Promise<void>;
}

export function historyFor(sub: string, db: DeputyDb = getDb()): LocalHistory {
  if (!sub) throw new Error('historyFor: sub is required');
  return {
    sub,
    async listThreads() {
      const rows = await db.threads.where('[sub+updatedAt]').between([sub, Dexie.minKey], [sub, Dexie.maxKey]).toArray();
      return rows.reverse();
    },
    async getThread(id) {
      return db.threads.get([sub, id]);
    },
    async listRuns(threadId) {
      const rows = await db.runs
        .where('[sub+threadId+startedAt]')
        .between([sub, threadId, Dexie.minKey], [sub, threadId, Dexie.maxKey])
        .toArray();
      return rows.map(stripRun);
    },
    async getRun(runId) {
      const row = await db.runs.get([sub, runId]);
      return row && stripRun(row);
    },
    async putRun(run) {
      await db.transaction('rw', db.runs, db.threads, async () => {
        const stored = await db.runs.get([sub, run.runId]);
        if (stored && stored.lastSeq > run.lastSeq) return;
        await db.runs.put({ ...run, sub, updatedAt: new Date().toISOString() });
        const thread = await db.threads.get([sub, run.threadId]);
        if (!thread) return;
        const pointer = activeRunAfter(thread.activeRun, run);
        if (pointer === thread.activeRun) return;
        if (pointer) {
          await db.threads.put({ ...thread, activeRun: pointer });
        } else {
          const { activeRun: _done, ...rest } = thread;
          await db.threads.put(rest);
        }
      });
    },
    async listMessages(threadId) {
      return db.messages
        .where('[sub+threadId+createdAt]')
        .between([sub, threadId, Dexie.minKey], [sub, threadId, Dexie.maxKey])
        .toArray();
    },
    async upsertThread(thread) {
      await db.transaction('rw', db.threads, async () => {
        const existing = await db.threads.get([sub, thread.id]);
        await db.threads.put({ ...existing, ...thread, sub });
      });
    },
    async mergeThreads(threads) {
      await db.transaction('rw', db.threads, async () => {
        for (const t of threads) {
          const existing = await db.threads.get([sub, t.id]);
          if (!existing || existing.updatedAt < t.updatedAt || existing.title !== t.title) {
            await db.threads.put({
              // Keep what only this browser knows (the active-run pointer).
              ...existing,
              ...t,
              sub,
              updatedAt: existing && existing.updatedAt > t.updatedAt ? existing.updatedAt : t.updatedAt,
            });
          }
        }
      });
    },
    async putMessages(messages) {
      await db.messages.bulkPut(messages.map((m) => ({ ...m, sub })));
    },
    async clear() {
      await db.transaction('rw', db.threads, db.messages, db.runs, async () => {
        await db.threads.where('[sub+updatedAt]').between([sub, Dexie.minKey], [sub, Dexie.maxKey]).delete();
        await db.runs
          .where('[sub+threadId+startedAt]')
          .between([sub, Dexie.minKey, Dexie.minKey], [sub, Dexie.maxKey, Dexie.maxKey])
          .delete();
        await db.messages
          .where('[sub+threadId+createdAt]')
          .between([sub, Dexie.minKey, Dexie.minKey], [sub, Dexie.maxKey, Dexie.maxKey])
          .delete();
      });
    },
  };
}

function stripRun(row: LocalRun): RunView {
  const { sub: _sub, updatedAt: _updatedAt, ...run } = row;
  return run;
}

/**
 * A thread's active-run pointer after storing `run`: the run while it is running or paused; cleared when that run
 * finished; unchanged (the same object) when nothing changes or another run is the active one and this one finished.
 */
export function activeRunAfter(current: ActiveRunPointer | undefined, run: Pick<RunView, 'runId' | 'status' | 'lastSeq'>): ActiveRunPointer | undefined {
  if (run.status === 'running' || run.status === 'interrupted') {
    if (current && current.runId === run.runId && current.lastSeq === run.lastSeq && current.status === run.status) return current;
    return { runId: run.runId, lastSeq: run.lastSeq, status: run.status };
  }
  return current?.runId === run.runId ? undefined : current;
}
