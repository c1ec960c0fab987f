/**
 * X2 in the real extension: the capture script (entrypoints/page-capture.ts) runs in the page's document, and a page
 * can shadow `document.title`, `document.contentType`, `document.body` or `document.cloneNode` with named elements
 * (`<img name="title">`: DOM clobbering, which reaches the extension's isolated world too). The page stays data: it
 * is read as it is, with its real title and type, and cannot make Deputy fail to read it or report another type.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSION_PATH, type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';
import { clickToolbarButton, PAGE_ACTION_ARGS } from '../helpers/page-actions';

const ARTICLE =
  'Tidal power stations turn the daily rise and fall of the sea into electricity. The barrage at La Rance in Brittany has produced power since 1966 and remains one of the largest in the world. Engineers still study it.';

const clobbered = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tides and turbines</title></head>
<body><main><article><h1>Tides and turbines</h1><p>${ARTICLE}</p><p>${ARTICLE}</p></article></main>
<img name="title" alt=""><img name="contentType" alt=""><img name="cloneNode" alt=""><img name="body" alt="">
<form name="documentElement"><input name="innerText" value="x"></form>
</body></html>`;

let server: http.Server;
let origin: string;
let ext: ExtensionSession;
let tab: Page;

beforeAll(async () => {
  if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
    execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(clobbered);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // No backend is needed: only the capture script runs. The panel opens and shows it cannot connect; that is fine.
  ext = await launchWithExtension({ backendUrl: 'http://127.0.0.1:9', extraArgs: PAGE_ACTION_ARGS });
  tab = ext.context.pages()[0] ?? (await ext.context.newPage());
});

afterAll(async () => {
  await ext?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('X2 DOM clobbering cannot subvert the capture script', () => {
  it('a page shadowing document.title/contentType/body/cloneNode is still read as itself, with its real title and type', async () => {
    await tab.goto(`${origin}/clobbered`);
    // Sanity: the clobbering is real in this browser (the page's own world sees elements, not strings).
    expect(await tab.evaluate(() => typeof (document as unknown as { title: unknown }).title)).toBe('object');
    await clickToolbarButton(ext, tab); // a real action click: grants activeTab on this tab
    const result = await ext.serviceWorker.evaluate(async (url) => {
      const c = (globalThis as unknown as { chrome: unknown }).chrome as {
        tabs: { query(q: object): Promise<Array<{ id: number; url?: string }>> };
        scripting: { executeScript(o: object): Promise<Array<{ result?: unknown }>> };
      };
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [t] = (await c.tabs.query({})).filter((x) => x.url === url);
        try {
          const out = await c.scripting.executeScript({ target: { tabId: t.id }, files: ['/page-capture.js'] });
          return { ok: true as const, result: out?.[0]?.result ?? null };
        } catch (e) {
          if (Date.now() > deadline) return { ok: false as const, error: String(e) };
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }, `${origin}/clobbered`);
    expect(result).toMatchObject({ ok: true });
    const page = (result as unknown as { result: Record<string, unknown> }).result;
    expect(page).toMatchObject({ url: `${origin}/clobbered`, title: 'Tides and turbines', contentType: 'text/html', selection: '' });
    expect(page.text).toContain('La Rance in Brittany');
    expect(page.extractedBy).not.toBe('none');
  });
});
