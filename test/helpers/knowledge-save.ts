/**
 * Putting a web page into the signed-in user's knowledge base from the extension (e2e tests and the demo):
 * - `openSidePanelBeside`: a browser profile with the page in a tab and the real side panel opened by the toolbar
 *   button (so the panel follows that tab and may read it);
 * - `savePageFromSidePanel`: "Save page" in the panel's page bar (the page's Readability text, its URL and title);
 * - `uploadPageAsFile`: the page's HTML through the Knowledge view's file picker (no URL: it is an upload).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type ExtensionSession, launchWithExtension } from './browser';
import { uploadFile } from './knowledge-panel';
import { clickToolbarButton, connectForSidePanel, PAGE_ACTION_ARGS, waitForSidePanel } from './page-actions';

export interface SidePanelBesidePage {
  ext: ExtensionSession;
  /** The real side panel (a CDP handle: it is not a tab). */
  panel: Page;
  /** The tab showing the page. */
  tab: Page;
  close(): Promise<void>;
}

export async function openSidePanelBeside(
  backendUrl: string,
  url: string,
  viewport: { width: number; height: number } = { width: 400, height: 760 },
): Promise<SidePanelBesidePage> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'deputy-knowledge-profile-'));
  let ext: ExtensionSession | undefined;
  let cdp: Browser | undefined;
  try {
    ext = await launchWithExtension({ backendUrl, userDataDir, extraArgs: PAGE_ACTION_ARGS });
    const tab = ext.context.pages()[0] ?? (await ext.context.newPage());
    await tab.goto(url);
    await clickToolbarButton(ext, tab);
    cdp = await connectForSidePanel(userDataDir);
    const panel = await waitForSidePanel(cdp, ext.extensionId);
    // The size of a typical side panel, as the other panels in tests (headless Chromium gives it a small default).
    await panel.setViewportSize(viewport).catch(() => {});
    const session = ext;
    const browser = cdp;
    return {
      ext: session,
      panel,
      tab,
      async close() {
        await browser.close().catch(() => {});
        await session.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await cdp?.close().catch(() => {});
    await ext?.close();
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Clicks "Save page" in the page bar (reading the page first if it has not been read) and waits for the outcome.
 * Then turns "Include this page" off, so later questions carry no page: answers can only come from the knowledge base.
 */
export async function savePageFromSidePanel(panel: Page, timeout = 30_000): Promise<{ title: string; message: string }> {
  const save = panel.getByTestId('page-save');
  if (!(await save.isVisible())) {
    await panel.getByTestId('page-read').click({ timeout });
    await save.waitFor({ timeout });
  }
  await save.click();
  const notice = panel.getByTestId('page-notice');
  await notice.waitFor({ timeout });
  const title = (await notice.locator('.notice-title').textContent())?.trim() ?? '';
  const message = (await notice.locator('.notice-text').textContent())?.trim() ?? '';
  if ((await notice.getAttribute('data-kind')) !== 'ok') throw new Error(`Saving the page failed: ${title}: ${message}`);
  // The switch is stored (site preferences) before the panel shows it: click, then wait for the bar to say so.
  const include = panel.getByTestId('page-include');
  if (await include.isChecked()) await include.click();
  await panel.locator('[data-testid="page-context"][data-included="false"]').waitFor({ timeout });
  return { title, message };
}

/** Dismisses the "Saved to your knowledge base" notice (if shown), giving the conversation its room back. */
export async function dismissPageNotice(panel: Page): Promise<void> {
  const notice = panel.getByTestId('page-notice');
  if (await notice.isVisible().catch(() => false)) {
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await notice.waitFor({ state: 'detached' });
  }
}

/** The page's HTML, fetched from its server, added through the Knowledge view's file picker and titled after the page. */
export async function uploadPageAsFile(panel: Page, url: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const html = await res.text();
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() || new URL(url).pathname.split('/').pop()!;
  const result = await uploadFile(panel, { name: `${title}.html`, mimeType: 'text/html', buffer: Buffer.from(html) });
  if (result.state !== 'added') throw new Error(`Adding ${url} failed: ${result.message}`);
}
