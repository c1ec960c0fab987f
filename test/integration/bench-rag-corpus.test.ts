/**
 * The retrieval benchmark's ground truth must be right, or its recall figures mean nothing: the generator's own
 * answer to "which documents may this user view?" must equal FGA's on the same tuples, and the exact authorized
 * top-k must be what the product's pre-filter returns on a tiny corpus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FgaServer, startFgaServer } from '../../backend/emulators/fga/server';
import { exactTop, naivePerDocument, topKThenFilter } from '../../backend/evals/rag/baselines';
import { Corpus, userSub } from '../../backend/evals/rag/corpus';
import { loadFga, loadStore } from '../../backend/evals/rag/load';
import { DocumentStore } from '../../backend/src/knowledge/document-store';
import { HashingEmbedder } from '../../backend/src/knowledge/embedder';
import { type FgaClient, fgaUser } from '../../backend/src/knowledge/fga-client';
import { connectFga } from '../../backend/src/knowledge/fga-setup';
import { AuthorizedRetriever } from '../../backend/src/knowledge/retriever';
import { openStore, type Store } from '../../backend/src/store/database';

const spec = { chunks: 400, docs: 60, users: 30, groups: 5, publicDocs: 2, seed: 7 };

describe('bench:rag corpus', () => {
  let fgaServer: FgaServer;
  let store: Store;
  let fga: FgaClient;
  const corpus = new Corpus(spec);
  const embedder = new HashingEmbedder();

  beforeAll(async () => {
    fgaServer = await startFgaServer({ port: 0 });
    store = await openStore({ pgliteDir: 'memory://' });
    fga = (await connectFga({ apiUrl: fgaServer.url, timeoutMs: 10_000, storeName: 'bench-rag-test' })).fga;
    await loadFga(fga, corpus);
    await loadStore(store.db, corpus, embedder, { maintenanceWorkMem: '64MB' });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await fgaServer?.close();
  });

  it('is deterministic for a seed and different for another', () => {
    const again = new Corpus(spec);
    expect(again.tuples).toEqual(corpus.tuples);
    expect(again.chunkTexts(3)).toEqual(corpus.chunkTexts(3));
    expect(again.queries(5)).toEqual(corpus.queries(5));
    expect(new Corpus({ ...spec, seed: 8 }).tuples).not.toEqual(corpus.tuples);
    expect(corpus.documents.reduce((a, d) => a + d.chunkCount, 0)).toBe(spec.chunks);
  });

  it("FGA's list-objects equals the generator's visible documents for every user", async () => {
    let sharedWithOthers = 0;
    for (let u = 0; u < spec.users; u++) {
      const truth = [...corpus.visibleDocuments(u)].map((d) => corpus.documents[d].id).sort();
      const listed = (await fga.listObjects(fgaUser(userSub(u)), 'viewer', 'document')).sort();
      expect(listed, `user ${u}`).toEqual(truth);
      sharedWithOthers += truth.filter((id) => corpus.documents.find((d) => d.id === id)!.owner !== u).length;
    }
    // Selective, but not trivially so: people see documents they do not own.
    expect(sharedWithOthers).toBeGreaterThan(0);
    expect(corpus.visibleDocuments(0).size).toBeLessThan(spec.docs);
  });

  it('the exact authorized top-k is what pre-filtering returns; baselines never return what the user may not see', async () => {
    const documents = new DocumentStore(store.db);
    const retriever = new AuthorizedRetriever({ documents, fga, embedder });
    const ids = async (chunkIds: string[]) =>
      (await store.db.selectFrom('kb_chunks').select(['id', 'document_id', 'idx']).where('id', 'in', chunkIds.length ? chunkIds : ['0']).execute())
        .map((r) => `${r.document_id}/${r.idx}`)
        .sort();
    for (const q of corpus.queries(8)) {
      const visible = [...corpus.visibleDocuments(q.user)].map((d) => corpus.documents[d].id);
      const exact = await ids(await exactTop(documents, embedder, visible, q.text, 10));
      const pre = await retriever.retrieve(userSub(q.user), q.text, { k: 10, strategy: 'pre' });
      expect(pre.hits.map((h) => `${h.documentId}/${h.chunkIndex}`).sort()).toEqual(exact);
      for (const r of [await naivePerDocument(documents, fga, embedder, userSub(q.user), q.text, 10), await topKThenFilter(documents, fga, embedder, userSub(q.user), q.text, 10)]) {
        expect(r.documentIds.every((d) => visible.includes(d))).toBe(true);
      }
    }
  });
});
