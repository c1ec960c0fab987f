/**
 * The panel's run follower against a scripted API and an in-memory history: it stores the run as it goes,
 * re-attaches with the last sequence number seen when the stream breaks, dedupes the overlap, survives a panel
 * that closed (a fresh follower re-attaches from the stored view), and gives up clearly.
 */
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient, type SequencedRunEvent } from '../../lib/api-client';
import type { LocalHistory, LocalMessage, LocalThread, RunView } from '../../lib/db';
import { activeRunAfter } from '../../lib/db';
import type { RunEvent } from '../../lib/protocol';
import { RunFollower } from '../../components/run-follower';

const runId = '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01';
const threadId = '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10';
const userMessageId = 'a5c3e2d1-7b6f-4e8a-9c0d-1f2e3d4c5b6a';
const messageId = 'b7d9e1f3-2a4c-4e6b-8d0f-3a5c7e9b1d2f';

const script: RunEvent[] = [
  { type: 'run.started', runId, threadId, userMessageId, model: 'deputy-offline-1' },
  { type: 'tool.proposed', runId, call: { toolCallId: 'c1', name: 'list_projects', tier: 'read', arguments: {}, summary: 'List your projects' } },
  { type: 'tool.decided', runId, toolCallId: 'c1', decision: { kind: 'allow' } },
  { type: 'tool.completed', runId, toolCallId: 'c1', ok: true, summary: '2 projects' },
  { type: 'message.delta', runId, messageId, delta: 'You have ' },
  { type: 'message.delta', runId, messageId, delta: '2 projects.' },
  {
    type: 'message.completed',
    runId,
    message: { id: messageId, threadId, role: 'assistant', content: 'You have 2 projects.', createdAt: '2026-11-02T10:00:05.000Z' },
  },
  { type: 'run.completed', runId },
];
const frames: SequencedRunEvent[] = script.map((event, i) => ({ seq: i + 1, event }));

function memoryHistory() {
  const threads = new Map<string, Omit<LocalThread, 'sub'>>();
  const messages = new Map<string, Omit<LocalMessage, 'sub'>>();
  const runs = new Map<string, RunView>();
  const history: Pick<LocalHistory, 'getThread' | 'upsertThread' | 'putMessages' | 'putRun' | 'getRun'> = {
    async getThread(id) {
      const t = threads.get(id);
      return t && { ...t, sub: 'alice' };
    },
    async upsertThread(t) {
      threads.set(t.id, { ...threads.get(t.id), ...t });
    },
    async putMessages(list) {
      for (const m of list) messages.set(m.id, m);
    },
    async getRun(id) {
      return runs.get(id);
    },
    async putRun(run) {
      const stored = runs.get(run.runId);
      if (stored && stored.lastSeq > run.lastSeq) return;
      runs.set(run.runId, structuredClone(run));
      const t = threads.get(run.threadId);
      if (t) {
        const activeRun = activeRunAfter(t.activeRun, run);
        threads.set(run.threadId, { ...t, activeRun });
      }
    },
  };
  return { history, threads, messages, runs };
}

/** An async generator over frames that throws after `breakAfter` frames (a broken connection). */
async function* stream(list: SequencedRunEvent[], breakAfter = Infinity): AsyncGenerator<SequencedRunEvent> {
  let n = 0;
  for (const f of list) {
    if (n++ >= breakAfter) throw new ApiError(0, 'stream_interrupted', 'The connection broke while the answer was streaming.');
    await Promise.resolve();
    yield f;
  }
}

function fakeApi(chat: () => AsyncGenerator<SequencedRunEvent>, reattach: (afterSeq: number) => AsyncGenerator<SequencedRunEvent>) {
  const calls: number[] = [];
  const api: Pick<ApiClient, 'chatEvents' | 'runEvents'> = {
    chatEvents: () => chat(),
    runEvents: (id, afterSeq) => {
      expect(id).toBe(runId);
      calls.push(afterSeq);
      return reattach(afterSeq);
    },
  };
  return { api, calls };
}

const request = { message: 'list my projects', clientMessageId: 'e4b6c8d0-1f3a-4b5c-8d7e-9f0a1b2c3d4e' };

