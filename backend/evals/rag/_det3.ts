import { startFgaServer } from '../../emulators/fga/server';
import { Corpus, userSub } from './corpus';
import { loadFga, loadStore } from './load';
import { DocumentStore } from '../../src/knowledge/document-store';
import { HashingEmbedder } from '../../src/knowledge/embedder';
import { FgaClient } from '../../src/knowledge/fga-client';
import { connectFga } from '../../src/knowledge/fga-setup';
import { AuthorizedRetriever } from '../../src/knowledge/retriever';
import { openStore } from '../../src/store/database';
const srv = await startFgaServer({ port: 0 });
const store = await openStore({ pgliteDir: 'memory://' });
const corpus = new Corpus({ chunks: 20000, docs: 2000, users: 200, groups: 20, publicDocs: 800, seed: 1 });
const emb = new HashingEmbedder();
const { fga } = await connectFga({ apiUrl: srv.url, timeoutMs: 30000, storeName: 'probe' });
await loadFga(fga, corpus);
await loadStore(store.db, corpus, emb, { maintenanceWorkMem: '1GB' });
const fga2 = new FgaClient({ apiUrl: srv.url, timeoutMs: 2000, storeId: fga.storeId, modelId: fga.options.modelId });
const A = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga, embedder: emb });
const B = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga: fga2, embedder: emb });
const qs = corpus.queries(220);
let diff = 0;
for (let i = 0; i < qs.length; i++) {
  const q = qs[i]; const sub = userSub(q.user);
  await B.retrieve(sub, qs[(i + 1) % qs.length].text, { k: 10, strategy: 'auto' });
  const b = await B.retrieve(sub, q.text, { k: 10, strategy: 'auto' });
  const a = await A.retrieve(sub, q.text, { k: 10, strategy: 'post' });
  const ka = a.hits.map((h) => h.documentId.slice(0, 6) + '/' + h.chunkIndex).join(' '), kb = b.hits.map((h) => h.documentId.slice(0, 6) + '/' + h.chunkIndex).join(' ');
  if (ka !== kb) { diff++; if (diff <= 3) console.log(i, b.strategy, 'A', a.fgaCalls, a.examined, ka, '\nB', b.fgaCalls, b.examined, kb); }
}
console.log('diff', diff, 'of', qs.length);
await store.close(); await srv.close();
