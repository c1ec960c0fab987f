import type { ShownContext } from '@/lib/db';
import { revealInvisible } from './run-state';

const count = (n: number) => n.toLocaleString('en-US');

function host(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url;
  }
}

/**
 * The page context a user turn carried, shown with its provenance (where from, when read, how much). A selection is
 * quoted as plain text: it is page data, never rendered as markup.
 */
export function ContextRefs({ items }: { items: ShownContext[] }) {
  return (
    <div className="context-refs" data-testid="message-context">
      {items.map((c, i) => (
        <div key={`${c.kind}-${i}`} className={`context-ref context-ref-${c.kind}`} data-testid="context-ref" data-kind={c.kind} data-url={c.url}>
          {c.quote && (
            <blockquote className="context-quote" data-testid="context-quote">
              {c.quote}
            </blockquote>
          )}
          <span className="context-ref-source" title={c.url}>
            {c.kind === 'selection' ? 'Selection from ' : 'Page: '}
            {c.title ? `${revealInvisible(c.title)} — ` : ''}
            {host(c.url)}
            {' · read '}
            {new Date(c.capturedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
            {c.truncated && ` · first ${count(c.truncated.readChars)} of ${count(c.truncated.totalChars)} characters`}
          </span>
        </div>
      ))}
    </div>
  );
}
