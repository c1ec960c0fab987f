/**
 * Tool activity in the side panel, end to end: the built extension in Chromium against the whole local stack
 * (IdP emulator, offline model with tool calls, Projects API, backend agent loop).
 *
 * 1. Against the agent: Alice lists her projects (a list_projects row reaches "done", the answer names them), adds a
 *    task (create_task done, the answer confirms), asks to delete a project (an "Approval needed" card: the run
 *    pauses), and the paused run's card and the tool rows are still there after the panel is reopened.
 * 2. Scripted runs (Playwright serves the run's event stream, so the panel's side is tested exactly): a stream that
 *    breaks mid-run is re-attached with Last-Event-ID and replays are not shown twice; a panel closed mid-run
 *    re-attaches when reopened; the connection and step-up cards.
 *
 * Screenshots: test-output/e2e/tools-*.png (400 px wide, as a side panel).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack } from '../../backend/src/stack';
import type { RunEvent } from '../../lib/protocol';
import { DEFAULT_EXTENSION_PATH, type ExtensionSession, launchWithExtension, REPO_ROOT } from '../helpers/browser';
import { ask, newConversation, sendMessage, signIn, waitForAnswer, waitForInterrupt, waitForToolCall } from '../helpers/panel';

const SHOTS = path.join(REPO_ROOT, 'test-output/e2e');

type Stack = Awaited<ReturnType<typeof startStack>>;

let stack: Stack;
let ext: ExtensionSession;
let dataDir: string;
let panel: Page;

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `tools-${name}.png`) });
}

/** Rows of the current conversation: "name:state". */
async function toolRows(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tool-call"]')
    .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-tool')}:${r.getAttribute('data-state')}`));
}

beforeAll(async () => {
  if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
    execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  await mkdir(SHOTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-tools-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 10, env: {} });
  ext = await launchWithExtension({ backendUrl: stack.backendUrl });
  panel = await ext.openPanel();
  const alice = stack.users.find((u) => u.email === 'alice@example.com')!;
  await signIn(panel, ext.context, alice);
});

