import type { PageContextItem } from '@/lib/protocol';
import type { PageNotice } from './page-action-runner';
import { revealInvisible } from './run-state';

/** A selection the user is asking about ("Ask Deputy"): shown above the composer, sent with the next message. */
export function QuotePreview({ item, onRemove }: { item: PageContextItem; onRemove: () => void }) {
  const shown = item.text.length > 400 ? `${item.text.slice(0, 397)}…` : item.text;
  return (
    <div className="composer-quote" data-testid="composer-quote">
      <blockquote className="context-quote">{shown}</blockquote>
      <div className="composer-quote-meta">
        <span title={item.url}>From {revealInvisible(item.title ?? item.url)}</span>
        <button type="button" className="btn btn-small btn-ghost" onClick={onRemove} aria-label="Remove the quoted selection" data-testid="composer-quote-remove">
          Remove
        </button>
      </div>
    </div>
  );
}

/** The outcome of a page action that is not a chat turn (saved, or why nothing happened). */
export function PageNoticeView({ notice, onDismiss }: { notice: PageNotice; onDismiss: () => void }) {
  return (
    <div
      className={`notice ${notice.kind === 'ok' ? 'notice-ok' : 'notice-error'}`}
      role={notice.kind === 'ok' ? 'status' : 'alert'}
      data-testid="page-notice"
      data-kind={notice.kind}
      data-code={notice.code}
    >
      <div className="notice-body">
        <strong className="notice-title">{notice.title}</strong>
        <p className="notice-text">{notice.message}</p>
      </div>
      <div className="notice-actions">
        <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss} aria-label="Dismiss">
          Dismiss
        </button>
      </div>
    </div>
  );
}
