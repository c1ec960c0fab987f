import type { AuthNotice } from '@/lib/auth';
import type { PublicConfig } from '@/lib/protocol';
import { ErrorNotice } from './ErrorNotice';
import type { UiError } from './errors';
import { Logo } from './Logo';
import { ModelBadge } from './ModelBadge';

export function SignedOutView({
  model,
  notice,
  error,
  busy,
  onSignIn,
  onDismissError,
}: {
  model: PublicConfig['model'];
  notice?: AuthNotice;
  error?: UiError | null;
  busy: boolean;
  onSignIn: () => void;
  onDismissError: () => void;
}) {
  return (
    <main className="signed-out" data-testid="signed-out">
      <div className="signed-out-card">
        <Logo size={44} />
        <h1 className="signed-out-title">Deputy</h1>
        <p className="signed-out-lead">An assistant that acts only within the authority you delegate.</p>
        <ModelBadge model={model} />
        {notice && (
          <div
            className={`notice ${notice.code === 'session_ended' ? 'notice-info' : 'notice-warn'}`}
            role="status"
            data-testid="auth-notice"
            data-code={notice.code}
          >
            <p className="notice-text">{notice.message}</p>
          </div>
        )}
        {error && <ErrorNotice error={error} onDismiss={onDismissError} />}
        <button type="button" className="btn btn-primary btn-wide" onClick={onSignIn} disabled={busy} data-testid="sign-in">
          {busy ? 'Waiting for the sign-in window…' : 'Sign in'}
        </button>
        <p className="signed-out-hint">Sign-in opens in a browser window. Deputy keeps short-lived access only for this browser session.</p>
      </div>
    </main>
  );
}
