/**
 * Launches Chromium with the built extension (`.output/chrome-mv3`) in a persistent, headless context, as in
 * working-here.md ("Browser tests"). Used by the e2e tests and the demo runner.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page, type Worker } from 'playwright-core';

export interface LaunchOptions {
  /** Browser profile directory; a temporary one (deleted on close) when omitted. */
  userDataDir?: string;
  /** Written to `storage.local` `settings.backendUrl` from the service worker before any page opens. */
  backendUrl: string;
  /** Unpacked extension directory. Default: `<repo>/.output/chrome-mv3`. */
  extensionPath?: string;
  /** Default true. */
  headless?: boolean;
  /** Side panel viewport. Default 400 x 760 (a typical side panel). */
  viewport?: { width: number; height: number };
  /** More Chromium switches (e.g. the page-action tests click the toolbar button through CDP). */
  extraArgs?: string[];
}

export interface ExtensionSession {
  context: BrowserContext;
  extensionId: string;
  serviceWorker: Worker;
  /** Opens the side panel document (`sidepanel.html`) in a page of its own. */
  openPanel(): Promise<Page>;
  close(): Promise<void>;
}

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const DEFAULT_EXTENSION_PATH = path.join(REPO_ROOT, '.output/chrome-mv3');

export async function launchWithExtension(options: LaunchOptions): Promise<ExtensionSession> {
  const extensionPath = options.extensionPath ?? DEFAULT_EXTENSION_PATH;
  if (!existsSync(path.join(extensionPath, 'manifest.json'))) {
    throw new Error(`No built extension at ${extensionPath}: run \`npx wxt build\` first.`);
  }
  const ownDir = !options.userDataDir;
  const userDataDir = options.userDataDir ?? (await mkdtemp(path.join(tmpdir(), 'deputy-chromium-')));
  const viewport = options.viewport ?? { width: 400, height: 760 };

  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: options.headless ?? true,
    viewport,
    args: [
      `--disable-extensions-except=${extensionPath}`,
      `--load-extension=${extensionPath}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...(options.extraArgs ?? []),
    ],
  });
  // Functions passed to page.evaluate from code run by tsx carry esbuild's `__name(...)` wrappers (keepNames);
  // give pages a no-op `__name` so the same helpers work under tsx (demo runner) and Vitest.
  await context.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });

  try {
    const serviceWorker =
      context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://')) ??
      (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
    const extensionId = new URL(serviceWorker.url()).host;

    await serviceWorker.evaluate(async (backendUrl) => {
      await chrome.storage.local.set({ settings: { backendUrl } });
    }, options.backendUrl);

    return {
      context,
      extensionId,
      serviceWorker,
      async openPanel() {
        const page = await context.newPage();
        await page.setViewportSize(viewport);
        await page.goto(`chrome-extension://${extensionId}/sidepanel.html`);
        return page;
      },
      async close() {
        await context.close().catch(() => {});
        if (ownDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
      },
    };
  } catch (err) {
    await context.close().catch(() => {});
    if (ownDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

declare const chrome: { storage: { local: { set(items: Record<string, unknown>): Promise<void> } } };
