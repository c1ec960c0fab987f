/**
 * The knowledge base, end to end: the built extension in two Chromium profiles (alice and bob) against the whole local
 * stack (IdP emulator, backend with the knowledge base and the OpenFGA-compatible server, offline model).
 *
 * Alice opens a page served on loopback, opens the side panel with the toolbar button and clicks "Save page"; she
 * asks about it → the answer cites it (title, link, snippet). Bob asks the same → nothing from it: no fact, no title, no sources, and his Knowledge view lists nothing
 * (not even a count). Alice shares it with bob → bob's answer cites it and his view lists it with alice as owner and
 * him as viewer. Alice revokes → bob gets nothing again. Alice deletes it → her own answers stop citing it. Files are
 * added from the Knowledge view's picker (an HTML file, a refused PNG).
 *
 * Screenshots: test-output/e2e/knowledge-*.png.
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
import { ORBIT_PAGE, type PageServer, servePages } from '../helpers/knowledge-page';
import { dismissPageNotice, openSidePanelBeside, savePageFromSidePanel, type SidePanelBesidePage, uploadPageAsFile } from '../helpers/knowledge-save';
import {
  openKnowledge,
  chooseUploadFolder,
  closeKnowledge,
  createFolder,
  listFolders,
  openFolderShareDialog,
  shareFolderWith,
  closeShareDialog,
  lastAnswerCitations,
  listDocuments,
  listedShares,
  openShareDialog,
  revokeShare,
  shareWith,
  uploadFile,
} from '../helpers/knowledge-panel';
import { ask, newConversation, signIn } from '../helpers/panel';
import { tinyPdf } from '../helpers/tiny-pdf';

const SHOTS = path.join(REPO_ROOT, 'test-output/e2e');

let stack: Awaited<ReturnType<typeof startStack>>;
let pages: PageServer;
let dataDir: string;
let aliceSide: SidePanelBesidePage;
let aliceExt: ExtensionSession;
let bobExt: ExtensionSession;
let alice: Page;
let bob: Page;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `knowledge-${name}.png`) });
}

/** Asks in a new conversation (so earlier answers cannot carry the fact) and returns the answer and its sources. */
async function askFresh(panel: Page, question = ORBIT_PAGE.question) {
  await closeKnowledge(panel);
  await dismissPageNotice(panel);
  await newConversation(panel);
  const answer = await ask(panel, question);
  const citations = await lastAnswerCitations(panel);
  const tools = await panel.locator('[data-testid="tool-call"]').evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
  return { text: answer.text, citations, tools };
}

beforeAll(async () => {
  if (!existsSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'))) {
    execFileSync('npx', ['wxt', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  await mkdir(SHOTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'deputy-e2e-knowledge-'));
  pages = await servePages();
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 5, env: {} });
  // Alice: the page in a tab, the real side panel beside it (toolbar button). Bob: the panel document in a tab.
  aliceSide = await openSidePanelBeside(stack.backendUrl, pages.url);
  aliceExt = aliceSide.ext;
  alice = aliceSide.panel;
  bobExt = await launchWithExtension({ backendUrl: stack.backendUrl });
  bob = await bobExt.openPanel();
  await signIn(alice, aliceExt.context, stack.users.find((u) => u.email === 'alice@example.com')!);
  await signIn(bob, bobExt.context, stack.users.find((u) => u.email === 'bob@example.com')!);
});

