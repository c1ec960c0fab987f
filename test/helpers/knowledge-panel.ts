/**
 * Page-object helpers for the knowledge base in the side panel (e2e tests and the demo). Test ids: knowledge-toggle,
 * knowledge, knowledge-add-files, knowledge-file-input, upload (data-state), document (data-document-id, data-role),
 * document-title, document-owner, document-share, document-delete(-confirm), share-dialog, share-target,
 * share-value, share-relation, share-submit, share-entry (data-subject, data-relation), share-remove, share-close,
 * citations, citation, citation-title, citation-url, citation-snippet.
 */
import type { Page } from 'playwright-core';

export interface ListedDocument {
  id: string;
  title: string;
  role: string;
  owner: string;
}

export async function openKnowledge(panel: Page): Promise<void> {
  const toggle = panel.getByTestId('knowledge-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await panel.getByTestId('knowledge').waitFor();
}

export async function closeKnowledge(panel: Page): Promise<void> {
  const toggle = panel.getByTestId('knowledge-toggle');
  if ((await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click();
  await panel.getByTestId('knowledge-drawer').waitFor({ state: 'detached' });
}

/** Opens the Knowledge view (refreshing it if open) and returns the documents it lists. */
export async function listDocuments(panel: Page): Promise<ListedDocument[]> {
  await openKnowledge(panel);
  if (await panel.getByTestId('share-dialog').isVisible().catch(() => false)) await panel.getByTestId('share-close').click();
  await panel.getByTestId('knowledge-refresh').click();
  // Refresh keeps the old list on screen until the new one arrives: wait for the request to settle.
  await panel.locator('[data-testid="knowledge"][data-loading="false"]').waitFor();
  const err = panel.locator('[data-testid="knowledge"] [data-testid="error"]');
  if (await err.count()) throw new Error(`The Knowledge view shows an error: ${await err.first().textContent()}`);
  return panel.locator('[data-testid="document"]').evaluateAll((rows) =>
    rows.map((r) => ({
      id: r.getAttribute('data-document-id') ?? '',
      role: r.getAttribute('data-role') ?? '',
      title: r.querySelector('[data-testid="document-title"]')?.textContent?.trim() ?? '',
      owner: r.querySelector('[data-testid="document-owner"]')?.textContent?.replace(/^Owner:\s*/, '').trim() ?? '',
    })),
  );
}

/** Adds a file through the Knowledge view's file picker; resolves with the upload's final state and message. */
export async function uploadFile(
  panel: Page,
  file: { name: string; mimeType: string; buffer: Buffer },
  timeout = 60_000,
): Promise<{ state: string; message: string }> {
  await openKnowledge(panel);
  const before = await panel.locator('[data-testid="upload"]').count();
  await panel.getByTestId('knowledge-file-input').setInputFiles(file);
  const handle = await panel.waitForFunction(
    (n) => {
      const rows = document.querySelectorAll('[data-testid="upload"]');
      // Newest first: the first row is this upload once the count grew.
      const row = rows.length > n ? rows[0] : undefined;
      const state = row?.getAttribute('data-state');
      return state === 'added' || state === 'failed' ? { state, message: row!.textContent ?? '' } : false;
    },
    before,
    { timeout, polling: 50 },
  );
  return (await handle.jsonValue()) as { state: string; message: string };
}

function documentRow(panel: Page, title: string) {
  return panel.locator('[data-testid="document"]').filter({ has: panel.getByTestId('document-title').getByText(title, { exact: true }) });
}

/** Opens the share dialog of the document titled `title`. */
export async function openShareDialog(panel: Page, title: string): Promise<void> {
  await listDocuments(panel);
  await documentRow(panel, title).getByTestId('document-share').click();
  await panel.getByTestId('share-dialog').waitFor();
  await panel.locator('[data-testid="share-list"], [data-testid="shares-empty"]').first().waitFor();
}

/** The grants the open share dialog lists, as `subject#relation`. */
export async function listedShares(panel: Page): Promise<string[]> {
  return panel
    .locator('[data-testid="share-entry"]')
    .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-subject')}#${r.getAttribute('data-relation')}`));
}

type ShareWith = { email: string } | { group: string } | { organization: true };

/** Shares document `title` with a person by e-mail, a group or the organisation; waits for the grant to be listed. */
export async function shareWith(panel: Page, title: string, with_: ShareWith, relation: 'viewer' | 'editor' = 'viewer'): Promise<void> {
  await openShareDialog(panel, title);
  await grantInDialog(panel, with_, relation);
}

/** Creates a folder from the Knowledge view; it becomes where "Add files" puts files. */
export async function createFolder(panel: Page, name: string): Promise<void> {
  await openKnowledge(panel);
  await panel.getByTestId('folder-new').click();
  await panel.getByTestId('folder-name-input').fill(name);
  await panel.getByTestId('folder-create').click();
  await panel.getByTestId('folder-name').getByText(name, { exact: true }).waitFor({ timeout: 15_000 });
}

/** Chooses where "Add files" puts files: a folder by name, or none. */
export async function chooseUploadFolder(panel: Page, name: string | null): Promise<void> {
  await openKnowledge(panel);
  const select = panel.getByTestId('knowledge-upload-folder');
  if (name === null) await select.selectOption('');
  else await select.selectOption({ label: name });
}

/** The folders the Knowledge view lists (name and role), after a refresh. */
export async function listFolders(panel: Page): Promise<Array<{ name: string; role: string }>> {
  await listDocuments(panel);
  return panel.locator('[data-testid="folder"]').evaluateAll((rows) =>
    rows.map((r) => ({ name: r.querySelector('[data-testid="folder-name"]')?.textContent?.trim() ?? '', role: r.getAttribute('data-role') ?? '' })),
  );
}

/** Opens the share dialog of the folder called `name`. */
export async function openFolderShareDialog(panel: Page, name: string): Promise<void> {
  await listDocuments(panel);
  await panel
    .locator('[data-testid="folder"]')
    .filter({ has: panel.getByTestId('folder-name').getByText(name, { exact: true }) })
    .getByTestId('folder-share')
    .click();
  await panel.locator('[data-testid="share-dialog"][data-kind="folder"]').waitFor();
  await panel.locator('[data-testid="share-list"], [data-testid="shares-empty"]').first().waitFor();
}

/** Shares folder `name` (and so everything in it). */
export async function shareFolderWith(panel: Page, name: string, with_: ShareWith, relation: 'viewer' | 'editor' = 'viewer'): Promise<void> {
  await openFolderShareDialog(panel, name);
  await grantInDialog(panel, with_, relation);
}

/** Fills and submits the open share dialog's form; waits for the grant to be listed (or throws the dialog's error). */
async function grantInDialog(panel: Page, with_: ShareWith, relation: 'viewer' | 'editor'): Promise<void> {
  const subject = 'email' in with_ ? `user:${with_.email.toLowerCase()}` : 'group' in with_ ? `group:${with_.group}` : 'organization';
  if ('email' in with_) {
    await panel.getByTestId('share-target').selectOption('user');
    await panel.getByTestId('share-value').fill(with_.email);
  } else if ('group' in with_) {
    await panel.getByTestId('share-target').selectOption('group');
    await panel.getByTestId('share-value').fill(with_.group);
  } else {
    await panel.getByTestId('share-target').selectOption('organization');
  }
  await panel.getByTestId('share-relation').selectOption(relation);
  await panel.getByTestId('share-submit').click();
  await panel
    .locator(`[data-testid="share-entry"][data-subject="${subject}"][data-relation="${relation}"], [data-testid="share-dialog"] [data-testid="error"]`)
    .first()
    .waitFor({ timeout: 15_000 });
  const err = panel.locator('[data-testid="share-dialog"] [data-testid="error"]');
  if (await err.count()) throw new Error(`Sharing failed: ${await err.textContent()}`);
}

/** Removes a grant from the open share dialog and waits until it is gone. */
export async function revokeShare(panel: Page, subject: string, relation: 'viewer' | 'editor' = 'viewer'): Promise<void> {
  const row = panel.locator(`[data-testid="share-entry"][data-subject="${subject}"][data-relation="${relation}"]`);
  await row.getByTestId('share-remove').click();
  await row.waitFor({ state: 'detached', timeout: 15_000 });
}

export async function closeShareDialog(panel: Page): Promise<void> {
  await panel.getByTestId('share-close').click();
  await panel.getByTestId('share-dialog').waitFor({ state: 'detached' });
}

export interface ShownCitation {
  documentId: string;
  title: string;
  href: string | null;
  url: string;
  snippet: string;
}

/** The sources listed under the last assistant message (none: an empty list). */
export async function lastAnswerCitations(panel: Page): Promise<ShownCitation[]> {
  const last = panel.locator('[data-testid="message"][data-role="assistant"]').last();
  return last.locator('[data-testid="citation"]').evaluateAll((rows) =>
    rows.map((r) => {
      const title = r.querySelector('[data-testid="citation-title"]');
      return {
        documentId: r.getAttribute('data-document-id') ?? '',
        title: title?.textContent?.trim() ?? '',
        href: title?.getAttribute('href') ?? null,
        url: r.querySelector('[data-testid="citation-url"]')?.textContent?.trim() ?? '',
        snippet: r.querySelector('[data-testid="citation-snippet"]')?.textContent?.trim() ?? '',
      };
    }),
  );
}
