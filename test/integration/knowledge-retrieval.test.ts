/**
 * Authorization-filtered retrieval against the real pieces: the OpenFGA-compatible server (through @openfga/sdk),
 * PGlite with pgvector, the offline embedder. Sharing with users, groups and the organisation, folder inheritance,
 * both strategies, and F1 / F2 / F4 of the security tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFgaServer } from '../../backend/emulators/fga/server';
import type { CreateDocumentRequest } from '../../lib/protocol';
import { Directory } from '../../backend/src/knowledge/directory';
import { DocumentStore } from '../../backend/src/knowledge/document-store';
import { HashingEmbedder } from '../../backend/src/knowledge/embedder';
import { FgaClient } from '../../backend/src/knowledge/fga-client';
import { connectFga, ensureFgaStore, seedDemoOrganisation } from '../../backend/src/knowledge/fga-setup';
import { KnowledgeBase } from '../../backend/src/knowledge/knowledge-base';
import { AllowedDocumentsCache, AuthorizedRetriever, RetrievalUnavailableError } from '../../backend/src/knowledge/retriever';
import { openStore, type Store } from '../../backend/src/store/database';
import { ThreadStore } from '../../backend/src/store/threads';
import { type FgaProxy, startFgaProxy } from '../helpers/fga-proxy';

const ALICE = 'auth0|alice-kb';
const BOB = 'auth0|bob-kb';
const CAROL = 'auth0|carol-kb';
const MALLORY = 'auth0|mallory-kb'; // in no organisation and no group

let fgaServer: Awaited<ReturnType<typeof startFgaServer>>;
let proxy: FgaProxy;
let store: Store;
let fga: FgaClient;
let kb: KnowledgeBase;
let retriever: AuthorizedRetriever;
const embedder = new HashingEmbedder();

const doc = (title: string, text: string, extra: Partial<CreateDocumentRequest> = {}): CreateDocumentRequest => ({ title, source: 'upload', contentType: 'text/plain', text, ...extra });
const titles = async (sub: string, q: string, strategy?: 'pre' | 'post') => (await retriever.retrieve(sub, q, { k: 5, strategy })).hits.map((h) => h.title);

beforeAll(async () => {
  fgaServer = await startFgaServer({ port: 0 });
  proxy = await startFgaProxy(fgaServer.url);
  store = await openStore({ pgliteDir: 'memory://' });
  const threads = new ThreadStore(store.db);
  for (const [sub, email, name] of [[ALICE, 'alice@kb.test', 'Alice'], [BOB, 'bob@kb.test', 'Bob'], [CAROL, 'carol@kb.test', 'Carol'], [MALLORY, 'mallory@kb.test', 'Mallory']]) {
    await threads.touchUser({ sub, email, name });
  }
  ({ fga } = await connectFga({ apiUrl: proxy.url, timeoutMs: 400 }));
  await seedDemoOrganisation(fga, [{ sub: ALICE, username: 'alice' }, { sub: BOB, username: 'bob' }, { sub: CAROL, username: 'carol' }]);
  const cache = new AllowedDocumentsCache();
  retriever = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga, embedder, cache });
  kb = new KnowledgeBase({ db: store.db, fga, embedder, directory: new Directory(store.db), cache });
});

afterAll(async () => {
  await store?.close();
  await proxy?.close();
  await fgaServer?.close();
});

describe('FGA setup', () => {
  it('finds the store and does not write the model again when it has not changed', async () => {
    const again = await ensureFgaStore({ apiUrl: fgaServer.url, timeoutMs: 1000 });
    expect(again.storeId).toBe(fga.storeId);
    expect(again.createdStore).toBe(false);
    expect(again.wroteModel).toBe(false);
  });
});

describe('sharing decides what retrieval returns', () => {
  it('a new document is its owner’s only, until shared with a user', async () => {
    const d = await kb.create(ALICE, doc('Pelican budget', 'The pelican project budget is 40000 euros for the first year, approved in March.'));
    expect(d.role).toBe('owner');
    expect(await titles(ALICE, 'pelican budget')).toContain('Pelican budget');
    expect(await titles(BOB, 'pelican budget')).not.toContain('Pelican budget');
    await kb.share(ALICE, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    expect(await titles(BOB, 'pelican budget')).toContain('Pelican budget');
    expect(await titles(CAROL, 'pelican budget')).not.toContain('Pelican budget');
    expect((await kb.get(BOB, d.id)).role).toBe('viewer');
  });

  it('shared with a group: its members see it, others do not', async () => {
    const d = await kb.create(ALICE, doc('Walrus design', 'The walrus service design uses event sourcing and a nightly compaction job.'));
    await kb.share(ALICE, 'document', d.id, { subject: { type: 'group', id: 'engineering' }, relation: 'viewer' });
    expect(await titles(BOB, 'walrus design')).toContain('Walrus design');
    expect(await titles(CAROL, 'walrus design')).not.toContain('Walrus design');
    // One can only share with a group one is in.
    await expect(kb.share(CAROL, 'document', (await kb.create(CAROL, doc('Carol note', 'Carol writes about the walrus too.'))).id, { subject: { type: 'group', id: 'engineering' }, relation: 'viewer' })).rejects.toMatchObject({ code: 'unknown_group' });
  });

  it('shared with the organisation: every member sees it, outsiders do not', async () => {
    const d = await kb.create(BOB, doc('Holiday policy', 'The office holiday policy: the office closes between Christmas and New Year.'));
    await kb.share(BOB, 'document', d.id, { subject: { type: 'organization' }, relation: 'viewer' });
    expect(await titles(CAROL, 'office holiday policy')).toContain('Holiday policy');
    expect(await titles(MALLORY, 'office holiday policy')).toEqual([]);
  });

  it('folder inheritance: a document in a shared folder is visible, also in a sub-folder', async () => {
    const parent = await kb.createFolder(ALICE, { name: 'Research' });
    const child = await kb.createFolder(ALICE, { name: 'Birds', parentId: parent.id });
    const d = await kb.create(ALICE, doc('Heron field notes', 'Heron field notes: the grey heron nests near the northern lake in April.', { folderId: child.id }));
    expect(await titles(CAROL, 'heron nests')).not.toContain('Heron field notes');
    await kb.share(ALICE, 'folder', parent.id, { subject: { type: 'user', email: 'carol@kb.test' }, relation: 'viewer' });
    expect(await titles(CAROL, 'heron nests')).toContain('Heron field notes');
    expect((await kb.get(CAROL, d.id)).role).toBe('viewer');
    expect((await kb.listFolders(CAROL)).map((f) => f.name).sort()).toEqual(['Birds', 'Research']);
    // A viewer may not save into the folder; a stranger does not learn it exists.
    await expect(kb.create(CAROL, doc('Sneaky', 'text', { folderId: child.id }))).rejects.toMatchObject({ status: 404 });
  });

  it('a user without access is told the document does not exist (404), not that it is forbidden', async () => {
    const d = await kb.create(ALICE, doc('Secret merger', 'The secret merger with Osprey Ltd closes in May.'));
    await expect(kb.get(MALLORY, d.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(kb.listShares(MALLORY, 'document', d.id)).rejects.toMatchObject({ status: 404 });
    await expect(kb.delete(MALLORY, d.id)).rejects.toMatchObject({ status: 404 });
    await expect(kb.share(ALICE, 'document', d.id, { subject: { type: 'user', email: 'nobody@kb.test' }, relation: 'viewer' })).rejects.toMatchObject({ status: 404, code: 'unknown_user' });
  });
});

describe('two strategies, one answer', () => {
  it('pre-filter and post-filter return the same authorized top-k', async () => {
    const topics = ['kestrel', 'falcon', 'osprey', 'puffin', 'gannet', 'curlew', 'plover', 'dunlin'];
    for (let i = 0; i < 40; i++) {
      const owner = [ALICE, BOB, CAROL][i % 3];
      const t = topics[i % topics.length];
      const d = await kb.create(owner, doc(`${t} report ${i}`, `Report ${i} on the ${t}. The ${t} population was counted in survey ${i}. Observers noted ${topics[(i + 3) % 8]} nearby.`));
      if (i % 4 === 0) await kb.share(owner, 'document', d.id, { subject: { type: 'organization' }, relation: 'viewer' });
      if (i % 5 === 1 && owner !== BOB) await kb.share(owner, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    }
    for (const sub of [ALICE, BOB, CAROL, MALLORY]) {
      for (const q of ['kestrel population survey', 'osprey observers', 'falcon report 17', 'puffin']) {
        const pre = await retriever.retrieve(sub, q, { k: 8, strategy: 'pre' });
        const post = await retriever.retrieve(sub, q, { k: 8, strategy: 'post' });
        expect(pre.strategy).toBe('pre');
        expect(post.strategy).toBe('post');
        expect(post.hits.map((h) => [h.documentId, h.chunkIndex])).toEqual(pre.hits.map((h) => [h.documentId, h.chunkIndex]));
      }
    }
    // And every hit is one the user may view.
    const bobHits = await retriever.retrieve(BOB, 'kestrel falcon osprey', { k: 20 });
    const allowed = await fga.batchCheck(bobHits.hits.map((h) => ({ user: `user:${BOB}`, relation: 'viewer', object: `document:${h.documentId}` })));
    expect(allowed.every(Boolean)).toBe(true);
    expect((await retriever.retrieve(MALLORY, 'kestrel falcon osprey', { k: 20 })).hits).toEqual([]);
  });

  it('chooses post-filter when the user can see most of the corpus, pre-filter when little', async () => {
    const fresh = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga, embedder });
    expect(await fresh.chooseStrategy(MALLORY)).toBe('pre'); // unknown reach: pre-filter measures it
    await fresh.retrieve(MALLORY, 'anything', { k: 3 });
    expect(await fresh.chooseStrategy(MALLORY)).toBe('pre'); // sees nothing
    // Share everything with the organisation: Carol can now see the whole corpus.
    const all = await kb.list(ALICE);
    for (const d of all.filter((x) => x.role === 'owner')) await kb.share(ALICE, 'document', d.id, { subject: { type: 'organization' }, relation: 'viewer' });
    for (const d of (await kb.list(BOB)).filter((x) => x.role === 'owner')) await kb.share(BOB, 'document', d.id, { subject: { type: 'organization' }, relation: 'viewer' });
    await fresh.retrieve(CAROL, 'anything', { k: 3, strategy: 'pre' });
    expect(await fresh.chooseStrategy(CAROL)).toBe('post');
  });
});

describe('F1-F4', () => {
  it('F1 revoking a share: the very next retrieval excludes the document', async () => {
    const d = await kb.create(ALICE, doc('Albatross roadmap', 'The albatross roadmap: beta in June, general availability in September.'));
    await kb.share(ALICE, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    for (const strategy of ['pre', 'post'] as const) expect(await titles(BOB, 'albatross roadmap', strategy)).toContain('Albatross roadmap');
    await kb.revoke(ALICE, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    for (const strategy of ['pre', 'post'] as const) expect(await titles(BOB, 'albatross roadmap', strategy)).not.toContain('Albatross roadmap');
    expect(await titles(ALICE, 'albatross roadmap')).toContain('Albatross roadmap');
  });

  it('F1 removing a user from a group revokes what the group could see', async () => {
    const d = await kb.create(ALICE, doc('Cormorant incident', 'Cormorant incident review: the outage lasted 42 minutes.'));
    await kb.share(ALICE, 'document', d.id, { subject: { type: 'group', id: 'engineering' }, relation: 'viewer' });
    expect(await titles(BOB, 'cormorant incident outage')).toContain('Cormorant incident');
    await fga.write([], [{ user: `user:${BOB}`, relation: 'member', object: 'group:engineering' }]);
    expect(await titles(BOB, 'cormorant incident outage')).not.toContain('Cormorant incident');
    await fga.write([{ user: `user:${BOB}`, relation: 'member', object: 'group:engineering' }]);
  });

  it('F2 FGA unreachable: retrieval fails closed with retrieval_unavailable and returns no documents', async () => {
    proxy.mode = { kind: 'down' };
    try {
      for (const strategy of ['pre', 'post'] as const) {
        const err = await retriever.retrieve(ALICE, 'pelican budget', { strategy }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RetrievalUnavailableError);
        expect((err as RetrievalUnavailableError).code).toBe('retrieval_unavailable');
      }
      await expect(kb.list(ALICE)).rejects.toMatchObject({ status: 503, code: 'authorization_unavailable' });
    } finally {
      proxy.mode = { kind: 'up' };
    }
  });

  it('F2 FGA slow: past the deadline retrieval fails closed, even with a warm cache', async () => {
    await retriever.retrieve(ALICE, 'pelican budget', { strategy: 'pre' }); // warms Alice's cache
    proxy.mode = { kind: 'slow', delayMs: 1500 };
    try {
      const started = Date.now();
      const err = await retriever.retrieve(ALICE, 'pelican budget', { strategy: 'pre' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetrievalUnavailableError);
      expect(Date.now() - started).toBeLessThan(1400);
    } finally {
      proxy.mode = { kind: 'up' };
    }
    expect(await titles(ALICE, 'pelican budget')).toContain('Pelican budget');
  });

  it('F4 caches are per user: one user’s cached list never answers for another', async () => {
    const d = await kb.create(CAROL, doc('Carol private diary', 'Carol private diary entry about the flamingo festival.'));
    expect((await retriever.retrieve(CAROL, 'flamingo festival', { strategy: 'pre' })).hits.map((h) => h.documentId)).toContain(d.id);
    const bob = await retriever.retrieve(BOB, 'flamingo festival', { strategy: 'pre' });
    expect(bob.hits.map((h) => h.documentId)).not.toContain(d.id);
  });

  it('F4 a revoked document is not served from a cache, even one another instance filled', async () => {
    // A second backend instance: its own cache, same database and FGA. It serves Bob first (cache warm).
    const other = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga, embedder });
    const d = await kb.create(ALICE, doc('Sandpiper contract', 'The sandpiper contract renews automatically every January.'));
    await kb.share(ALICE, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    const warm = await other.retrieve(BOB, 'sandpiper contract', { strategy: 'pre' });
    expect(warm.hits.map((h) => h.documentId)).toContain(d.id);
    expect(other.cache.get(BOB)).toContain(d.id);
    // Revoked through this instance: the other one's cache still lists it, but nothing is served from it.
    await kb.revoke(ALICE, 'document', d.id, { subject: { type: 'user', email: 'bob@kb.test' }, relation: 'viewer' });
    const after = await other.retrieve(BOB, 'sandpiper contract', { strategy: 'pre' });
    expect(after.hits.map((h) => h.documentId)).not.toContain(d.id);
    expect(after.hits.map((h) => h.title)).not.toContain('Sandpiper contract');
    // And this instance dropped its caches on the revoke.
    expect(retriever.cache.get(BOB)).toBeUndefined();
  });
});
