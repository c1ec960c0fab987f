/**
 * Page-object helpers for the side panel (e2e tests and the demo runner). They use the panel's stable test ids:
 * sign-in, sign-out, profile-name, profile-email, model-badge, new-conversation, conversations-toggle,
 * conversation-item, message-list, message (data-role, data-streaming), composer, send, error, auth-notice,
 * assistant-turn (data-run-state: starting | running | interrupted | completed | failed),
 * tool-call (data-tool, data-state: proposed | running | done | failed | denied | paused), tool-call-summary,
 * tool-call-decision, tool-call-outcome, interrupt-card (data-kind).
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface Credentials {
  email: string;
  password: string;
}

export interface SignInResult {
  /** From the click on "Sign in" to the profile name showing in the panel. */
  elapsedMs: number;
  /** The launchWebAuthFlow window's URL when the login form showed. */
  loginUrl: string;
  /** The name (or e-mail) the panel shows. */
  profileName: string;
}

/** Waits for the IdP login form in the launchWebAuthFlow window that the click opened. */
export async function waitForLoginPage(context: BrowserContext, click: () => Promise<void>, timeout = 30_000): Promise<Page> {
  const pagePromise = context.waitForEvent('page', { timeout });
  await click();
  const login = await pagePromise;
  await login.waitForLoadState('domcontentloaded');
  await login.locator('input[name="email"]').waitFor({ state: 'visible', timeout });
  return login;
}

/**
 * Signs in through the IdP's login page: click "Sign in", the launchWebAuthFlow window opens as a new page of the
 * context, fill e-mail and password, "Continue", then wait for the profile in the panel.
 */
export async function signIn(panel: Page, context: BrowserContext, creds: Credentials, timeout = 30_000): Promise<SignInResult> {
  const started = Date.now();
  const login = await waitForLoginPage(context, () => panel.getByTestId('sign-in').click(), timeout);
  const loginUrl = login.url();
  await login.locator('input[name="email"]').fill(creds.email);
  await login.locator('input[name="password"]').fill(creds.password);
  await login.getByRole('button', { name: 'Continue' }).click();
  const profile = panel.getByTestId('profile-name');
  await profile.waitFor({ state: 'visible', timeout });
  const elapsedMs = Date.now() - started;
  return { elapsedMs, loginUrl, profileName: (await profile.textContent())?.trim() ?? '' };
}

/** Number of messages shown (optionally of one role). */
export async function messageCount(panel: Page, role?: 'user' | 'assistant'): Promise<number> {
  const sel = role ? `[data-testid="message"][data-role="${role}"]` : '[data-testid="message"]';
  return panel.locator(sel).count();
}

const RECORD_SNAPSHOTS = `(() => {
  window.__deputyObserver?.disconnect();
  const snapshots = [];
  window.__deputySnapshots = snapshots;
  window.__deputyObserver = new MutationObserver(() => {
    const el = document.querySelector('[data-testid="message"][data-role="assistant"][data-streaming="true"] [data-testid="message-body"]');
    const t = el ? el.textContent : '';
    if (t && snapshots[snapshots.length - 1] !== t) snapshots.push(t);
  });
  window.__deputyObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
})()`;

/**
 * Types `text` into the composer and sends it with Enter. Records every text the streaming answer shows
 * (for `waitForAnswer(...).snapshots`).
 */
export async function sendMessage(panel: Page, text: string): Promise<{ assistantCountBefore: number }> {
  const assistantCountBefore = await messageCount(panel, 'assistant');
  // A string, not a function: tsx/esbuild's keepNames would wrap inner functions in a `__name` helper that does
  // not exist in the page.
  await panel.evaluate(RECORD_SNAPSHOTS);
  const composer = panel.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
  return { assistantCountBefore };
}

export interface Answer {
  text: string;
  /** Distinct texts the answer showed while streaming (more than one = it streamed in pieces). */
  snapshots: string[];
}

/**
 * Waits until a new assistant message has finished streaming and no run of the conversation is still working
 * (a run with tools can write several messages); returns the last message's text. Throws on an inline error, and
 * when the run paused on an interrupt instead of answering (use `waitForInterrupt` for those).
 */
