/**
 * The user's other devices, in the browser: the IdP emulator's approvals page in a tab of its own (the "trusted
 * device" a CIBA request goes to), and the step-up sign-in the side panel opens.
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface DeviceCredentials {
  email: string;
  password: string;
}

/** Opens the approvals page in a new tab and signs in there (the page remembers the user by its own cookie). */
export async function openApprovalsPage(context: BrowserContext, idpUrl: string, creds: DeviceCredentials): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${idpUrl}/approvals`);
  const password = page.locator('input[type="password"]');
  if (await password.isVisible().catch(() => false)) {
    await page.locator('input[name="email"], input[name="username"], input[type="email"]').first().fill(creds.email);
    await password.fill(creds.password);
    await Promise.all([page.waitForLoadState('domcontentloaded'), page.locator('button[type="submit"], form button').first().click()]);
  }
  return page;
}

/**
 * Waits (live, without reloading) for the pending request with this binding message, optionally types the
 * authenticator code, and clicks Approve or Deny. Returns the time of the click.
 */
export async function answerOnDevice(
  page: Page,
  bindingMessage: string,
  decision: 'approve' | 'deny',
  opts: { code?: string; timeout?: number; shot?: (page: Page) => Promise<void> } = {},
): Promise<number> {
  const card = page.locator(`[data-testid="approval"][data-status="pending"][data-binding-message="${bindingMessage.replace(/"/g, '\\"')}"]`).last();
  await card.waitFor({ timeout: opts.timeout ?? 30_000 });
  if (opts.code) await card.locator('[data-testid="code"], input[name="code"]').fill(opts.code);
  await opts.shot?.(page);
  const clickedAt = Date.now();
  await card.getByTestId(decision).click();
  await page.waitForLoadState('domcontentloaded');
  return clickedAt;
}

/**
 * Clicks "Verify it's you" on a step_up_required card and completes the IdP sign-in that opens: password, then the
 * authenticator code.
 */
export async function stepUpFromCard(
  panel: Page,
  context: BrowserContext,
  creds: DeviceCredentials,
  code: () => string,
  opts: { shot?: (page: Page) => Promise<void>; timeout?: number } = {},
): Promise<void> {
  const timeout = opts.timeout ?? 30_000;
  const opened = context.waitForEvent('page', { timeout });
  await panel.getByTestId('interrupt-step-up').last().click();
  const login = await opened;
  await login.waitForLoadState('domcontentloaded');
  const email = login.locator('input[name="email"]');
  if (await email.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await email.fill(creds.email);
    await login.locator('input[name="password"]').fill(creds.password);
    await login.getByRole('button', { name: 'Continue' }).click();
  }
  const codeInput = login.locator('input[name="code"]');
  await codeInput.waitFor({ timeout });
  await codeInput.fill(code());
  await opts.shot?.(login);
  await login.getByRole('button', { name: 'Verify' }).click();
}
