import type { UiError } from './errors';

export function ErrorNotice({
  error,
  onRetry,
  onDismiss,
  retryLabel = 'Try again',
}: {
  error: UiError;
  onRetry?: () => void;
  onDismiss?: () => void;
  retryLabel?: string;
}) {
  return (
    <div className="notice notice-error" role="alert" data-testid="error" data-code={error.code}>
      <div className="notice-body">
        <strong className="notice-title">{error.title}</strong>
        <p className="notice-text">{error.message}</p>
      </div>
      {(onRetry || onDismiss) && (
        <div className="notice-actions">
          {onRetry && error.retryable && (
            <button type="button" className="btn btn-small" onClick={onRetry} data-testid="error-retry">
              {retryLabel}
            </button>
          )}
          {onDismiss && (
            <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss} aria-label="Dismiss">
              Dismiss
            </button>
          )}
        </div>
      )}
    </div>
  );
}