afterAll(async () => {
  await ext?.close();
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('tool activity against the agent', () => {
  it('lists projects: a list_projects row reaches done and the answer names them', async () => {
    await newConversation(panel);
    const { assistantCountBefore } = await sendMessage(panel, 'list my projects');
    const row = await waitForToolCall(panel, 'list_projects', 'done');
    expect(row.tier).toBe('read');
    expect(row.decision).toBe('Allowed');
    expect(row.outcome).toMatch(/\d+ projects?/);
    const answer = await waitForAnswer(panel, { assistantCountBefore });
    expect(answer.text).toContain('Website relaunch');
    expect(answer.text).not.toContain('Mobile app beta'); // Bob's project
    await shot(panel, '01-list-projects');
  });

  it('adds a task: create_task reaches done and the answer confirms', async () => {
    await newConversation(panel);
    const { assistantCountBefore } = await sendMessage(panel, "add a task 'Write launch post' to Website relaunch");
    const row = await waitForToolCall(panel, 'create_task', 'done');
    expect(row.tier).toBe('write');
    expect(row.summary).toContain('Write launch post');
    expect(row.outcome).toBe('Task added');
    const answer = await waitForAnswer(panel, { assistantCountBefore });
    expect(answer.text).toMatch(/Write launch post|added/i);
    // The validated arguments, as key/value text, when the row is opened.
    const createRow = panel.locator('[data-testid="tool-call"][data-tool="create_task"]').last();
    await createRow.locator('summary').click();
    const args = createRow.getByTestId('tool-call-arguments');
    await args.waitFor();
    expect(await args.textContent()).toContain('Write launch post');
    expect(await args.textContent()).toContain('website-relaunch');
    await shot(panel, '02-create-task');
  });

  it('asks to delete a project: the run pauses with a "Waiting for your approval" card; nothing is deleted', async () => {
    await newConversation(panel);
    await sendMessage(panel, 'delete the project Security audit Q4');
    const card = await waitForInterrupt(panel, 'approval_pending');
    expect(card.title).toBe('Waiting for your approval');
    expect(card.text).toContain('What will run');
    expect(card.text).toContain('security-audit');
    expect(card.text).toContain('Approve it on your trusted device (the approvals page)');
    const row = await waitForToolCall(panel, 'delete_project', 'paused');
    expect(row.tier).toBe('high');
    expect(row.decision).toBe('Needs your approval');
    expect(await panel.locator('[data-testid="assistant-turn"]').last().getAttribute('data-run-state')).toBe('interrupted');
    // The composer stays usable (the run is paused, not running).
    expect(await panel.getByTestId('composer').isEnabled()).toBe(true);
    await shot(panel, '03-approval-needed');
  });

  it('shows the paused run and its tool rows again after the panel is reopened', async () => {
    const rowsBefore = await toolRows(panel);
    await panel.close();
    panel = await ext.openPanel();
    await panel.getByTestId('profile-name').waitFor();
    const card = await waitForInterrupt(panel, 'approval_pending', 10_000);
    expect(card.text).toContain('security-audit');
    expect(await toolRows(panel)).toEqual(rowsBefore);
    // Earlier conversations keep their tool activity too.
    await panel.getByTestId('conversations-toggle').click();
    const items = panel.getByTestId('conversation-item');
    expect(await panel.locator('[data-testid="conversation-status"][data-status="interrupted"]').count()).toBe(1);
    await shot(panel, '04-conversations-paused');
    await items.filter({ hasText: 'list my projects' }).click();
    await waitForToolCall(panel, 'list_projects', 'done', 10_000);
    await shot(panel, '05-reopened-history');
  });
});

// ---- scripted runs ----

const sse = (frames: Array<{ seq: number; event: RunEvent }>) =>
  frames.map(({ seq, event }) => `id: ${seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');

interface Script {
  /** What POST /v1/chat streams (then the response ends). */
  initial: Array<{ seq: number; event: RunEvent }>;
  /** Everything the run ever emits; re-attach replays what follows Last-Event-ID. */
  all: Array<{ seq: number; event: RunEvent }>;
}

type Ids = { runId: string; threadId: string; userMessageId: string; messageId: string };

/** A run's events: run.started, then `build`'s; the POST stream stops after `cutAfter` events when given. */
function scriptedRun(build: (ids: Ids) => RunEvent[], opts: { cutAfter?: number; threadId?: string } = {}): Script & Ids {
  const ids: Ids = { runId: randomUUID(), threadId: opts.threadId ?? randomUUID(), userMessageId: randomUUID(), messageId: randomUUID() };
  const cutAfter = opts.cutAfter;
  const events: RunEvent[] = [{ type: 'run.started', runId: ids.runId, threadId: ids.threadId, userMessageId: ids.userMessageId, model: 'deputy-offline-1' }, ...build(ids)];
  const all = events.map((event, i) => ({ seq: i + 1, event }));
  return { ...ids, all, initial: cutAfter === undefined ? all : all.slice(0, cutAfter) };
}

describe('scripted runs: re-attach and interrupt cards', () => {
  /** Scripts by the message that starts them; runs by id. */
  const byMessage = new Map<string, ReturnType<typeof scriptedRun>>();
  const byRun = new Map<string, ReturnType<typeof scriptedRun>>();
  const lastEventIds: Record<string, string[]> = {};
  /** While set, re-attaching finds nothing new (the run seems to go on): the panel keeps retrying. */
  const holdReattach = new Set<string>();

  const streamReply = (route: Route, body: string) =>
    route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body });

  beforeAll(async () => {
    await ext.context.route(`${stack.backendUrl}/v1/chat`, async (route) => {
      const body = route.request().postDataJSON() as { message?: string } | null;
      const script = body?.message ? byMessage.get(body.message) : undefined;
      if (!script || route.request().method() !== 'POST') return route.continue();
      await streamReply(route, sse(script.initial));
    });
    await ext.context.route(new RegExp(`^${stack.backendUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v1/runs/([0-9a-f-]+)/events$`), async (route) => {
      const runId = new URL(route.request().url()).pathname.split('/')[3];
      const script = byRun.get(runId);
      if (!script) return route.continue();
      const after = (await route.request().headerValue('last-event-id')) ?? '';
      (lastEventIds[runId] ??= []).push(after);
      if (holdReattach.has(runId)) return streamReply(route, '');
      // Replay from one event earlier than asked: the panel must not show it twice.
      const from = Math.max(0, Number(after) - 1);
      await streamReply(route, sse(script.all.filter((f) => f.seq > from)));
    });
  });

  afterAll(async () => {
    await ext.context.unrouteAll({ behavior: 'ignoreErrors' }).catch(() => {});
  });

  function register(message: string, s: ReturnType<typeof scriptedRun>) {
    byMessage.set(message, s);
    byRun.set(s.runId, s);
    return s;
  }

  const answerOf = (ids: { runId: string; threadId: string; messageId: string }, text: string): RunEvent[] => [
    ...[...text.matchAll(/\S+\s*/g)].map((m): RunEvent => ({ type: 'message.delta', runId: ids.runId, messageId: ids.messageId, delta: m[0] })),
    { type: 'message.completed', runId: ids.runId, message: { id: ids.messageId, threadId: ids.threadId, role: 'assistant', content: text, createdAt: new Date().toISOString() } },
    { type: 'run.completed', runId: ids.runId },
  ];

  it('re-attaches with Last-Event-ID when the stream breaks mid-run; replayed events are not shown twice', async () => {
    const message = 'scripted: which projects do I have?';
    const s = register(
      message,
      scriptedRun(
        (ids) => [
          { type: 'tool.proposed', runId: ids.runId, call: { toolCallId: 'call_1', name: 'list_projects', tier: 'read', arguments: {}, summary: 'List your projects' } },
          { type: 'tool.decided', runId: ids.runId, toolCallId: 'call_1', decision: { kind: 'allow' } },
          { type: 'tool.completed', runId: ids.runId, toolCallId: 'call_1', ok: true, summary: '2 projects' },
          ...answerOf(ids, 'You have **2 projects**: Website relaunch and Security audit Q4.'),
        ],
        { cutAfter: 3 }, // the POST stream ends after tool.decided: no run.completed
      ),
    );
    await newConversation(panel);
    const { assistantCountBefore } = await sendMessage(panel, message);
    const answer = await waitForAnswer(panel, { assistantCountBefore, timeout: 20_000 });
    expect(answer.text).toBe('You have 2 projects: Website relaunch and Security audit Q4.');
    expect(lastEventIds[s.runId]).toEqual(['3']);
    expect(await toolRows(panel)).toEqual(['list_projects:done']);
    expect(await panel.locator('[data-testid="message"][data-role="assistant"]').count()).toBe(1);
    expect(await panel.getByTestId('error').count()).toBe(0);
    await shot(panel, '06-reattached-after-break');
  });

  it('a panel closed mid-run re-attaches when reopened, from the last event it stored', async () => {
    const message = 'scripted: add a task and tell me';
    const s = register(
      message,
      scriptedRun(
        (ids) => [
          { type: 'tool.proposed', runId: ids.runId, call: { toolCallId: 'call_2', name: 'create_task', tier: 'write', arguments: { projectId: 'website-relaunch', title: 'Scripted task' }, summary: 'Add task “Scripted task” to website-relaunch' } },
          { type: 'tool.decided', runId: ids.runId, toolCallId: 'call_2', decision: { kind: 'allow' } },
          { type: 'tool.completed', runId: ids.runId, toolCallId: 'call_2', ok: true, summary: 'Task added' },
          ...answerOf(ids, 'Added “Scripted task” to Website relaunch.'),
        ],
        { cutAfter: 4 }, // up to tool.completed
      ),
    );
    holdReattach.add(s.runId);
    await newConversation(panel);
    await sendMessage(panel, message);
    await waitForToolCall(panel, 'create_task', 'done', 10_000);
    expect(await panel.locator('[data-testid="assistant-turn"]').last().getAttribute('data-run-state')).toBe('running');
    expect(await panel.getByTestId('send').textContent()).toBe('Working…');
    await shot(panel, '07-running-before-close');
    // The panel keeps trying to re-attach (the run seems to go on); close it now.
    await new Promise((r) => setTimeout(r, 800));
    await panel.close();
    holdReattach.delete(s.runId);

    panel = await ext.openPanel();
    await panel.getByTestId('profile-name').waitFor();
    // The most recent conversation opens and its unfinished run is re-attached.
    await panel
      .locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]')
      .filter({ hasText: 'Added “Scripted task” to Website relaunch.' })
      .waitFor({ timeout: 15_000 });
    expect(lastEventIds[s.runId].at(-1)).toBe('4');
    expect(await toolRows(panel)).toEqual(['create_task:done']);
    expect(await panel.locator('[data-testid="assistant-turn"]').last().getAttribute('data-run-state')).toBe('completed');
    await shot(panel, '07b-reattached-after-reopen');
  });

  it('connect_required and step_up_required cards say what is needed; the composer stays usable', async () => {
    const m1 = 'scripted: what is on my calendar?';
    const calendar = register(
      m1,
      scriptedRun((ids) => [
        { type: 'tool.proposed', runId: ids.runId, call: { toolCallId: 'cal', name: 'list_events', tier: 'read', arguments: { from: '2026-11-02', to: '2026-11-09' }, summary: 'List your calendar events, Nov 2 – Nov 9' } },
        { type: 'tool.decided', runId: ids.runId, toolCallId: 'cal', decision: { kind: 'need_connection', connection: 'google-oauth2', scopes: ['https://www.googleapis.com/auth/calendar.readonly'], reason: 'Connect your google-oauth2 account to continue.' } },
        { type: 'run.interrupted', runId: ids.runId, interrupt: { kind: 'connect_required', toolCallId: 'cal', reason: 'Connect your google-oauth2 account to continue.', connection: 'google-oauth2', scopes: ['https://www.googleapis.com/auth/calendar.readonly'] } },
      ]),
    );
    await newConversation(panel);
    await sendMessage(panel, m1);
    const connect = await waitForInterrupt(panel, 'connect_required', 10_000);
    expect(connect.title).toBe('Connect Google');
    expect(connect.text).toContain('See your calendar');
    expect(await panel.getByTestId('interrupt-connect').isEnabled()).toBe(true);
    await shot(panel, '08-connection-required');

    const m2 = 'scripted: transfer the domain';
    register(
      m2,
      scriptedRun(
        (ids) => [
        { type: 'message.delta', runId: ids.runId, messageId: ids.messageId, delta: 'This needs extra care.' },
        { type: 'message.completed', runId: ids.runId, message: { id: ids.messageId, threadId: ids.threadId, role: 'assistant', content: 'This needs extra care.', createdAt: new Date().toISOString() } },
        { type: 'tool.proposed', runId: ids.runId, call: { toolCallId: 'xfer', name: 'transfer_domain', tier: 'critical', arguments: { domain: 'example.com', to: 'registrar-b' }, summary: 'Transfer example.com to registrar-b' } },
        { type: 'tool.decided', runId: ids.runId, toolCallId: 'xfer', decision: { kind: 'need_step_up', acrValues: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor', maxAgeSeconds: 300, reason: 'This action needs a fresh sign-in with a second factor.' } },
        { type: 'run.interrupted', runId: ids.runId, interrupt: { kind: 'step_up_required', toolCallId: 'xfer', reason: 'This action needs a fresh sign-in with a second factor.', bindingMessage: 'Transfer example.com to registrar-b', authorizationDetails: [{ type: 'domain_transfer', domain: 'example.com', to: 'registrar-b' }] } },
        ],
        { threadId: calendar.threadId }, // the same conversation
      ),
    );
    // A paused run does not block the conversation: ask something else in it.
    await sendMessage(panel, m2);
    const stepUp = await waitForInterrupt(panel, 'step_up_required', 10_000);
    expect(stepUp.title).toBe('Fresh sign-in needed');
    expect(stepUp.text).toContain('second factor');
    expect(await toolRows(panel)).toEqual(['list_events:paused', 'transfer_domain:paused']);
    await panel.locator('[data-testid="interrupt-card"][data-kind="step_up_required"]').scrollIntoViewIfNeeded();
    await shot(panel, '09-step-up-required');
  });
});
