import type { Interrupt } from '@/lib/protocol';
import { type AuthorizationDetail, renderDetail } from '@/lib/authorization-details';
import { connectionLabel, scopeLabel } from '@/lib/connections';
import { Countdown } from './Countdown';
import { revealInvisible, type ToolActivity } from './run-state';
import { StateIcon } from './StateIcon';

/** What the user can do about a pause from the side panel (approvals themselves are answered on the trusted device). */
export interface InterruptActions {
  /** approval_pending: withdraws the approval request. */
  onCancel?: () => void;
  /** Why cancelling did not work. */
  cancelError?: string;
  /** Runs the connect flow for a `connect_required` pause, then resumes the run. */
  onConnect?: () => void;
  /** Why the last connect attempt did not work (the run stays paused). */
  connectError?: string;
  /** step_up_required: signs in again with a second factor, then resumes the run. */
  onStepUp?: () => void;
  /** Why the last step-up attempt did not work (the run stays paused). */
  stepUpError?: string;
  busy?: boolean;
}

const TITLES: Record<Interrupt['kind'], (i: Interrupt) => string> = {
  approval_pending: () => 'Waiting for your approval',
  connect_required: (i) => `Connect ${i.connection ? connectionLabel(i.connection) : 'an account'}`,
  step_up_required: () => 'Fresh sign-in needed',
};

