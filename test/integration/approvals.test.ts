/**
 * Human approval of risky calls, end to end on the backend side: the agent's run pauses on a CIBA request built from
 * the validated arguments, the user answers on the IdP emulator's approvals page (the trusted device), and the
 * durable poller resumes the run, which runs exactly the approved call once, or nothing.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CibaClient } from '../../backend/src/agent/ciba-client';
import { argumentsHash, type RunManager } from '../../backend/src/chat/run-manager';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { MFA_ACR, PROJECTS_AUDIENCE } from '../../lib/defaults';
import type { Interrupt, RunEvent } from '../../lib/protocol';
import { collect, type Harness, ofType, startHarness } from '../helpers/agent-harness';
import { answerApproval } from '../helpers/approvals';
import { connectAccount } from '../helpers/connect-account';

let h: Harness;
let runs: RunManager;
let alice: Awaited<ReturnType<Harness['login']>>;

async function chat(who: typeof alice, message: string, threadId?: string, manager = runs) {
  const { runId, threadId: t } = await manager.start(who.user, { message, threadId }, who.token);
  return { runId, threadId: t, events: await collect(manager.follow(who.user.sub, runId)) };
}

/** The events after `after`, once the run has gone on past its approval and ended or paused again. */
async function rest(runId: string, after: number, manager = runs): Promise<RunEvent[]> {
  for (let i = 0; i < 300; i++) {
    const stored = (await h.runStore.listEvents(alice.user.sub, runId, 0))!.map((e) => e.event);
    if (stored.slice(after).some((e) => e.type === 'run.resumed')) return (await collect(manager.follow(alice.user.sub, runId))).slice(after);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the run did not go on');
}

const pendingOf = (events: RunEvent[]): Interrupt => {
  const i = ofType(events, 'run.interrupted').at(-1)?.interrupt;
  if (i?.kind !== 'approval_pending') throw new Error(`expected an approval_pending interrupt, got ${i?.kind}`);
  return i;
};
/** Answers exactly this approval on the device (by its CIBA request id: binding messages may repeat). */
async function answer(pending: Interrupt, decision: 'approve' | 'deny', opts: { code?: string } = {}) {
  const stored = await h.approvalStore.get(alice.user.sub, pending.approvalId!);
  return answerApproval(h.idp.url, h.credentials('alice'), { authReqId: stored!.authReqId }, decision, opts);
}
const projectIds = () => h.projectsFile().projects.map((p) => p.id);

beforeAll(async () => {
  h = await startHarness({ cibaIntervalSeconds: 1 });
  runs = h.manager();
  alice = await h.login('alice');
  await connectAccount(h.idp.url, h.credentials('alice'), 'google-oauth2', [PROVIDER_SCOPES.google.calendarRead, PROVIDER_SCOPES.google.gmailSend]);
}, 60_000);
afterAll(async () => h?.close());

describe('approvals (CIBA) in the agent runtime', () => {
  it('"email Bob the notes from today": pending with exact details, approved on the device, sent once, audited', async () => {
    const first = await chat(alice, "what's on my calendar today?");
    expect(first.events.at(-1)!.type).toBe('run.completed');
    const { runId, events } = await chat(alice, 'email Bob the notes from today', first.threadId);
    if (!ofType(events, 'run.interrupted').length) console.log(JSON.stringify(events.filter((e) => e.type !== 'message.delta')));
    const pending = pendingOf(events);
    const notes = ofType(first.events, 'message.completed').at(-1)!.message.content;
    // The address came from the calendar, not from the user's words: the approval says it is a new recipient.
    expect(pending.bindingMessage).toBe('NEW recipient: Send mail to bob at example.com: Notes from today');
    expect(pending.authorizationDetails).toEqual([
      { type: 'email_send', to: ['bob@example.com'], subject: 'Notes from today', body: notes },
      { type: 'new_destination', kind: 'email', value: 'bob@example.com' },
    ]);
    expect(Date.parse(pending.expiresAt!)).toBeGreaterThan(Date.now());
    expect(await h.approvalStore.list(alice.user.sub, { status: 'pending' })).toHaveLength(1);

    const { ms } = await answer(pending, 'approve');
    const approvedAt = Date.now() - ms;
    const after = await rest(runId, events.length);
    expect(ofType(after, 'approval.resolved')[0]).toMatchObject({ status: 'approved', approvalId: pending.approvalId });
    const done = ofType(after, 'tool.completed')[0]!;
    expect(done).toMatchObject({ ok: true, summary: 'Sent to bob@example.com' });
    console.log(`approve click → tool result: ${Date.now() - approvedAt} ms (CIBA interval 1 s)`);
    expect(after.at(-1)!.type).toBe('run.completed');
    expect(ofType(after, 'message.completed').at(-1)!.message.content).toMatch(/bob@example\.com/);

    const outbox = ((await (await fetch(`${h.providersUrl}/_emulator/outbox?provider=google&account=alice@example.com`)).json()) as { items: Array<Record<string, unknown>> }).items;
    expect(outbox.filter((m) => JSON.stringify(m).includes('Notes from today'))).toHaveLength(1);

    const audit = await h.audit.list(alice.user.sub);
    const call = (await h.runStore.toolCalls(runId)).find((c) => c.name === 'send_email')!;
    expect(audit.filter((e) => e.approvalId === pending.approvalId).map((e) => e.kind).reverse()).toEqual(['approval.requested', 'approval.approved', 'tool.executed']);
    expect(audit.find((e) => e.kind === 'tool.executed' && e.approvalId === pending.approvalId)!.argsHash).toBe(argumentsHash(call.arguments!));
    expect(audit.find((e) => e.kind === 'approval.approved')!.approver).toBe(alice.user.sub);
  });

  it('denial: nothing runs, the model is told, and the request cannot ask again', async () => {
    const { runId, events } = await chat(alice, 'delete the project website-relaunch');
    const pending = pendingOf(events);
    await answer(pending, 'deny');
    const after = await rest(runId, events.length);
    expect(ofType(after, 'approval.resolved')[0]).toMatchObject({ status: 'denied' });
    expect(ofType(after, 'tool.decided')[0]!.decision).toMatchObject({ kind: 'deny', code: 'approval_denied' });
    expect(after.at(-1)!.type).toBe('run.completed');
    expect(projectIds()).toContain('website-relaunch');
  });

  it('D3: expiry fails the call closed', async () => {
    const short = await startHarness({ cibaIntervalSeconds: 1, approvalExpirySeconds: 2 });
    try {
      const m = short.manager();
      const a = await short.login('alice');
      const { runId } = await m.start(a.user, { message: 'delete the project security-audit' }, a.token);
      let events = await collect(m.follow(a.user.sub, runId));
      expect(pendingOf(events).kind).toBe('approval_pending');
      for (let i = 0; i < 100 && (await short.runStore.get(a.user.sub, runId))!.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
      events = await collect(m.follow(a.user.sub, runId));
      expect(ofType(events, 'approval.resolved')[0]).toMatchObject({ status: 'expired' });
      expect(ofType(events, 'tool.decided').at(-1)!.decision).toMatchObject({ kind: 'deny', code: 'approval_expired' });
      expect(short.projectsFile().projects.map((p) => p.id)).toContain('security-audit');
    } finally {
      await short.close();
    }
  });

  it('cancel from the panel: the call fails closed, and approving on the device afterwards runs nothing', async () => {
    const { runId, events } = await chat(alice, 'delete the project security-audit');
    const pending = pendingOf(events);
    const cancelled = await runs.cancelApproval(alice.user, pending.approvalId!);
    expect(cancelled.status).toBe('cancelled');
    await expect(runs.cancelApproval(alice.user, pending.approvalId!)).rejects.toMatchObject({ status: 409, code: 'not_pending' });
    const after = await rest(runId, events.length);
    expect(ofType(after, 'tool.decided')[0]!.decision).toMatchObject({ kind: 'deny', code: 'approval_cancelled' });
    await answer(pending, 'approve');
    await new Promise((r) => setTimeout(r, 2500));
    expect(projectIds()).toContain('security-audit');
  });

  it('D6: arguments changed between approval and execution are refused', async () => {
    const { runId, events } = await chat(alice, 'delete the project security-audit');
    const pending = pendingOf(events);
    // Someone rewrites the stored transcript: the call now names another project than the one approved.
    await sql`update run_steps set message = replace(message::text, 'security-audit', 'website-relaunch')::jsonb where run_id = ${runId}`.execute(h.store.db);
    await answer(pending, 'approve');
    const after = await rest(runId, events.length);
    expect(ofType(after, 'tool.decided').at(-1)!.decision).toMatchObject({ kind: 'deny', code: 'approval_mismatch' });
    expect(projectIds()).toEqual(expect.arrayContaining(['security-audit', 'website-relaunch']));
    expect((await h.audit.list(alice.user.sub)).some((e) => e.kind === 'tool.refused' && e.approvalId === pending.approvalId)).toBe(true);
  });

  it('D8: two pending approvals of one user are distinguishable, and answering one leaves the other pending', async () => {
    const one = await chat(alice, 'delete the project security-audit');
    const two = await chat(alice, 'delete the project website-relaunch');
    const [p1, p2] = [pendingOf(one.events), pendingOf(two.events)];
    expect(p1.approvalId).not.toBe(p2.approvalId);
    expect(p1.bindingMessage).not.toBe(p2.bindingMessage);
    const listed = await h.approvalStore.list(alice.user.sub, { status: 'pending' });
    expect(listed.map((a) => a.bindingMessage).sort()).toEqual([p1.bindingMessage, p2.bindingMessage].sort());
    await answer(p2, 'deny');
    await rest(two.runId, two.events.length);
    const still = await h.approvalStore.list(alice.user.sub, { status: 'pending' });
    expect(still.map((a) => a.id)).toEqual([p1.approvalId]);
    await runs.cancelApproval(alice.user, p1.approvalId!);
    await rest(one.runId, one.events.length);
  });

  it('a restart while an approval is pending: another instance polls it, and the call runs once', async () => {
    const first = h.manager();
    const { runId, events } = await chat(alice, 'delete the project security-audit', undefined, first);
    const pending = pendingOf(events);
    await first.drain();
    // This instance stops; a new one (its own poller, same database) takes over the durable job.
    await h.stopPollers();
    const second = h.manager();
    await answer(pending, 'approve');
    const after = await rest(runId, events.length, second);
    expect(ofType(after, 'tool.completed')[0]).toMatchObject({ ok: true, summary: 'Project deleted' });
    expect(projectIds()).not.toContain('security-audit');
    expect((await h.audit.list(alice.user.sub)).filter((e) => e.kind === 'tool.executed' && e.approvalId === pending.approvalId)).toHaveLength(1);
    runs = second;
  });
});

describe('the Projects API enforces the approval itself', () => {
  async function approvedToken(details: Array<Record<string, unknown>>, binding: string, opts: { acrValues?: string; code?: () => string } = {}) {
    const ciba = new CibaClient({ issuer: h.idp.issuer, clientId: 'deputy-backend', clientSecret: h.idp.backendClientSecret });
    const started = await ciba.start({ sub: alice.user.sub, audience: PROJECTS_AUDIENCE, scopes: ['delete:projects'], bindingMessage: binding, authorizationDetails: details, requestedExpirySeconds: 60, acrValues: opts.acrValues });
    await answerApproval(h.idp.url, h.credentials('alice'), { authReqId: started.authReqId }, 'approve', opts.code ? { code: opts.code() } : {});
    for (;;) {
      const r = await ciba.poll(started.authReqId, { sub: alice.user.sub, audience: PROJECTS_AUDIENCE });
      if (r.status === 'approved') return r.token;
      if (r.status !== 'pending' && r.status !== 'slow_down') throw new Error(`poll: ${r.status}`);
      await new Promise((res) => setTimeout(res, 1100));
    }
  }
  const del = (path: string, token: string) => fetch(`${h.projects.url}${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });

  it('D5: a token approving one deletion deletes that project once, and nothing else', async () => {
    const token = await approvedToken([{ type: 'project_delete', projectId: 'website-relaunch' }], 'Delete project website-relaunch');
    const other = await del('/projects/mobile-app', token);
    expect(other.status).toBe(403);
    expect((await other.json()).code).toBe('approval_required');
    expect((await del('/projects/website-relaunch', token)).status).toBe(200);
    const again = await del('/projects/website-relaunch', token);
    expect(again.status).toBe(403);
    expect((await again.json()).code).toBe('approval_already_used');
  });

  it('E1: deleting all projects without a fresh multi-factor token gets the RFC 9470 challenge', async () => {
    const token = await approvedToken([{ type: 'project_delete_all' }], 'Delete ALL projects');
    const res = await del('/projects', token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_user_authentication".*acr_values="[^"]*multi-factor".*max_age=300/);
  });

  it('E2: only the token counts: a client saying it did MFA changes nothing', async () => {
    const token = await approvedToken([{ type: 'project_delete_all' }], 'Delete ALL projects');
    const res = await fetch(`${h.projects.url}/projects?acr=${encodeURIComponent(MFA_ACR)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, acr: MFA_ACR, amr: 'mfa', 'auth-time': String(Math.floor(Date.now() / 1000)) },
    });
    expect(res.status).toBe(401);
    expect(projectIds().length).toBeGreaterThan(0);
  });
});

