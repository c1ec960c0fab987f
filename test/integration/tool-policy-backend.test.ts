/**
 * The organization's tool policy is enforced by the backend itself (DEPUTY_ALLOWED_TOOLS, DEPUTY_APPROVAL_TIERS):
 * whatever the extension shows or sends, a tool that is not allowed is never offered to the model, and an allowed
 * write waits for the user's approval on their device when the organization requires it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_SCOPES } from '../../lib/defaults';
import type { RunEvent } from '../../lib/protocol';
import { pkceLogin } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';

let stack: RunningStack;
let dataDir: string;
let token: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-tool-policy-'));
  stack = await startStack({
    dataDir,
    ports: FREE_PORTS,
    modelChunkDelayMs: 1,
    cibaIntervalSeconds: 1,
    env: { DEPUTY_ALLOWED_TOOLS: 'list_projects,list_tasks,create_task', DEPUTY_APPROVAL_TIERS: 'write' },
  });
  const alice = stack.users.find((u) => u.email.startsWith('alice'))!;
  token = (
    await pkceLogin({
      idpUrl: stack.idpUrl!,
      clientId: DEFAULT_EXTENSION_CLIENT_ID,
      redirectUri: EXTENSION_REDIRECT_URI,
      audience: DEFAULT_API_AUDIENCE,
      scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`,
      email: alice.email,
      password: alice.password,
    })
  ).access_token;
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function chat(message: string): Promise<RunEvent[]> {
  const res = await fetch(`${stack.backendUrl}/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  expect(res.status).toBe(200);
  return (await readRunEvents(res)).map((e) => e.data);
}

const proposed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'tool.proposed' ? [e.call.name] : []));

describe('backend tool policy (DEPUTY_ALLOWED_TOOLS, DEPUTY_APPROVAL_TIERS)', () => {
  it('runs an allowed read tool as usual', async () => {
    const events = await chat('list my projects');
    expect(proposed(events)).toContain('list_projects');
    expect(events.at(-1)!.type).toBe('run.completed');
  });

  it('never offers a tool the organization did not allow, so the model cannot call it', async () => {
    const events = await chat('delete the project security-audit');
    expect(proposed(events)).not.toContain('delete_project');
    expect(events.some((e) => e.type === 'run.interrupted')).toBe(false);
  });

  it('asks for approval on the trusted device before an allowed write, because the organization requires it', async () => {
    const events = await chat("add a task 'Write launch post' to Website relaunch");
    expect(proposed(events)).toContain('create_task');
    const call = events.find((e) => e.type === 'tool.proposed' && e.call.name === 'create_task');
    const callId = call?.type === 'tool.proposed' ? call.call.toolCallId : undefined;
    const decided = events.find((e) => e.type === 'tool.decided' && e.toolCallId === callId);
    expect(decided).toMatchObject({ decision: { kind: 'need_approval', reason: expect.stringMatching(/organization requires your approval for write/) } });
    expect(events.at(-1)).toMatchObject({ type: 'run.interrupted', interrupt: { kind: 'approval_pending' } });
  });
});
