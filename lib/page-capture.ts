/**
 * Reads a tab on a user action: `scripting.executeScript` of the unlisted `/page-capture.js`
 * (entrypoints/page-capture.ts), allowed by `activeTab`. What comes back is validated with zod (X2: page data is
 * untrusted, never a command) and becomes `PageContextItem`s: data with provenance, sent in `ChatRequest.context`,
 * never mixed into the user's words.
 *
 * Fails loudly (a `CaptureError` with a code and a sentence for the user) instead of giving the model a blank page:
 * blocked sites, browser and store pages, discarded or unloaded tabs, plain-text files, PDFs, empty extractions.
 */
import { browser } from 'wxt/browser';
import { z } from 'zod';
import type { ShownContext } from './db';
import type { PageContextItem } from './protocol';
import { pageCaptureDecision, type SitePrefs } from './site-prefs';

/** How much of a page's main text is sent with a message (characters). */
export const PAGE_TEXT_BUDGET = 20_000;

/** What the injected script returns, checked field by field: anything else is rejected. */
export const CapturedPage = z.strictObject({
  url: z.string().max(8192),
  title: z.string().max(2000),
  contentType: z.string().max(200),
  selection: z.string().max(200_000),
  text: z.string().max(1_000_000),
  totalChars: z.number().int().min(0),
  extractedBy: z.enum(['readability', 'body', 'none']),
});
export type CapturedPage = z.infer<typeof CapturedPage>;

export type CaptureErrorCode =
  | 'no_tab'
  | 'restricted'
  | 'blocked'
  | 'no_access'
  | 'discarded'
  | 'not_loaded'
  | 'plain_text'
  | 'pdf'
  | 'not_html'
  | 'empty'
  | 'invalid'
  | 'failed';

export class CaptureError extends Error {
  override name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Capture {
  tabId: number;
  url: string;
  title: string;
  capturedAt: string;
  /** The page's main text (kind `page`), trimmed to the budget. */
  page: PageContextItem;
  /** What was selected on the page when it was read, if anything (kind `selection`). */
  selection?: PageContextItem;
  /** The whole extracted text (not trimmed to the budget), for saving the page to the knowledge base. */
  fullText: string;
}

const STORE_HOSTS = /^(chromewebstore\.google\.com|chrome\.google\.com|addons\.mozilla\.org|microsoftedge\.microsoft\.com)$/;

/** Pages no extension may script, by URL, with why (undefined: not known to be restricted). */
export function restrictedReason(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'This tab has no web page Deputy can read.';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return `Deputy cannot read browser pages (${u.protocol}//). Open a web page and try again.`;
  }
  if (STORE_HOSTS.test(u.hostname) && (u.hostname !== 'chrome.google.com' || u.pathname.startsWith('/webstore'))) {
    return 'The browser does not let extensions read its extension store.';
  }
  return undefined;
}

const PDF_MESSAGE = 'This is a PDF. Deputy cannot read PDFs in the browser yet; save it to the knowledge base as a file instead.';

const isPdfUrl = (url: string) => {
  try {
    return /\.pdf$/i.test(new URL(url).pathname);
  } catch {
    return false;
  }
};

/** Trims text to `budget` characters at a sentence or word boundary near the end. */
export function trimToBudget(text: string, budget: number): { text: string; truncated?: { readChars: number; totalChars: number } } {
  if (text.length <= budget) return { text };
  let cut = text.slice(0, budget);
  const boundary = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('\n'));
  if (boundary > budget * 0.8) cut = cut.slice(0, boundary + 1);
  else if (cut.lastIndexOf(' ') > budget * 0.9) cut = cut.slice(0, cut.lastIndexOf(' '));
  cut = cut.trimEnd();
  return { text: cut, truncated: { readChars: cut.length, totalChars: text.length } };
}

/** Maps an executeScript rejection to a CaptureError. */
export function scriptErrorToCapture(e: unknown): CaptureError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/gallery cannot be scripted|webstore/i.test(msg)) return new CaptureError('restricted', 'The browser does not let extensions read its extension store.', { cause: e });
  if (/chrome:\/\/|chrome-extension:|about:|edge:\/\/|moz-extension:|devtools:/i.test(msg)) {
    return new CaptureError('restricted', 'Deputy cannot read browser pages. Open a web page and try again.', { cause: e });
  }
  if (/No tab with id/i.test(msg)) return new CaptureError('no_tab', 'That tab is gone.', { cause: e });
  if (/error page/i.test(msg)) return new CaptureError('failed', 'The page did not load (the browser shows an error page).', { cause: e });
  if (/permission|Cannot access/i.test(msg)) {
    return new CaptureError(
      'no_access',
      'Deputy may read this tab only after you ask it to from the page: click the Deputy toolbar button, use its right-click menu, or press Alt+Shift+D.',
      { cause: e },
    );
  }
  return new CaptureError('failed', `Deputy could not read this page (${msg}).`, { cause: e });
}

interface TabInfo {
  id?: number;
  url?: string;
  title?: string;
  status?: string;
  discarded?: boolean;
}

export interface CaptureDeps {
  getTab(tabId: number): Promise<TabInfo>;
  runScript(tabId: number): Promise<unknown>;
  decide(url: string, prefs?: SitePrefs): Promise<{ blocked: boolean; reason?: string }>;
  now(): Date;
}

