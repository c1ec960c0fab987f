import { useEffect, useState } from 'react';
import type { Interrupt } from '@/lib/protocol';
import { KeyValueList } from './KeyValueList';
import { connectionLabel, scopeLabel } from '@/lib/connections';
import { labelText, revealInvisible, type ToolActivity, valueText } from './run-state';
import { StateIcon } from './StateIcon';

/** What the user can do about a pause. Approve/deny/cancel arrive with the approvals issue; unset = not offered. */
export interface InterruptActions {
  onApprove?: () => void;
  onDeny?: () => void;
  onCancel?: () => void;
  /** Runs the connect flow for a `connect_required` pause, then resumes the run. */
  onConnect?: () => void;
  /** Why the last connect attempt did not work (the run stays paused). */
  connectError?: string;
  /** When the request expires (ms since the epoch): shows a countdown. */
  expiresAt?: number;
  busy?: boolean;
}

const TITLES: Record<Interrupt['kind'], (i: Interrupt) => string> = {
  approval_required: () => 'Approval needed',
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
      {interrupt.kind === 'approval_required' && <ApprovalBody interrupt={interrupt} call={call} actions={actions} />}
      {interrupt.kind === 'connect_required' && <ConnectionBody interrupt={interrupt} actions={actions} />}
      {interrupt.kind === 'step_up_required' && <StepUpBody interrupt={interrupt} call={call} />}
    </section>
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
      {details.map((d, i) => {
        const { type, ...rest } = d;
        return (
          <div className="interrupt-detail" key={i} data-testid="interrupt-detail">
            {type !== undefined && <div className="interrupt-detail-type">{labelText(valueText(type))}</div>}
            <KeyValueList value={rest} empty="No further details" />
          </div>
        );
      })}
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

function ApprovalBody({ interrupt, call, actions }: { interrupt: Interrupt; call?: ToolActivity; actions: InterruptActions }) {
  const { onApprove, onDeny, onCancel, expiresAt, busy } = actions;
  const hasActions = Boolean(onApprove || onDeny || onCancel);
  return (
    <>
      <p className="interrupt-lead">Deputy paused before this action. It runs only once you approve exactly this.</p>
      <WhatWillRun interrupt={interrupt} call={call} />
      <Reason text={interrupt.reason} />
      <div className="interrupt-status" role="status" data-testid="interrupt-status">
        <StateIcon state="waiting" />
        <span>Waiting for approval on your trusted device…</span>
        {expiresAt !== undefined && <Countdown until={expiresAt} />}
      </div>
      {hasActions && (
        <div className="interrupt-actions" data-testid="interrupt-actions">
          {onApprove && (
            <button type="button" className="btn btn-small btn-primary" onClick={onApprove} disabled={busy} data-testid="interrupt-approve">
              Approve
            </button>
          )}
          {onDeny && (
            <button type="button" className="btn btn-small" onClick={onDeny} disabled={busy} data-testid="interrupt-deny">
              Deny
            </button>
          )}
          {onCancel && (
            <button type="button" className="btn btn-small btn-ghost" onClick={onCancel} disabled={busy} data-testid="interrupt-cancel">
              Cancel request
            </button>
          )}
        </div>
      )}
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
      {connectError && (
        <p className="interrupt-error" role="alert" data-testid="interrupt-connect-error">
          {connectError}
        </p>
      )}
      <div className="interrupt-actions">
        <button type="button" className="btn btn-small btn-primary" disabled={!onConnect || busy} onClick={onConnect} data-testid="interrupt-connect">
          {busy ? `Connecting ${name}…` : `Connect ${name}`}
        </button>
        {!onConnect && <span className="interrupt-soon">Open this conversation in the side panel to connect.</span>}
      </div>
    </>
  );
}

function StepUpBody({ interrupt, call }: { interrupt: Interrupt; call?: ToolActivity }) {
  return (
    <>
      <p className="interrupt-lead">
        This action is critical, so it needs a fresh sign-in with a second factor (for example a code from your authenticator app) right
        before it runs. That proves it is really you asking.
      </p>
      <WhatWillRun interrupt={interrupt} call={call} />
      <Reason text={interrupt.reason} />
      <div className="interrupt-actions">
        <button type="button" className="btn btn-small btn-primary" disabled data-testid="interrupt-step-up">
          Sign in with a second factor
        </button>
        <span className="interrupt-soon">Coming soon. Until then this action stays paused; nothing has run.</span>
      </div>
    </>
  );
}

function Countdown({ until }: { until: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, Math.round((until - now) / 1000));
  const text = left === 0 ? 'Expired' : `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  return (
    <span className="interrupt-countdown" data-testid="interrupt-countdown">
      {text}
    </span>
  );
}
