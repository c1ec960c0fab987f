/**
 * Durability: the backend process is killed (SIGKILL) in the middle of a run, started again on the same data,
 * and the client re-attaches with Last-Event-ID. The transcript must be complete and no tool call may run twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_SCOPES } from '../../lib/defaults';
import type { RunEvent } from '../../lib/protocol';
import { pkceLogin } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';
import { type StackProcess, stackProcess } from '../helpers/stack-process';

let dataDir: string;
let stack: StackProcess;

const readEvents = async (res: Response, until?: (e: RunEvent) => boolean) =>
  (await readRunEvents(res, until)).map((e) => ({ id: Number(e.id), data: e.data }));

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-durable-'));
  stack = await stackProcess(dataDir, { MODEL_CHUNK_DELAY_MS: '25' });
  await stack.start();
});

afterAll(async () => {
  await stack.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('durable runs across a backend crash', () => {
  it('a run killed mid-stream completes after restart and re-attach; its tool call ran once', async () => {
    const tokens = await pkceLogin({
      idpUrl: stack.urls.idpUrl, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
      scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, email: 'alice@example.com', password: 'alice-pass-123',
    });
    const auth = { authorization: `Bearer ${tokens.access_token}` };
    const res = await fetch(`${stack.urls.backendUrl}/v1/chat`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: "add a task 'Survive the crash' to Website relaunch" }),
    });
    // Crash the moment the gate allowed create_task: the call may be in flight, done, or not yet started.
    let createId: string | undefined;
    const before = await readEvents(res, (e) => {
      if (e.type === 'tool.proposed' && e.call.name === 'create_task') createId = e.call.toolCallId;
      return e.type === 'tool.decided' && e.toolCallId === createId;
    });
    expect(createId).toBeDefined();
    await stack.kill();

    await stack.start();
    const lastId = before.at(-1)!.id;
    const again = await fetch(`${stack.urls.backendUrl}/v1/runs/${before[0].data.runId}/events`, { headers: { ...auth, 'last-event-id': String(lastId) } });
    expect(again.status).toBe(200);
    const after = await readEvents(again);
    const all = [...before, ...after];
    // Gapless: every sequence number once, ending in run.completed.
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)!.data.type).toBe('run.completed');
    const completed = all.filter((e) => e.data.type === 'tool.completed').map((e) => (e.data as { toolCallId: string }).toolCallId);
    expect(new Set(completed).size).toBe(completed.length);
    expect(completed.filter((id) => id === createId)).toHaveLength(1);

    const thread = await (await fetch(`${stack.urls.backendUrl}/v1/threads/${(before[0].data as { threadId: string }).threadId}`, { headers: auth })).json();
    expect(thread.messages.at(-1).role).toBe('assistant');
    const file = JSON.parse(fs.readFileSync(path.join(dataDir, 'projects', 'projects.json'), 'utf8'));
    const site = file.projects.find((p: { id: string }) => p.id === 'website-relaunch');
    expect(site.tasks.filter((t: { title: string }) => t.title === 'Survive the crash')).toHaveLength(1);
  });
});