describe('step-up for critical actions', () => {
  it('E1/E2: "delete all my projects" asks for a fresh multi-factor sign-in; only a token that has one resumes; then approval with the code', async () => {
    const { runId, events } = await chat(alice, 'delete all my projects');
    const interrupt = ofType(events, 'run.interrupted').at(-1)!.interrupt;
    expect(interrupt).toMatchObject({ kind: 'step_up_required', acrValues: MFA_ACR, maxAgeSeconds: 300 });
    expect(await h.approvalStore.list(alice.user.sub, { status: 'pending' })).toHaveLength(0);

    // E2: the old token is challenged, whatever the client claims about it.
    await expect(runs.resume({ ...alice.user, acr: undefined, amr: ['pwd'] }, runId, interrupt.toolCallId, alice.token)).rejects.toMatchObject({ status: 401, code: 'insufficient_user_authentication' });

    const stepped = await h.login('alice', { mfa: true });
    expect(stepped.user).toMatchObject({ acr: MFA_ACR, amr: expect.arrayContaining(['mfa']) });
    expect(Date.now() / 1000 - stepped.user.authTime!).toBeLessThan(60);
    await runs.resume(stepped.user, runId, interrupt.toolCallId, stepped.token);
    const paused = await collect(runs.follow(alice.user.sub, runId));
    const pending = pendingOf(paused);
    expect(pending.bindingMessage).toBe('Delete ALL projects');

    // The device asks for the code too: without it nothing is approved.
    const stored = await h.approvalStore.get(alice.user.sub, pending.approvalId!);
    const noCode = await answerApproval(h.idp.url, h.credentials('alice'), { authReqId: stored!.authReqId }, 'approve');
    expect(noCode.status).toBe(303);
    expect(await h.approvalStore.list(alice.user.sub, { status: 'pending' })).toHaveLength(1);
    await answer(pending, 'approve', { code: h.totp('alice') });
    const after = await rest(runId, paused.length);
    expect(ofType(after, 'tool.completed')[0]).toMatchObject({ ok: true, summary: expect.stringMatching(/^Deleted \d+ projects?$/) });
    expect(projectIds()).toEqual(['mobile-app']);
    expect((await h.audit.list(alice.user.sub)).some((e) => e.kind === 'step_up.required' && e.tool === 'delete_all_projects')).toBe(true);
  });
});
