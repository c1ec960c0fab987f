/** The settings page without an organization policy: the user's own backend URL, validated, saved to storage.local. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';

declare const chrome: { storage: { local: { get(key: string): Promise<Record<string, { backendUrl?: string } | undefined>> } } };

let session: ExtensionSession;
beforeAll(async () => {
  session = await launchWithExtension({ backendUrl: 'http://localhost:9' });
});
afterAll(async () => {
  await session?.close();
});

describe('options page', () => {
  it("edits the user's backend URL, refuses a non-http URL, and says no setting is managed", async () => {
    const page = await session.context.newPage();
    await page.setViewportSize({ width: 760, height: 560 });
    await page.goto(`chrome-extension://${session.extensionId}/options.html`);
    const url = page.getByTestId('backend-url');
    // Chromium answers the first storage.managed read ~2.7 s after start; the page waits for it before showing values.
    await expect.poll(() => url.inputValue(), { timeout: 15_000 }).toBe('http://localhost:9');
    expect(await url.isDisabled()).toBe(false);
    await page.getByTestId('no-policy').waitFor();

    await url.fill('javascript:alert(1)');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('save-status').textContent()).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
    const stored = () => session.serviceWorker.evaluate(() => chrome.storage.local.get('settings').then((s) => s.settings?.backendUrl));
    expect(await stored()).toBe('http://localhost:9');

    await url.fill('https://deputy.corp.example/');
    await page.getByTestId('save').click();
    await expect.poll(stored).toBe('https://deputy.corp.example');
    await page.screenshot({ path: path.join(REPO_ROOT, 'docs/screenshots/options.png') });
    await page.close();
  });
});
