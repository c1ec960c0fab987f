/** The backend over HTTP against the running IdP emulator, with real tokens from a scripted PKCE login. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_ORIGIN, EXTENSION_REDIRECT_URI } from '../../lib/defaults';
import { Me, Problem, PublicConfig, ThreadDetail, ThreadList } from '../../lib/protocol';
import { pkceLogin } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';

let stack: RunningStack;
let dataDir: string;
let alice: { access_token: string; id_token: string };
let bob: { access_token: string };

const login = (email: string, password: string) =>
  pkceLogin({
    idpUrl: stack.idpUrl!,
    clientId: DEFAULT_EXTENSION_CLIENT_ID,
    redirectUri: EXTENSION_REDIRECT_URI,
    audience: DEFAULT_API_AUDIENCE,
    scope: 'openid profile email chat',
    email,
    password,
  });

const api = (p: string, token?: string, init: RequestInit = {}) =>
  fetch(`${stack.backendUrl}${p}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  });

const chat = (token: string, body: unknown) =>
  api('/v1/chat', token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-api-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 1 });
  const a = stack.users.find((u) => u.email.startsWith('alice'))!;
  const b = stack.users.find((u) => u.email.startsWith('bob'))!;
  alice = await login(a.email, a.password);
  bob = await login(b.email, b.password);
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('backend API with tokens from the IdP emulator', () => {
  it('publishes what the extension needs to sign in, without secrets', async () => {
    const res = await api('/v1/config');
    const config = PublicConfig.parse(await res.json());
    expect(config.auth.domain).toBe(stack.idpUrl);
    expect(config.auth.audience).toBe(DEFAULT_API_AUDIENCE);
    expect(config.model.offline).toBe(true);
    expect(JSON.stringify(config)).not.toMatch(/secret/i);
  });

  it('GET /v1/me returns the verified user', async () => {
    const res = await api('/v1/me', alice.access_token);
    expect(res.status).toBe(200);
    const me = Me.parse(await res.json());
    expect(me.sub).toMatch(/^auth0\|/);
    expect(me.scopes).toContain('chat');
  });

  it('answers 401 with WWW-Authenticate and problem JSON without a token', async () => {
    const res = await api('/v1/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(Problem.parse(await res.json()).status).toBe(401);
  });

  it('A2 refuses the ID token presented as an access token (live IdP token)', async () => {
    const res = await api('/v1/me', alice.id_token);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(alice.id_token);
  });

  it('streams a chat answer as SSE frames with ids, validated by the shared schema', async () => {
    const res = await chat(alice.access_token, { message: 'Tell me about token rotation' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readRunEvents(res);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    expect(events[0].data.type).toBe('run.started');
    expect(events.at(-1)!.data.type).toBe('run.completed');
    expect(events.filter((e) => e.data.type === 'message.delta').length).toBeGreaterThan(3);
  });

  it('keeps threads per user on the server; another user gets 404', async () => {
    const events = await readRunEvents(await chat(alice.access_token, { message: 'Remember this: the launch is on Friday' }));
    const started = events[0].data;
    if (started.type !== 'run.started') throw new Error('no run.started');
    const list = ThreadList.parse(await (await api('/v1/threads', alice.access_token)).json());
    expect(list.threads.map((t) => t.id)).toContain(started.threadId);
    const detail = ThreadDetail.parse(await (await api(`/v1/threads/${started.threadId}`, alice.access_token)).json());
    expect(detail.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const asBob = await api(`/v1/threads/${started.threadId}`, bob.access_token);
    expect(asBob.status).toBe(404);
    const bobList = ThreadList.parse(await (await api('/v1/threads', bob.access_token)).json());
    expect(bobList.threads.map((t) => t.id)).not.toContain(started.threadId);
    const bobPost = await chat(bob.access_token, { threadId: started.threadId, message: 'let me in' });
    expect(bobPost.status).toBe(404);
  });

  it('re-attaches to a run with Last-Event-ID and receives only the missing events', async () => {
    const events = await readRunEvents(await chat(alice.access_token, { message: 'What can you do?' }));
    const runId = events[0].data.runId;
    const rest = await readRunEvents(await api(`/v1/runs/${runId}/events`, alice.access_token, { headers: { 'last-event-id': '2' } }));
    expect(rest.map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    const asBob = await api(`/v1/runs/${runId}/events`, bob.access_token);
    expect(asBob.status).toBe(404);
  });

  it('rejects bad input with a clear problem and stores nothing', async () => {
    const before = ThreadList.parse(await (await api('/v1/threads', alice.access_token)).json()).threads.length;
    const empty = await chat(alice.access_token, { message: '   ' });
    expect(empty.status).toBe(400);
    const p = Problem.parse(await empty.json());
    expect(p.code).toBe('validation_error');
    expect(p.issues?.[0].path).toEqual(['message']);
    const extra = await chat(alice.access_token, { message: 'hi', userId: 'auth0|someone-else' });
    expect(extra.status).toBe(400);
    const notJson = await api('/v1/chat', alice.access_token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":' });
    expect(Problem.parse(await notJson.json()).code).toBe('invalid_json');
    const wrongType = await api('/v1/chat', alice.access_token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(wrongType.status).toBe(415);
    const badId = await api('/v1/threads/not-a-uuid', alice.access_token);
    expect(Problem.parse(await badId.json()).code).toBe('invalid_id');
    const after = ThreadList.parse(await (await api('/v1/threads', alice.access_token)).json()).threads.length;
    expect(after).toBe(before);
  });

  it('answers CORS only for the extension origin', async () => {
    const pre = (origin: string) =>
      api('/v1/chat', undefined, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    expect((await pre(EXTENSION_ORIGIN)).headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    expect((await pre('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
