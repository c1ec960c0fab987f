/** The side panel's run reducer: a run's events → tool rows, interrupts, messages; re-attach dedupe; the timeline. */
import { describe, expect, it } from 'vitest';
import {
  applyRunEvent,
  applyRunEvents,
  buildTimeline,
  callDecisionText,
  createRun,
  decisionText,
  entriesOf,
  interruptedCall,
  isRunActive,
  isRunWorking,
  labelText,
  outcomeText,
  revealInvisible,
  type RunView,
  type ToolActivity,
  valueText,
} from '../../components/run-state';
import { activeRunAfter } from '../../lib/db';
import type { RunEvent } from '../../lib/protocol';

const runId = '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01';
const threadId = '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10';
const userMessageId = 'a5c3e2d1-7b6f-4e8a-9c0d-1f2e3d4c5b6a';
const m1 = 'b7d9e1f3-2a4c-4e6b-8d0f-3a5c7e9b1d2f';
const m2 = 'c8e0f2a4-3b5d-4f7a-9e1b-4b6d8f0a2c3e';

const started: RunEvent = { type: 'run.started', runId, threadId, userMessageId, model: 'deputy-offline-1' };
const delta = (messageId: string, d: string): RunEvent => ({ type: 'message.delta', runId, messageId, delta: d });
const completed = (id: string, content: string): RunEvent => ({
  type: 'message.completed',
  runId,
  message: { id, threadId, role: 'assistant', content, createdAt: '2026-11-02T10:00:00.000Z' },
});
const proposed = (toolCallId: string, name: string, args: Record<string, unknown>, summary: string, tier?: ToolActivity['tier']): RunEvent => ({
  type: 'tool.proposed',
  runId,
  call: { toolCallId, name, arguments: args, summary, ...(tier ? { tier } : {}) },
});
const allow = (toolCallId: string): RunEvent => ({ type: 'tool.decided', runId, toolCallId, decision: { kind: 'allow' } });
const toolDone = (toolCallId: string, summary: string): RunEvent => ({ type: 'tool.completed', runId, toolCallId, ok: true, summary });

const fresh = () => createRun({ runId, threadId, startedAt: '2026-11-02T09:59:59.000Z' });
/** Numbers events 1, 2, 3… like the server's SSE ids. */
const numbered = (events: RunEvent[]) => events.map((event, i) => ({ seq: i + 1, event }));

function tools(run: RunView): ToolActivity[] {
  return run.parts.flatMap((p) => (p.kind === 'tool' ? [p.call] : []));
}
function texts(run: RunView): string[] {
  return run.parts.flatMap((p) => (p.kind === 'message' ? [p.content] : []));
}

const listProjects = [
  started,
  proposed('call_1', 'list_projects', {}, 'List your projects', 'read'),
  allow('call_1'),
  toolDone('call_1', '2 projects'),
  delta(m1, 'You have '),
  delta(m1, '2 projects: Website relaunch, Security audit Q4.'),
  completed(m1, 'You have 2 projects: Website relaunch, Security audit Q4.'),
  { type: 'run.completed', runId } as RunEvent,
];

