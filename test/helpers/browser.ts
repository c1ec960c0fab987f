/**
 * Launches Chromium with the built extension (`.output/chrome-mv3`) in a persistent, headless context, as in
 * working-here.md ("Browser tests"). Used by the e2e tests and the demo runner.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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
  /** Other unpacked extensions loaded next to ours (e.g. a hostile one, X3). */
  additionalExtensions?: string[];
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
      `--disable-extensions-except=${[extensionPath, ...(options.additionalExtensions ?? [])].join(',')}`,
      `--load-extension=${[extensionPath, ...(options.additionalExtensions ?? [])].join(',')}`,
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
    // With other extensions loaded, ours is the one whose id its manifest `key` pins.
    const pinned = options.additionalExtensions?.length ? extensionIdOf(extensionPath) : undefined;
    const isOurs = (w: Worker) => w.url().startsWith('chrome-extension://') && (!pinned || new URL(w.url()).host === pinned);
    const serviceWorker =
      context.serviceWorkers().find(isOurs) ??
      (await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 30_000 }));
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

/** The id Chromium gives an unpacked extension whose manifest has a `key`: sha256 of the key, first 32 hex digits as a-p. */
function extensionIdOf(extensionPath: string): string | undefined {
  const { key } = JSON.parse(readFileSync(path.join(extensionPath, 'manifest.json'), 'utf8')) as { key?: string };
  if (!key) return undefined;
  const hex = createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

declare const chrome: { storage: { local: { set(items: Record<string, unknown>): Promise<void> } } };
