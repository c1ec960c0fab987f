import type { ApprovalOutcome } from './run-state';

export const APPROVAL_OUTCOME_TEXT: Record<ApprovalOutcome, string> = {
  approved: 'Approved — running it now',
  denied: 'Denied on your device — nothing was done',
  expired: 'Expired — nothing was done',
  cancelled: 'Cancelled — nothing was done',
};

/** How a call's approval was answered: one compact line where the waiting card was. */
export function ApprovalOutcomeLine({ status }: { status: ApprovalOutcome }) {
  return (
    <p className={`approval-outcome approval-outcome-${status}`} role="status" data-testid="approval-outcome" data-status={status}>
      {APPROVAL_OUTCOME_TEXT[status]}
    </p>
  );
}
