/** Tool rows and interrupt cards render text only, with stable test ids, for every state and interrupt kind. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { InterruptCard } from '../../components/InterruptCard';
import { ToolCallRow } from '../../components/ToolCallRow';
import type { ToolActivity } from '../../components/run-state';

const base: ToolActivity = {
  toolCallId: 'call_1',
  name: 'create_task',
  tier: 'write',
  summary: 'Add task “Write launch post” to website-relaunch',
  arguments: { projectId: 'website-relaunch', title: 'Write launch post' },
  state: 'proposed',
};

describe('ToolCallRow', () => {
  it('has the test ids, the state and tool as attributes, the tier badge and the arguments as key/value text', () => {
    const html = renderToStaticMarkup(<ToolCallRow call={{ ...base, state: 'done', decision: { kind: 'allow' }, outcome: 'Task added' }} />);
    expect(html).toContain('data-testid="tool-call"');
    expect(html).toContain('data-state="done"');
    expect(html).toContain('data-tool="create_task"');
    expect(html).toMatch(/data-testid="tool-call-summary">Add task “Write launch post” to website-relaunch</);
    expect(html).toMatch(/data-testid="tool-call-decision">Allowed</);
    expect(html).toMatch(/data-testid="tool-call-outcome">Task added</);
    expect(html).toMatch(/class="tier tier-write"[^>]*>write</);
    expect(html).toMatch(/<dt title="projectId">Project id<\/dt><dd>website-relaunch<\/dd>/);
  });

  it.each([
    ['proposed', undefined, 'Checking…'],
    ['running', { kind: 'allow' }, 'Allowed'],
    ['paused', { kind: 'need_approval', reason: 'x' }, 'Needs your approval'],
    ['denied', { kind: 'deny', code: 'missing_scope', reason: 'Your account is not allowed to do this.' }, 'Denied: Your account is not allowed to do this.'],
  ] as const)('says the decision in words (%s)', (state, decision, words) => {
    const html = renderToStaticMarkup(<ToolCallRow call={{ ...base, state, ...(decision ? { decision } : {}) }} />);
    expect(html).toContain(`data-state="${state}"`);
    expect(html).toContain(`data-testid="tool-call-decision">${words}<`);
  });

  it('never renders argument values or summaries as HTML, and shows bidi tricks', () => {
    const html = renderToStaticMarkup(
      <ToolCallRow call={{ ...base, summary: '<img src=x onerror=alert(1)>', arguments: { title: '<script>alert(1)</script>', file: 'invoice\u202Efdp.exe' } }} />,
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('invoice⟨U+202E⟩fdp.exe');
  });
});

const approval = {
  kind: 'approval_pending' as const,
  toolCallId: 'call_d',
  reason: 'delete_project is a high-risk action: approve exactly this call first.',
  approvalId: '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11',
  bindingMessage: 'Delete project security-audit',
  authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
};

describe('InterruptCard', () => {
  it('approval_pending: title, where to approve, the binding message, each detail as title + rows, the reason, a countdown, cancel', () => {
    const html = renderToStaticMarkup(
      <InterruptCard interrupt={{ ...approval, expiresAt: new Date(Date.now() + 272_400).toISOString() }} actions={{ onCancel: () => {} }} />,
    );
    expect(html).toContain('data-testid="interrupt-card"');
    expect(html).toContain('data-kind="approval_pending"');
    expect(html).toMatch(/class="interrupt-title"[^>]*>Waiting for your approval</);
    expect(html).toContain('Approve it on your trusted device (the approvals page)');
    expect(html).toMatch(/data-testid="interrupt-binding">Delete project security-audit</);
    expect(html).toMatch(/data-testid="interrupt-detail"><div class="interrupt-detail-type">Delete a project<\/div>/);
    expect(html).toContain('<dt>Project</dt><dd>security-audit</dd>');
    expect(html).toContain('approve exactly this call first');
    expect(html).toMatch(/data-testid="interrupt-countdown"[^>]*>Expires in 4:3[12]</);
    expect(html).toMatch(/<button[^>]*data-testid="interrupt-cancel">Cancel request</);
    expect(html).not.toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-cancel"/);
  });

  it('approval_pending: every field of a multi-field detail, lists joined; "Expired" at 0; cancel disabled while busy; its error', () => {
    const html = renderToStaticMarkup(
      <InterruptCard
        interrupt={{
          ...approval,
          expiresAt: new Date(Date.now() - 5_000).toISOString(),
          authorizationDetails: [{ type: 'email_send', to: ['bob@example.com', 'carol@example.com'], subject: 'Q3', body: 'Hi' }],
        }}
        actions={{ onCancel: () => {}, busy: true, cancelError: 'Cancelling did not work.' }}
      />,
    );
    expect(html).toContain('Send an e-mail');
    expect(html).toContain('<dt>To</dt><dd>bob@example.com, carol@example.com</dd>');
    expect(html).toContain('<dt>Subject</dt><dd>Q3</dd>');
    expect(html).toContain('<dt>Message</dt><dd>Hi</dd>');
    expect(html).toMatch(/data-testid="interrupt-countdown"[^>]*>Expired</);
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-cancel">Cancelling…</);
    expect(html).toMatch(/data-testid="interrupt-cancel-error">Cancelling did not work.</);
  });

  it('approval_pending: without an approval id (nothing to cancel) the cancel button is disabled; no countdown without expiresAt', () => {
    const html = renderToStaticMarkup(<InterruptCard interrupt={{ kind: 'approval_pending', toolCallId: 'c', reason: 'r' }} />);
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-cancel"/);
    expect(html).not.toContain('interrupt-countdown');
  });

  it('connect_required: "Connect Google", the scopes in words (raw scope as title), a working connect button', () => {
    const interrupt = { kind: 'connect_required' as const, toolCallId: 'c', reason: 'Connect your Google account to continue.', connection: 'google-oauth2', scopes: ['https://www.googleapis.com/auth/calendar.events'] };
    const html = renderToStaticMarkup(<InterruptCard interrupt={interrupt} actions={{ onConnect: () => {} }} />);
    expect(html).toContain('data-kind="connect_required"');
    expect(html).toContain('Connect Google');
    expect(html).toContain('Create and edit calendar events');
    expect(html).toContain('title="https://www.googleapis.com/auth/calendar.events"');
    expect(html).not.toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-connect"/);
    // Busy while the flow runs; the last attempt's error is shown; without a handler the button is disabled.
    const busy = renderToStaticMarkup(<InterruptCard interrupt={interrupt} actions={{ onConnect: () => {}, busy: true, connectError: 'Connecting Google was cancelled.' }} />);
    expect(busy).toContain('Connecting Google…');
    expect(busy).toContain('Connecting Google was cancelled.');
    const inert = renderToStaticMarkup(<InterruptCard interrupt={interrupt} />);
    expect(inert).toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-connect"/);
  });

  it('step_up_required: explains the fresh second-factor sign-in, "Verify it\'s you", its error; the run stays paused', () => {
    const interrupt = {
      kind: 'step_up_required' as const,
      toolCallId: 'c',
      reason: 'Deleting all projects is critical.',
      acrValues: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
      maxAgeSeconds: 300,
    };
    const html = renderToStaticMarkup(<InterruptCard interrupt={interrupt} call={{ ...base, summary: 'Delete all 3 projects' }} actions={{ onStepUp: () => {} }} />);
    expect(html).toContain('data-kind="step_up_required"');
    expect(html).toContain('Fresh sign-in needed');
    expect(html).toContain('This action needs a fresh sign-in with a second factor');
    expect(html).toMatch(/data-testid="interrupt-binding">Delete all 3 projects</);
    expect(html).toContain('Deleting all projects is critical.');
    expect(html).toMatch(/<button[^>]*data-testid="interrupt-step-up">Verify it&#x27;s you</);
    expect(html).not.toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-step-up"/);
    const failed = renderToStaticMarkup(
      <InterruptCard interrupt={interrupt} actions={{ onStepUp: () => {}, stepUpError: 'The verification was cancelled. The request stays paused.' }} />,
    );
    expect(failed).toMatch(/role="alert" data-testid="interrupt-step-up-error">The verification was cancelled. The request stays paused.</);
    const busy = renderToStaticMarkup(<InterruptCard interrupt={interrupt} actions={{ onStepUp: () => {}, busy: true }} />);
    expect(busy).toMatch(/<button[^>]*disabled=""[^>]*data-testid="interrupt-step-up">Verifying…</);
  });

  it('renders hostile binding messages, details and reasons as text only, and shows bidi tricks', () => {
    const html = renderToStaticMarkup(
      <InterruptCard
        interrupt={{
          ...approval,
          bindingMessage: '<img src=x onerror=alert(1)> pay invoice\u202Efdp.exe',
          reason: '<script>alert(1)</script>',
          authorizationDetails: [{ type: '<i>x</i>', note: '<b onmouseover=alert(1)>hi</b>', 'sub<ject>': 'y\u200Bz' }],
        }}
      />,
    );
    expect(html).not.toContain('<b ');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<i>');
    expect(html).toContain('&lt;b onmouseover=alert(1)&gt;hi&lt;/b&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; pay invoice⟨U+202E⟩fdp.exe');
    expect(html).toContain('&lt;i&gt;x&lt;/i&gt;');
    expect(html).toContain('<dt>sub&lt;ject&gt;</dt><dd>y⟨U+200B⟩z</dd>');
  });
});

describe('approval outcomes on the tool row', () => {
  it.each([
    ['approved', 'running', 'Approved — running it now', 'Approved'],
    ['denied', 'denied', 'Denied on your device — nothing was done', 'Denied on your device'],
    ['expired', 'denied', 'Expired — nothing was done', 'Approval expired'],
    ['cancelled', 'denied', 'Cancelled — nothing was done', 'Request cancelled'],
  ] as const)('%s', (status, state, line, decision) => {
    const html = renderToStaticMarkup(
      <ToolCallRow
        call={{ ...base, state, decision: { kind: 'need_approval', reason: 'r' }, approval: { approvalId: approval.approvalId, status } }}
      />,
    );
    expect(html).toMatch(new RegExp(`data-testid="approval-outcome" data-status="${status}">${line}<`));
    expect(html).toContain(`data-testid="tool-call-decision">${decision}<`);
  });

  it('no outcome line before the approval is answered', () => {
    const html = renderToStaticMarkup(<ToolCallRow call={{ ...base, state: 'paused', decision: { kind: 'need_approval', reason: 'r' } }} />);
    expect(html).not.toContain('approval-outcome');
    expect(html).toContain('data-testid="tool-call-decision">Needs your approval<');
  });

  it('a later decision (the resumed call allowed) shows as such, with the outcome line kept', () => {
    const html = renderToStaticMarkup(
      <ToolCallRow call={{ ...base, state: 'done', decision: { kind: 'allow' }, outcome: 'Project deleted', approval: { approvalId: approval.approvalId, status: 'approved' } }} />,
    );
    expect(html).toContain('data-testid="tool-call-decision">Allowed<');
    expect(html).toContain('data-status="approved"');
  });
});
