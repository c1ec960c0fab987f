import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '@/lib/api-client';
import type { ApprovalView, AuditEntry } from '@/lib/protocol';
import { Countdown } from './Countdown';
import { describeError } from './errors';
import { revealInvisible } from './run-state';

export const ACTIVITY_KIND_TEXT: Record<AuditEntry['kind'], string> = {
  'approval.requested': 'Approval requested',
  'approval.approved': 'Approved',
  'approval.denied': 'Denied',
  'approval.expired': 'Expired',
  'approval.cancelled': 'Cancelled',
  'tool.executed': 'Ran',
  'tool.refused': 'Refused',
  'step_up.required': 'Step-up required',
};

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The first 12 hex digits of an arguments hash (any `sha256:`-style prefix dropped): enough to compare by eye. */
export function shortHash(hash: string): string {
  return hash.replace(/^[A-Za-z0-9-]+:/, '').slice(0, 12);
}

/** The audit trail, newest first, as plain text. */
export function ActivityEntries({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) {
    return (
      <p className="activity-empty" data-testid="activity-empty">
        Nothing yet. Approvals and the actions Deputy takes for you appear here.
      </p>
    );
  }
  return (
    <ul className="activity-list" data-testid="activity-list">
      {entries.map((e) => (
        <li key={e.id} className={`activity-entry activity-${e.kind.replace(/[^a-z]+/g, '-')}`} data-testid="activity-entry" data-kind={e.kind}>
          <div className="activity-head">
            <span className="activity-kind">{ACTIVITY_KIND_TEXT[e.kind]}</span>
            <code className="activity-tool">{revealInvisible(e.tool)}</code>
            <time className="activity-time" dateTime={e.at}>
              {when(e.at)}
            </time>
          </div>
          <p className="activity-summary">{revealInvisible(e.summary)}</p>
          {(e.approver || e.argsHash) && (
            <p className="activity-meta">
              {e.approver && <span data-testid="activity-approver">By {revealInvisible(e.approver)}</span>}
              {e.argsHash && (
                <span>
                  Arguments <code title={e.argsHash} data-testid="activity-hash">{shortHash(e.argsHash)}</code>
                </span>
              )}
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Approvals still waiting for the trusted device, each with a way to withdraw it. */
export function PendingApprovals({
  approvals,
  cancelling,
  onCancel,
}: {
  approvals: ApprovalView[];
  /** The approval being cancelled right now. */
  cancelling?: string | null;
  onCancel: (approval: ApprovalView) => void;
}) {
  if (approvals.length === 0) return null;
  return (
    <section className="pending-approvals" aria-labelledby="pending-approvals-title">
      <h3 className="activity-subtitle" id="pending-approvals-title">
        Waiting for your approval
      </h3>
      <ul className="activity-list">
        {approvals.map((a) => {
          const expiresAt = Date.parse(a.expiresAt);
          return (
            <li key={a.id} className="activity-entry pending-approval" data-testid="pending-approval" data-approval-id={a.id}>
              <div className="activity-head">
                <span className="activity-kind">Approval requested</span>
                <code className="activity-tool">{revealInvisible(a.tool)}</code>
                {Number.isFinite(expiresAt) && <Countdown until={expiresAt} testId="pending-approval-countdown" />}
              </div>
              <p className="activity-summary activity-binding">{revealInvisible(a.bindingMessage)}</p>
              <button
                type="button"
                className="btn btn-small"
                disabled={Boolean(cancelling)}
                onClick={() => onCancel(a)}
                data-testid="pending-approval-cancel"
              >
                {cancelling === a.id ? 'Cancelling…' : 'Cancel request'}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The Activity drawer: pending approvals (cancellable), then what happened (GET /v1/activity). */
export function ActivityView({
  api,
  onCancelled,
}: {
  api: Pick<ApiClient, 'listActivity' | 'listApprovals' | 'cancelApproval'>;
  /** An approval was withdrawn (or had already been answered): its run has news. */
  onCancelled?: (approval: Pick<ApprovalView, 'runId' | 'threadId'>) => void;
}) {
  const [entries, setEntries] = useState<AuditEntry[] | undefined>(undefined);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [activity, pending] = await Promise.allSettled([api.listActivity(), api.listApprovals()]);
    const problems: string[] = [];
    if (activity.status === 'fulfilled') setEntries(activity.value.entries);
    else {
      setEntries((e) => e ?? []);
      problems.push(describeError(activity.reason, 'Loading your activity').message);
    }
    if (pending.status === 'fulfilled') setApprovals(pending.value.approvals);
    else problems.push(describeError(pending.reason, 'Loading pending approvals').message);
    setError(problems.length ? problems.join(' ') : null);
  }, [api]);

  useEffect(() => void load(), [load]);

  const cancel = async (approval: ApprovalView) => {
    setCancelling(approval.id);
    setError(null);
    try {
      await api.cancelApproval(approval.id);
      onCancelled?.(approval);
    } catch (e) {
      const { message, code } = describeError(e, 'Cancelling the request');
      // Already answered on the device or expired: the list below shows what happened.
      if (code === 'not_pending') onCancelled?.(approval);
      else setError(message);
    } finally {
      setCancelling(null);
      await load();
    }
  };

  return (
    <section className="activity" data-testid="activity" aria-labelledby="activity-title">
      <div className="activity-top">
        <h2 className="activity-title" id="activity-title">
          Activity
        </h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => void load()} data-testid="activity-refresh">
          Refresh
        </button>
      </div>
      {error && (
        <p className="interrupt-error" role="alert" data-testid="activity-error">
          {error}
        </p>
      )}
      <PendingApprovals approvals={approvals} cancelling={cancelling} onCancel={(a) => void cancel(a)} />
      {entries === undefined ? <p className="activity-empty">Loading…</p> : <ActivityEntries entries={entries} />}
    </section>
  );
}