describe('RunFollower', () => {
  it('follows a run to the end and stores the thread, the user message, the answer and the run view', async () => {
    const mem = memoryHistory();
    const { api, calls } = fakeApi(() => stream(frames), () => stream([]));
    const seen: string[] = [];
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1], onRun: (r) => seen.push(r.status), now: () => '2026-11-02T10:00:00.000Z' });
    const started = vi.fn();
    expect(await f.send(request, started)).toEqual({ runId });
    expect(started).toHaveBeenCalledOnce();
    expect(calls).toEqual([]);
    expect(seen.at(-1)).toBe('completed');
    expect(mem.threads.get(threadId)).toMatchObject({ title: 'list my projects', createdAt: '2026-11-02T10:00:00.000Z', updatedAt: '2026-11-02T10:00:05.000Z' });
    expect(mem.threads.get(threadId)?.activeRun).toBeUndefined();
    expect([...mem.messages.values()].map((m) => `${m.role}:${m.content}`)).toEqual(['user:list my projects', 'assistant:You have 2 projects.']);
    const stored = mem.runs.get(runId)!;
    expect(stored).toMatchObject({ status: 'completed', lastSeq: 8, userMessageId });
    expect(stored.parts.map((p) => (p.kind === 'tool' ? `${p.call.name}:${p.call.state}` : p.content))).toEqual(['list_projects:done', 'You have 2 projects.']);
  });

  it('re-attaches with the last sequence number seen when the stream breaks, without doubling text', async () => {
    const mem = memoryHistory();
    // The POST stream breaks after 5 frames (mid-answer); the server replays from an overlapping point.
    const { api, calls } = fakeApi(
      () => stream(frames, 5),
      (after) => stream(frames.filter((fr) => fr.seq! > after - 2)), // overlap: replays two already-seen events
    );
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1, 1] });
    await f.send(request);
    expect(calls).toEqual([5]);
    const run = f.get(runId)!;
    expect(run.status).toBe('completed');
    expect(run.parts.flatMap((p) => (p.kind === 'message' ? [p.content] : []))).toEqual(['You have 2 projects.']);
    expect(mem.runs.get(runId)?.lastSeq).toBe(8);
  });

  it('a reopened panel (a new follower) re-attaches from the stored view and continues', async () => {
    const mem = memoryHistory();
    // First panel: the run is accepted, then the panel goes away mid-answer.
    const first = new RunFollower({
      api: fakeApi(
        () => stream(frames.slice(0, 5)),
        () => stream([]),
      ).api,
      history: mem.history,
      retryDelaysMs: [],
    });
    const lost = vi.fn();
    await first.send(request).catch(() => {});
    await first.close();
    expect(mem.runs.get(runId)).toMatchObject({ status: 'running', lastSeq: 5 });
    expect(mem.threads.get(threadId)?.activeRun).toEqual({ runId, status: 'running', lastSeq: 5 });

    // Second panel.
    const { api, calls } = fakeApi(() => stream([]), (after) => stream(frames.filter((fr) => fr.seq! > after)));
    const second = new RunFollower({ api, history: mem.history, onConnectionLost: lost });
    await second.attach(runId);
    expect(calls).toEqual([5]);
    expect(second.get(runId)?.status).toBe('completed');
    expect(mem.threads.get(threadId)?.activeRun).toBeUndefined();
    expect(lost).not.toHaveBeenCalled();
  });

  it('a paused run stays paused when re-attaching finds nothing new', async () => {
    const mem = memoryHistory();
    const paused: SequencedRunEvent[] = [
      ...frames.slice(0, 1),
      { seq: 2, event: { type: 'tool.proposed', runId, call: { toolCallId: 'd', name: 'delete_project', tier: 'high', arguments: { projectId: 'security-audit' }, summary: 'Delete the project security-audit' } } },
      { seq: 3, event: { type: 'tool.decided', runId, toolCallId: 'd', decision: { kind: 'need_approval', reason: 'high-risk' } } },
      { seq: 4, event: { type: 'run.interrupted', runId, interrupt: { kind: 'approval_pending', toolCallId: 'd', reason: 'high-risk', bindingMessage: 'Delete project security-audit' } } },
    ];
    const { api, calls } = fakeApi(() => stream(paused), () => stream([]));
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1] });
    await f.send(request);
    expect(calls).toEqual([]); // run.interrupted ends the POST stream: nothing to re-attach to right now
    expect(mem.runs.get(runId)).toMatchObject({ status: 'interrupted', interrupt: { kind: 'approval_pending' } });
    expect(mem.threads.get(threadId)?.activeRun).toEqual({ runId, status: 'interrupted', lastSeq: 4 });
    await f.attach(runId); // e.g. the panel reopened
    expect(calls).toEqual([4]);
    expect(f.get(runId)?.status).toBe('interrupted');
  });

  it('keeps watching a run that waits for an approval until its answer arrives (answered on another device)', async () => {
    const mem = memoryHistory();
    const approvalId = '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11';
    const expiresAt = new Date(Date.now() + 300_000).toISOString();
    const paused: SequencedRunEvent[] = [
      ...frames.slice(0, 1),
      { seq: 2, event: { type: 'tool.proposed', runId, call: { toolCallId: 'd', name: 'delete_project', tier: 'high', arguments: { projectId: 'security-audit' }, summary: 'Delete the project security-audit' } } },
      { seq: 3, event: { type: 'tool.decided', runId, toolCallId: 'd', decision: { kind: 'need_approval', reason: 'high-risk' } } },
      { seq: 4, event: { type: 'run.interrupted', runId, interrupt: { kind: 'approval_pending', toolCallId: 'd', reason: 'high-risk', approvalId, expiresAt } } },
    ];
    const answer: SequencedRunEvent[] = [
      { seq: 5, event: { type: 'approval.resolved', runId, toolCallId: 'd', approvalId, status: 'denied' } },
      { seq: 6, event: { type: 'run.resumed', runId, toolCallId: 'd' } },
      { seq: 7, event: { type: 'message.completed', runId, message: { id: messageId, threadId, role: 'assistant', content: 'Not deleted.', createdAt: '2026-11-02T10:00:09.000Z' } } },
      { seq: 8, event: { type: 'run.completed', runId } },
    ];
    let polls = 0;
    // Still pending on the first two polls (nothing new), answered on the third.
    const { api, calls } = fakeApi(() => stream(paused), () => (++polls < 3 ? stream([]) : stream(answer)));
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1], approvalPollMs: 1 });
    await f.send(request);
    expect(calls).toEqual([4, 4, 4]);
    const run = f.get(runId)!;
    expect(run.status).toBe('completed');
    expect(run.parts[0]).toMatchObject({ kind: 'tool', call: { state: 'denied', approval: { approvalId, status: 'denied' } } });
    expect(mem.runs.get(runId)).toMatchObject({ status: 'completed', lastSeq: 8 });
  });

  it('stops watching an approval that expired long ago', async () => {
    const mem = memoryHistory();
    const expiresAt = new Date(Date.now() - 120_000).toISOString();
    const paused: SequencedRunEvent[] = [
      ...frames.slice(0, 1),
      { seq: 2, event: { type: 'run.interrupted', runId, interrupt: { kind: 'approval_pending', toolCallId: 'd', reason: 'r', approvalId: '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11', expiresAt } } },
    ];
    const { api, calls } = fakeApi(() => stream(paused), () => stream([]));
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1], approvalPollMs: 1 });
    await f.send(request);
    expect(calls).toEqual([]);
    expect(f.get(runId)?.status).toBe('interrupted');
  });

  it('gives up after the retries and says so; attach again retries', async () => {
    const mem = memoryHistory();
    let fail = true;
    const { api, calls } = fakeApi(
      () => stream(frames, 3),
      (after) => (fail ? stream([], 0) /* ends at once, run still running */ : stream(frames.filter((fr) => fr.seq! > after))),
    );
    const lost = vi.fn();
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1, 1], onConnectionLost: lost });
    await f.send(request);
    expect(calls).toEqual([3, 3]);
    expect(lost).toHaveBeenCalledWith(runId, expect.objectContaining({ code: 'stream_interrupted' }));
    fail = false;
    await f.attach(runId);
    expect(f.get(runId)?.status).toBe('completed');
  });

  it('marks a run the server no longer knows as failed, and does not retry', async () => {
    const mem = memoryHistory();
    const { api, calls } = fakeApi(
      () => stream(frames, 2),
      // eslint-disable-next-line require-yield
      async function* () {
        throw new ApiError(404, 'not_found', 'The run was not found.');
      },
    );
    const f = new RunFollower({ api, history: mem.history, retryDelaysMs: [1, 1, 1] });
    await f.send(request);
    expect(calls).toEqual([2]);
    expect(mem.runs.get(runId)).toMatchObject({ status: 'failed', error: { code: 'run_not_found' } });
  });

  it('a turn the server did not accept throws and stores nothing', async () => {
    const mem = memoryHistory();
    const { api } = fakeApi(
      // eslint-disable-next-line require-yield
      async function* () {
        throw new ApiError(0, 'network_error', 'Could not reach the Deputy server.');
      },
      () => stream([]),
    );
    const f = new RunFollower({ api, history: mem.history });
    await expect(f.send(request)).rejects.toMatchObject({ code: 'network_error' });
    expect(mem.threads.size + mem.messages.size + mem.runs.size).toBe(0);
  });

  it('stores streamed text at most every persistDelayMs, everything else at once', async () => {
    vi.useFakeTimers();
    try {
      const mem = memoryHistory();
      const puts: number[] = [];
      const putRun = mem.history.putRun;
      mem.history.putRun = async (run) => {
        puts.push(run.lastSeq);
        await putRun(run);
      };
      let release1!: () => void;
      let release2!: () => void;
      const gate1 = new Promise<void>((r) => (release1 = r));
      const gate2 = new Promise<void>((r) => (release2 = r));
      async function* slow(): AsyncGenerator<SequencedRunEvent> {
        for (const fr of frames.slice(0, 4)) yield fr; // started, proposed, decided, tool completed
        await gate1;
        for (const fr of frames.slice(4, 6)) yield fr; // two deltas
        await gate2;
        for (const fr of frames.slice(6)) yield fr;
      }
      const f = new RunFollower({ api: fakeApi(slow, () => stream([])).api, history: mem.history, persistDelayMs: 1_000 });
      const done = f.send(request);
      await vi.advanceTimersByTimeAsync(10);
      expect(puts.at(-1)).toBe(4); // tool events are stored at once
      const writes = puts.length;
      release1();
      await vi.advanceTimersByTimeAsync(10);
      expect(puts.length).toBe(writes); // streamed text waits…
      await vi.advanceTimersByTimeAsync(1_000);
      expect(puts.slice(writes)).toEqual([6]); // …and both deltas go in one write
      release2();
      await done;
      expect(puts.at(-1)).toBe(8);
    } finally {
      vi.useRealTimers();
    }
  });
});