describe('applyRunEvent: tool activity', () => {
  it('moves a tool row proposed → running → done, then the answer; the run completes', () => {
    const states: string[] = [];
    let run = fresh();
    for (const { seq, event } of numbered(listProjects)) {
      run = applyRunEvent(run, event, seq);
      const row = tools(run)[0];
      if (row) states.push(row.state);
    }
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['proposed', 'running', 'done']);
    expect(tools(run)[0]).toMatchObject({ name: 'list_projects', tier: 'read', summary: 'List your projects', decision: { kind: 'allow' }, outcome: '2 projects' });
    expect(texts(run)).toEqual(['You have 2 projects: Website relaunch, Security audit Q4.']);
    expect(run.parts.map((p) => p.kind)).toEqual(['tool', 'message']);
    expect(run).toMatchObject({ status: 'completed', lastSeq: 8, userMessageId, model: 'deputy-offline-1' });
    expect(isRunActive(run)).toBe(false);
  });

  it('keeps the validated arguments as given', () => {
    const run = applyRunEvents(fresh(), numbered([started, proposed('c', 'create_task', { projectId: 'website-relaunch', title: 'Write launch post' }, 'Add task “Write launch post” to website-relaunch', 'write')]));
    expect(tools(run)[0].arguments).toEqual({ projectId: 'website-relaunch', title: 'Write launch post' });
    expect(tools(run)[0].state).toBe('proposed');
  });

  it('a denied call is denied with its reason; a failed call says why', () => {
    const run = applyRunEvents(
      fresh(),
      numbered([
        started,
        proposed('a', 'delete_project', { projectId: 'x' }, 'Delete x', 'high'),
        { type: 'tool.decided', runId, toolCallId: 'a', decision: { kind: 'deny', code: 'missing_scope', reason: 'Your account is not allowed to do this.' } },
        proposed('b', 'list_tasks', { projectId: 'nope' }, 'List tasks in nope', 'read'),
        allow('b'),
        { type: 'tool.completed', runId, toolCallId: 'b', ok: false, summary: 'The Projects service found no such project or task.', error: { code: 'not_found', message: 'no such project' } },
      ]),
    );
    const [a, b] = tools(run);
    expect(a.state).toBe('denied');
    expect(decisionText(a.decision)).toBe('Denied: Your account is not allowed to do this.');
    expect(outcomeText(a)).toBeUndefined();
    expect(b.state).toBe('failed');
    expect(b.error).toEqual({ code: 'not_found', message: 'no such project' });
    expect(outcomeText(b)).toBe('Failed: The Projects service found no such project or task.');
  });

  it('tool events for unknown calls still show a row (never crash)', () => {
    const run = applyRunEvent(fresh(), toolDone('ghost', 'Done'), 1);
    expect(tools(run)[0]).toMatchObject({ toolCallId: 'ghost', state: 'done', outcome: 'Done' });
  });

  it('ignores events of another run', () => {
    const run = fresh();
    const other = { ...started, runId: '11111111-1111-4111-8111-111111111111' };
    expect(applyRunEvent(run, other, 1)).toBe(run);
  });
});