export async function waitForAnswer(panel: Page, opts: { assistantCountBefore?: number; timeout?: number } = {}): Promise<Answer> {
  const before = opts.assistantCountBefore ?? 0;
  const timeout = opts.timeout ?? 60_000;
  const handle = await panel.waitForFunction(
    (n) => {
      const err = document.querySelector('[data-testid="error"]');
      if (err) return { error: err.textContent ?? 'error' };
      const working = document.querySelector(
        '[data-testid="assistant-turn"][data-run-state="running"], [data-testid="assistant-turn"][data-run-state="starting"]',
      );
      if (working) return false;
      const turns = document.querySelectorAll('[data-testid="assistant-turn"]');
      const lastTurn = turns[turns.length - 1];
      const done = document.querySelectorAll('[data-testid="message"][data-role="assistant"][data-streaming="false"]');
      const streaming = document.querySelector('[data-testid="message"][data-role="assistant"][data-streaming="true"]');
      if (done.length > n && !streaming) {
        return { text: done[done.length - 1].querySelector('[data-testid="message-body"]')?.textContent ?? '' };
      }
      if (lastTurn?.getAttribute('data-run-state') === 'interrupted') {
        const card = lastTurn.querySelector('[data-testid="interrupt-card"]');
        return { error: `the run paused (${card?.getAttribute('data-kind') ?? 'interrupt'}) instead of answering` };
      }
      if (lastTurn?.getAttribute('data-run-state') === 'failed') {
        return { error: lastTurn.querySelector('[data-testid="run-error"]')?.textContent ?? 'the run failed' };
      }
      return false;
    },
    before,
    { timeout, polling: 50 },
  );
  const result = (await handle.jsonValue()) as { text?: string; error?: string };
  if (result.error) throw new Error(`The panel shows an error: ${result.error}`);
  const snapshots = await panel.evaluate(() => {
    const w = window as unknown as { __deputySnapshots?: string[]; __deputyObserver?: MutationObserver };
    w.__deputyObserver?.disconnect();
    return w.__deputySnapshots ?? [];
  });
  return { text: result.text ?? '', snapshots };
}

export type ToolCallState = 'proposed' | 'running' | 'done' | 'failed' | 'denied' | 'paused';

export interface ToolCallRowInfo {
  state: ToolCallState;
  summary: string;
  decision: string;
  outcome: string;
  tier: string;
}

const FINAL_TOOL_STATES: ToolCallState[] = ['done', 'failed', 'denied', 'paused'];

/**
 * Waits until the last `tool-call` row of tool `name` is in `state`. Fails fast (with what the row says) when the row
 * settles in another final state, or the panel shows an error.
 */
export async function waitForToolCall(panel: Page, name: string, state: ToolCallState, timeout = 60_000): Promise<ToolCallRowInfo> {
  const handle = await panel.waitForFunction(
    ({ name, state, finals }) => {
      const err = document.querySelector('[data-testid="error"]');
      if (err) return { error: err.textContent ?? 'error' };
      const rows = Array.from(document.querySelectorAll('[data-testid="tool-call"]')).filter((r) => r.getAttribute('data-tool') === name);
      const row = rows[rows.length - 1];
      if (!row) return false;
      const text = (id: string) => row.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '';
      const info = {
        state: row.getAttribute('data-state') ?? '',
        summary: text('tool-call-summary'),
        decision: text('tool-call-decision'),
        outcome: text('tool-call-outcome'),
        tier: text('tool-call-tier'),
      };
      if (info.state === state) return { info };
      if (finals.includes(info.state)) return { error: `${name} ended ${info.state}: ${info.decision} ${info.outcome}`.trim() };
      return false;
    },
    { name, state, finals: FINAL_TOOL_STATES as string[] },
    { timeout, polling: 50 },
  );
  const result = (await handle.jsonValue()) as { info?: ToolCallRowInfo; error?: string };
  if (result.error) throw new Error(`Waiting for ${name} to be ${state}: ${result.error}`);
  return result.info!;
}

export interface InterruptCardInfo {
  kind: string;
  title: string;
  text: string;
}

/** Waits for an `interrupt-card` of `kind` (in the last paused turn); fails fast on an inline error. */
export async function waitForInterrupt(
  panel: Page,
  kind: 'approval_pending' | 'connect_required' | 'step_up_required',
  timeout = 60_000,
): Promise<InterruptCardInfo> {
  const handle = await panel.waitForFunction(
    (kind) => {
      const err = document.querySelector('[data-testid="error"]');
      if (err) return { error: err.textContent ?? 'error' };
      const cards = Array.from(document.querySelectorAll('[data-testid="interrupt-card"]'));
      const card = cards.reverse().find((c) => c.getAttribute('data-kind') === kind);
      if (!card) return false;
      return {
        info: {
          kind,
          title: card.querySelector('.interrupt-title')?.textContent?.trim() ?? '',
          text: card.textContent ?? '',
        },
      };
    },
    kind,
    { timeout, polling: 50 },
  );
  const result = (await handle.jsonValue()) as { info?: InterruptCardInfo; error?: string };
  if (result.error) throw new Error(`Waiting for a ${kind} card: ${result.error}`);
  return result.info!;
}

