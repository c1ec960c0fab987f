import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type RunningModelServer } from '../../backend/emulators/model/server';
import { createModelClient } from '../../backend/src/chat/model-client';
import { RunManager, type SequencedEvent } from '../../backend/src/chat/run-manager';
import { openStore, type Store } from '../../backend/src/store/database';
import { RunStore } from '../../backend/src/store/runs';
import { ThreadStore } from '../../backend/src/store/threads';
import { OFFLINE_MODEL_NAME } from '../../lib/defaults';
import { RunEvent } from '../../lib/protocol';

let model: RunningModelServer;
let store: Store;
let threads: ThreadStore;
let runs: RunManager;
const alice = { sub: 'auth0|alice', scopes: ['chat'] };
const bob = { sub: 'auth0|bob', scopes: ['chat'] };

async function collect(gen: AsyncGenerator<SequencedEvent>) {
  const out: SequencedEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

beforeAll(async () => {
  model = await startModelServer({ port: 0, chunkDelayMs: 2 });
  store = await openStore({ pgliteDir: 'memory://' });
  threads = new ThreadStore(store.db);
  await threads.touchUser(alice);
  await threads.touchUser(bob);
  runs = new RunManager({
    threads,
    runs: new RunStore(store.db),
    model: createModelClient({ baseURL: model.url, apiKey: 'offline', name: OFFLINE_MODEL_NAME, offline: true }),
    modelName: OFFLINE_MODEL_NAME,
  });
});

afterAll(async () => {
  await runs?.drain();
  await store?.close();
  await model?.close();
});

describe('chat runs on the offline model through the openai SDK', () => {
  it('streams deltas that add up to the stored assistant message, with gapless sequence numbers', async () => {
    const { runId, threadId } = await runs.start(alice, { message: 'Tell me about passkeys and phishing' });
    const events = await collect(runs.follow(alice.sub, runId));
    for (const e of events) expect(RunEvent.safeParse(e.event).success).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0].event.type).toBe('run.started');
    expect(events.at(-1)!.event.type).toBe('run.completed');
    const deltas = events.flatMap((e) => (e.event.type === 'message.delta' ? [e.event.delta] : []));
    expect(deltas.length).toBeGreaterThan(5);
    const completed = events.find((e) => e.event.type === 'message.completed')!.event;
    if (completed.type !== 'message.completed') throw new Error('unreachable');
    expect(deltas.join('')).toBe(completed.message.content);
    expect(completed.message.content).toContain('passkeys');
    const stored = await threads.listMessages(alice.sub, threadId);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('re-attaches after a given event id and gets exactly the rest', async () => {
    const { runId } = await runs.start(alice, { message: 'What can you do?' });
    const all = await collect(runs.follow(alice.sub, runId));
    const tail = await collect(runs.follow(alice.sub, runId, 3));
    expect(tail.map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
  });

  it('keeps the conversation: the second turn sees the first', async () => {
    const first = await runs.start(alice, { message: 'Hello, my name is Ada' });
    await collect(runs.follow(alice.sub, first.runId));
    const second = await runs.start(alice, { threadId: first.threadId, message: 'What is my name?' });
    const events = await collect(runs.follow(alice.sub, second.runId));
    const done = events.find((e) => e.event.type === 'message.completed')!.event as Extract<RunEvent, { type: 'message.completed' }>;
    expect(done.message.content).toContain('Ada');
  });

  it("does not let another user read or continue someone's conversation or run", async () => {
    const { runId, threadId } = await runs.start(alice, { message: 'private question' });
    await expect(collect(runs.follow(bob.sub, runId))).rejects.toMatchObject({ code: 'not_found' });
    await expect(runs.start(bob, { threadId, message: 'hi' })).rejects.toMatchObject({ code: 'not_found' });
    expect(await threads.listMessages(bob.sub, threadId)).toEqual([]);
  });

  it('stores a retried user message once (same clientMessageId)', async () => {
    const clientMessageId = crypto.randomUUID();
    const a = await runs.start(alice, { message: 'retry me', clientMessageId });
    await collect(runs.follow(alice.sub, a.runId));
    const b = await runs.start(alice, { threadId: a.threadId, message: 'retry me', clientMessageId });
    await collect(runs.follow(alice.sub, b.runId));
    const msgs = await threads.listMessages(alice.sub, a.threadId);
    expect(msgs.filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('fails the run with a clear, secret-free error when the model is unreachable', async () => {
    const broken = new RunManager({
      threads,
      runs: new RunStore(store.db),
      model: createModelClient({ baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-test-secret-value', name: 'x', offline: false }),
      modelName: 'x',
    });
    const { runId } = await broken.start(alice, { message: 'hello?' });
    const events = await collect(broken.follow(alice.sub, runId));
    const failed = events.at(-1)!.event;
    expect(failed).toMatchObject({ type: 'run.failed', error: { code: 'model_unreachable' } });
    expect(JSON.stringify(events)).not.toContain('sk-test-secret-value');
  });
});
