/**
 * Connecting accounts from the side panel, end to end: the built extension in Chromium against the whole local stack
 * (IdP emulator with Token Vault and the My Account API, the Google/Slack/GitHub emulator, the offline model, the
 * backend agent loop).
 *
 * Alice asks what is on her calendar tomorrow → the run pauses with a "Connect Google" card → she connects Google in
 * the provider's consent window → the run resumes at the same tool call and the answer lists her seeded events, in
 * the same conversation. The Connected accounts view lists Google with its scopes; after she disconnects it, the next
 * question asks to connect again. Cancelling the consent keeps the request paused. No provider token ever reaches the
 * extension's storage.
 *
 * Screenshots: test-output/e2e/connect-*.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack } from '../../backend/src/stack';
import { DEFAULT_EXTENSION_PATH, type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';
import {
  answerConsent,
  closeAccounts,
  connectedAccounts,
  connectFromCard,
  disconnectAccount,
  newConversation,
  sendMessage,
  signIn,
  waitForAnswer,
  waitForInterrupt,
  waitForToolCall,
} from '../helpers/panel';

const SHOTS = path.join(REPO_ROOT, 'test-output/e2e');

let stack: Awaited<ReturnType<typeof startStack>>;
let ext: ExtensionSession;
let dataDir: string;
let panel: Page;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `connect-${name}.png`) });
}

beforeAll(async () => {
  if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
    execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  await mkdir(SHOTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-connect-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 5, env: {} });
  ext = await launchWithExtension({ backendUrl: stack.backendUrl });
  panel = await ext.openPanel();
  await signIn(panel, ext.context, stack.users.find((u) => u.email === 'alice@example.com')!);
});

afterAll(async () => {
  await ext?.close();
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Everything the extension keeps: storage areas and IndexedDB, as one string. */
async function extensionStorageDump(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const storage = (globalThis as unknown as { chrome: { storage: Record<'local' | 'session', { get(k: null): Promise<unknown> }> } }).chrome.storage;
    const areas = [await storage.local.get(null), await storage.session.get(null)];
    const dbs: unknown[] = [];
    for (const info of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(info.name!);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await new Promise<unknown[]>((resolve) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
        });
        dbs.push({ store, rows });
      }
      db.close();
    }
    return JSON.stringify({ areas, dbs });
  });
}

describe('connect Google from the side panel', () => {
  it('asks to connect, connects in the consent window, and answers from the calendar in the same conversation', async () => {
    await newConversation(panel);
    const { assistantCountBefore } = await sendMessage(panel, "what's on my calendar tomorrow?");
    const card = await waitForInterrupt(panel, 'connect_required');
    expect(card.title).toBe('Connect Google');
    expect(card.text).toContain('See your calendar');
    await shot(panel, '01-connect-card');

    await connectFromCard(panel, ext.context, { shot: (consent) => shot(consent, '02-google-consent') });
    const row = await waitForToolCall(panel, 'list_calendar_events', 'done');
    expect(row.outcome).toMatch(/\d+ events?/);
    const answer = await waitForAnswer(panel, { assistantCountBefore });
    expect(answer.text).toContain('Security review: Deputy token flows');
    // The question was asked once and is still there: nothing was lost or re-sent.
    const userMessages = await panel.locator('[data-testid="message"][data-role="user"]').allTextContents();
    expect(userMessages.filter((t) => t.includes('calendar tomorrow'))).toHaveLength(1);
    await shot(panel, '03-answer');
  });

  it('lists Google in Connected accounts with its scopes and the date it was connected', async () => {
    expect(await connectedAccounts(panel)).toEqual(['google-oauth2']);
    const account = panel.locator('[data-testid="connected-account"][data-connection="google-oauth2"]');
    expect(await account.textContent()).toMatch(/Connected since/);
    expect(await account.getByTestId('account-scopes').textContent()).toContain('See your calendar');
    await shot(panel, '04-connected-accounts');
    await closeAccounts(panel);
  });

  it('never stores a provider token in the extension', async () => {
    const dump = await extensionStorageDump(panel);
    expect(dump).not.toMatch(/ya29\.|xoxp-|ghu_|1\/\/[A-Za-z0-9_-]{10}/);
  });

  it('cancelling the consent keeps the request paused and says so', async () => {
    await newConversation(panel);
    await sendMessage(panel, 'list my github repos');
    await waitForInterrupt(panel, 'connect_required');
    await connectFromCard(panel, ext.context, { button: 'Cancel' });
    await panel.getByTestId('interrupt-connect-error').waitFor({ timeout: 15_000 });
    expect(await panel.getByTestId('interrupt-connect-error').textContent()).toMatch(/did not allow/i);
    expect(await panel.locator('[data-testid="assistant-turn"]').last().getAttribute('data-run-state')).toBe('interrupted');
    await shot(panel, '05-cancelled');
  });

  it('connects GitHub from the Connected accounts view', async () => {
    await connectedAccounts(panel);
    await answerConsent(ext.context, () => panel.locator('[data-testid="available-connection"][data-connection="github"] [data-testid="connect-account"]').click());
    await panel.locator('[data-testid="connected-account"][data-connection="github"]').waitFor({ timeout: 15_000 });
    expect(await connectedAccounts(panel)).toEqual(expect.arrayContaining(['google-oauth2', 'github']));
    await closeAccounts(panel);
  });

  it('after disconnecting Google, the next question asks to connect again', async () => {
    await disconnectAccount(panel, 'google-oauth2');
    await closeAccounts(panel);
    await newConversation(panel);
    await sendMessage(panel, "what's on my calendar tomorrow?");
    const card = await waitForInterrupt(panel, 'connect_required');
    expect(card.title).toBe('Connect Google');
    await shot(panel, '06-connect-again');
  });
});
