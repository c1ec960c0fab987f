import type { Citation } from '@/lib/protocol';
import { safeHttpUrl } from './knowledge-format';
import { revealInvisible } from './run-state';

const MAX_SNIPPET_CHARS = 280;

function snippetText(snippet: string): string {
  const oneLine = revealInvisible(snippet.replace(/\s+/g, ' ').trim());
  return oneLine.length > MAX_SNIPPET_CHARS ? `${oneLine.slice(0, MAX_SNIPPET_CHARS - 1)}…` : oneLine;
}

/**
 * The knowledge-base sources an answer drew on, under it: title, the link with its target spelled out (http(s)
 * only; anything else stays text), and the passage used. Everything is plain text.
 */
export function CitationList({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <aside className="citations" aria-label="Sources" data-testid="citations">
      <div className="citations-title">Sources</div>
      <ol className="citations-list">
        {citations.map((c, i) => {
          const href = safeHttpUrl(c.url);
          const title = revealInvisible(c.title) || 'Untitled';
          return (
            <li key={`${c.documentId}-${i}`} className="citation" data-testid="citation" data-document-id={c.documentId}>
              <div className="citation-head">
                {href ? (
                  <a className="citation-title" href={href} target="_blank" rel="noopener noreferrer" data-testid="citation-title" title={href}>
                    {title}
                  </a>
                ) : (
                  <span className="citation-title" data-testid="citation-title">
                    {title}
                  </span>
                )}
              </div>
              {c.url && (
                <div className="citation-url" data-testid="citation-url">
                  {revealInvisible(href ?? c.url)}
                </div>
              )}
              {c.snippet.trim() && (
                <blockquote className="citation-snippet" data-testid="citation-snippet">
                  {snippetText(c.snippet)}
                </blockquote>
              )}
            </li>
          );
        })}
      </ol>
    </aside>
  );
}
