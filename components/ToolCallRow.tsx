import { ApprovalOutcomeLine } from './ApprovalOutcomeLine';
import { KeyValueList } from './KeyValueList';
import { callDecisionText, outcomeText, revealInvisible, TOOL_STATE_LABEL, type ToolActivity } from './run-state';
import { StateIcon } from './StateIcon';

const TIER_TITLE: Record<NonNullable<ToolActivity['tier']>, string> = {
  read: 'Reads data; changes nothing',
  write: 'Changes data',
  high: 'High risk: needs your approval',
  critical: 'Critical: needs your approval and a fresh sign-in',
};

/**
 * One tool call inside the assistant's turn: state icon, the server's one-line summary, the risk tier, the gate's
 * decision in words and the outcome, and how its approval was answered. Expands to the validated arguments as key/value text.
 */
export function ToolCallRow({ call }: { call: ToolActivity }) {
  const outcome = outcomeText(call);
  const decision = callDecisionText(call);
  const bad = call.state === 'denied' || call.state === 'failed';
  return (
    <div
      className={`tool-call tool-call-${call.state}`}
      data-testid="tool-call"
      data-state={call.state}
      data-tool={call.name}
      data-tool-call-id={call.toolCallId}
    >
      <details className="tool-call-details">
        <summary className="tool-call-summary-line">
          <span className="tool-call-head">
            <StateIcon state={call.state} />
            <span className="sr-only">{TOOL_STATE_LABEL[call.state]}: </span>
            <span className="tool-call-summary" data-testid="tool-call-summary">
              {revealInvisible(call.summary)}
            </span>
            {call.tier && (
              <span className={`tier tier-${call.tier}`} title={TIER_TITLE[call.tier]} data-testid="tool-call-tier">
                {call.tier}
              </span>
            )}
            <svg className="tool-call-chevron" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
              <path d="M2.5 4.5L6 8l3.5-3.5" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          </span>
          <span className="tool-call-status">
            <span className={`tool-call-decision${call.decision?.kind === 'deny' ? ' is-denied' : ''}`} data-testid="tool-call-decision">
              {revealInvisible(decision)}
            </span>
            {outcome && (
              <>
                <span className="tool-call-sep" aria-hidden="true">
                  ·
                </span>
                <span className={`tool-call-outcome${bad ? ' is-bad' : ''}`} data-testid="tool-call-outcome">
                  {revealInvisible(outcome)}
                </span>
              </>
            )}
          </span>
        </summary>
        <div className="tool-call-body">
          <div className="tool-call-name">
            <span className="tool-call-label">Tool</span> <code>{revealInvisible(call.name)}</code>
          </div>
          <KeyValueList value={call.arguments} testId="tool-call-arguments" />
        </div>
      </details>
      {call.approval && <ApprovalOutcomeLine status={call.approval.status} />}
    </div>
  );
}
