import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient, type InvalidEventInfo, parseRunEventFrames, parseRunEvents } from '../../lib/api-client';
import type { RunEvent } from '../../lib/protocol';

const runId = '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01';
const threadId = '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10';
const userMessageId = 'a5c3e2d1-7b6f-4e8a-9c0d-1f2e3d4c5b6a';
const messageId = 'b7d9e1f3-2a4c-4e6b-8d0f-3a5c7e9b1d2f';

function frame(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

const frames = [
  frame(1, 'run.started', { type: 'run.started', runId, threadId, userMessageId, model: 'deputy-offline-1' }),
  frame(2, 'message.delta', { type: 'message.delta', runId, messageId, delta: 'Grüß ' }),
  // invalid: fails the RunEvent schema (delta missing)
  frame(3, 'message.delta', { type: 'message.delta', runId, messageId }),
  // invalid: not JSON
  frame(4, 'message.delta', '{not json'),
  // invalid: event name disagrees with the data
  frame(5, 'run.completed', { type: 'message.delta', runId, messageId, delta: 'x' }),
  // a comment line and a heartbeat are ignored by the parser
  ': keep-alive\n\n',
  frame(6, 'message.delta', { type: 'message.delta', runId, messageId, delta: 'dich 👋' }),
  frame(7, 'message.completed', {
    type: 'message.completed',
    runId,
    message: { id: messageId, threadId, role: 'assistant', content: 'Grüß dich 👋', createdAt: '2025-01-01T00:00:00.000Z' },
  }),
  frame(8, 'run.completed', { type: 'run.completed', runId }),
].join('');

/** The SSE text as bytes, cut into chunks of `size` bytes (cuts land inside lines, field names and UTF-8 sequences). */
function byteStream(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const invalid: InvalidEventInfo[] = [];
  const events: RunEvent[] = [];
  for await (const e of parseRunEvents(stream, { onInvalidEvent: (i) => invalid.push(i) })) events.push(e);
  return { events, invalid };
}

describe('parseRunEvents', () => {
  it.each([1, 2, 3, 7, 64, 100_000])('parses a byte stream split into %i-byte chunks', async (size) => {
    const { events, invalid } = await collect(byteStream(frames, size));
    expect(events.map((e) => e.type)).toEqual(['run.started', 'message.delta', 'message.delta', 'message.completed', 'run.completed']);
    const text = events.flatMap((e) => (e.type === 'message.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('Grüß dich 👋');
    expect(invalid.map((i) => i.id)).toEqual(['3', '4', '5']);
    expect(invalid[0].reason).toMatch(/delta/);
    expect(invalid[1].reason).toMatch(/not JSON/);
    expect(invalid[2].reason).toMatch(/does not match/);
  });

  it('handles CRLF line endings', async () => {
    const { events } = await collect(byteStream(frames.replace(/\n/g, '\r\n'), 5));
    expect(events).toHaveLength(5);
  });
});

function sseResponse(text: string, chunk = 9) {
  return new Response(byteStream(text, chunk), { headers: { 'Content-Type': 'text/event-stream' } });
}

function problemResponse(status: number, code: string, detail: string) {
  return new Response(JSON.stringify({ type: 'about:blank', title: 'Error', status, code, detail }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });
}

describe('api client', () => {
  it('streams chat events with a Bearer token and stops at run.completed', async () => {
    const fetch = vi.fn(async (_url: string, init?: RequestInit) => {
      expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer t1');
      expect(JSON.parse(String(init?.body))).toEqual({ message: 'hi' });
      return sseResponse(frames);
    });
    const api = createApiClient({ baseUrl: 'http://localhost:1/', getAccessToken: async () => 't1', fetch });
    const types: string[] = [];
    for await (const e of api.chat({ message: 'hi' })) types.push(e.type);
    expect(types.at(-1)).toBe('run.completed');
    expect(fetch).toHaveBeenCalledWith('http://localhost:1/v1/chat', expect.anything());
  });

  it('on 401 renews once (never reusing the refused token) and retries', async () => {
    const tokens: (string | undefined)[] = [];
    const getAccessToken = vi.fn(async (o?: { rejected?: string }) => {
      tokens.push(o?.rejected);
      return o?.rejected ? 'fresh' : 'stale';
    });
    const fetch = vi.fn(async (_url: string, init?: RequestInit) =>
      new Headers(init?.headers).get('Authorization') === 'Bearer fresh'
        ? new Response(JSON.stringify({ threads: [] }), { headers: { 'Content-Type': 'application/json' } })
        : problemResponse(401, 'invalid_token', 'The access token expired.'),
    );
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken, fetch });
    expect(await api.listThreads()).toEqual({ threads: [] });
    expect(tokens).toEqual([undefined, 'stale']);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('fails clearly when the renewed token is refused too', async () => {
    const api = createApiClient({
      baseUrl: 'http://x',
      getAccessToken: async (o) => (o?.rejected ? 'b' : 'a'),
      fetch: async () => problemResponse(401, 'invalid_token', 'Bad audience.'),
    });
    await expect(api.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token', message: expect.stringMatching(/sign in again/) });
  });

  it('surfaces problem JSON as a typed ApiError', async () => {
    const api = createApiClient({
      baseUrl: 'http://x',
      getAccessToken: async () => 't',
      fetch: async () => problemResponse(422, 'validation_error', 'message is empty'),
    });
    const err = await api.chat({ message: 'x' }).next().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: 'validation_error', message: 'message is empty' });
  });

  it('reports a stream that ends before the run finished', async () => {
    const cut = frames.slice(0, frames.indexOf('id: 7'));
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken: async () => 't', fetch: async () => sseResponse(cut) });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of api.chat({ message: 'x' })) seen.push(e.type);
    })().catch((e) => e);
    expect(seen).toContain('message.delta');
    expect(err).toMatchObject({ code: 'stream_interrupted' });
  });

  it('turns a network failure into a clear error', async () => {
    const api = createApiClient({
      baseUrl: 'http://localhost:9',
      getAccessToken: async () => 't',
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(api.me()).rejects.toMatchObject({ code: 'network_error', message: expect.stringMatching(/localhost:9/) });
  });

  it('yields sequence numbers with chatEvents, and a pause (run.interrupted) ends the stream without an error', async () => {
    const paused = [
      frame(1, 'run.started', { type: 'run.started', runId, threadId, userMessageId, model: 'deputy-offline-1' }),
      frame(2, 'tool.proposed', { type: 'tool.proposed', runId, call: { toolCallId: 'c', name: 'delete_project', tier: 'high', arguments: { projectId: 'x' }, summary: 'Delete x' } }),
      frame(3, 'tool.decided', { type: 'tool.decided', runId, toolCallId: 'c', decision: { kind: 'need_approval', reason: 'high-risk' } }),
      frame(4, 'run.interrupted', { type: 'run.interrupted', runId, interrupt: { kind: 'approval_pending', toolCallId: 'c', reason: 'high-risk' } }),
    ].join('');
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken: async () => 't', fetch: async () => sseResponse(paused) });
    const seen: string[] = [];
    for await (const { seq, event } of api.chatEvents({ message: 'delete x' })) seen.push(`${seq}:${event.type}`);
    expect(seen).toEqual(['1:run.started', '2:tool.proposed', '3:tool.decided', '4:run.interrupted']);
  });

  it('re-attaches with Last-Event-ID and yields the replayed events with their ids', async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      expect(url).toBe(`http://x/v1/runs/${runId}/events`);
      expect(headers.get('Last-Event-ID')).toBe('5');
      expect(headers.get('Authorization')).toBe('Bearer t');
      return sseResponse(frames.slice(frames.indexOf('id: 6')));
    });
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken: async () => 't', fetch });
    const seqs: (number | undefined)[] = [];
    for await (const { seq } of api.runEvents(runId, 5)) seqs.push(seq);
    expect(seqs).toEqual([6, 7, 8]);
  });

  it('a re-attach stream that ends with nothing new (a paused run) is not an error', async () => {
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken: async () => 't', fetch: async () => sseResponse('') });
    const seen: unknown[] = [];
    for await (const e of api.runEvents(runId, 9)) seen.push(e);
    expect(seen).toEqual([]);
  });

  it('a run the server does not know is a 404 ApiError', async () => {
    const api = createApiClient({ baseUrl: 'http://x', getAccessToken: async () => 't', fetch: async () => problemResponse(404, 'not_found', 'The run was not found.') });
    await expect(api.runEvents(runId, 0).next()).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('parseRunEventFrames', () => {
  it('gives each event the frame id as its sequence number', async () => {
    const seqs: (number | undefined)[] = [];
    for await (const f of parseRunEventFrames(byteStream(frames, 4))) seqs.push(f.seq);
    expect(seqs).toEqual([1, 2, 6, 7, 8]);
  });
});