describe('applyRunEvent: interrupts', () => {
  const pause = [
    started,
    proposed('call_d', 'delete_project', { projectId: 'security-audit' }, 'Delete the project security-audit and all its tasks', 'high'),
    { type: 'tool.decided', runId, toolCallId: 'call_d', decision: { kind: 'need_approval', reason: 'delete_project is a high-risk action: approve exactly this call first.' } },
    {
      type: 'run.interrupted',
      runId,
      interrupt: {
        kind: 'approval_pending',
        toolCallId: 'call_d',
        reason: 'delete_project is a high-risk action: approve exactly this call first.',
        bindingMessage: 'Delete project security-audit',
        authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
      },
    },
  ] as RunEvent[];

  it('pauses the row and the run on an approval interrupt', () => {
    const run = applyRunEvents(fresh(), numbered(pause));
    expect(run.status).toBe('interrupted');
    expect(isRunActive(run)).toBe(true);
    expect(isRunWorking(run)).toBe(false);
    expect(run.interrupt).toMatchObject({ kind: 'approval_pending', bindingMessage: 'Delete project security-audit' });
    expect(tools(run)[0].state).toBe('paused');
    expect(decisionText(tools(run)[0].decision)).toBe('Needs your approval');
    expect(interruptedCall(run)?.name).toBe('delete_project');
  });

  it('resumes when the paused call is proposed again: the same row, running, then done; the card goes away', () => {
    let run = applyRunEvents(fresh(), numbered(pause));
    run = applyRunEvents(run, [
      { seq: 5, event: proposed('call_d', 'delete_project', { projectId: 'security-audit' }, 'Delete the project security-audit and all its tasks', 'high') },
    ]);
    expect(run.status).toBe('running');
    expect(run.interrupt).toBeUndefined();
    expect(tools(run)).toHaveLength(1);
    expect(tools(run)[0].state).toBe('proposed');
    expect(tools(run)[0].decision).toBeUndefined();
    run = applyRunEvents(run, [
      { seq: 6, event: allow('call_d') },
      { seq: 7, event: toolDone('call_d', 'Project deleted') },
      { seq: 8, event: completed(m1, 'Deleted.') },
      { seq: 9, event: { type: 'run.completed', runId } },
    ]);
    expect(tools(run)[0]).toMatchObject({ state: 'done', outcome: 'Project deleted' });
    expect(run.status).toBe('completed');
  });

  it('a declined approval ends the row denied', () => {
    let run = applyRunEvents(fresh(), numbered(pause));
    run = applyRunEvent(run, { type: 'tool.decided', runId, toolCallId: 'call_d', decision: { kind: 'deny', code: 'approval_declined', reason: 'You declined this action, so it did not run.' } }, 5);
    expect(run.status).toBe('running');
    expect(tools(run)[0].state).toBe('denied');
  });

  const approvalId = '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11';
  const resolved = (status: 'approved' | 'denied' | 'expired' | 'cancelled'): RunEvent => ({ type: 'approval.resolved', runId, toolCallId: 'call_d', approvalId, status });
  const resumed: RunEvent = { type: 'run.resumed', runId, toolCallId: 'call_d' };

  it('approval.resolved approved: the run goes on, the card goes away, the row keeps "approved" through the re-proposal to done', () => {
    let run = applyRunEvents(fresh(), numbered(pause));
    run = applyRunEvent(run, resolved('approved'), 5);
    expect(run.status).toBe('running');
    expect(run.interrupt).toBeUndefined();
    expect(tools(run)[0]).toMatchObject({ state: 'paused', approval: { approvalId, status: 'approved' } });
    expect(callDecisionText(tools(run)[0])).toBe('Approved');
    run = applyRunEvents(run, [
      { seq: 6, event: resumed },
      { seq: 7, event: proposed('call_d', 'delete_project', { projectId: 'security-audit' }, 'Delete the project security-audit and all its tasks', 'high') },
      { seq: 8, event: allow('call_d') },
      { seq: 9, event: toolDone('call_d', 'Project deleted') },
      { seq: 10, event: { type: 'run.completed', runId } },
    ]);
    expect(tools(run)[0]).toMatchObject({ state: 'done', outcome: 'Project deleted', approval: { status: 'approved' } });
    expect(run.status).toBe('completed');
  });

  it.each(['denied', 'expired', 'cancelled'] as const)('approval.resolved %s: the row ends denied, nothing ran; the run goes on and completes', (status) => {
    let run = applyRunEvents(fresh(), numbered(pause));
    run = applyRunEvents(run, [
      { seq: 5, event: resolved(status) },
      { seq: 6, event: resumed },
    ]);
    expect(run.status).toBe('running');
    expect(run.interrupt).toBeUndefined();
    expect(tools(run)[0]).toMatchObject({ state: 'denied', approval: { approvalId, status } });
    expect(outcomeText(tools(run)[0])).toBeUndefined();
    run = applyRunEvents(run, [
      { seq: 7, event: completed(m1, 'I did not delete it.') },
      { seq: 8, event: { type: 'run.completed', runId } },
    ]);
    expect(run.status).toBe('completed');
    expect(tools(run)[0].state).toBe('denied'); // not turned into "Did not run" failed
    expect(texts(run)).toEqual(['I did not delete it.']);
  });

  it('approval.resolved replayed after re-attaching changes nothing; one for another run is ignored', () => {
    const run = applyRunEvents(fresh(), numbered([...pause, resolved('denied')]));
    expect(applyRunEvent(run, resolved('approved'), 5)).toBe(run);
    expect(applyRunEvent(run, { ...resolved('approved'), runId: threadId } as RunEvent, 6)).toBe(run);
  });

  it('pauses again for a step-up after an approval (a critical call): the row keeps the approval', () => {
    let run = applyRunEvents(fresh(), numbered([...pause, resolved('approved'), resumed]));
    run = applyRunEvents(run, [
      { seq: 7, event: { type: 'tool.decided', runId, toolCallId: 'call_d', decision: { kind: 'need_step_up', acrValues: 'mfa', maxAgeSeconds: 300, reason: 'Fresh sign-in.' } } },
      { seq: 8, event: { type: 'run.interrupted', runId, interrupt: { kind: 'step_up_required', toolCallId: 'call_d', reason: 'Fresh sign-in.', acrValues: 'mfa', maxAgeSeconds: 300 } } },
    ]);
    expect(run.status).toBe('interrupted');
    expect(run.interrupt).toMatchObject({ kind: 'step_up_required', maxAgeSeconds: 300 });
    expect(tools(run)[0]).toMatchObject({ state: 'paused', approval: { status: 'approved' } });
    expect(callDecisionText(tools(run)[0])).toBe('Needs a fresh sign-in');
    run = applyRunEvents(run, [{ seq: 9, event: { type: 'run.resumed', runId, toolCallId: 'call_d' } }]);
    expect(run.status).toBe('running');
  });

  it('connection and step-up decisions pause too, and say what is needed', () => {
    expect(decisionText({ kind: 'need_connection', connection: 'google-oauth2', scopes: ['calendar'], reason: 'Connect.' })).toBe('Needs your Google connection');
    expect(decisionText({ kind: 'need_step_up', acrValues: 'mfa', maxAgeSeconds: 300, reason: 'Fresh sign-in.' })).toBe('Needs a fresh sign-in');
    expect(decisionText(undefined)).toBe('Checking…');
    const run = applyRunEvents(fresh(), numbered([
      started,
      proposed('s', 'wire_money', { amount: 5 }, 'Send 5', 'critical'),
      { type: 'tool.decided', runId, toolCallId: 's', decision: { kind: 'need_step_up', acrValues: 'mfa', maxAgeSeconds: 300, reason: 'This action needs a fresh sign-in with a second factor.' } },
      { type: 'run.interrupted', runId, interrupt: { kind: 'step_up_required', toolCallId: 's', reason: 'This action needs a fresh sign-in with a second factor.' } },
    ]));
    expect(tools(run)[0].state).toBe('paused');
    expect(run.interrupt?.kind).toBe('step_up_required');
  });
});

