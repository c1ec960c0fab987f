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

describe('InterruptCard', () => {
  it('approval_required: title, what will run, the authorization details as rows, the reason, and the waiting line', () => {
    const html = renderToStaticMarkup(
      <InterruptCard
        interrupt={{
          kind: 'approval_required',
          toolCallId: 'call_d',
          reason: 'delete_project is a high-risk action: approve exactly this call first.',
          bindingMessage: 'Delete project security-audit',
          authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
        }}
      />,
    );
    expect(html).toContain('data-testid="interrupt-card"');
    expect(html).toContain('data-kind="approval_required"');
    expect(html).toContain('Approval needed');
    expect(html).toContain('What will run');
    expect(html).toMatch(/data-testid="interrupt-binding">Delete project security-audit</);
    expect(html).toContain('Project delete');
    expect(html).toMatch(/<dt title="projectId">Project id<\/dt><dd>security-audit<\/dd>/);
    expect(html).toContain('approve exactly this call first');
    expect(html).toContain('Waiting for approval on your trusted device…');
    expect(html).not.toContain('interrupt-actions'); // no actions until approvals land
  });

  it('approval_required with actions and a countdown (the later approvals issue)', () => {
    const html = renderToStaticMarkup(
      <InterruptCard
        interrupt={{ kind: 'approval_required', toolCallId: 'c', reason: 'r' }}
        actions={{ onCancel: () => {}, expiresAt: Date.now() + 125_000 }}
      />,
    );
    expect(html).toContain('data-testid="interrupt-cancel"');
    expect(html).toMatch(/Expires in 2:0[45]/);
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

  it('step_up_required: explains the fresh sign-in with a second factor', () => {
    const html = renderToStaticMarkup(
      <InterruptCard interrupt={{ kind: 'step_up_required', toolCallId: 'c', reason: 'This action needs a fresh sign-in with a second factor.' }} />,
    );
    expect(html).toContain('data-kind="step_up_required"');
    expect(html).toContain('Fresh sign-in needed');
    expect(html).toContain('second factor');
  });

  it('renders authorization details as text only', () => {
    const html = renderToStaticMarkup(
      <InterruptCard
        interrupt={{ kind: 'approval_required', toolCallId: 'c', reason: 'r', authorizationDetails: [{ type: 'x', note: '<b onmouseover=alert(1)>hi</b>' }] }}
      />,
    );
    expect(html).not.toContain('<b ');
    expect(html).toContain('&lt;b onmouseover=alert(1)&gt;hi&lt;/b&gt;');
  });
});
