/**
 * `npm run demo -- --scenario <name>`: runs a user story end to end in headless Chromium with the real extension
 * against the local stack on free ports, writes screenshots to demo-output/<scenario>/, prints a one-line JSON
 * summary, and exits 0 only if every step worked.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { FREE_PORTS, startStack, type RunningStack } from '../backend/src/stack';
import { currentTotp } from '../backend/emulators/idp/totp';
import { launchWithExtension, type ExtensionSession } from '../test/helpers/browser';
import { answerOnDevice, openApprovalsPage, stepUpFromCard } from '../test/helpers/trusted-device';
import { ragScenario } from './demo/rag';
import { pageScenario } from './demo/page';
import {
  answerConsent,
  ask,
  closeAccounts,
  connectedAccounts,
  connectFromCard,
  messageCount,
  newConversation,
  sendMessage,
  signIn,
  signOut,
  waitForAnswer,
  waitForInterrupt,
  waitForToolCall,
} from '../test/helpers/panel';

interface Step { name: string; ok: boolean; ms: number; error?: string }

interface DemoContext {
  stack: RunningStack;
  session: ExtensionSession;
  context: BrowserContext;
  outDir: string;
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  shot(page: Page, name: string): Promise<void>;
  metrics: Record<string, number>;
}

const scenarios: Record<string, (d: DemoContext) => Promise<void>> = {
  async chat(d) {
    const alice = d.stack.users.find((u) => u.email.startsWith('alice'))!;
    let panel = await d.step('open side panel', () => d.session.openPanel());
    await d.step('signed-out view', () => panel.getByTestId('sign-in').waitFor());
    await d.shot(panel, '01-signed-out');
    const signedIn = await d.step('sign in through the IdP login page', () => signIn(panel, d.context, alice));
    d.metrics.signInMs = signedIn.elapsedMs;
    await d.shot(panel, '02-signed-in');
    await d.step('chat: greeting', () => ask(panel, 'Hello! My name is Ada.'));
    const answer = await d.step('chat: streamed summary', () =>
      ask(
        panel,
        'Summarize this: Passkeys replace passwords with public-key credentials. The private key never leaves the device. ' +
          'Servers store only public keys, so a breach leaks nothing reusable. Phishing fails because passkeys are bound to the site origin.',
      ),
    );
    if (answer.snapshots.length < 2) throw new Error('the answer did not stream');
    await d.shot(panel, '03-chat');
    const before = await messageCount(panel);
    await d.step('close and reopen the panel', async () => {
      await panel.close();
      panel = await d.session.openPanel();
      await panel.getByTestId('profile-name').waitFor();
      await panel.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length >= n, before);
    });
    await d.shot(panel, '04-reopened-history');
    await d.step('new conversation', () => newConversation(panel));
    await d.step('chat in the new conversation', () => ask(panel, 'What can you do?'));
    await d.shot(panel, '05-new-conversation');
    await d.step('sign out', () => signOut(panel));
    await d.shot(panel, '06-signed-out-again');
  },
};

scenarios.tools = async (d) => {
  const alice = d.stack.users.find((u) => u.email.startsWith('alice'))!;
  const panel = await d.step('open side panel', () => d.session.openPanel());
  await d.step('sign in', () => signIn(panel, d.context, alice));
  const listed = await d.step('ask: list my projects', async () => {
    const a = await ask(panel, 'list my projects');
    await waitForToolCall(panel, 'list_projects', 'done');
    return a;
  });
  if (!listed.text.includes('Website relaunch')) throw new Error('the answer does not list Website relaunch');
  await d.shot(panel, '01-list-projects');
  await d.step('ask: add a task', async () => {
    await ask(panel, "add a task 'Write launch post' to Website relaunch");
    await waitForToolCall(panel, 'create_task', 'done');
  });
  await d.shot(panel, '02-add-task');
  await d.step('ask: delete a project → approval needed', async () => {
    await sendMessage(panel, 'delete the project Security audit Q4');
    await waitForInterrupt(panel, 'approval_pending');
  });
  await d.shot(panel, '03-approval-needed');
};

scenarios.connect = async (d) => {
  const alice = d.stack.users.find((u) => u.email.startsWith('alice'))!;
  const panel = await d.step('open side panel', () => d.session.openPanel());
  await d.step('sign in', () => signIn(panel, d.context, alice));

  const calendar = await d.step("ask: what's on my calendar tomorrow? → connect Google", async () => {
    const { assistantCountBefore } = await sendMessage(panel, "what's on my calendar tomorrow?");
    await waitForInterrupt(panel, 'connect_required');
    return assistantCountBefore;
  });
  await d.shot(panel, '01-connect-google-card');
  const calendarAnswer = await d.step('connect Google in the consent window; the run resumes', async () => {
    await connectFromCard(panel, d.context, { shot: (consent) => d.shot(consent, '02-google-consent') });
    await waitForToolCall(panel, 'list_calendar_events', 'done');
    return waitForAnswer(panel, { assistantCountBefore: calendar });
  });
  if (!calendarAnswer.text.includes('Security review')) throw new Error('the answer does not list the seeded events');
  await d.shot(panel, '03-calendar-answer');

  await d.step('new conversation', () => newConversation(panel));
  const slack = await d.step('ask: list my slack channels → connect Slack', async () => {
    const { assistantCountBefore } = await sendMessage(panel, 'list my slack channels');
    await waitForInterrupt(panel, 'connect_required');
    return assistantCountBefore;
  });
  await d.shot(panel, '04-connect-slack-card');
  const slackAnswer = await d.step('connect Slack; the run resumes', async () => {
    await connectFromCard(panel, d.context, { shot: (consent) => d.shot(consent, '05-slack-consent') });
    await waitForToolCall(panel, 'list_slack_channels', 'done');
    return waitForAnswer(panel, { assistantCountBefore: slack });
  });
  if (!slackAnswer.text.includes('security')) throw new Error('the Slack answer does not list the channels');
  await d.shot(panel, '06-slack-answer');

  const listed = await d.step('Connected accounts lists Google and Slack', () => connectedAccounts(panel));
  if (!listed.includes('google-oauth2') || !listed.includes('sign-in-with-slack')) throw new Error(`connected: ${listed.join(', ')}`);
  await d.shot(panel, '07-connected-accounts');
  await closeAccounts(panel);
};

scenarios.approval = async (d) => {
  const alice = d.stack.users.find((u) => u.email.startsWith('alice'))!;
  const code = () => currentTotp(d.stack.totpSecrets.get(alice.sub)!);
  const panel = await d.step('open side panel', () => d.session.openPanel());
  await d.step('sign in', () => signIn(panel, d.context, alice));
  const device = await d.step('open the approvals page (the trusted device) in another tab', () => openApprovalsPage(d.context, d.stack.idpUrl!, alice));
  await panel.bringToFront();

  await d.step("ask: what's on my calendar today? (connect Google)", async () => {
    const { assistantCountBefore } = await sendMessage(panel, "what's on my calendar today?");
    await waitForInterrupt(panel, 'connect_required');
    await connectFromCard(panel, d.context);
    await waitForAnswer(panel, { assistantCountBefore });
  });
  const mail = await d.step('ask: email Bob the notes from today → grant sending → approval pending', async () => {
    const sent = await sendMessage(panel, 'email Bob the notes from today');
    await waitForInterrupt(panel, 'connect_required');
    await answerConsent(d.context, () => panel.getByTestId('interrupt-connect').last().click());
    await waitForInterrupt(panel, 'approval_pending');
    return sent;
  });
  await d.shot(panel, '01-approval-pending');
  const clickedAt = await d.step('approve on the approvals page', async () => {
    await device.bringToFront();
    return answerOnDevice(device, 'NEW recipient: Send mail to bob at example.com: Notes from today', 'approve', { shot: (p) => d.shot(p, '02-approvals-page') });
  });
  await d.step('the mail is sent and the chat says so', async () => {
    await panel.bringToFront();
    await panel.locator('[data-testid="approval-outcome"][data-status="approved"]').last().waitFor({ timeout: 60_000 });
    await waitForToolCall(panel, 'send_email', 'done', 60_000);
    d.metrics.approveClickToToolResultMs = Date.now() - clickedAt;
    const answer = await waitForAnswer(panel, { assistantCountBefore: mail.assistantCountBefore });
    if (!answer.text.includes('bob@example.com')) throw new Error('the answer does not say the mail went to Bob');
  });
  await d.shot(panel, '03-approved-and-sent');

  await d.step('new conversation', () => newConversation(panel));
  await d.step('ask: delete the project Security audit Q4 → deny on the device', async () => {
    await sendMessage(panel, 'delete the project Security audit Q4');
    await waitForInterrupt(panel, 'approval_pending');
    await device.bringToFront();
    await answerOnDevice(device, 'Delete project security-audit', 'deny');
    await panel.bringToFront();
    await panel.locator('[data-testid="approval-outcome"][data-status="denied"]').last().waitFor({ timeout: 60_000 });
  });
  await d.shot(panel, '04-denied');

  await d.step('new conversation', () => newConversation(panel));
  await d.step('ask: delete all my projects → step-up needed', async () => {
    await sendMessage(panel, 'delete all my projects');
    await waitForInterrupt(panel, 'step_up_required');
  });
  await d.shot(panel, '05-step-up-required');
  await d.step('sign in again with the authenticator code → approval pending', async () => {
    await stepUpFromCard(panel, d.context, alice, code, { shot: (p) => d.shot(p, '06-step-up-code') });
    await waitForInterrupt(panel, 'approval_pending', 30_000);
  });
  await d.step('approve on the device with the code; all projects deleted', async () => {
    await device.bringToFront();
    await answerOnDevice(device, 'Delete ALL projects', 'approve', { code: code() });
    await panel.bringToFront();
    await panel.locator('[data-testid="approval-outcome"][data-status="approved"]').last().waitFor({ timeout: 60_000 });
    await waitForToolCall(panel, 'delete_all_projects', 'done', 60_000);
  });
  await d.shot(panel, '07-step-up-approved');
  await d.step('Activity view lists the audit trail', async () => {
    await panel.getByTestId('activity-toggle').click();
    await panel.locator('[data-testid="activity-entry"]').first().waitFor();
  });
  await d.shot(panel, '08-activity');
};

scenarios.rag = ragScenario;
scenarios.page = pageScenario;

const { values } = parseArgs({ options: { scenario: { type: 'string', default: 'chat' }, out: { type: 'string', default: 'demo-output' } } });
const scenario = values.scenario!;
const run = scenarios[scenario];
if (!run) {
  console.error(`Unknown scenario "${scenario}". Known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.resolve(root, values.out!, scenario);
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const steps: Step[] = [];
const screenshots: string[] = [];
const metrics: Record<string, number> = {};
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-demo-'));
let stack: RunningStack | undefined;
let session: ExtensionSession | undefined;
let ok = false;
let failure: string | undefined;
const started = Date.now();

try {
  const build = spawnSync('npx', ['wxt', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('extension build failed');
  const t0 = Date.now();
  stack = await startStack({ dataDir, ports: FREE_PORTS });
  metrics.stackStartMs = Date.now() - t0;
  session = await launchWithExtension({ backendUrl: stack.backendUrl });
  const d: DemoContext = {
    stack,
    session,
    context: session.context,
    outDir,
    metrics,
    async step(name, fn) {
      const s = Date.now();
      try {
        const r = await fn();
        steps.push({ name, ok: true, ms: Date.now() - s });
        return r;
      } catch (err) {
        steps.push({ name, ok: false, ms: Date.now() - s, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
        throw err;
      }
    },
    async shot(page, name) {
      const file = path.join(outDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      screenshots.push(path.relative(root, file));
    },
  };
  await run(d);
  ok = steps.every((s) => s.ok);
} catch (err) {
  failure = err instanceof Error ? err.message.split('\n')[0] : String(err);
} finally {
  await session?.close().catch(() => {});
  await stack?.close().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
}

console.log(JSON.stringify({ scenario, ok, ms: Date.now() - started, steps, metrics, screenshots, ...(failure ? { failure } : {}) }));
process.exit(ok ? 0 : 1);
