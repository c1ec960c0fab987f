/**
 * A policy the administrator pushes (or that the browser delivers late) while the panel already holds a page it read:
 * once the organization lists that site, the page is dropped from the panel at once and never sent with the next
 * message. Chromium policy file rewritten while the browser runs, picked up through chrome://policy's "Reload
 * policies" (and Chromium's own watcher of the policy directory). Root only; the file is removed in afterAll.
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, type RunningStack, startStack } from '../../backend/src/stack';
import { EXTENSION_ID } from '../../lib/defaults';
import { type ExtensionSession } from '../helpers/browser';
import { openSidePanelBeside, type SidePanelBesidePage } from '../helpers/knowledge-save';
import { clickToolbarButton } from '../helpers/page-actions';
import { signIn } from '../helpers/panel';
import { startTestPages, type TestPages } from '../helpers/test-pages';

const POLICY_FILE = path.join('/etc/chromium/policies/managed', `deputy-e2e-pushed-${process.pid}.json`);
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('a policy pushed while the panel holds a page', () => {
  let pages: TestPages | undefined;
  let stack: RunningStack | undefined;
  let ext: ExtensionSession | undefined;
  let side: SidePanelBesidePage | undefined;
  let panel: Page;
  let tab: Page;
  /** chrome://policy, in a background tab so that reloading policies never switches the followed tab. */
  let policyPage: Page;
  let dataDir: string | undefined;
  const writePolicy = (blocked: string[]) =>
    fs.writeFileSync(POLICY_FILE, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { backendUrl: stack!.backendUrl, captureBlockedSites: blocked } } } }));

  beforeAll(async () => {
    pages = await startTestPages();
    dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-pushed-'));
    stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 5 });
    fs.mkdirSync(path.dirname(POLICY_FILE), { recursive: true });
    writePolicy([]);
    side = await openSidePanelBeside('http://localhost:9', pages.url('/article'));
    ({ ext, panel, tab } = side);
    policyPage = await ext.context.newPage();
    await policyPage.goto('chrome://policy');
    await tab.bringToFront();
    const alice = stack.users.find((u) => u.email === 'alice@example.com')!;
    await signIn(panel, ext.context, alice);
    await panel.getByTestId('composer').waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    try {
      await side?.close();
      await stack?.close();
      await pages?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    } finally {
      fs.rmSync(POLICY_FILE, { force: true });
    }
  });

  it('the page read before the site was listed is dropped and not sent with the next message', async () => {
    await tab.bringToFront();
    await clickToolbarButton(ext!, tab);
    await panel.getByTestId('page-chip').waitFor({ timeout: 20_000 });
    expect(await panel.getByTestId('page-context').getAttribute('data-url')).toBe(pages!.url('/article'));

    // The administrator lists the site; the browser reloads its policy while the panel stays open.
    writePolicy([pages!.origin]);
    // Reload from the background chrome://policy tab (never activated: the panel keeps following the article tab).
    await policyPage.evaluate(() => (document.querySelector('#reload-policies') as HTMLButtonElement | null)?.click());
    await expect
      .poll(
        () => ext!.serviceWorker.evaluate(async () => JSON.stringify(await (globalThis as unknown as { chrome: { storage: { managed: { get(): Promise<unknown> } } } }).chrome.storage.managed.get())),
        { timeout: 30_000, interval: 250 },
      )
      .toContain(pages!.origin);
    expect(await panel.evaluate(async () => (await (globalThis as unknown as { chrome: { tabs: { query(q: object): Promise<Array<{ url?: string }>> } } }).chrome.tabs.query({ active: true, currentWindow: true }))[0]?.url)).toBe(pages!.url('/article'));
    await panel.getByTestId('page-chip').waitFor({ state: 'detached', timeout: 20_000 });

    // The next typed message carries no page context (the server stores what it got: the thread shows none).
    await panel.getByTestId('composer').fill('What is new?');
    await panel.getByTestId('composer').press('Enter');
    const turn = panel.locator('[data-testid="message"][data-role="user"]').filter({ hasText: 'What is new?' });
    await turn.waitFor({ timeout: 20_000 });
    expect(await turn.locator('[data-testid="message-context"]').count()).toBe(0);
  });
});
