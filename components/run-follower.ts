/**
 * Follows chat runs for the side panel and keeps them durable in this browser:
 * - `send` posts a user turn and follows its run's events; `attach` re-attaches to an unfinished run with
 *   `Last-Event-ID: <last seq seen>` (after the panel was reopened, or when a stream broke), replaying what was
 *   missed and following live events until the run completes, fails or pauses;
 * - every event goes through the pure reducer (components/run-state.ts) and the view is stored in IndexedDB with its
 *   last sequence number (streamed text at most every `persistDelayMs`, everything else at once), with the
 *   thread's active-run pointer, so history shows tool activity and a paused run's card after reopening;
 * - a broken stream is re-attached with back-off; a run the server no longer knows is marked failed;
 * - a run paused for an approval is re-attached every `approvalPollMs` until the approval is answered (on another
 *   device: nothing in this panel would tell us) or it has long expired.
 * Several runs (in different conversations) can be followed at the same time.
 */
import { ApiError, type ApiClient, type SequencedRunEvent } from '@/lib/api-client';
import { AuthError } from '@/lib/auth';
import { type LocalHistory, titleFrom } from '@/lib/db';
import { shownContext } from '@/lib/page-capture';
import type { ChatRequest, RunEvent } from '@/lib/protocol';
import { applyRunEvent, createRun, isRunActive, type RunView } from './run-state';

type StartedEvent = Extract<RunEvent, { type: 'run.started' }>;

export interface RunFollowerDeps {
  api: Pick<ApiClient, 'chatEvents' | 'runEvents'>;
  history: Pick<LocalHistory, 'getThread' | 'upsertThread' | 'putMessages' | 'putRun' | 'getRun'>;
  /** Every change of a run's view (for the UI). */
  onRun?(run: RunView, previous: RunView | undefined): void;
  /** Re-attaching did not work after the retries (or the server refused); `attach` again to retry. */
  onConnectionLost?(runId: string, error: unknown): void;
  /** Waits before each reconnect attempt; the attempts stop after the last one. */
  retryDelaysMs?: number[];
  /** How often a run waiting for an approval is re-attached. */
  approvalPollMs?: number;
  /** Longest time streamed text waits before it is stored. */
  persistDelayMs?: number;
  now?(): string;
  log?(line: string): void;
}

const DEFAULT_RETRY_DELAYS = [500, 1_000, 2_000, 4_000, 8_000];
const DEFAULT_APPROVAL_POLL_MS = 2_000;
/** How long after an approval's expiry it is still watched for (the server reports the expiry itself). */
const APPROVAL_EXPIRY_GRACE_MS = 60_000;

/** Paused on an approval that can still be answered: its answer arrives as events of the run. */
export function awaitsApproval(run: RunView, nowMs = Date.now()): boolean {
  if (run.status !== 'interrupted' || run.interrupt?.kind !== 'approval_pending' || !run.interrupt.expiresAt) return false;
  const expiresAt = Date.parse(run.interrupt.expiresAt);
  return Number.isFinite(expiresAt) && nowMs < expiresAt + APPROVAL_EXPIRY_GRACE_MS;
}

