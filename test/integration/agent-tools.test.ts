/**
 * The agent acting on the Projects API through the policy gate, with real tokens (PKCE login, token exchange),
 * the offline model's streamed tool calls, and the Projects API as the last word.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunManager } from '../../backend/src/chat/run-manager';
import { ResourceTokenClient } from '../../backend/src/agent/resource-tokens';
import { PROJECTS_AUDIENCE } from '../../lib/defaults';
import { collect, type Harness, ofType, startHarness } from '../helpers/agent-harness';

let h: Harness;
let runs: RunManager;
let alice: Awaited<ReturnType<Harness['login']>>;
let bob: Awaited<ReturnType<Harness['login']>>;

async function chat(who: typeof alice, message: string, threadId?: string) {
  const { runId, threadId: t } = await runs.start(who.user, { message, threadId }, who.token);
  return { runId, threadId: t, events: await collect(runs.follow(who.user.sub, runId)) };
}

beforeAll(async () => {
  h = await startHarness();
  runs = h.manager();
  alice = await h.login('alice');
  bob = await h.login('bob');
});
afterAll(async () => h?.close());

describe('agent on the Projects API', () => {
  it('lists projects: proposed, allowed by the gate, executed, answered from the result', async () => {
    const { events } = await chat(alice, 'list my projects');
    const proposed = ofType(events, 'tool.proposed');
    expect(proposed.map((e) => e.call.name)).toContain('list_projects');
    expect(ofType(events, 'tool.decided')[0].decision).toEqual({ kind: 'allow' });
    expect(ofType(events, 'tool.completed')[0]).toMatchObject({ ok: true, summary: expect.stringMatching(/2 projects/) });
    const answer = ofType(events, 'message.completed').at(-1)!.message.content;
    expect(answer).toContain('Website relaunch');
    expect(answer).not.toContain('Mobile app beta'); // bob's project, not alice's
    expect(events.at(-1)!.type).toBe('run.completed');
  });

  it('adds a task for real, exactly once', async () => {
    const { events } = await chat(alice, "add a task 'Write launch post' to Website relaunch");
    const create = ofType(events, 'tool.proposed').find((e) => e.call.name === 'create_task')!;
    expect(create.call.arguments).toEqual({ projectId: 'website-relaunch', title: 'Write launch post' });
    expect(ofType(events, 'tool.completed').find((e) => e.toolCallId === create.call.toolCallId)).toMatchObject({ ok: true, summary: 'Task added' });
    const site = h.projectsFile().projects.find((p) => p.id === 'website-relaunch')!;
    expect(site.tasks.filter((t) => t.title === 'Write launch post')).toHaveLength(1);
  });

  it('pauses a high-risk delete on an approval built from the validated arguments; nothing runs (approvals.test.ts goes on)', async () => {
    const { events, runId } = await chat(alice, 'delete the project security-audit');
    const interrupt = ofType(events, 'run.interrupted')[0]?.interrupt;
    expect(interrupt).toMatchObject({
      kind: 'approval_pending',
      bindingMessage: 'Delete project security-audit',
      authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
    });
    expect(events.at(-1)!.type).toBe('run.interrupted');
    expect(h.projectsFile().projects.map((p) => p.id)).toContain('security-audit');
    expect((await h.runStore.get(alice.user.sub, runId))!.status).toBe('interrupted');
  });

  it('a call the user’s scopes forbid is denied by the gate', async () => {
    expect(bob.user.scopes).not.toContain('delete:projects');
    const { events } = await chat(bob, 'delete the project mobile-app');
    const decided = ofType(events, 'tool.decided').find((e) => e.decision.kind !== 'allow');
    expect(decided?.decision).toMatchObject({ kind: 'deny', code: 'missing_scope' });
    expect(h.projectsFile().projects.map((p) => p.id)).toContain('mobile-app');
  });

  it('…and refused by the API even if the gate were wrong (the API is the last word)', async () => {
    const client = new ResourceTokenClient({ tokenUrl: `${h.idp.issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: h.idp.backendClientSecret });
    // Bob's delegated token cannot carry delete:projects, however it is asked for.
    const { token, scopes } = await client.get(bob.token, bob.user.sub, PROJECTS_AUDIENCE, ['read:projects', 'delete:projects']).catch(async () =>
      client.get(bob.token, bob.user.sub, PROJECTS_AUDIENCE, ['read:projects']),
    );
    expect(scopes).not.toContain('delete:projects');
    const res = await fetch(`${h.projects.url}/projects/mobile-app`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    expect(h.projectsFile().projects.map((p) => p.id)).toContain('mobile-app');
  });

  it('invalid arguments come back to the model as a tool error, not a crash', async () => {
    const { events } = await chat(alice, "add a task '' to Website relaunch");
    expect(events.at(-1)!.type).toBe('run.completed');
  });
});
