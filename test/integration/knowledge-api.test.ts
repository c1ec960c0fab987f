/**
 * The knowledge base over HTTP in the whole stack (IdP emulator, offline model, FGA emulator behind a proxy, PGlite):
 * the routes and their errors, citations on answers, and F1 / F2 / F3 as a user or an attacker would see them.
 * Every request the model server receives is recorded, so F3 can assert over exactly what the model was shown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFgaServer } from '../../backend/emulators/fga/server';
import { startModelServer } from '../../backend/emulators/model/server';
import { FREE_PORTS, type RunningStack, startStack } from '../../backend/src/stack';
import { OFFLINE_MODEL_NAME } from '../../lib/defaults';
import { type ChatMessage, DocumentList, DocumentView, Problem, ShareList, ShareView, ThreadDetail } from '../../lib/protocol';
import { type FgaProxy, startFgaProxy } from '../helpers/fga-proxy';
import { extensionAccessToken } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';
import { tinyPdf } from '../helpers/tiny-pdf';

let stack: RunningStack;
let dataDir: string;
let fgaServer: Awaited<ReturnType<typeof startFgaServer>>;
let proxy: FgaProxy;
let model: Awaited<ReturnType<typeof startModelServer>>;
const modelTraffic: string[] = [];
let alice: string;
let bob: string;

const api = (p: string, token: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${stack.backendUrl}${p}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
  });

/** One chat turn: the SSE events, the final message, and what the model was sent during it. */
async function ask(token: string, message: string) {
  const before = modelTraffic.length;
  const res = await api('/v1/chat', token, { method: 'POST', json: { message } });
  expect(res.status).toBe(200);
  const events = await readRunEvents(res);
  const completed = events.map((e) => e.data).filter((e) => e.type === 'message.completed').at(-1) as { message: ChatMessage } | undefined;
  const started = events.find((e) => e.data.type === 'run.started')?.data as { threadId: string };
  return { events, raw: JSON.stringify(events), message: completed?.message, threadId: started.threadId, modelSaw: modelTraffic.slice(before).join('\n'), modelBodies: modelTraffic.slice(before) };
}