/** Sends `text` and waits for the complete answer. */
export async function ask(panel: Page, text: string, timeout?: number): Promise<Answer> {
  const { assistantCountBefore } = await sendMessage(panel, text);
  return waitForAnswer(panel, { assistantCountBefore, timeout });
}

export async function newConversation(panel: Page): Promise<void> {
  await panel.getByTestId('new-conversation').click();
  await panel.getByTestId('message-list-empty').waitFor({ state: 'visible' });
}

/** Opens the conversation drawer and returns the titles listed. */
export async function listConversations(panel: Page): Promise<string[]> {
  const toggle = panel.getByTestId('conversations-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await panel.locator('[data-testid="conversation-list"], [data-testid="conversation-list-empty"]').first().waitFor();
  return panel.locator('[data-testid="conversation-item"] .conversation-title').allTextContents();
}

export async function closeConversations(panel: Page): Promise<void> {
  const toggle = panel.getByTestId('conversations-toggle');
  if ((await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click();
}

/** Signs out and waits for the signed-out view. */
export async function signOut(panel: Page, timeout = 30_000): Promise<void> {
  await panel.getByTestId('sign-out').click();
  await panel.getByTestId('sign-in').waitFor({ state: 'visible', timeout });
}

/** The provider's consent page that a connect flow opened (a launchWebAuthFlow window: a new page of the context). */
async function waitForConsentPage(context: BrowserContext, before: Set<Page>, timeout: number): Promise<Page> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const p of context.pages()) {
      if (before.has(p) || p.isClosed()) continue;
      if (await p.getByRole('button', { name: 'Allow' }).isVisible().catch(() => false)) return p;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('No provider consent page opened');
}

/**
 * Answers a provider consent that `click` opens: "Allow" (or "Cancel"). Returns the consent page's screenshot-able
 * handle before the click closed it (`shot` is called with it first, for demos).
 */
export async function answerConsent(
  context: BrowserContext,
  click: () => Promise<void>,
  opts: { button?: 'Allow' | 'Cancel'; timeout?: number; shot?: (page: Page) => Promise<void> } = {},
): Promise<void> {
  const before = new Set(context.pages());
  await click();
  const consent = await waitForConsentPage(context, before, opts.timeout ?? 30_000);
  await opts.shot?.(consent);
  await consent.getByRole('button', { name: opts.button ?? 'Allow' }).click();
}

/** Clicks "Connect …" on the last connect_required card and answers the provider's consent. */
export async function connectFromCard(panel: Page, context: BrowserContext, opts: Parameters<typeof answerConsent>[2] = {}): Promise<void> {
  const turn = panel.locator('[data-testid="assistant-turn"][data-run-state="interrupted"]').last();
  const runId = await turn.getAttribute('data-run-id');
  await answerConsent(context, () => panel.getByTestId('interrupt-connect').last().click(), opts);
  if ((opts.button ?? 'Allow') === 'Allow' && runId) {
    // Connected: the run resumes (the card goes away) before anything else is waited for.
    await panel.locator(`[data-testid="assistant-turn"][data-run-id="${runId}"]:not([data-run-state="interrupted"])`).waitFor({ timeout: opts.timeout ?? 30_000 });
  }
}

/** Opens the Connected accounts view (if closed) and returns the connections listed as connected. */
export async function connectedAccounts(panel: Page): Promise<string[]> {
  const toggle = panel.getByTestId('accounts-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await panel.getByTestId('connected-accounts').waitFor();
  await panel.locator('[data-testid="connected-account"], [data-testid="available-connection"]').first().waitFor();
  return panel.locator('[data-testid="connected-account"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-connection') ?? ''));
}

export async function closeAccounts(panel: Page): Promise<void> {
  const toggle = panel.getByTestId('accounts-toggle');
  if ((await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click();
}

/** Disconnects `connection` in the Connected accounts view and waits until it is listed as not connected. */
export async function disconnectAccount(panel: Page, connection: string): Promise<void> {
  await connectedAccounts(panel);
  await panel.locator(`[data-testid="connected-account"][data-connection="${connection}"] [data-testid="disconnect-account"]`).click();
  await panel.locator(`[data-testid="available-connection"][data-connection="${connection}"]`).waitFor({ timeout: 15_000 });
}