function isAbort(e: unknown): boolean {
  return (e instanceof DOMException || e instanceof Error) && e.name === 'AbortError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

interface WriteQueue {
  chain: Promise<void>;
  timer?: ReturnType<typeof setTimeout>;
}

export class RunFollower {
  private readonly runs = new Map<string, RunView>();
  private readonly following = new Map<string, AbortController>();
  private readonly sending = new Set<AbortController>();
  private readonly writes = new Map<string, WriteQueue>();
  private closed = false;

  constructor(private readonly deps: RunFollowerDeps) {}

  private now(): string {
    return this.deps.now?.() ?? new Date().toISOString();
  }

  private get approvalPollMs(): number {
    return this.deps.approvalPollMs ?? DEFAULT_APPROVAL_POLL_MS;
  }

  get(runId: string): RunView | undefined {
    return this.runs.get(runId);
  }

  isFollowing(runId: string): boolean {
    return this.following.has(runId);
  }

  /** Takes a stored view, unless this follower already holds a view that has seen as much or more. */
  adopt(stored: RunView): RunView {
    const live = this.runs.get(stored.runId);
    if (live && live.lastSeq >= stored.lastSeq) return live;
    this.runs.set(stored.runId, stored);
    return stored;
  }

  /**
   * Sends a user turn and follows its run until it completes, fails or pauses (re-attaching if the stream breaks).
   * `onStarted` runs once the server accepted the turn (the thread, the user message and the run are stored by
   * then). Throws only when the turn was not accepted (nothing was stored: the caller can offer to send again).
   */
  async send(
    request: ChatRequest,
    onStarted?: (event: StartedEvent, run: RunView) => void | Promise<void>,
  ): Promise<{ runId: string } | undefined> {
    if (this.closed) return undefined;
    const controller = new AbortController();
    this.sending.add(controller);
    const startedAt = this.now();
    let runId: string | undefined;
    try {
      for await (const { seq, event } of this.deps.api.chatEvents(request, { signal: controller.signal })) {
        if (!runId) {
          if (event.type !== 'run.started') continue;
          runId = event.runId;
          this.sending.delete(controller);
          this.following.set(runId, controller);
          const run = createRun({ runId, threadId: event.threadId, userMessageId: event.userMessageId, model: event.model, startedAt });
          this.runs.set(runId, run);
          await this.enqueue(runId, () => this.storeStart(event, request.message, startedAt, run, request.context));
          await onStarted?.(event, run);
        }
        this.apply(runId, seq, event);
      }
      const last = runId ? this.runs.get(runId) : undefined;
      if (runId && last && !controller.signal.aborted) {
        if (last.status === 'running') {
          // The stream ended quietly before the run did: re-attach.
          await this.follow(runId, controller.signal, 1, new ApiError(0, 'stream_interrupted', 'The answer stream ended before the run finished.'));
        } else if (awaitsApproval(last)) {
          await sleep(this.approvalPollMs, controller.signal);
          await this.follow(runId, controller.signal, 0);
        }
      }
      return runId ? { runId } : undefined;
    } catch (e) {
      if (!runId) throw e;
      if (controller.signal.aborted || isAbort(e) || e instanceof AuthError) return { runId };
      // Accepted, then the stream broke: the run goes on at the server. Re-attach.
      await this.follow(runId, controller.signal, 1, e);
      return { runId };
    } finally {
      this.sending.delete(controller);
      if (runId && this.following.get(runId) === controller) this.following.delete(runId);
      if (runId) await this.flush(runId);
    }
  }

  /**
   * Re-attaches to a run that has not finished (from memory or the local store), replaying the events after the
   * last one seen. Resolves when the run completes, fails, pauses, or following it gave up. No-op when the run is
   * already followed or finished.
   */
  async attach(runId: string): Promise<void> {
    if (this.closed || this.following.has(runId)) return;
    const controller = new AbortController();
    this.following.set(runId, controller);
    try {
      if (!this.runs.has(runId)) {
        const stored = await this.deps.history.getRun(runId);
        if (!stored || controller.signal.aborted) return;
        this.adopt(stored);
      }
      await this.follow(runId, controller.signal, 0);
    } finally {
      if (this.following.get(runId) === controller) this.following.delete(runId);
      await this.flush(runId);
    }
  }

  /** Stops following everything and stores what was seen. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.sending) c.abort();
    for (const c of this.following.values()) c.abort();
    await Promise.all([...this.writes.keys()].map((id) => this.flush(id)));
  }

  private async follow(runId: string, signal: AbortSignal, failures: number, lastError?: unknown): Promise<void> {
    const delays = this.deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS;
    for (;;) {
      if (signal.aborted) return;
      const run = this.runs.get(runId);
      if (!run || !isRunActive(run)) return;
      if (failures > 0) {
        if (failures > delays.length) {
          this.deps.onConnectionLost?.(runId, lastError);
          return;
        }
        await sleep(delays[failures - 1], signal);
        if (signal.aborted) return;
      }
      const before = this.runs.get(runId)!.lastSeq;
      try {
        for await (const { seq, event } of this.deps.api.runEvents(runId, before, { signal })) this.apply(runId, seq, event);
        const now = this.runs.get(runId)!;
        if (awaitsApproval(now)) {
          await sleep(this.approvalPollMs, signal);
          failures = 0;
          continue;
        }
        if (now.status !== 'running') return; // completed, failed, or paused
        lastError = new ApiError(0, 'stream_interrupted', 'The run’s event stream ended before the run finished.');
      } catch (e) {
        if (signal.aborted || isAbort(e) || e instanceof AuthError) return;
        if (e instanceof ApiError && e.status === 404) {
          this.applyLocal(runId, {
            type: 'run.failed',
            runId,
            error: { code: 'run_not_found', message: 'The server no longer knows this run, so the rest of its answer cannot be shown.' },
          });
          return;
        }
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
          this.deps.onConnectionLost?.(runId, e);
          return;
        }
        lastError = e;
      }
      // Progress since the last attempt starts the back-off over.
      failures = this.runs.get(runId)!.lastSeq > before ? 1 : failures + 1;
    }
  }

  private apply(runId: string, seq: number | undefined, event: RunEvent): void {
    const prev = this.runs.get(runId);
    if (!prev) return;
    const next = applyRunEvent(prev, event, seq);
    if (next === prev) return;
    this.runs.set(runId, next);
    if (event.type === 'message.completed') {
      const message = event.message;
      void this.enqueue(runId, async () => {
        await this.deps.history.putMessages([message]);
        const thread = await this.deps.history.getThread(message.threadId);
        if (thread && thread.updatedAt < message.createdAt) await this.deps.history.upsertThread({ ...thread, updatedAt: message.createdAt });
      });
    }
    this.schedulePersist(runId, event.type === 'message.delta' ? (this.deps.persistDelayMs ?? 300) : 0);
    this.deps.onRun?.(next, prev);
  }

  /** A change the server did not send (no sequence number: it never counts as seen). */
  private applyLocal(runId: string, event: RunEvent): void {
    this.apply(runId, undefined, event);
  }

  private async storeStart(event: StartedEvent, message: string, startedAt: string, run: RunView, context?: ChatRequest['context']): Promise<void> {
    const { history } = this.deps;
    const existing = await history.getThread(event.threadId);
    await history.upsertThread({
      id: event.threadId,
      title: existing?.title ?? titleFrom(message),
      createdAt: existing?.createdAt ?? startedAt,
      updatedAt: existing && existing.updatedAt > startedAt ? existing.updatedAt : startedAt,
    });
    const shown = shownContext(context);
    await history.putMessages([{ id: event.userMessageId, threadId: event.threadId, role: 'user', content: message, createdAt: startedAt, ...(shown ? { context: shown } : {}) }]);
    await history.putRun(run);
  }

  private queue(runId: string): WriteQueue {
    let q = this.writes.get(runId);
    if (!q) {
      q = { chain: Promise.resolve() };
      this.writes.set(runId, q);
    }
    return q;
  }

  /** Runs store writes of one run in order; a failed write is logged, never breaks the chain. */
  private enqueue(runId: string, write: () => Promise<void>): Promise<void> {
    const q = this.queue(runId);
    q.chain = q.chain.then(write).catch((e) => this.deps.log?.(`storing run ${runId} failed: ${e instanceof Error ? e.message : String(e)}`));
    return q.chain;
  }

  private schedulePersist(runId: string, delayMs: number): void {
    const q = this.queue(runId);
    if (delayMs > 0) {
      q.timer ??= setTimeout(() => {
        q.timer = undefined;
        void this.persistNow(runId);
      }, delayMs);
      return;
    }
    if (q.timer) clearTimeout(q.timer);
    q.timer = undefined;
    void this.persistNow(runId);
  }

  /** Stores the run's latest view (whatever it is when the write runs: writes coalesce). */
  private persistNow(runId: string): Promise<void> {
    return this.enqueue(runId, async () => {
      const run = this.runs.get(runId);
      if (run) await this.deps.history.putRun(run);
    });
  }

  /** Stores a pending throttled write now and waits for the run's writes. */
  async flush(runId: string): Promise<void> {
    const q = this.writes.get(runId);
    if (!q) return;
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
      await this.persistNow(runId);
    }
    await q.chain;
  }
}

export type { SequencedRunEvent };
