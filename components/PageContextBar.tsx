import { browser } from 'wxt/browser';
import { setSiteBlocked, setSiteIncluded, siteOf } from '@/lib/site-prefs';
import type { PageContextApi } from './use-page-context';
import { revealInvisible } from './run-state';
import './page-context.css';

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const count = (n: number) => n.toLocaleString('en-US');

function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname === '/' ? '' : u.pathname;
    const s = `${u.host}${path}`;
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  } catch {
    return url.slice(0, 60);
  }
}

/**
 * The page next to the panel: what Deputy read of it (URL, when, how much), a refresh button, "include this page",
 * "Save page" to the knowledge base, and the site block switch. Failures are shown, never a silent blank page.
 */
export function PageContextBar({ ctx, onSavePage, saving }: { ctx: PageContextApi; onSavePage: () => void; saving: boolean }) {
  const { capture, error, reading, changed, tabId } = ctx;
  if (tabId === undefined && !capture && !error) return null;
  const site = capture ? siteOf(capture.url) : undefined;

  if (capture) {
    const t = capture.page.truncated;
    return (
      <div className="page-context" data-testid="page-context" data-included={ctx.included ? 'true' : 'false'} data-url={capture.url}>
        <div className="page-chip" data-testid="page-chip" title={capture.url}>
          <span className="page-chip-text">
            <strong className="page-chip-title">{revealInvisible(capture.title)}</strong>
            <span className="page-chip-url" data-testid="page-chip-url">
              {shortUrl(capture.url)}
            </span>
            <span className="page-chip-meta" data-testid="page-chip-meta">
              read at {time(capture.capturedAt)}
              {t ? (
                <span className="page-chip-trimmed" data-testid="page-chip-truncated">
                  {' '}
                  · first {count(t.readChars)} of {count(t.totalChars)} characters
                </span>
              ) : (
                ` · ${count(capture.page.text.length)} characters`
              )}
            </span>
          </span>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => void ctx.read()} disabled={reading} aria-label="Read the page again" data-testid="page-refresh">
            ↻
          </button>
        </div>
        <div className="page-context-actions">
          <label className="page-include">
            <input
              type="checkbox"
              checked={ctx.included}
              onChange={(e) => site && void setSiteIncluded(site, e.target.checked)}
              data-testid="page-include"
            />{' '}
            Include this page
          </label>
          <button type="button" className="btn btn-small btn-ghost" onClick={onSavePage} disabled={saving} data-testid="page-save">
            {saving ? 'Saving…' : 'Save page'}
          </button>
          {site && (
            <button type="button" className="link-button" onClick={() => void setSiteBlocked(site, true)} title={`Never let Deputy read ${site}`} data-testid="page-block-site">
              Block site
            </button>
          )}
        </div>
      </div>
    );
  }

  if (error) {
    const blockedByUser = error.code === 'blocked' && /You blocked/.test(error.message);
    return (
      <div className="page-context page-context-error" role="alert" data-testid="page-context-error" data-code={error.code}>
        <p className="page-context-text">
          <strong>Page not read.</strong> {error.message}
        </p>
        <div className="page-context-actions">
          {blockedByUser && ctx.tabId !== undefined && (
            <UnblockButton ctx={ctx} />
          )}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => void ctx.read()} disabled={reading} data-testid="page-read">
            Try again
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="page-context page-context-idle" data-testid="page-context-idle">
      <p className="page-context-text">
        {reading ? 'Reading the page…' : changed ? 'The page changed since Deputy read it.' : 'This page is not included.'}
      </p>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => void ctx.read()} disabled={reading} data-testid="page-read">
        {changed ? 'Read it again' : 'Read this page'}
      </button>
    </div>
  );
}

function UnblockButton({ ctx }: { ctx: PageContextApi }) {
  const unblock = async () => {
    const tab = ctx.tabId !== undefined ? await browser.tabs.get(ctx.tabId).catch(() => undefined) : undefined;
    const site = tab?.url ? siteOf(tab.url) : undefined;
    if (site) await setSiteBlocked(site, false);
    await ctx.read();
  };
  return (
    <button type="button" className="btn btn-small" onClick={() => void unblock()} data-testid="page-unblock-site">
      Allow this site
    </button>
  );
}
