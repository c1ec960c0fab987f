/**
 * The organization's policy in a working deployment: a Chromium policy file names the backend (the user's own setting
 * points elsewhere) and a site never captured. The side panel signs in against the organization's backend, refuses to
 * read the listed page, and reads another page of the same site. Root only (the policy file lives in /etc); the file
 * is removed in afterAll whatever happens.
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, type RunningStack, startStack } from '../../backend/src/stack';
import { EXTENSION_ID } from '../../lib/defaults';
import { type ExtensionSession, REPO_ROOT } from '../helpers/browser';
import { openSidePanelBeside, type SidePanelBesidePage } from '../helpers/knowledge-save';
import { clickToolbarButton } from '../helpers/page-actions';
import { signIn } from '../helpers/panel';
import { startTestPages, type TestPages } from '../helpers/test-pages';

const POLICY_FILE = path.join('/etc/chromium/policies/managed', `deputy-e2e-capture-${process.pid}.json`);
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('managed policy in a working deployment', () => {
  let pages: TestPages | undefined;
  let stack: RunningStack | undefined;
  let ext: ExtensionSession | undefined;
  let side: SidePanelBesidePage | undefined;
  let panel: Page;
  let tab: Page;
  let dataDir: string | undefined;

  beforeAll(async () => {
    pages = await startTestPages();
    dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-policy-'));
    stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 5 });
    fs.mkdirSync(path.dirname(POLICY_FILE), { recursive: true });
    fs.writeFileSync(
      POLICY_FILE,
      JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { backendUrl: stack.backendUrl, captureBlockedSites: [`${pages.origin}/article`] } } } }),
    );
    // The user's own setting names a server that does not exist: only the organization's value can work.
    side = await openSidePanelBeside('http://localhost:9', pages.url('/article'));
    ({ ext, panel, tab } = side);
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

  it("signs in against the organization's backend, not the one the user set", async () => {
    const alice = stack!.users.find((u) => u.email === 'alice@example.com')!;
    await signIn(panel, ext!.context, alice);
    await panel.getByTestId('composer').waitFor({ timeout: 20_000 });
  });

  it('never reads a page the organization lists, and says why', async () => {
    await tab.bringToFront();
    await clickToolbarButton(ext!, tab);
    const err = panel.locator('[data-testid="page-context-error"][data-code="blocked"]');
    await err.waitFor({ timeout: 20_000 });
    expect(await err.textContent()).toMatch(/Your organization does not allow Deputy to read this site/);
    expect(await panel.getByTestId('page-chip').count()).toBe(0);
    await panel.screenshot({ path: path.join(REPO_ROOT, 'docs/screenshots/capture-blocked-by-policy.png') });
  });

  it('reads another page of the same site, which the filter does not cover', async () => {
    await tab.goto(pages!.url('/other'));
    await clickToolbarButton(ext!, tab);
    await panel.getByTestId('page-chip').waitFor({ timeout: 20_000 });
    expect(await panel.getByTestId('page-context').getAttribute('data-url')).toBe(pages!.url('/other'));
  });
});