afterAll(async () => {
  await aliceSide?.close();
  await bobExt?.close();
  await stack?.close();
  await pages?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('knowledge base: save, cite, share, revoke', () => {
  /** What bob saw while alice's document existed and was not shared with him. */
  let bobBlind: Awaited<ReturnType<typeof askFresh>>;
  it('a file the knowledge base cannot take is refused in the panel with a clear reason, and nothing is added', async () => {
    const refused = await uploadFile(alice, { name: 'diagram.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
    expect(refused.state).toBe('failed');
    expect(refused.message).toContain('“diagram.png” cannot be added: only text (.txt), Markdown (.md), HTML (.html) and PDF (.pdf) files can.');
    expect(await listDocuments(alice)).toEqual([]);
  });

  it('alice saves the page beside the panel ("Save page"); her Knowledge view lists it as hers, with its link', async () => {
    // The Knowledge view is open (and empty) while she saves: it shows the page without a refresh.
    await openKnowledge(alice);
    await alice.getByTestId('documents-empty').waitFor();
    const saved = await savePageFromSidePanel(alice);
    expect(saved.message).toContain(ORBIT_PAGE.title);
    await alice.locator('[data-testid="document"]').getByText(ORBIT_PAGE.title).waitFor({ timeout: 10_000 });
    await shot(alice, '01-alice-saved-page');
    const docs = await listDocuments(alice);
    expect(docs).toEqual([expect.objectContaining({ title: ORBIT_PAGE.title, role: 'owner', owner: 'You' })]);
    const row = alice.locator('[data-testid="document"]').first();
    expect(await row.getByTestId('document-url').getAttribute('href')).toBe(pages.url);
    expect(await row.textContent()).toContain('Saved page');
    await shot(alice, '02-alice-knowledge');
  });

  it('alice asks about it → the answer uses it and cites it (title, link, snippet)', async () => {
    const answer = await askFresh(alice);
    expect(answer.text).toContain(ORBIT_PAGE.codeName);
    expect(answer.citations).toHaveLength(1);
    const [c] = answer.citations;
    expect(c!.title).toBe(ORBIT_PAGE.title);
    expect(c!.snippet).toContain(ORBIT_PAGE.codeName);
    // The link and its target, visible.
    expect(c!.href).toBe(pages.url);
    expect(c!.url).toBe(pages.url);
    await shot(alice, '03-alice-answer-cites');
  });

  it('bob asks the same → nothing from it: no fact, no title, no sources, no count; his Knowledge view is empty', async () => {
    const answer = await askFresh(bob);
    bobBlind = answer;
    expect(answer.text).not.toContain(ORBIT_PAGE.codeName);
    expect(answer.text).not.toContain(ORBIT_PAGE.title);
    expect(answer.citations).toEqual([]);
    for (const row of answer.tools) {
      expect(row).not.toContain(ORBIT_PAGE.title);
      expect(row).not.toContain(ORBIT_PAGE.codeName);
      // F3: what bob sees of the search is what a search of an empty knowledge base shows (no "1 document", no "hidden").
      expect(row).not.toMatch(/\b[1-9]\d* (documents?|passages?|results?|chunks?)\b/i);
    }
    expect(await bob.locator('[data-testid="citations"]').count()).toBe(0);
    await shot(bob, '04-bob-nothing');
    expect(await listDocuments(bob)).toEqual([]);
  });

  it('alice shares it with bob as viewer → the dialog lists bob', async () => {
    await shareWith(alice, ORBIT_PAGE.title, { email: 'bob@example.com' }, 'viewer');
    expect(await listedShares(alice)).toContain('user:bob@example.com#viewer');
    await shot(alice, '05-alice-shared');
    await closeShareDialog(alice);
  });

  it('bob now sees it as a viewer, owned by alice, and his answer cites it', async () => {
    const docs = await listDocuments(bob);
    expect(docs).toEqual([expect.objectContaining({ title: ORBIT_PAGE.title, role: 'viewer', owner: expect.stringContaining('Alice') })]);
    // A viewer can neither share nor delete it.
    expect(await bob.locator('[data-testid="document-share"], [data-testid="document-delete"]').count()).toBe(0);
    await shot(bob, '06-bob-knowledge-shared');
    const answer = await askFresh(bob);
    expect(answer.text).toContain(ORBIT_PAGE.codeName);
    expect(answer.citations.map((c) => c.title)).toEqual([ORBIT_PAGE.title]);
    await shot(bob, '07-bob-answer-cites');
  });

  it('alice revokes bob’s access → bob gets nothing from it again', async () => {
    await openShareDialog(alice, ORBIT_PAGE.title);
    await revokeShare(alice, 'user:bob@example.com', 'viewer');
    expect(await listedShares(alice)).not.toContain('user:bob@example.com#viewer');
    await closeShareDialog(alice);
    const answer = await askFresh(bob);
    expect(answer.text).not.toContain(ORBIT_PAGE.codeName);
    expect(answer.citations).toEqual([]);
    await shot(bob, '08-bob-revoked');
    expect(await listDocuments(bob)).toEqual([]);
  });

  it('the server’s refusals show in the share dialog in its own words, and grant nothing', async () => {
    await openShareDialog(alice, ORBIT_PAGE.title);
    const tryShare = async (target: 'user' | 'group', value: string) => {
      await alice.getByTestId('share-target').selectOption(target);
      await alice.getByTestId('share-value').fill(value);
      await alice.getByTestId('share-submit').click();
      const err = alice.locator('[data-testid="share-dialog"] [data-testid="error"]');
      await err.waitFor({ timeout: 15_000 });
      const text = (await err.textContent()) ?? '';
      await err.getByRole('button', { name: 'Dismiss' }).click();
      return text;
    };
    // Nobody by that address has used Deputy; alice is not in a group called sales.
    expect(await tryShare('user', 'carol@example.com')).toContain('Nobody with the e-mail carol@example.com has signed in to Deputy yet.');
    expect(await tryShare('group', 'sales')).toContain('You are not a member of a group called sales.');
    // A malformed address never leaves the panel.
    await alice.getByTestId('share-target').selectOption('user');
    await alice.getByTestId('share-value').fill('bob');
    await alice.getByTestId('share-submit').click();
    expect(await alice.getByTestId('share-form-error').textContent()).toBe('“bob” is not an e-mail address.');
    expect(await listedShares(alice)).toEqual([expect.stringMatching(/#owner$/)]);
    await closeShareDialog(alice);
  });

  it('alice shares it with her group (engineering, bob is in it) → bob’s answer cites it; she removes the group → gone', async () => {
    await shareWith(alice, ORBIT_PAGE.title, { group: 'engineering' }, 'viewer');
    expect(await listedShares(alice)).toContain('group:engineering#viewer');
    await closeShareDialog(alice);
    const shared = await askFresh(bob);
    expect(shared.citations.map((c) => c.title)).toEqual([ORBIT_PAGE.title]);
    await openShareDialog(alice, ORBIT_PAGE.title);
    await revokeShare(alice, 'group:engineering', 'viewer');
    await closeShareDialog(alice);
    const revoked = await askFresh(bob);
    expect(revoked.citations).toEqual([]);
    expect(revoked.text).not.toContain(ORBIT_PAGE.codeName);
  });

  it('the sources of an answer are kept in local history: they are still there after reopening the panel', async () => {
    await closeKnowledge(alice);
    await newConversation(alice);
    await ask(alice, ORBIT_PAGE.question);
    expect((await lastAnswerCitations(alice)).map((c) => c.title)).toEqual([ORBIT_PAGE.title]);
    // Another panel of the same profile shows the conversation from local history, sources included.
    const again = await aliceExt.openPanel();
    try {
      await again.getByTestId('profile-name').waitFor();
      await again.locator('[data-testid="citation"]').first().waitFor({ timeout: 15_000 });
      expect((await lastAnswerCitations(again)).map((c) => c.title)).toEqual([ORBIT_PAGE.title]);
    } finally {
      await again.close();
    }
  });

  it('alice deletes it (after confirming) → it is gone from her list and her answers', async () => {
    await listDocuments(alice);
    await alice.getByTestId('document-delete').click();
    await alice.getByTestId('document-delete-confirm').click();
    await alice.getByTestId('documents-empty').waitFor({ timeout: 15_000 });
    const answer = await askFresh(alice);
    expect(answer.text).not.toContain(ORBIT_PAGE.codeName);
    expect(answer.citations).toEqual([]);
  });

  it('F3: what bob saw while the document existed is exactly what he sees now that it does not exist at all', async () => {
    const now = await askFresh(bob);
    expect(now.text).toBe(bobBlind.text);
    expect(now.tools).toEqual(bobBlind.tools);
    expect(now.citations).toEqual([]);
  });

  it('alice adds the same page as an HTML file from the Knowledge view → listed as an upload, and cited again', async () => {
    await uploadPageAsFile(alice, pages.url);
    const docs = await listDocuments(alice);
    expect(docs).toEqual([expect.objectContaining({ title: ORBIT_PAGE.title, role: 'owner' })]);
    expect(await alice.locator('[data-testid="document"]').first().textContent()).toContain('HTML file');
    const answer = await askFresh(alice);
    expect(answer.text).toContain(ORBIT_PAGE.codeName);
    expect(answer.citations.map((c) => [c.title, c.href])).toEqual([[ORBIT_PAGE.title, null]]);
  });

  it('a PDF added from the panel is read (base64 → text on the server) and cited', async () => {
    const pdf = tinyPdf([['Orbit telemetry retention', 'Raw Orbit telemetry is kept for 400 days under retention class KINGFISHER.']], 'Orbit retention');
    const added = await uploadFile(alice, { name: 'Orbit retention.pdf', mimeType: 'application/pdf', buffer: pdf });
    expect(added.state).toBe('added');
    expect(added.message).toContain('“Orbit retention”');
    const row = alice.locator('[data-testid="document"]').filter({ hasText: 'Orbit retention' });
    await listDocuments(alice);
    expect(await row.textContent()).toContain('PDF file');
    const answer = await askFresh(alice, 'What does my knowledge base say about Orbit telemetry retention?');
    expect(answer.text).toContain('KINGFISHER');
    expect(answer.citations.map((c) => c.title)).toContain('Orbit retention');
  });

  it('an editor may share but not delete; a viewer may do neither', async () => {
    await shareWith(alice, 'Orbit retention', { email: 'bob@example.com' }, 'editor');
    await closeShareDialog(alice);
    const docs = await listDocuments(bob);
    expect(docs).toEqual([expect.objectContaining({ title: 'Orbit retention', role: 'editor' })]);
    const row = bob.locator('[data-testid="document"]');
    expect(await row.getByTestId('document-share').count()).toBe(1);
    expect(await row.getByTestId('document-delete').count()).toBe(0);
    // Bob opens the dialog and sees the grants (editors may); then alice takes it back.
    await row.getByTestId('document-share').click();
    await bob.getByTestId('share-list').waitFor();
    expect(await listedShares(bob)).toEqual(expect.arrayContaining(['user:bob@example.com#editor', expect.stringMatching(/#owner$/)]));
    await closeShareDialog(bob);
    await openShareDialog(alice, 'Orbit retention');
    await revokeShare(alice, 'user:bob@example.com', 'editor');
    await closeShareDialog(alice);
    expect(await listDocuments(bob)).toEqual([]);
  });

  it('folders: what alice adds to a folder she shared with bob is his to read; unsharing the folder takes it back', async () => {
    const rollout = {
      name: 'Orbit rollout drill.md',
      title: 'Orbit rollout drill',
      text: '# Orbit rollout drill\n\nThe rollback drill for the Orbit rollout is called SNOWDROP-7 and runs every Tuesday at 14:00.\n',
    };
    const question = 'What does my knowledge base say about the Orbit rollback drill?';
    await createFolder(alice, 'Launch');
    await shareFolderWith(alice, 'Launch', { email: 'bob@example.com' }, 'viewer');
    expect(await listedShares(alice)).toContain('user:bob@example.com#viewer');
    await closeShareDialog(alice);
    // Added after the folder was shared: the folder's grant covers it.
    await chooseUploadFolder(alice, 'Launch');
    const added = await uploadFile(alice, { name: rollout.name, mimeType: 'text/markdown', buffer: Buffer.from(rollout.text) });
    expect(added.state).toBe('added');
    await shot(alice, '09-alice-folder');

    expect(await listFolders(bob)).toEqual([{ name: 'Launch', role: 'viewer' }]);
    const docs = await listDocuments(bob);
    expect(docs).toEqual([expect.objectContaining({ title: rollout.title, role: 'viewer' })]);
    expect(await bob.getByTestId('document-folder').textContent()).toBe('In Launch');
    await shot(bob, '10-bob-folder-shared');
    const answer = await askFresh(bob, question);
    expect(answer.text).toContain('SNOWDROP-7');
    expect(answer.citations.map((c) => c.title)).toEqual([rollout.title]);

    await openFolderShareDialog(alice, 'Launch');
    await revokeShare(alice, 'user:bob@example.com', 'viewer');
    await closeShareDialog(alice);
    const after = await askFresh(bob, question);
    expect(after.text).not.toContain('SNOWDROP-7');
    expect(after.citations).toEqual([]);
    expect(await listDocuments(bob)).toEqual([]);
    expect(await listFolders(bob)).toEqual([]);
  });
});
