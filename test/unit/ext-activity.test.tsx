/** The Activity drawer's lists: the audit trail in words (text only) and pending approvals with their cancel buttons. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_KIND_TEXT, ActivityEntries, PendingApprovals, shortHash } from '../../components/ActivityView';
import type { ApprovalView, AuditEntry } from '../../lib/protocol';

const approvalId = '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11';
const hash = 'a3f1c09e77b2d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccdd';

const entries: AuditEntry[] = [
  { id: '3', at: '2026-11-02T10:02:00.000Z', kind: 'tool.executed', tool: 'delete_project', approvalId, argsHash: hash, summary: 'Deleted project security-audit' },
  { id: '2', at: '2026-11-02T10:01:00.000Z', kind: 'approval.approved', tool: 'delete_project', approvalId, argsHash: hash, approver: 'auth0|alice', summary: 'Delete project security-audit' },
  { id: '1', at: '2026-11-02T10:00:00.000Z', kind: 'approval.requested', tool: 'delete_project', approvalId, argsHash: `sha256:${hash}`, summary: 'Delete project security-audit' },
];

describe('ActivityEntries', () => {
  it('one entry per line, newest first: the kind in words, the tool, the summary, the approver, the short args hash', () => {
    const html = renderToStaticMarkup(<ActivityEntries entries={entries} />);
    expect(html.match(/data-testid="activity-entry"/g)).toHaveLength(3);
    expect(html.indexOf('data-kind="tool.executed"')).toBeLessThan(html.indexOf('data-kind="approval.requested"'));
    expect(html).toMatch(/data-kind="approval.approved"><div class="activity-head"><span class="activity-kind">Approved<\/span><code class="activity-tool">delete_project<\/code><time class="activity-time" datetime="2026-11-02T10:01:00.000Z">/i);
    expect(html).toContain('Delete project security-audit');
    expect(html).toMatch(/data-testid="activity-approver">By auth0\|alice</);
    expect(html).toContain(`<code title="${hash}" data-testid="activity-hash">a3f1c09e77b2</code>`);
    expect(html).toContain(`<code title="sha256:${hash}" data-testid="activity-hash">a3f1c09e77b2</code>`);
    expect(html.match(/activity-approver/g)).toHaveLength(1);
  });

  it('says every kind in words', () => {
    expect(Object.values(ACTIVITY_KIND_TEXT)).toEqual(['Approval requested', 'Approved', 'Denied', 'Expired', 'Cancelled', 'Ran', 'Refused', 'Step-up required']);
    expect(shortHash('sha256:ABCDEF0123456789')).toBe('ABCDEF012345');
  });

  it('has an empty state', () => {
    expect(renderToStaticMarkup(<ActivityEntries entries={[]} />)).toContain('data-testid="activity-empty"');
  });

  it('renders hostile summaries, tools and approvers as text', () => {
    const html = renderToStaticMarkup(
      <ActivityEntries entries={[{ id: 'x', at: 'not a date', kind: 'tool.refused', tool: '<b>t</b>', approver: '<img src=x>', summary: '<script>alert(1)</script>\u202E' }]} />,
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;⟨U+202E⟩');
    expect(html).toContain('Refused');
    expect(html).toContain('not a date');
  });
});

describe('PendingApprovals', () => {
  const pending: ApprovalView = {
    id: approvalId,
    runId: '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01',
    threadId: '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10',
    toolCallId: 'call_d',
    tool: 'delete_project',
    bindingMessage: 'Delete project security-audit',
    authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
    status: 'pending',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 90_400).toISOString(),
  };

  it('lists each pending approval with its binding message, countdown and a cancel button', () => {
    const html = renderToStaticMarkup(<PendingApprovals approvals={[pending]} onCancel={() => {}} />);
    expect(html).toContain(`data-testid="pending-approval" data-approval-id="${approvalId}"`);
    expect(html).toContain('Delete project security-audit');
    expect(html).toMatch(/data-testid="pending-approval-countdown"[^>]*>Expires in 1:3[01]</);
    expect(html).toMatch(/<button[^>]*data-testid="pending-approval-cancel">Cancel request</);
  });

  it('disables the buttons while one is cancelled; nothing at all when none is pending', () => {
    const html = renderToStaticMarkup(<PendingApprovals approvals={[pending]} cancelling={approvalId} onCancel={() => {}} />);
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="pending-approval-cancel">Cancelling…</);
    expect(renderToStaticMarkup(<PendingApprovals approvals={[]} onCancel={() => {}} />)).toBe('');
  });
});
