/**
 * Driving Deputy's page actions in the real extension (e2e tests and the demo).
 *
 * - The toolbar button is clicked through CDP `Extensions.triggerAction` (Chromium with
 *   `--enable-unsafe-extension-debugging`): a real action click, so the browser grants `activeTab` and the
 *   background opens the real side panel.
 * - The real side panel is not a tab, and Playwright's persistent context does not list it; a second CDP connection
 *   (`--remote-debugging-port=0`, `DevToolsActivePort` in the profile) does.
 * - Context-menu clicks cannot be synthesized: the menu's own handler is called in the service worker with the
 *   arguments the browser passes it (`contextMenus.onClicked(info, tab)`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium, type Page, type Worker } from 'playwright-core';
import type { ExtensionSession } from './browser';

export const PAGE_ACTION_ARGS = ['--enable-unsafe-extension-debugging', '--remote-debugging-port=0'];

/** Clicks Deputy's toolbar button on the tab showing `page`. */
export async function clickToolbarButton(ext: ExtensionSession, page: Page): Promise<void> {
  const browser = ext.context.browser();
  if (!browser) throw new Error('No browser handle for CDP');
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets', { filter: [{ type: 'tab' }] })) as {
      targetInfos: Array<{ targetId: string; type: string; url: string }>;
    };
    const url = page.url();
    const target = targetInfos.find((t) => t.type === 'tab' && t.url === url);
    if (!target) throw new Error(`No tab target for ${url}`);
    await cdp.send('Extensions.triggerAction' as never, { id: ext.extensionId, targetId: target.targetId } as never);
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** A second CDP connection to the same browser, which sees the side panel's document. */
export async function connectForSidePanel(userDataDir: string): Promise<Browser> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const port = (await readFile(path.join(userDataDir, 'DevToolsActivePort'), 'utf8')).split('\n')[0].trim();
      return await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits for the real side panel (`sidepanel.html` outside any tab) and returns it. */
export async function waitForSidePanel(cdpBrowser: Browser, extensionId: string, timeout = 15_000): Promise<Page> {
  const deadline = Date.now() + timeout;
  const url = `chrome-extension://${extensionId}/sidepanel.html`;
  while (Date.now() < deadline) {
    for (const c of cdpBrowser.contexts()) {
      const panel = c.pages().find((p) => p.url().startsWith(url));
      if (panel) {
        await panel.waitForLoadState('domcontentloaded');
        return panel;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('The side panel did not open');
}

export interface MenuClick {
  menuItemId: string;
  selectionText?: string;
}

/**
 * Calls the context menu's handler in the service worker exactly as `contextMenus.onClicked` would, for the active
 * tab: `info` carries the selection and the page URL, `tab` is the browser's tab object.
 */
export async function clickContextMenu(sw: Worker, click: MenuClick): Promise<{ kind: string; windowId: number } | undefined> {
  return sw.evaluate(async (click) => {
    const g = globalThis as unknown as {
      chrome: { tabs: { query(q: object): Promise<Array<{ id: number; windowId: number; url?: string; title?: string }>> } };
      deputyPageActions: { handleMenuClick(info: object, tab: object): Promise<{ kind: string; windowId: number } | undefined> };
    };
    const [tab] = await g.chrome.tabs.query({ active: true, lastFocusedWindow: true });
    return g.deputyPageActions.handleMenuClick({ ...click, pageUrl: tab.url, editable: false }, tab);
  }, click);
}

/** Selects the text of the first element matching `selector` in `page`; returns the selected text. */
export async function selectText(page: Page, selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) throw new Error(`nothing matches ${sel}`);
    const range = document.createRange();
    range.selectNodeContents(el);
    const s = getSelection()!;
    s.removeAllRanges();
    s.addRange(range);
    return s.toString();
  }, selector);
}