describe('applyRunEvent: messages', () => {
  it('keeps several assistant messages of one run apart and in order, with tool rows between them', () => {
    const run = applyRunEvents(
      fresh(),
      numbered([
        started,
        delta(m1, 'Let me look '),
        delta(m1, 'that up.'),
        completed(m1, 'Let me look that up.'),
        proposed('c1', 'list_projects', {}, 'List your projects', 'read'),
        allow('c1'),
        toolDone('c1', '2 projects'),
        delta(m2, 'Found '),
        delta(m2, 'them.'),
      ]),
    );
    expect(run.parts.map((p) => (p.kind === 'message' ? `m:${p.content}:${p.streaming}` : `t:${p.call.state}`))).toEqual([
      'm:Let me look that up.:false',
      't:done',
      'm:Found them.:true',
    ]);
    expect(isRunWorking(run)).toBe(false); // text is streaming: no extra "working" dots
    const done = applyRunEvent(applyRunEvent(run, completed(m2, 'Found them.'), 10), { type: 'run.completed', runId }, 11);
    expect(texts(done)).toEqual(['Let me look that up.', 'Found them.']);
    expect(done.parts.every((p) => p.kind !== 'message' || !p.streaming)).toBe(true);
  });

  it('message.completed is authoritative over the streamed text, and adds a message that never streamed', () => {
    let run = applyRunEvents(fresh(), numbered([started, delta(m1, 'Helo')]));
    run = applyRunEvent(run, completed(m1, 'Hello'), 3);
    expect(texts(run)).toEqual(['Hello']);
    run = applyRunEvent(run, completed(m2, 'I stopped here.'), 4);
    expect(texts(run)).toEqual(['Hello', 'I stopped here.']);
  });

  it('shows "working" while waiting for the model or a tool', () => {
    let run = applyRunEvent(fresh(), started, 1);
    expect(isRunWorking(run)).toBe(true);
    run = applyRunEvents(run, [{ seq: 2, event: proposed('c', 'list_projects', {}, 'List your projects', 'read') }, { seq: 3, event: allow('c') }]);
    expect(isRunWorking(run)).toBe(true);
  });

  it('a failed run keeps what it showed, stops the stream, and marks unfinished tool rows', () => {
    const run = applyRunEvents(
      fresh(),
      numbered([
        started,
        proposed('c', 'list_projects', {}, 'List your projects', 'read'),
        allow('c'),
        delta(m1, 'partial'),
        { type: 'run.failed', runId, error: { code: 'model_unreachable', message: 'The model service could not be reached.' } },
      ]),
    );
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('model_unreachable');
    expect(tools(run)[0]).toMatchObject({ state: 'failed', outcome: 'Did not finish' });
    expect(run.parts[1]).toMatchObject({ kind: 'message', content: 'partial', streaming: false });
  });
});

