/**
 * Chat runs. A run is started by a user turn and then lives on its own: it keeps going when the client
 * disconnects, every event is persisted with a sequence number, and any client of the same user can follow
 * it from any point (`Last-Event-ID`).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { ChatRequest, RunEvent } from '../../../lib/protocol';
import { ApiError, notFound } from '../http/problem';
import type { ThreadStore } from '../store/threads';
import { SYSTEM_PROMPT } from './system-prompt';

export interface SequencedEvent {
  seq: number;
  event: RunEvent;
}

interface LiveRun {
  sub: string;
  emitter: EventEmitter;
  seq: number;
  /** Serialises persistence so events are stored and delivered in order. */
  chain: Promise<void>;
  done: boolean;
}

const HISTORY_LIMIT = 40;
const TERMINAL = new Set<RunEvent['type']>(['run.completed', 'run.failed']);

export class RunManager {
  private readonly live = new Map<string, LiveRun>();

  constructor(
    private readonly store: ThreadStore,
    private readonly model: OpenAI,
    private readonly modelName: string,
  ) {}

  /** Stores the user's turn and starts the run in the background. */
  async start(user: { sub: string }, req: ChatRequest): Promise<{ runId: string; threadId: string }> {
    let threadId = req.threadId;
    if (threadId) {
      if (!(await this.store.getThread(user.sub, threadId))) throw notFound('The conversation');
    } else {
      threadId = (await this.store.createThread(user.sub, titleFrom(req.message))).id;
    }
    const { message } = await this.store.addMessage({
      sub: user.sub,
      threadId,
      role: 'user',
      content: req.message,
      clientMessageId: req.clientMessageId,
    });
    if (message.threadId !== threadId) {
      throw new ApiError(409, 'client_message_id_conflict', 'Conflict', 'That clientMessageId was already used in another conversation.');
    }
    const runId = randomUUID();
    await this.store.startRun({ id: runId, sub: user.sub, threadId, model: this.modelName });
    const run: LiveRun = { sub: user.sub, emitter: new EventEmitter(), seq: 0, chain: Promise.resolve(), done: false };
    run.emitter.setMaxListeners(0);
    this.live.set(runId, run);
    this.emit(runId, { type: 'run.started', runId, threadId, userMessageId: message.id, model: this.modelName });
    void this.execute(runId, user.sub, threadId);
    return { runId, threadId };
  }

  /** Events of a run after `afterSeq`: the stored ones first, then live ones until the run ends. */
  async *follow(sub: string, runId: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<SequencedEvent> {
    const run = this.live.get(runId);
    if (run && run.sub !== sub) throw notFound('The run');
    const buffered: SequencedEvent[] = [];
    let wake: (() => void) | undefined;
    const onEvent = (e: SequencedEvent) => {
      buffered.push(e);
      wake?.();
    };
    run?.emitter.on('event', onEvent);
    signal?.addEventListener('abort', () => wake?.());
    try {
      let last = afterSeq;
      const stored = await this.store.listRunEvents(sub, runId, afterSeq);
      if (!run && stored === undefined) throw notFound('The run');
      for (const e of stored ?? []) {
        last = e.seq;
        yield e;
        if (TERMINAL.has(e.event.type)) return;
      }
      if (!run || run.done) {
        // The run ended while we were reading; pick up anything stored after `last`.
        for (const e of (await this.store.listRunEvents(sub, runId, last)) ?? []) yield e;
        return;
      }
      while (!signal?.aborted) {
        const next = buffered.shift();
        if (!next) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (next.seq <= last) continue;
        last = next.seq;
        yield next;
        if (TERMINAL.has(next.event.type)) return;
      }
    } finally {
      run?.emitter.off('event', onEvent);
    }
  }

  /** Resolves when every in-flight run has finished (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.live.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private emit(runId: string, event: RunEvent): Promise<void> {
    const run = this.live.get(runId);
    if (!run) return Promise.resolve();
    const seq = ++run.seq;
    run.chain = run.chain.then(async () => {
      await this.store.appendEvent(runId, seq, event);
      run.emitter.emit('event', { seq, event } satisfies SequencedEvent);
    });
    return run.chain;
  }

  private async execute(runId: string, sub: string, threadId: string): Promise<void> {
    try {
      const history = (await this.store.listMessages(sub, threadId)).slice(-HISTORY_LIMIT);
      const stream = await this.model.chat.completions.create({
        model: this.modelName,
        stream: true,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          ...history.map((m) => ({ role: m.role, content: m.content })),
        ],
      });
      const messageId = randomUUID();
      let content = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          content += delta;
          void this.emit(runId, { type: 'message.delta', runId, messageId, delta });
        }
      }
      const { message } = await this.store.addMessage({ id: messageId, sub, threadId, role: 'assistant', content });
      void this.emit(runId, { type: 'message.completed', runId, message });
      await this.emit(runId, { type: 'run.completed', runId });
      await this.store.finishRun(runId, { status: 'completed' });
    } catch (err) {
      const error = describeModelError(err);
      await this.emit(runId, { type: 'run.failed', runId, error }).catch(() => {});
      await this.store.finishRun(runId, { status: 'failed', errorCode: error.code }).catch(() => {});
    } finally {
      const run = this.live.get(runId);
      if (run) run.done = true;
      this.live.delete(runId);
    }
  }
}

function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/** A message for the user that never carries the provider's raw error text (it can echo keys or prompts). */
function describeModelError(err: unknown): { code: string; message: string } {
  if (err instanceof APIError) {
    if (err.status === 401 || err.status === 403) {
      return { code: 'model_auth_failed', message: 'The model service refused our credentials. Check OPENAI_API_KEY.' };
    }
    if (err.status === 429) return { code: 'model_rate_limited', message: 'The model service is rate-limiting us. Try again in a moment.' };
    if (err.status === undefined) return { code: 'model_unreachable', message: 'The model service could not be reached. Check OPENAI_BASE_URL.' };
    return { code: 'model_error', message: `The model service answered with status ${err.status}.` };
  }
  return { code: 'run_failed', message: 'The run failed unexpectedly. Try again.' };
}
