/**
 * `ChatRequest.context` over HTTP: malformed or oversized context is refused with a problem (400, nothing stored);
 * accepted context is stored with the turn and comes back as references (URL, kind, capture time), never its text.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { Problem, ThreadDetail, ThreadList } from '../../lib/protocol';
import { extensionAccessToken } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';

let stack: RunningStack;
let dataDir: string;
let token: string;

const chat = (body: unknown) =>
  fetch(`${stack.backendUrl}/v1/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const get = (p: string) => fetch(`${stack.backendUrl}${p}`, { headers: { authorization: `Bearer ${token}` } });

const item = (over: Record<string, unknown> = {}) => ({
  kind: 'page',
  url: 'https://news.example.org/a',
  title: 'A',
  text: 'Some page text.',
  capturedAt: '2026-11-30T10:00:00.000Z',
  ...over,
});

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-ctx-api-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 0 });
  const a = stack.users.find((u) => u.email.startsWith('alice'))!;
  token = await extensionAccessToken(stack.idpUrl!, a);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('ChatRequest.context over HTTP', () => {
  it('refuses wrong types, unknown fields, too many items and oversized text with 400 problem JSON naming the field; nothing is stored', async () => {
    const threads = async () => ThreadList.parse(await (await get('/v1/threads')).json()).threads.length;
    const before = await threads();
    const cases: Array<[unknown, Array<string | number>]> = [
      ['a string, not a list', ['context']],
      [[item({ kind: 'script' })], ['context', 0, 'kind']],
      [[item({ url: 'not a url' })], ['context', 0, 'url']],
      [[item({ capturedAt: 'yesterday' })], ['context', 0, 'capturedAt']],
      [[item({ text: 42 })], ['context', 0, 'text']],
      [[item({ role: 'user' })], ['context', 0]],
      [[item(), item(), item(), item(), item()], ['context']],
      [[item({ text: 'x'.repeat(100_001) })], ['context', 0, 'text']],
    ];
    for (const [context, where] of cases) {
      const res = await chat({ message: 'Summarize this page', context });
      expect(res.status, JSON.stringify(where)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const p = Problem.parse(await res.json());
      expect(p.code).toBe('validation_error');
      expect(p.issues?.[0]?.path).toEqual(where);
    }
    expect(await threads()).toBe(before);
  });

  it('a body beyond the server’s limit is a 413 problem, not a crash', async () => {
    const res = await chat({ message: 'hi', context: [item({ text: 'x'.repeat(99_000) }), item({ text: 'y'.repeat(99_000) }), item({ text: 'z'.repeat(99_000) })] });
    expect([400, 413]).toContain(res.status);
    expect(Problem.parse(await res.json()).status).toBe(res.status);
  });

  it('stored turns return the context as references (no text), and the answer comes from the page', async () => {
    const text = 'Aurora 2.0 ships on March 3 with offline sync. Pricing stays the same. Teams get shared notebooks.';
    const events = await readRunEvents(await chat({ message: 'Summarize this page', context: [item({ text, truncated: { readChars: 99, totalChars: 5000 } })] }));
    const started = events[0]!.data;
    if (started.type !== 'run.started') throw new Error('the stream did not start with run.started');
    const threadId = started.threadId;
    const detail = ThreadDetail.parse(await (await get(`/v1/threads/${threadId}`)).json());
    const user = detail.messages.find((m) => m.role === 'user')!;
    expect(user.content).toBe('Summarize this page');
    expect(user.context).toEqual([{ kind: 'page', url: 'https://news.example.org/a', title: 'A', capturedAt: '2026-11-30T10:00:00.000Z', truncated: { readChars: 99, totalChars: 5000 } }]);
    expect(JSON.stringify(detail)).not.toContain('offline sync. Pricing');
    const answer = detail.messages.find((m) => m.role === 'assistant')!.content;
    expect(answer).toMatch(/March 3/);
    expect(answer).toMatch(/first 99 of 5000 characters/);
  });
});
