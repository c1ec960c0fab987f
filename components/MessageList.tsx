import { useEffect, useRef } from 'react';
import { Markdown } from '@/lib/markdown';

export interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /** The assistant's answer while it streams in. */
  streaming?: boolean;
  /** The user's message before the server accepted it. */
  pending?: boolean;
}

export function MessageList({ messages, emptyHint }: { messages: UiMessage[]; emptyHint: string }) {
  const end = useRef<HTMLDivElement>(null);
  const last = messages[messages.length - 1];
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [messages.length, last?.content]);

  if (messages.length === 0) {
    return (
      <div className="messages messages-empty" data-testid="message-list-empty">
        <p>{emptyHint}</p>
      </div>
    );
  }
  return (
    <div className="messages" role="log" aria-live="polite" aria-label="Conversation" data-testid="message-list">
      {messages.map((m) => (
        <article
          key={m.id}
          className={`message message-${m.role}${m.streaming ? ' is-streaming' : ''}${m.pending ? ' is-pending' : ''}`}
          aria-label={m.role === 'user' ? 'You' : 'Deputy'}
          data-testid="message"
          data-role={m.role}
          data-streaming={m.streaming ? 'true' : 'false'}
          data-message-id={m.id}
        >
          <div className="message-author">{m.role === 'user' ? 'You' : 'Deputy'}</div>
          <div className="message-body" data-testid="message-body">
            {m.role === 'user' ? (
              <p className="message-plain">{m.content}</p>
            ) : m.content ? (
              <Markdown text={m.content} />
            ) : (
              <span className="typing" aria-label="Deputy is answering">
                <span />
                <span />
                <span />
              </span>
            )}
            {m.streaming && m.content && <span className="cursor" aria-hidden="true" />}
          </div>
        </article>
      ))}
      <div ref={end} />
    </div>
  );
}