describe('re-attach: dedupe by sequence number', () => {
  it('a replay that overlaps what was seen changes nothing and does not double text', () => {
    const all = numbered(listProjects);
    const firstPart = applyRunEvents(fresh(), all.slice(0, 5)); // up to the first delta (seq 5)
    expect(firstPart.lastSeq).toBe(5);
    // Re-attached with Last-Event-ID 3 (an older pointer): the server replays 4… again.
    const replayed = applyRunEvents(firstPart, all.slice(3));
    const straight = applyRunEvents(fresh(), all);
    expect(replayed).toEqual(straight);
    expect(texts(replayed)).toEqual(['You have 2 projects: Website relaunch, Security audit Q4.']);
  });

  it('returns the same object for a replayed event (no re-render, no write)', () => {
    const run = applyRunEvents(fresh(), numbered(listProjects.slice(0, 3)));
    expect(applyRunEvent(run, listProjects[1], 2)).toBe(run);
    expect(applyRunEvent(run, listProjects[2], 3)).toBe(run);
  });

  it('applies every event when frames carry no id, and does not move lastSeq', () => {
    const run = applyRunEvent(applyRunEvent(fresh(), started, 1), delta(m1, 'a'));
    expect(run.lastSeq).toBe(1);
    expect(texts(run)).toEqual(['a']);
  });

  it('the thread pointer follows the run: set while running or paused, cleared when it ends', () => {
    const running = { runId, status: 'running' as const, lastSeq: 4 };
    const p1 = activeRunAfter(undefined, running);
    expect(p1).toEqual({ runId, status: 'running', lastSeq: 4 });
    expect(activeRunAfter(p1, running)).toBe(p1);
    const p2 = activeRunAfter(p1, { runId, status: 'interrupted', lastSeq: 6 });
    expect(p2).toEqual({ runId, status: 'interrupted', lastSeq: 6 });
    expect(activeRunAfter(p2, { runId, status: 'completed', lastSeq: 9 })).toBeUndefined();
    // Another run finishing leaves this thread's active run alone.
    expect(activeRunAfter(p2, { runId: 'other', status: 'failed', lastSeq: 2 })).toBe(p2);
  });
});

describe('buildTimeline', () => {
  const msg = (id: string, role: 'user' | 'assistant', content: string, createdAt: string) => ({ id, role, content, createdAt });

  it('puts each run after the user message that started it, showing its messages only once', () => {
    const run = applyRunEvents(createRun({ runId, threadId, startedAt: '2026-11-02T10:00:01.000Z' }), numbered(listProjects));
    const items = buildTimeline(
      [
        msg('u0', 'user', 'hi', '2026-11-02T09:00:00.000Z'),
        msg('a0', 'assistant', 'hello', '2026-11-02T09:00:01.000Z'),
        // the run's own answer is stored as a message too (and the server's clock may be behind ours)
        msg(m1, 'assistant', 'You have 2 projects…', '2026-11-02T09:59:00.000Z'),
        msg(userMessageId, 'user', 'list my projects', '2026-11-02T10:00:01.000Z'),
      ],
      [run],
    );
    expect(items.map((i) => `${i.kind}:${i.id}`)).toEqual(['user:u0', 'assistant:a0', `user:${userMessageId}`, `run:${runId}`]);
  });

  it('shows runs whose user message is not known at the end, and pending sends last', () => {
    const run = createRun({ runId, threadId, userMessageId: 'unknown', startedAt: '2026-11-02T10:00:00.000Z' });
    const items = buildTimeline([msg('u0', 'user', 'hi', '2026-11-02T09:00:00.000Z')], [run], [
      { clientMessageId: 'c1', threadId, content: 'next question' },
    ]);
    expect(items.map((i) => i.kind)).toEqual(['user', 'run', 'user', 'waiting']);
    expect(items[2]).toMatchObject({ pending: true, content: 'next question' });
  });

  it('is empty for an empty conversation', () => {
    expect(buildTimeline([], [])).toEqual([]);
  });
});

describe('values as text', () => {
  it('makes bidi overrides and zero-width characters visible', () => {
    expect(revealInvisible('invoice\u202Efdp.exe')).toBe('invoice⟨U+202E⟩fdp.exe');
    expect(revealInvisible('a\u200Bb')).toBe('a⟨U+200B⟩b');
    expect(revealInvisible('line\nbreak\ttab')).toBe('line\nbreak\ttab');
  });

  it('renders values as one plain line', () => {
    expect(valueText('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
    expect(valueText(3)).toBe('3');
    expect(valueText(true)).toBe('true');
    expect(valueText(null)).toBe('—');
    expect(valueText(['a', 'b'])).toBe('a, b');
    expect(valueText({ a: 1 })).toBe('{"a":1}');
    expect(valueText('x'.repeat(2000)).length).toBe(500);
  });

  it('labels keys in words, in the object’s order', () => {
    expect(labelText('projectId')).toBe('Project id');
    expect(labelText('project_delete')).toBe('Project delete');
    expect(entriesOf({ projectId: 'website-relaunch', title: 'Write launch post', due: '2026-12-01' })).toEqual([
      { key: 'projectId', label: 'Project id', value: 'website-relaunch' },
      { key: 'title', label: 'Title', value: 'Write launch post' },
      { key: 'due', label: 'Due', value: '2026-12-01' },
    ]);
  });
});
