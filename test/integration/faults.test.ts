/**
 * Faults. What durable-runs.test.ts (backend killed mid-stream) and approvals.test.ts (another instance takes over a
 * pending approval) already cover is not repeated here. Here:
 * - the whole stack process is killed (SIGKILL) while an approval is pending; the user approves on the device after
 *   the restart; the run goes on at that call, which runs exactly once;
 * - a provider (Google) is unavailable, then black-holed (slower than any timeout), behind a TCP proxy: the call
 *   fails closed with a clear message and no credential, the run still ends, nothing is retried behind the user's
 *   back; when the provider is back the same question works;
 * - the stack process is killed while a document is being ingested: afterwards the document is complete or absent
 *   (never partial, never "saved" without being there), and storing it again works;
 * - the IdP is down, then black-holed: calls that need a token exchange fail closed with a clear message (after
 *   their own timeout when nothing answers); when it is back (same keys, same port) they work again.
 * (FGA unreachable or slow: F2 in the knowledge-base tests.)
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type RunningIdp } from '../../backend/emulators/idp/index';
import { emulatedUpstreams } from '../../backend/emulators/idp/upstream';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_SCOPES } from '../../lib/defaults';
import type { RunEvent } from '../../lib/protocol';
import { collect, ofType, startHarness, type Harness } from '../helpers/agent-harness';
import { answerApproval } from '../helpers/approvals';
import { connectAccount } from '../helpers/connect-account';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { pkceLogin } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';
import { type StackProcess, stackProcess } from '../helpers/stack-process';

const ALICE = { email: 'alice@example.com', password: 'alice-pass-123' };
const login = (idpUrl: string) =>
  pkceLogin({
    idpUrl, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
    scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, ...ALICE,
  });
const events = async (res: Response, until?: (e: RunEvent) => boolean) => (await readRunEvents(res, until)).map((e) => ({ id: Number(e.id), data: e.data }));

describe('the stack process is killed while an approval is pending', () => {
  let dataDir: string;
  let stack: StackProcess;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-faults-'));
    stack = await stackProcess(dataDir, { MODEL_CHUNK_DELAY_MS: '5' });
    await stack.start();
  });
  afterAll(async () => {
    await stack.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('approved on the device after the restart: the run goes on at that call, which runs once', async () => {
    const { access_token } = await login(stack.urls.idpUrl);
    const auth = { authorization: `Bearer ${access_token}` };
    const res = await fetch(`${stack.urls.backendUrl}/v1/chat`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'delete the project security-audit' }),
    });
    const before = await events(res, (e) => e.type === 'run.interrupted');
    const interrupt = before.at(-1)!.data as Extract<RunEvent, { type: 'run.interrupted' }>;
    expect(interrupt.interrupt.kind).toBe('approval_pending');
    const runId = before[0]!.data.runId;

    await stack.kill();
    await stack.start();

    const binding = (interrupt.interrupt as { bindingMessage?: string }).bindingMessage;
    await answerApproval(stack.urls.idpUrl, ALICE, { bindingMessage: binding }, 'approve', { timeoutMs: 30_000 });
    // The panel re-attaches from the last event it has until the run has ended (the backend polls the IdP at its interval).
    const all = [...before];
    for (let i = 0; i < 60 && all.at(-1)!.data.type !== 'run.completed' && all.at(-1)!.data.type !== 'run.failed'; i++) {
      const again = await fetch(`${stack.urls.backendUrl}/v1/runs/${runId}/events`, { headers: { ...auth, 'last-event-id': String(all.at(-1)!.id) } });
      expect(again.status).toBe(200);
      all.push(...(await events(again)));
      if (all.at(-1)!.data.type === 'run.interrupted') await new Promise((r) => setTimeout(r, 500));
    }
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1)); // nothing lost, nothing twice
    expect(all.at(-1)!.data.type).toBe('run.completed');
    const completed = all.map((e) => e.data).filter((e): e is Extract<RunEvent, { type: 'tool.completed' }> => e.type === 'tool.completed');
    expect(completed.filter((e) => e.ok && e.summary === 'Project deleted')).toHaveLength(1);

    const projects = JSON.parse(fs.readFileSync(path.join(dataDir, 'projects', 'projects.json'), 'utf8')) as { projects: Array<{ id: string }> };
    expect(projects.projects.map((p) => p.id)).not.toContain('security-audit');
    const activity = (await (await fetch(`${stack.urls.backendUrl}/v1/activity`, { headers: auth })).json()) as { entries: Array<{ kind: string }> };
    expect(activity.entries.filter((e) => e.kind === 'tool.executed')).toHaveLength(1);
  });
});

describe('the stack process is killed during ingestion', () => {
  let dataDir: string;
  let stack: StackProcess;
  let backendUrl = '';
  let idpUrl = '';
  const start = async () => {
    await stack.start();
    ({ backendUrl, idpUrl } = stack.urls);
  };
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-faults-ingest-'));
    stack = await stackProcess(dataDir);
    await start();
  });
  afterAll(async () => {
    await stack.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a document being ingested when the process dies is afterwards either complete or absent; the retry stores it once', async () => {
    const { access_token } = await login(idpUrl);
    const auth = { authorization: `Bearer ${access_token}` };
    const text = Array.from({ length: 4000 }, (_, i) => `Paragraph ${i}: the quarterly plan covers hiring, budgets and the roadmap.`).join('\n\n');
    const body = JSON.stringify({ title: 'Crash during ingestion', source: 'upload', contentType: 'text/plain', text });
    const list = async () =>
      ((await (await fetch(`${backendUrl}/v1/documents`, { headers: auth })).json()) as { documents: Array<{ id: string; title: string; chars: number; chunks: number }> }).documents.filter(
        (d) => d.title === 'Crash during ingestion',
      );

    const upload = fetch(`${backendUrl}/v1/documents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body }).then((r) => r.status, () => 'connection lost');
    await new Promise((r) => setTimeout(r, 150));
    await stack.kill();
    const first = await upload;
    await start();

    const after = await list();
    expect(after.length).toBeLessThanOrEqual(1);
    if (after.length === 1) {
      // Stored in one transaction with its chunks: complete, and readable.
      expect(after[0]!.chars).toBe(text.length);
      expect(after[0]!.chunks).toBeGreaterThan(1);
      expect((await fetch(`${backendUrl}/v1/documents/${after[0]!.id}`, { headers: auth })).status).toBe(200);
    } else {
      expect(first).not.toBe(201); // never "saved" without being there
    }
    const retry = await fetch(`${backendUrl}/v1/documents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    expect(retry.status).toBe(201);
    expect((await list()).length).toBe(after.length + 1);
  });
});

describe('a provider that is down, then slower than any timeout', () => {
  let stack: RunningStack;
  let proxy: FaultProxy;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-faults-provider-'));
    proxy = await startFaultProxy();
    stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 0, env: { GOOGLE_API_URL: `${proxy.url}/google/` } });
    proxy.target = { host: 'localhost', port: Number(new URL(stack.providersUrl!).port) };
    await connectAccount(stack.idpUrl!, ALICE, 'google-oauth2', [PROVIDER_SCOPES.google.calendarRead]);
    token = (await login(stack.idpUrl!)).access_token;
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const ask = async () => {
    const t0 = Date.now();
    const res = await fetch(`${stack.backendUrl}/v1/chat`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: "what's on my calendar tomorrow?" }),
    });
    const raw = await res.text();
    const list = raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as RunEvent);
    return { raw, list, ms: Date.now() - t0, completed: list.filter((e): e is Extract<RunEvent, { type: 'tool.completed' }> => e.type === 'tool.completed') };
  };
  const calendarRequests = async () =>
    ((await (await fetch(`${stack.providersUrl}/_emulator/requests`)).json()) as Array<{ path: string }>).filter((r) => r.path.includes('/calendar/')).length;

  it('down: the calendar call fails closed with a clear message, without credentials; the run still ends', async () => {
    proxy.set('refuse');
    const r = await ask();
    expect(r.completed).toHaveLength(1);
    expect(r.completed[0]).toMatchObject({ ok: false });
    expect(r.completed[0]!.error?.message).toMatch(/google|calendar|reach|unavailable|try again/i);
    expect(r.list.at(-1)!.type).toBe('run.completed');
    expect(r.raw).not.toMatch(/ya29\.|Bearer [A-Za-z0-9]/);
  });

  it('black-holed: the call gives up after its timeout, once (no silent retry), and says so', async () => {
    proxy.set('hang');
    const before = proxy.connections;
    const r = await ask();
    expect(r.completed[0]).toMatchObject({ ok: false });
    expect(r.list.at(-1)!.type).toBe('run.completed');
    expect(proxy.connections - before).toBeLessThanOrEqual(2); // the SDK's own single retry at most, no loop
  });

  it('back: the same question is answered from the calendar, with exactly one provider request', async () => {
    proxy.set('pass');
    const before = await calendarRequests();
    const r = await ask();
    expect(r.completed).toEqual([expect.objectContaining({ ok: true })]);
    expect((await calendarRequests()) - before).toBe(1);
  });
});

describe('the IdP is down, then slow, then back', () => {
  let h: Harness;
  let idp: RunningIdp;

  beforeAll(async () => {
    h = await startHarness();
    idp = h.idp;
  });
  afterAll(async () => {
    if (idp !== h?.idp) await idp?.close();
    await h?.close();
  });

  it('down or black-holed: a call that needs a token exchange fails closed with a clear message; after the restart it works', async () => {
    const alice = await h.login('alice');
    const runs = h.manager();
    const chat = async () => {
      const { runId } = await runs.start(alice.user, { message: 'list my projects' }, alice.token);
      return collect(runs.follow(alice.user.sub, runId));
    };

    await idp.close();
    const down = await chat();
    const failed = ofType(down, 'tool.completed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ ok: false });
    expect(failed[0]!.error?.message).toMatch(/sign|identity|unavailable|try again|token/i);
    expect(down.at(-1)!.type).toBe('run.completed');
    expect(JSON.stringify(down)).not.toContain(alice.token);

    // Slow: something accepts connections on the IdP's port and never answers; the exchange gives up on its own.
    const blackHoleSockets: net.Socket[] = [];
    const blackHole = net.createServer((socket) => void blackHoleSockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(h.idp.port, 'localhost', resolve));
    const t0 = Date.now();
    const slow = await chat();
    const slowMs = Date.now() - t0;
    for (const s of blackHoleSockets) s.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    expect(ofType(slow, 'tool.completed')[0]).toMatchObject({ ok: false, error: { message: expect.stringMatching(/identity provider|try again/i) } });
    expect(slow.at(-1)!.type).toBe('run.completed');
    expect(slowMs).toBeLessThan(45_000);

    // The same IdP comes back on the same port with the same keys and data.
    const upstreamClient = JSON.parse(fs.readFileSync(path.join(h.dataDir, 'providers', 'oauth-client.json'), 'utf8'));
    idp = await startIdp({ port: h.idp.port, dataDir: path.join(h.dataDir, 'idp'), upstreams: emulatedUpstreams(h.providersUrl, upstreamClient), cibaIntervalSeconds: 1 });
    const up = await chat();
    expect(ofType(up, 'tool.completed')).toEqual([expect.objectContaining({ ok: true })]);
  }, 90_000);
});