/** A paused run: what it waits for, what exactly would run, and what to do. */
export function InterruptCard({ interrupt, call, actions = {} }: { interrupt: Interrupt; call?: ToolActivity; actions?: InterruptActions }) {
  const title = TITLES[interrupt.kind](interrupt);
  const headingId = `interrupt-${interrupt.toolCallId}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <section className={`interrupt interrupt-${interrupt.kind}`} data-testid="interrupt-card" data-kind={interrupt.kind} aria-labelledby={headingId}>
      <header className="interrupt-head">
        <StateIcon state="paused" />
        <h3 className="interrupt-title" id={headingId}>
          {title}
        </h3>
      </header>
      {interrupt.kind === 'approval_pending' && <ApprovalBody interrupt={interrupt} call={call} actions={actions} />}
      {interrupt.kind === 'connect_required' && <ConnectionBody interrupt={interrupt} actions={actions} />}
      {interrupt.kind === 'step_up_required' && <StepUpBody interrupt={interrupt} call={call} actions={actions} />}
    </section>
  );
}

/** An authorization detail as its title and label/value rows (text only; invisible characters made visible). */
function DetailRows({ detail }: { detail: Record<string, unknown> }) {
  const { title, rows } = renderDetail({ ...detail, type: String(detail.type ?? '') } as AuthorizationDetail);
  return (
    <div className="interrupt-detail" data-testid="interrupt-detail">
      <div className="interrupt-detail-type">{revealInvisible(title)}</div>
      {rows.length === 0 ? (
        <p className="kv-empty">No further details</p>
      ) : (
        <dl className="kv">
          {rows.map((r, i) => (
            <div className="kv-row" key={i}>
              <dt>{revealInvisible(r.label)}</dt>
              <dd>{revealInvisible(r.value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

function WhatWillRun({ interrupt, call }: { interrupt: Interrupt; call?: ToolActivity }) {
  const what = interrupt.bindingMessage ?? call?.summary;
  const details = interrupt.authorizationDetails ?? [];
  if (!what && details.length === 0) return null;
  return (
    <div className="interrupt-what">
      <div className="interrupt-label">What will run</div>
      {what && (
        <p className="interrupt-binding" data-testid="interrupt-binding">
          {revealInvisible(what)}
        </p>
      )}
      {details.map((d, i) => (
        <DetailRows key={i} detail={d} />
      ))}
    </div>
  );
}

function Reason({ text }: { text: string }) {
  return (
    <p className="interrupt-reason" data-testid="interrupt-reason">
      <span className="interrupt-label">Why</span> {revealInvisible(text)}
    </p>
  );
}

function InlineError({ text, testId }: { text?: string; testId: string }) {
  if (!text) return null;
  return (
    <p className="interrupt-error" role="alert" data-testid={testId}>
      {text}
    </p>
  );
}

function ApprovalBody({ interrupt, call, actions }: { interrupt: Interrupt; call?: ToolActivity; actions: InterruptActions }) {
  const { onCancel, cancelError, busy } = actions;
  const expiresAt = interrupt.expiresAt ? Date.parse(interrupt.expiresAt) : NaN;
  return (
    <>
      <p className="interrupt-lead">Approve it on your trusted device (the approvals page). Nothing runs until you do.</p>
      <WhatWillRun interrupt={interrupt} call={call} />
      <Reason text={interrupt.reason} />
      <div className="interrupt-status" role="status" data-testid="interrupt-status">
        <StateIcon state="waiting" />
        <span>Waiting for your trusted device…</span>
        {Number.isFinite(expiresAt) && <Countdown until={expiresAt} />}
      </div>
      <InlineError text={cancelError} testId="interrupt-cancel-error" />
      <div className="interrupt-actions">
        <button type="button" className="btn btn-small" onClick={onCancel} disabled={!onCancel || busy} data-testid="interrupt-cancel">
          {busy ? 'Cancelling…' : 'Cancel request'}
        </button>
      </div>
    </>
  );
}

function ConnectionBody({ interrupt, actions }: { interrupt: Interrupt; actions: InterruptActions }) {
  const name = interrupt.connection ? connectionLabel(interrupt.connection) : 'the account';
  const scopes = interrupt.scopes ?? [];
  const { onConnect, busy, connectError } = actions;
  return (
    <>
      <p className="interrupt-lead">
        To continue, Deputy needs access to your {name} account. You choose what to grant on {name}’s own page; Deputy never sees your
        password, and your {name} tokens stay with the sign-in service and Deputy’s server, never in this browser.
      </p>
      <Reason text={interrupt.reason} />
      {scopes.length > 0 && (
        <div className="interrupt-what">
          <div className="interrupt-label">Access requested</div>
          <ul className="interrupt-scopes" data-testid="interrupt-scopes">
            {scopes.map((s) => (
              <li key={s} title={s}>
                {revealInvisible(scopeLabel(s))}
              </li>
            ))}
          </ul>
        </div>
      )}
      <InlineError text={connectError} testId="interrupt-connect-error" />
      <div className="interrupt-actions">
        <button type="button" className="btn btn-small btn-primary" disabled={!onConnect || busy} onClick={onConnect} data-testid="interrupt-connect">
          {busy ? `Connecting ${name}…` : `Connect ${name}`}
        </button>
        {!onConnect && <span className="interrupt-soon">Open this conversation in the side panel to connect.</span>}
      </div>
    </>
  );
}

function StepUpBody({ interrupt, call, actions }: { interrupt: Interrupt; call?: ToolActivity; actions: InterruptActions }) {
  const { onStepUp, stepUpError, busy } = actions;
  return (
    <>
      <p className="interrupt-lead">
        This action needs a fresh sign-in with a second factor (for example a code from your authenticator app) right before it runs. That
        proves it is really you asking. Nothing has run yet.
      </p>
      <WhatWillRun interrupt={interrupt} call={call} />
      <Reason text={interrupt.reason} />
      <InlineError text={stepUpError} testId="interrupt-step-up-error" />
      <div className="interrupt-actions">
        <button type="button" className="btn btn-small btn-primary" disabled={!onStepUp || busy} onClick={onStepUp} data-testid="interrupt-step-up">
          {busy ? 'Verifying…' : "Verify it's you"}
        </button>
        {!onStepUp && <span className="interrupt-soon">Open this conversation in the side panel to verify.</span>}
      </div>
    </>
  );
}
