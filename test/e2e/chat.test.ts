/**
 * Walking skeleton, end to end: the built extension in Chromium against the whole local stack (IdP emulator, offline
 * model, backend). Sign in through the IdP's login page (PKCE via launchWebAuthFlow), stream an answer, local history
 * after reopening the panel, a new conversation, silent renewal after the access token expired (no login window),
 * sign-out ending the IdP session, and no token in storage.local / localStorage / IndexedDB (X4).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack } from '../../backend/src/stack';
import { DEFAULT_EXTENSION_PATH, type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';
import { dumpPersistentStores } from '../helpers/extension-storage';
import {
  ask,
  closeConversations,
  listConversations,
  newConversation,
  signIn,
  signOut,
  waitForLoginPage,
} from '../helpers/panel';

const TTL_SECONDS = 20;
const SHOTS = path.join(REPO_ROOT, 'test-output/e2e');

type Stack = Awaited<ReturnType<typeof startStack>>;

let stack: Stack;
let ext: ExtensionSession;
let dataDir: string;
let panel: Page;
const timings: Record<string, number> = {};

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** The access/ID tokens the panel holds (storage.session, spa-js cache entries). */
async function sessionTokens(page: Page): Promise<{ tokens: string[]; expiresAt?: number }> {
  return page.evaluate(async () => {
    const all = await chrome.storage.session.get(null);
    const tokens: string[] = [];
    let expiresAt: number | undefined;
    for (const [k, v] of Object.entries(all)) {
      if (!k.startsWith('deputy.auth.')) continue;
      const entry = v as { body?: { access_token?: string; id_token?: string }; expiresAt?: number; id_token?: string };
      if (entry.body?.access_token) {
        tokens.push(entry.body.access_token);
        expiresAt = entry.expiresAt;
      }
      if (entry.body?.id_token) tokens.push(entry.body.id_token);
      if (entry.id_token) tokens.push(entry.id_token);
    }
    return { tokens, expiresAt };
  });
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;

describe('side panel chat, end to end', () => {
  beforeAll(async () => {
    if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
      execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    await mkdir(SHOTS, { recursive: true });
    dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-'));
    stack = await startStack({
      dataDir,
      ports: FREE_PORTS,
      accessTokenTtlSeconds: TTL_SECONDS,
      modelChunkDelayMs: 15,
      env: {},
    });
    ext = await launchWithExtension({ backendUrl: stack.backendUrl });
  });

  afterAll(async () => {
    console.log('e2e timings (ms):', JSON.stringify(timings));
    await ext?.close();
    await stack?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const alice = () => stack.users.find((u) => u.email === 'alice@example.com')!;
  const bob = () => stack.users.find((u) => u.email === 'bob@example.com')!;

  it('shows the signed-out view with the model badge', async () => {
    panel = await ext.openPanel();
    await panel.getByTestId('sign-in').waitFor();
    expect(await panel.getByTestId('model-badge').textContent()).toBe('Offline model · deputy-offline-1');
    // The toolbar button opens the side panel from the background's action.onClicked (so the click also grants
    // activeTab on the page); page-actions.test.ts clicks it through CDP and sees the panel open.
    const behavior = await ext.serviceWorker.evaluate(() =>
      (globalThis as unknown as { chrome: { sidePanel: { getPanelBehavior(): Promise<unknown> } } }).chrome.sidePanel.getPanelBehavior(),
    );
    expect(behavior).toEqual({ openPanelOnActionClick: false });
    await shot(panel, '01-signed-out');
  });

  it('signs in as Alice through the IdP login page', async () => {
    const result = await signIn(panel, ext.context, alice());
    timings.signInClickToSignedIn = result.elapsedMs;
    expect(new URL(result.loginUrl).origin).toBe(new URL(stack.idpUrl!).origin);
    expect(result.profileName).toBe('Alice Anders');
    expect(await panel.getByTestId('profile-email').textContent()).toBe('alice@example.com');
    await shot(panel, '02-signed-in');
  });

  it('keeps tokens out of storage.local, localStorage and IndexedDB (X4)', async () => {
    const { tokens } = await sessionTokens(panel);
    expect(tokens.length).toBeGreaterThanOrEqual(2); // access token + ID token, in storage.session
    const dump = JSON.stringify(await dumpPersistentStores(panel));
    expect(dump).not.toMatch(JWT_LIKE);
    for (const t of tokens) expect(dump).not.toContain(t);
    expect(dump).not.toMatch(/refresh_token|access_token|id_token/);
  });

  it('streams the answer to a message', async () => {
    const t0 = Date.now();
    const answer = await ask(panel, 'Hello Deputy, what can you do?');
    timings.firstAnswer = Date.now() - t0;
    expect(answer.text.length).toBeGreaterThan(0);
    expect(answer.snapshots.length, 'the answer should arrive in several pieces').toBeGreaterThan(2);
    expect(answer.text.startsWith(answer.snapshots[0].slice(0, 1))).toBe(true);
    const user = panel.locator('[data-testid="message"][data-role="user"]');
    expect(await user.last().textContent()).toContain('Hello Deputy, what can you do?');
    await shot(panel, '03-answer');
  });

  it('shows the local history at once after the panel is closed and reopened', async () => {
    const before = await panel.locator('[data-testid="message"]').allTextContents();
    await panel.close();
    const t0 = Date.now();
    panel = await ext.openPanel();
    await panel.getByTestId('profile-name').waitFor();
    await panel.locator('[data-testid="message"][data-role="assistant"]').first().waitFor({ timeout: 5_000 });
    timings.reopenToHistory = Date.now() - t0;
    expect(await panel.locator('[data-testid="message"]').allTextContents()).toEqual(before);
    expect(await listConversations(panel)).toHaveLength(1);
    await shot(panel, '04-reopened');
    await closeConversations(panel);
  });

  it('starts a new conversation', async () => {
    await newConversation(panel);
    const answer = await ask(panel, 'Second conversation: **markdown** please');
    expect(answer.text.length).toBeGreaterThan(0);
    expect(await panel.locator('[data-testid="message"]').count()).toBe(2);
    const titles = await listConversations(panel);
    expect(titles).toHaveLength(2);
    await shot(panel, '05-conversations');
    await closeConversations(panel);
    // The narrowest side panel we support.
    await panel.setViewportSize({ width: 360, height: 640 });
    await shot(panel, '05-narrow-360px');
    await panel.setViewportSize({ width: 400, height: 760 });
  });

  it('renews the expired access token silently, once for two panels: no login window', async () => {
    // A second panel (same sign-in through storage.session), in a conversation of its own.
    const panel2 = await ext.openPanel();
    await panel2.getByTestId('profile-name').waitFor();
    await newConversation(panel2);

    const { tokens: before, expiresAt } = await sessionTokens(panel);
    expect(expiresAt).toBeTypeOf('number');
    const waitMs = expiresAt! * 1000 - Date.now() + 1_500;
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));

    const opened: string[] = [];
    const onPage = (p: Page) => opened.push(p.url());
    const tokenRequests: string[] = [];
    const onRequest = (r: Request) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/oauth/token') tokenRequests.push(r.url());
    };
    ext.context.on('page', onPage);
    ext.context.on('request', onRequest);
    try {
      const t0 = Date.now();
      const [a1, a2] = await Promise.all([
        ask(panel, 'Still there after the token expired?'),
        ask(panel2, 'And from a second panel?'),
      ]);
      timings.renewAndAnswer = Date.now() - t0;
      expect(a1.text.length).toBeGreaterThan(0);
      expect(a2.text.length).toBeGreaterThan(0);
    } finally {
      ext.context.off('page', onPage);
      ext.context.off('request', onRequest);
    }
    // One renewal (Web Lock across panels; the second panel found the fresh token in storage.session).
    expect(tokenRequests, 'token requests during renewal').toHaveLength(1);
    const { tokens: after } = await sessionTokens(panel);
    expect(after[0], 'a new access token was issued').not.toBe(before[0]);
    // No interactive window: nothing showed the IdP's login form, and the panels stayed signed in.
    for (const p of ext.context.pages()) {
      expect(await p.locator('input[name="password"]').count(), `login form in ${p.url()}`).toBe(0);
    }
    timings.pagesOpenedDuringRenewal = opened.length;
    expect(opened).toEqual([]);
    expect(await panel.getByTestId('sign-in').count()).toBe(0);
    await shot(panel, '06-after-renewal');
    await panel2.close();
  });

  it('signs out, and the next sign-in shows the IdP login page again', async () => {
    await signOut(panel);
    expect((await sessionTokens(panel)).tokens).toEqual([]);
    expect(await panel.getByTestId('error').count()).toBe(0);
    expect(await panel.getByTestId('auth-notice').count(), 'the IdP logout should have worked').toBe(0);
    await shot(panel, '07-signed-out');

    // The IdP session ended: a fresh sign-in asks for credentials again (the form must show).
    const login = await waitForLoginPage(ext.context, () => panel.getByTestId('sign-in').click());
    await shot(login, '08-idp-login-again');
    await login.locator('input[name="email"]').fill(bob().email);
    await login.locator('input[name="password"]').fill(bob().password);
    await login.getByRole('button', { name: 'Continue' }).click();
    await panel.getByTestId('profile-name').filter({ hasText: 'Bob Brown' }).waitFor();

    // Bob does not see Alice's local history.
    expect(await listConversations(panel)).toEqual([]);
    await closeConversations(panel);
    expect(await panel.locator('[data-testid="message"]').count()).toBe(0);
    await shot(panel, '09-bob');
  });

  it('says "Your session ended — sign in again" when the IdP session is gone at renewal time', async () => {
    // End the IdP session behind the extension's back (its cookie goes), keep the extension's tokens.
    await ext.context.clearCookies();
    const { expiresAt } = await sessionTokens(panel);
    const waitMs = expiresAt! * 1000 - Date.now() + 1_500;
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));

    await panel.getByTestId('composer').fill('Are you still there?');
    await panel.getByTestId('composer').press('Enter');
    const notice = panel.getByTestId('auth-notice');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toContain('Your session ended — sign in again');
    expect(await panel.getByTestId('sign-in').isVisible()).toBe(true);
    expect((await sessionTokens(panel)).tokens).toEqual([]);
    await shot(panel, '10-session-ended');
  });
});

declare const chrome: { storage: { session: { get(keys: null): Promise<Record<string, unknown>> } } };