const SECRET = {
  title: 'Zephyr launch plan',
  text: 'The zephyr launch is planned for 14 March. The press event is in Lisbon and the codename is BLUEHERON-7731. Budget: 48000 euros.',
  markers: ['Zephyr launch plan', 'BLUEHERON-7731', 'Lisbon', '48000'],
};

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-kb-api-'));
  fgaServer = await startFgaServer({ port: 0 });
  proxy = await startFgaProxy(fgaServer.url);
  model = await startModelServer({ port: 0, chunkDelayMs: 0, onRequest: (b) => modelTraffic.push(JSON.stringify(b)) });
  stack = await startStack({
    dataDir,
    ports: FREE_PORTS,
    env: { OPENAI_BASE_URL: model.url, OPENAI_MODEL: OFFLINE_MODEL_NAME, FGA_API_URL: proxy.url, FGA_TIMEOUT_MS: '500' },
  });
  const login = (who: string) => extensionAccessToken(stack.idpUrl!, stack.users.find((x) => x.username === who)!);
  alice = await login('alice');
  bob = await login('bob');
  // Both have used the API once, so the directory knows their e-mail addresses (from /userinfo).
  await api('/v1/me', alice);
  await api('/v1/me', bob);
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
  await proxy?.close();
  await fgaServer?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('documents API', () => {
  it('saves text, Markdown, HTML and PDF, and lists them for their owner', async () => {
    const bodies = [
      { title: 'Plain note', source: 'upload', contentType: 'text/plain', text: 'A plain note about kiwi birds.' },
      { title: 'Markdown note', source: 'upload', contentType: 'text/markdown', text: '# Kiwi\n\nThe **kiwi** is flightless.' },
      { title: 'Saved page', url: 'https://example.com/kiwi', source: 'page', contentType: 'text/html', text: '<html><body><article><p>Kiwi birds lay very large eggs relative to their body size.</p></article></body></html>' },
      { title: 'Kiwi PDF', source: 'upload', contentType: 'application/pdf', dataBase64: tinyPdf([['Kiwi conservation report.', 'Numbers are rising.']]).toString('base64') },
    ];
    for (const b of bodies) {
      const res = await api('/v1/documents', alice, { method: 'POST', json: b });
      expect(res.status).toBe(201);
      const d = DocumentView.parse(await res.json());
      expect(d).toMatchObject({ title: b.title, role: 'owner', contentType: b.contentType });
      expect(d.chunks).toBeGreaterThan(0);
    }
    const list = DocumentList.parse(await (await api('/v1/documents', alice)).json());
    expect(list.documents.map((d) => d.title)).toEqual(expect.arrayContaining(bodies.map((b) => b.title)));
    expect(list.documents.find((d) => d.title === 'Saved page')?.url).toBe('https://example.com/kiwi');
  });

  it('accepts a body above the API’s usual 256 KB, and refuses one above 10 MB with 413', async () => {
    const big = 'Kiwi paragraph with some words in it. '.repeat(10_000); // ~380 KB
    const ok = await api('/v1/documents', alice, { method: 'POST', json: { title: 'Big', source: 'upload', contentType: 'text/plain', text: big } });
    expect(ok.status).toBe(201);
    const tooBig = await api('/v1/documents', alice, { method: 'POST', json: { title: 'Huge', source: 'upload', contentType: 'application/pdf', dataBase64: 'A'.repeat(11 * 1024 * 1024) } });
    expect(tooBig.status).toBe(413);
    expect(Problem.parse(await tooBig.json()).code).toBe('body_too_large');
  });

  it('answers bad input with problem JSON', async () => {
    const cases: Array<[RequestInit & { json?: unknown }, number, string]> = [
      [{ method: 'POST', json: { title: '', source: 'upload', contentType: 'text/plain', text: 'x' } }, 400, 'validation_error'],
      [{ method: 'POST', json: { title: 'x', source: 'upload', contentType: 'application/pdf', text: 'not base64 field' } }, 400, 'validation_error'],
      [{ method: 'POST', json: { title: 'x', source: 'upload', contentType: 'application/pdf', dataBase64: Buffer.from('not a pdf').toString('base64') } }, 422, 'unreadable_pdf'],
      [{ method: 'POST', body: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
      [{ method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
    ];
    for (const [init, status, code] of cases) {
      const res = await api('/v1/documents', alice, init);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(Problem.parse(await res.json()).code).toBe(code);
    }
    expect((await api('/v1/documents/not-a-uuid', alice)).status).toBe(400);
    // Control characters (Postgres text cannot hold NUL) are cleaned, not a 500.
    const nul = await api('/v1/documents', alice, { method: 'POST', json: { title: 'Null\u0000title', source: 'upload', contentType: 'text/plain', text: 'Text with a NUL\u0000 inside.' } });
    expect(nul.status).toBe(201);
    expect(DocumentView.parse(await nul.json()).title).toBe('Null title');
  });
});

describe('the story: save, ask, share, revoke', () => {
  let docId: string;

  it('alice saves a page and asks about it: the answer uses it and cites it', async () => {
    const res = await api('/v1/documents', alice, { method: 'POST', json: { title: SECRET.title, url: 'https://intranet.example/zephyr', source: 'page', contentType: 'text/plain', text: SECRET.text } });
    docId = DocumentView.parse(await res.json()).id;
    const turn = await ask(alice, 'What does my knowledge base say about the zephyr launch?');
    expect(turn.raw).toContain('"name":"search_knowledge_base"');
    expect(turn.message?.content).toContain(SECRET.title);
    expect(turn.message?.content).toContain('14 March');
    expect(turn.message?.citations).toEqual([expect.objectContaining({ documentId: docId, title: SECRET.title, url: 'https://intranet.example/zephyr' })]);
    // Stored with the message: the conversation shows the sources when reopened.
    const thread = ThreadDetail.parse(await (await api(`/v1/threads/${turn.threadId}`, alice)).json());
    expect(thread.messages.at(-1)?.citations?.[0]?.documentId).toBe(docId);
  });

  it('F3 bob asks the same: nothing of alice’s document reaches the model, the stream or the API, not even a count', async () => {
    const turn = await ask(bob, 'What does my knowledge base say about the zephyr launch?');
    expect(turn.raw).toContain('"name":"search_knowledge_base"');
    expect(turn.modelSaw).toContain('search_knowledge_base');
    for (const m of [...SECRET.markers, docId]) {
      expect(turn.modelSaw).not.toContain(m);
      expect(turn.raw).not.toContain(m);
    }
    // The tool's result is an empty list: no total, no "1 hidden", nothing that counts what was filtered out.
    const toolResults = turn.modelBodies
      .flatMap((body) => (JSON.parse(body) as { messages: Array<{ role: string; content: string }> }).messages)
      .filter((m) => m.role === 'tool')
      .map((m) => JSON.parse(m.content) as { ok: boolean; data: unknown });
    expect(toolResults.length).toBeGreaterThan(0);
    for (const r of toolResults) expect(r.data).toEqual({ results: [] });
    expect(turn.message?.content).toMatch(/found nothing/);
    expect(turn.message?.citations).toBeUndefined();
    // The API: not listed, not readable, its shares not readable, and the answers look like a missing document.
    const list = DocumentList.parse(await (await api('/v1/documents', bob)).json());
    expect(JSON.stringify(list)).not.toContain(docId);
    for (const m of SECRET.markers) expect(JSON.stringify(list)).not.toContain(m);
    const missing = await api(`/v1/documents/${crypto.randomUUID()}`, bob);
    const hidden = await api(`/v1/documents/${docId}`, bob);
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual(await missing.json());
    expect((await api(`/v1/documents/${docId}/shares`, bob)).status).toBe(404);
    expect((await api(`/v1/documents/${docId}`, bob, { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/v1/documents/${docId}/shares`, bob, { method: 'POST', json: { subject: { type: 'organization' }, relation: 'viewer' } })).status).toBe(404);
  });

  it('alice shares with bob by e-mail: bob’s answer cites it; shares are listed for alice, not for bob', async () => {
    const unknown = await api(`/v1/documents/${docId}/shares`, alice, { method: 'POST', json: { subject: { type: 'user', email: 'nobody@example.com' }, relation: 'viewer' } });
    expect(unknown.status).toBe(404);
    expect(Problem.parse(await unknown.json()).code).toBe('unknown_user');
    const shared = await api(`/v1/documents/${docId}/shares`, alice, { method: 'POST', json: { subject: { type: 'user', email: 'bob@example.com' }, relation: 'viewer' } });
    expect(shared.status).toBe(201);
    expect(ShareView.parse(await shared.json())).toMatchObject({ subject: { type: 'user', email: 'bob@example.com' }, relation: 'viewer' });
    const shares = ShareList.parse(await (await api(`/v1/documents/${docId}/shares`, alice)).json());
    expect(shares.shares.map((s) => [s.relation, s.subject])).toEqual([
      ['owner', { type: 'user', email: 'alice@example.com' }],
      ['viewer', { type: 'user', email: 'bob@example.com' }],
    ]);
    // A viewer knows the document exists but may not manage who else sees it.
    const bobShares = await api(`/v1/documents/${docId}/shares`, bob);
    expect(bobShares.status).toBe(403);
    expect(DocumentView.parse(await (await api(`/v1/documents/${docId}`, bob)).json()).role).toBe('viewer');

    const turn = await ask(bob, 'What does my knowledge base say about the zephyr launch?');
    expect(turn.message?.content).toContain(SECRET.title);
    expect(turn.message?.citations?.map((c) => c.documentId)).toEqual([docId]);
  });

  it('F1 alice revokes: bob’s very next question no longer gets it', async () => {
    const res = await api(`/v1/documents/${docId}/shares`, alice, { method: 'DELETE', json: { subject: { type: 'user', email: 'bob@example.com' }, relation: 'viewer' } });
    expect(res.status).toBe(204);
    const turn = await ask(bob, 'What does my knowledge base say about the zephyr launch?');
    for (const m of SECRET.markers) expect(turn.modelSaw).not.toContain(m);
    expect(turn.message?.content).toMatch(/found nothing/);
    expect((await api(`/v1/documents/${docId}`, bob)).status).toBe(404);
  });

  it('sharing with the whole organisation reaches bob; deleting the document removes it for everyone', async () => {
    await api(`/v1/documents/${docId}/shares`, alice, { method: 'POST', json: { subject: { type: 'organization' }, relation: 'viewer' } });
    expect((await api(`/v1/documents/${docId}`, bob)).status).toBe(200);
    expect((await api(`/v1/documents/${docId}`, bob, { method: 'DELETE' })).status).toBe(403);
    expect((await api(`/v1/documents/${docId}`, alice, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/v1/documents/${docId}`, bob)).status).toBe(404);
    expect((await api(`/v1/documents/${docId}`, alice)).status).toBe(404);
  });
});

describe('F2 FGA unreachable or slow', () => {
  it('F2 the answer says the knowledge base is unavailable; nothing is retrieved; the API answers 503', async () => {
    await api('/v1/documents', alice, { method: 'POST', json: { title: 'Osprey memo', source: 'upload', contentType: 'text/plain', text: 'The osprey memo says the nest camera goes live in May. Code OSPREY-5512.' } });
    for (const mode of [{ kind: 'down' }, { kind: 'slow', delayMs: 2_000 }] as const) {
      proxy.mode = mode;
      try {
        const turn = await ask(alice, 'What does my knowledge base say about the osprey memo?');
        expect(turn.raw).toContain('retrieval_unavailable');
        expect(turn.modelSaw).not.toContain('OSPREY-5512');
        expect(turn.message?.content).toMatch(/couldn't search your knowledge base/);
        expect(turn.message?.citations).toBeUndefined();
        const list = await api('/v1/documents', alice);
        expect(list.status).toBe(503);
        expect(Problem.parse(await list.json()).code).toBe('authorization_unavailable');
      } finally {
        proxy.mode = { kind: 'up' };
      }
    }
    const back = await ask(alice, 'What does my knowledge base say about the osprey memo?');
    expect(back.message?.content).toContain('Osprey memo');
  });
});
