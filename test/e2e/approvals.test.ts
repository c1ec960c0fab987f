/**
 * Human approval of risky actions, end to end: the built extension in Chromium against the whole local stack, and
 * the IdP emulator's approvals page in another tab as the user's trusted device.
 *
 * "email Bob the notes from today" → the panel shows what is waiting (binding message, every detail, a countdown)
 * → Alice approves on the approvals page → the mail appears in the Gmail emulator's outbox → the chat says so.
 * Deny: nothing runs and the card says so. Cancel from the panel while she chats in another conversation. Step-up:
 * "delete all my projects" needs a fresh sign-in with her authenticator code in the panel, then an approval on the
 * device that also asks for the code. The Activity view lists the audit trail.
 *
 * Screenshots: test-output/e2e/approvals-*.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../backend/emulators/idp/totp';
import { FREE_PORTS, startStack } from '../../backend/src/stack';
import { DEFAULT_EXTENSION_PATH, type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';
import { answerConsent, ask, connectFromCard, listConversations, newConversation, sendMessage, signIn, waitForAnswer, waitForInterrupt, waitForToolCall } from '../helpers/panel';
import { answerOnDevice, openApprovalsPage, stepUpFromCard } from '../helpers/trusted-device';

const SHOTS = path.join(REPO_ROOT, 'test-output/e2e');

let stack: Awaited<ReturnType<typeof startStack>>;
let ext: ExtensionSession;
let dataDir: string;
let panel: Page;
let device: Page;
const alice = () => stack.users.find((u) => u.email === 'alice@example.com')!;
const code = () => currentTotp(stack.totpSecrets.get(alice().sub)!);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `approvals-${name}.png`) });
}

/** The outcome line of the last approval card. */
async function outcome(timeout = 30_000): Promise<string> {
  const line = panel.getByTestId('approval-outcome').last();
  await line.waitFor({ timeout });
  return (await line.getAttribute('data-status')) ?? '';
}

/** What the Projects API really holds (its data file). */
const projectIds = () => (JSON.parse(readFileSync(path.join(dataDir, 'projects', 'projects.json'), 'utf8')) as { projects: Array<{ id: string; members?: string[] }> }).projects.map((p) => p.id);

beforeAll(async () => {
  if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
    execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  await mkdir(SHOTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-approvals-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 5, cibaIntervalSeconds: 1, env: {} });
  ext = await launchWithExtension({ backendUrl: stack.backendUrl });
  panel = await ext.openPanel();
  await signIn(panel, ext.context, alice());
  device = await openApprovalsPage(ext.context, stack.idpUrl!, alice());
}, 120_000);

afterAll(async () => {
  await ext?.close();
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('approvals on the trusted device', () => {
  it('"email Bob the notes from today": pending → approved on the approvals page → sent → the chat says so', async () => {
    const calendar = await sendMessage(panel, "what's on my calendar today?");
    await waitForInterrupt(panel, 'connect_required');
    await connectFromCard(panel, ext.context);
    await waitForToolCall(panel, 'list_calendar_events', 'done');
    await waitForAnswer(panel, { assistantCountBefore: calendar.assistantCountBefore });

    const mail = await sendMessage(panel, 'email Bob the notes from today');
    // Sending needs one more Google permission: reconnect (keeping the calendar), then the approval is asked.
    await waitForInterrupt(panel, 'connect_required');
    await answerConsent(ext.context, () => panel.getByTestId('interrupt-connect').last().click());
    const card = await waitForInterrupt(panel, 'approval_pending');
    expect(card.text).toContain('Send mail to bob at example.com: Notes from today');
    expect(card.text).toContain('bob@example.com');
    await expect.poll(() => panel.getByTestId('interrupt-card').last().textContent()).toMatch(/Expires in \d+:\d\d/);
    await shot(panel, '01-pending');

    await device.bringToFront();
    // Bob's address came from the calendar, not from the user's words: the approval names him as a new recipient.
    const clickedAt = await answerOnDevice(device, 'NEW recipient: Send mail to bob at example.com: Notes from today', 'approve', { shot: (p) => shot(p, '02-approvals-page') });
    await panel.bringToFront();
    expect(await outcome()).toBe('approved');
    await waitForToolCall(panel, 'send_email', 'done', 30_000);
    console.log(`e2e approve click → tool done in the panel: ${Date.now() - clickedAt} ms (CIBA interval 1 s)`);
    const answer = await waitForAnswer(panel, { assistantCountBefore: mail.assistantCountBefore });
    expect(answer.text).toMatch(/bob@example\.com/);
    await shot(panel, '03-approved-sent');

    const outbox = ((await (await fetch(`${stack.providersUrl}/_emulator/outbox?provider=google&account=alice@example.com`)).json()) as { items: unknown[] }).items;
    expect(outbox.filter((m) => JSON.stringify(m).includes('Notes from today'))).toHaveLength(1);
  });

  it('deny on the device: nothing runs, and the card says so', async () => {
    await newConversation(panel);
    await sendMessage(panel, 'delete the project Security audit Q4');
    await waitForInterrupt(panel, 'approval_pending');
    await answerOnDevice(device, 'Delete project security-audit', 'deny');
    expect(await outcome()).toBe('denied');
    await waitForToolCall(panel, 'delete_project', 'denied', 30_000);
    await shot(panel, '04-denied');
    expect(projectIds()).toContain('security-audit');
  });

  it('while one approval waits, another conversation chats on; the waiting one can be cancelled from the panel', async () => {
    await newConversation(panel);
    await sendMessage(panel, 'delete the project Website relaunch');
    await waitForInterrupt(panel, 'approval_pending');
    await newConversation(panel);
    const other = await ask(panel, 'list my projects');
    expect(other.text).toContain('Website relaunch');
    await listConversations(panel);
    await panel.locator('[data-testid="conversation-item"]', { hasText: 'delete the project Website relaunch' }).first().click();
    await waitForInterrupt(panel, 'approval_pending');
    await panel.getByTestId('interrupt-cancel').last().click();
    expect(await outcome()).toBe('cancelled');
    await shot(panel, '05-cancelled');
  });

  it('step-up: "delete all my projects" needs a fresh sign-in with the authenticator code, then approval with the code', async () => {
    await newConversation(panel);
    await sendMessage(panel, 'delete all my projects');
    await waitForInterrupt(panel, 'step_up_required');
    await shot(panel, '06-step-up-card');
    await stepUpFromCard(panel, ext.context, alice(), code, { shot: (p) => shot(p, '07-step-up-code') });
    await waitForInterrupt(panel, 'approval_pending', 30_000);
    await answerOnDevice(device, 'Delete ALL projects', 'approve', { code: code() });
    expect(await outcome()).toBe('approved');
    await waitForToolCall(panel, 'delete_all_projects', 'done', 30_000);
    expect(projectIds()).toEqual(['mobile-app']); // Bob's project stays
    await shot(panel, '08-step-up-done');
  });

  it('the Activity view lists requests, outcomes and the calls that ran', async () => {
    await panel.getByTestId('activity-toggle').click();
    await panel.getByTestId('activity').waitFor();
    await panel.locator('[data-testid="activity-entry"]').first().waitFor();
    const kinds = await panel.locator('[data-testid="activity-entry"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['approval.requested', 'approval.approved', 'approval.denied', 'approval.cancelled', 'tool.executed', 'step_up.required']));
    await shot(panel, '09-activity');
  });
});