export const browserCaptureDeps: CaptureDeps = {
  getTab: (tabId) => browser.tabs.get(tabId) as Promise<TabInfo>,
  async runScript(tabId) {
    const scripting = (browser as unknown as { scripting: { executeScript(o: unknown): Promise<Array<{ result?: unknown }>> } }).scripting;
    const results = await scripting.executeScript({ target: { tabId }, files: ['/page-capture.js'] });
    return results?.[0]?.result;
  },
  decide: (url, prefs) => pageCaptureDecision(url, prefs),
  now: () => new Date(),
};

/**
 * Reads tab `tabId`. Throws `CaptureError` for everything that would otherwise give the model a blank, wrong or
 * forbidden page.
 */
export async function captureTab(tabId: number, options: { budget?: number; prefs?: SitePrefs; deps?: CaptureDeps } = {}): Promise<Capture> {
  const deps = options.deps ?? browserCaptureDeps;
  const budget = options.budget ?? PAGE_TEXT_BUDGET;
  const assertMayRead = async (url: string) => {
    const restricted = restrictedReason(url);
    if (restricted) throw new CaptureError('restricted', restricted);
    const decision = await deps.decide(url, options.prefs);
    if (decision.blocked) throw new CaptureError('blocked', decision.reason ?? 'Deputy may not read this site.');
  };
  let tab: TabInfo;
  try {
    tab = await deps.getTab(tabId);
  } catch (e) {
    throw new CaptureError('no_tab', 'That tab is gone.', { cause: e });
  }
  if (tab.discarded) throw new CaptureError('discarded', 'The browser unloaded this tab to save memory. Reload it, then try again.');
  if (tab.status === 'unloaded') throw new CaptureError('not_loaded', 'This tab has not loaded yet. Reload it, then try again.');
  // Without a grant for the tab its URL is hidden; the script then fails with no_access below.
  if (tab.url) await assertMayRead(tab.url);

  let raw: unknown;
  try {
    raw = await deps.runScript(tabId);
  } catch (e) {
    if (tab.url && isPdfUrl(tab.url)) throw new CaptureError('pdf', PDF_MESSAGE, { cause: e });
    throw scriptErrorToCapture(e);
  }
  const parsed = CapturedPage.safeParse(raw);
  if (!parsed.success) {
    // X2: whatever the page made the script return, only this exact shape is accepted.
    throw new CaptureError('invalid', 'The page returned something Deputy does not accept as page content.', { cause: parsed.error });
  }
  const got = parsed.data;
  // The tab may have navigated between the check above and the script: decide again on what was actually read.
  await assertMayRead(got.url);
  if (got.contentType === 'application/pdf' || (isPdfUrl(got.url) && got.extractedBy === 'none')) {
    throw new CaptureError('pdf', PDF_MESSAGE);
  }
  if (got.contentType === 'text/plain') {
    throw new CaptureError('plain_text', 'This tab shows a plain-text file, not a web page. Copy the part you need into your message instead.');
  }
  if (got.extractedBy === 'none' && got.contentType !== 'text/html' && got.contentType !== 'application/xhtml+xml') {
    throw new CaptureError('not_html', `This tab shows a ${got.contentType} file, not a web page.`);
  }
  if (!got.text.trim()) throw new CaptureError('empty', 'Deputy found no readable text on this page (it may still be loading, or be all images).');

  const capturedAt = deps.now().toISOString();
  const title = got.title.trim().slice(0, 500) || new URL(got.url).hostname;
  const url = got.url.slice(0, 4096);
  const trimmed = trimToBudget(got.text, budget);
  const totalChars = Math.max(got.totalChars, got.text.length);
  const page: PageContextItem = {
    kind: 'page',
    url,
    title,
    text: trimmed.text,
    capturedAt,
    ...(trimmed.truncated || totalChars > trimmed.text.length ? { truncated: { readChars: trimmed.text.length, totalChars } } : {}),
  };
  const sel = got.selection.trim() ? trimToBudget(got.selection.trim(), budget) : undefined;
  const selection: PageContextItem | undefined = sel
    ? { kind: 'selection', url, title, text: sel.text, capturedAt, ...(sel.truncated ? { truncated: sel.truncated } : {}) }
    : undefined;
  return { tabId, url, title, capturedAt, page, ...(selection ? { selection } : {}), fullText: got.text };
}

/** A selection the browser reported with a menu click, as context (validated like everything from a page). */
export function selectionItem(text: string, url: string, title: string | undefined, now: Date, budget = PAGE_TEXT_BUDGET): PageContextItem | undefined {
  const clean = text.trim();
  if (!clean || !URL.canParse(url)) return undefined;
  const trimmed = trimToBudget(clean, budget);
  return {
    kind: 'selection',
    url: url.slice(0, 4096),
    ...(title?.trim() ? { title: title.trim().slice(0, 500) } : {}),
    text: trimmed.text,
    capturedAt: now.toISOString(),
    ...(trimmed.truncated ? { truncated: trimmed.truncated } : {}),
  };
}

/** What a user turn shows of the context it carried: provenance, and the start of a selection as a quote. */
export function shownContext(items: readonly PageContextItem[] | undefined): ShownContext[] | undefined {
  if (!items?.length) return undefined;
  return items.map((c) => ({
    kind: c.kind,
    url: c.url,
    ...(c.title ? { title: c.title } : {}),
    capturedAt: c.capturedAt,
    ...(c.truncated ? { truncated: c.truncated } : {}),
    ...(c.kind === 'selection' ? { quote: c.text.length > 600 ? `${c.text.slice(0, 597)}…` : c.text } : {}),
  }));
}
