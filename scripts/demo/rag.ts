/**
 * `npm run demo -- --scenario rag`: the knowledge-base story in the real extension, with two browser profiles.
 * Alice opens a page (served on loopback), opens the side panel beside it and clicks "Save page"; she asks about it
 * → the answer cites it; bob (the runner's own browser profile) asks → nothing from it; alice shares it with bob →
 * bob's answer cites it; alice revokes → bob gets nothing again.
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { RunningStack } from '../../backend/src/stack';
import type { ExtensionSession } from '../../test/helpers/browser';
import { ORBIT_PAGE, servePages } from '../../test/helpers/knowledge-page';
import {
  closeKnowledge,
  closeShareDialog,
  lastAnswerCitations,
  listDocuments,
  openShareDialog,
  revokeShare,
  shareWith,
} from '../../test/helpers/knowledge-panel';
import { dismissPageNotice, openSidePanelBeside, savePageFromSidePanel, type SidePanelBesidePage } from '../../test/helpers/knowledge-save';
import { ask, newConversation, signIn } from '../../test/helpers/panel';

/** What the demo runner (scripts/demo.ts) gives a scenario. */
export interface RagDemoContext {
  stack: RunningStack;
  session: ExtensionSession;
  context: BrowserContext;
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  shot(page: Page, name: string): Promise<void>;
  metrics: Record<string, number>;
}

async function askFresh(panel: Page) {
  await closeKnowledge(panel);
  await dismissPageNotice(panel);
  await newConversation(panel);
  const started = Date.now();
  const answer = await ask(panel, ORBIT_PAGE.question);
  // The screenshot starts at the answer's turn (tool row, answer, sources) rather than at the end of the list.
  // Scrolls the message list only (scrollIntoView would scroll the whole document sideways when the toolbar overflows).
  await panel.locator('[data-testid="assistant-turn"]').last().evaluate((el) => {
    const list = el.closest('[data-testid="message-list"]') as HTMLElement | null;
    if (list) list.scrollTop += el.getBoundingClientRect().top - list.getBoundingClientRect().top - 8;
  });
  return { text: answer.text, citations: await lastAnswerCitations(panel), ms: Date.now() - started };
}

function expectCited(answer: Awaited<ReturnType<typeof askFresh>>, who: string) {
  if (!answer.text.includes(ORBIT_PAGE.codeName)) throw new Error(`${who}'s answer does not use the page: ${answer.text.slice(0, 200)}`);
  if (answer.citations.map((c) => c.title).join() !== ORBIT_PAGE.title) throw new Error(`${who}'s answer cites ${JSON.stringify(answer.citations)}`);
}

function expectNothing(answer: Awaited<ReturnType<typeof askFresh>>, who: string) {
  if (answer.text.includes(ORBIT_PAGE.codeName) || answer.text.includes(ORBIT_PAGE.title)) throw new Error(`${who}'s answer leaks the page`);
  if (answer.citations.length) throw new Error(`${who}'s answer cites ${JSON.stringify(answer.citations)}`);
}

export async function ragScenario(d: RagDemoContext): Promise<void> {
  const user = (prefix: string) => d.stack.users.find((u) => u.email.startsWith(prefix))!;
  const pages = await servePages();
  let aliceSide: SidePanelBesidePage | undefined;
  try {
    const alice = await d.step('alice: open the handbook page, open the side panel beside it, sign in', async () => {
      // Taller than the usual 760 px: the page bar stays under the conversation, and the answer's sources should fit.
      aliceSide = await openSidePanelBeside(d.stack.backendUrl, pages.url, { width: 400, height: 900 });
      await signIn(aliceSide.panel, aliceSide.ext.context, user('alice'));
      return aliceSide.panel;
    });
    await d.shot(aliceSide!.tab, '00-the-page');
    await d.step('alice: "Save page" → saved to her knowledge base', async () => {
      const t0 = Date.now();
      await savePageFromSidePanel(alice);
      d.metrics.savePageMs = Date.now() - t0;
    });
    await d.shot(alice, '01-alice-saved-page');
    await d.step('alice: her Knowledge view lists the page', async () => {
      const docs = await listDocuments(alice);
      if (!docs.some((x) => x.title === ORBIT_PAGE.title && x.role === 'owner')) throw new Error(`listed: ${JSON.stringify(docs)}`);
    });
    await d.shot(alice, '02-alice-knowledge');

    const a1 = await d.step('alice: ask about it → the answer cites the page', () => askFresh(alice));
    expectCited(a1, 'alice');
    d.metrics.aliceAnswerMs = a1.ms;
    await d.shot(alice, '03-alice-answer-cites');

    const bob = await d.step('bob (his own browser profile): sign in', async () => {
      const p = await d.session.openPanel();
      await signIn(p, d.context, user('bob'));
      return p;
    });
    const b1 = await d.step('bob: ask the same → nothing from alice’s page', () => askFresh(bob));
    expectNothing(b1, 'bob');
    await d.shot(bob, '04-bob-nothing');
    await d.step('bob: his Knowledge view is empty', async () => {
      const docs = await listDocuments(bob);
      if (docs.length) throw new Error(`bob sees ${JSON.stringify(docs)}`);
    });
    await d.shot(bob, '05-bob-knowledge-empty');

    await d.step('alice: share the page with bob as viewer', () => shareWith(alice, ORBIT_PAGE.title, { email: 'bob@example.com' }, 'viewer'));
    await d.shot(alice, '06-alice-share-dialog');
    await closeShareDialog(alice);

    await d.step('bob: the page is listed, owned by alice, bob viewer', async () => {
      const docs = await listDocuments(bob);
      if (!docs.some((x) => x.title === ORBIT_PAGE.title && x.role === 'viewer')) throw new Error(`bob sees ${JSON.stringify(docs)}`);
    });
    await d.shot(bob, '07-bob-knowledge-shared');
    const b2 = await d.step('bob: ask again → the answer cites alice’s page', () => askFresh(bob));
    expectCited(b2, 'bob');
    d.metrics.bobAnswerMs = b2.ms;
    await d.shot(bob, '08-bob-answer-cites');

    await d.step('alice: revoke bob’s access', async () => {
      await openShareDialog(alice, ORBIT_PAGE.title);
      await revokeShare(alice, 'user:bob@example.com', 'viewer');
    });
    await d.shot(alice, '09-alice-revoked');
    await closeShareDialog(alice);
    const b3 = await d.step('bob: ask again → nothing from it any more', () => askFresh(bob));
    expectNothing(b3, 'bob');
    await d.shot(bob, '10-bob-after-revoke');
  } finally {
    await aliceSide?.close().catch(() => {});
    await pages.close();
  }
}
