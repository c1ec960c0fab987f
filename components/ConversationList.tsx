import type { LocalThread } from '@/lib/db';

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function ConversationList({
  threads,
  currentId,
  disabled,
  onSelect,
}: {
  threads: LocalThread[];
  currentId: string | null;
  disabled: boolean;
  onSelect: (id: string) => void;
}) {
  if (threads.length === 0) {
    return (
      <p className="empty-list" data-testid="conversation-list-empty">
        No conversations yet. Your conversations appear here.
      </p>
    );
  }
  return (
    <nav aria-label="Conversations">
      <ul className="conversation-list" data-testid="conversation-list">
        {threads.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              className={`conversation-item${t.id === currentId ? ' is-current' : ''}`}
              aria-current={t.id === currentId ? 'true' : undefined}
              disabled={disabled}
              onClick={() => onSelect(t.id)}
              data-testid="conversation-item"
              data-thread-id={t.id}
            >
              <span className="conversation-title">{t.title}</span>
              {t.activeRun && (
                <span
                  className={`conversation-status conversation-status-${t.activeRun.status}`}
                  data-testid="conversation-status"
                  data-status={t.activeRun.status}
                >
                  {t.activeRun.status === 'interrupted' ? 'Paused' : 'Working'}
                </span>
              )}
              <span className="conversation-time">{when(t.updatedAt)}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
