/**
 * Enterprise policy end to end: a real Chromium policy file (`/etc/chromium/policies/managed/`, as an administrator
 * deploys it) reaches the unpacked build with the pinned key through `chrome.storage.managed`, and the extension's
 * pages obey it. Writing there needs root; elsewhere the test is skipped and the unit tests (seeded managed storage)
 * carry the layer. The policy file is removed in afterAll whatever happens.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID } from '../../lib/defaults';
import { type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';

const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = path.join(POLICY_DIR, `deputy-e2e-${process.pid}.json`);
const isRoot = process.getuid?.() === 0;

// `.invalid` never resolves (RFC 2606): the panel's failure names the server it tried, which shows which value won.
const POLICY = {
  backendUrl: 'https://deputy-policy.invalid',
  auth0Domain: 'corp.eu.auth0.com',
  allowedTools: [],
  allowedConnections: ['github'],
  captureBlockedSites: ['bank.example'],
  approvalTiers: ['write'],
};

declare const chrome: { storage: { managed: { get(keys: null): Promise<Record<string, unknown>> } } };

describe.skipIf(!isRoot)('managed policy from a Chromium policy file', () => {
  let session: ExtensionSession | undefined;

  beforeAll(async () => {
    fs.mkdirSync(POLICY_DIR, { recursive: true });
    fs.writeFileSync(POLICY_FILE, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: POLICY } } }));
    // The user chose another server; the organization's value must win.
    session = await launchWithExtension({ backendUrl: 'http://localhost:9' });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      fs.rmSync(POLICY_FILE, { force: true });
    }
  });

  it('delivers the 3rdparty values to chrome.storage.managed of the pinned-key build', async () => {
    expect(session!.extensionId).toBe(EXTENSION_ID);
    const managed = await session!.serviceWorker.evaluate(() => chrome.storage.managed.get(null));
    expect(managed).toEqual(POLICY);
  });

  it('shows the forced values read-only, "Set by your organization", on the options page', async () => {
    const page: Page = await session!.context.newPage();
    await page.setViewportSize({ width: 760, height: 820 });
    await page.goto(`chrome-extension://${session!.extensionId}/options.html`);
    const url = page.getByTestId('backend-url');
    await expect.poll(() => url.inputValue(), { timeout: 15_000 }).toBe(POLICY.backendUrl);
    expect(await url.isDisabled()).toBe(true);
    expect(await page.getByTestId('save').count()).toBe(0);
    const policy = page.getByTestId('policy');
    await expect.poll(() => policy.getByText('Set by your organization').count(), { timeout: 15_000 }).toBe(Object.keys(POLICY).length);
    expect(await page.getByTestId('policy-allowedTools').textContent()).toContain('None allowed');
    expect(await page.getByTestId('policy-captureBlockedSites').textContent()).toContain('bank.example');
    await page.screenshot({ path: path.join(REPO_ROOT, 'docs/screenshots/options-managed.png'), fullPage: true });
    await page.close();
  });

  it("connects the side panel to the organization's backend, not the user's", async () => {
    const panel = await session!.openPanel();
    const error = panel.getByTestId('boot-error');
    await error.waitFor({ timeout: 30_000 });
    const text = await error.textContent();
    expect(text).toContain(POLICY.backendUrl);
    expect(text).not.toContain('localhost:9');
    await panel.close();
  });
});
