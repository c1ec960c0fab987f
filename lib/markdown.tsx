/**
 * Safe markdown for model output (untrusted text):
 * - no raw HTML: react-markdown without rehype-raw turns HTML into plain text (`<script>` is shown, never run);
 * - no remote images are loaded: an image becomes a visible link to its URL;
 * - only absolute http(s) and mailto links survive; `javascript:`, `data:`, relative and other URLs are neutralised
 *   to plain text;
 * - links open in a new tab with rel="noopener noreferrer", and the target URL is shown next to the link text.
 */
import type { ComponentProps, ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The URL if it is absolute http(s)/mailto, else undefined. */
export function safeUrl(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  // Control characters and whitespace inside the scheme are a classic filter bypass ("java\tscript:").
  const trimmed = url.trim();
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : undefined;
}

function displayUrl(href: string): string {
  return href.startsWith('mailto:') ? href.slice('mailto:'.length) : href;
}

function textOf(children: ReactNode): string {
  if (children == null || typeof children === 'boolean') return '';
  if (typeof children === 'string' || typeof children === 'number') return String(children);
  if (Array.isArray(children)) return children.map(textOf).join('');
  return '';
}

function SafeLink({ href, children }: ComponentProps<'a'>) {
  const safe = safeUrl(href);
  if (!safe) {
    return (
      <span className="md-link-removed" title="Link removed: only http, https and mailto links are allowed">
        {children}
      </span>
    );
  }
  const shown = displayUrl(safe);
  const label = textOf(children).trim();
  const sameAsUrl = label === shown || label === safe;
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer" className="md-link" title={safe}>
      {children}
      {!sameAsUrl && <span className="md-link-url"> ({shown})</span>}
    </a>
  );
}

/** Images are never loaded: they become a visible link (or plain text when the URL is unsafe). */
function ImageAsLink({ src, alt }: ComponentProps<'img'>) {
  const safe = typeof src === 'string' ? safeUrl(src) : undefined;
  const label = alt?.trim() ? `Image: ${alt.trim()}` : 'Image';
  if (!safe) {
    return (
      <span className="md-image md-link-removed" data-testid="md-image">
        [{label}]
      </span>
    );
  }
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer" className="md-image" data-testid="md-image" title={safe}>
      [{label}] <span className="md-link-url">({safe})</span>
    </a>
  );
}

const components: Components = {
  a: SafeLink,
  img: ImageAsLink,
};

/** Keeps the URL for our components to judge; react-markdown's default would already blank unsafe ones. */
function urlTransform(url: string): string {
  return safeUrl(url) ?? '';
}

export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} components={components} urlTransform={urlTransform} skipHtml={false}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
