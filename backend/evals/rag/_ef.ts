import { sql } from 'kysely';
import { Corpus } from './corpus';
import { loadStore } from './load';
import { HashingEmbedder, toVectorLiteral } from '../../src/knowledge/embedder';
import { openStore } from '../../src/store/database';
const N = Number(process.argv[2] ?? 2000);
const store = await openStore({ pgliteDir: 'memory://' });
const corpus = new Corpus({ chunks: N * 10, docs: N, users: N / 10, groups: 20, publicDocs: 5, seed: 1 });
const emb = new HashingEmbedder();
await loadStore(store.db, corpus, emb, { maintenanceWorkMem: '1GB' });
const qs = corpus.queries(60);
const q40 = async (v: string, ef: number | null) => store.db.transaction().execute(async (trx) => {
  if (ef === null) { await sql.raw('set local enable_indexscan = off').execute(trx); }
  else { await sql.raw(`set local hnsw.ef_search = ${ef}`).execute(trx); await sql.raw('set local enable_seqscan = off').execute(trx); }
  const r = await sql<{ id: string }>`select id from kb_chunks where embedding <=> ${v}::vector <= 0.9 order by embedding <=> ${v}::vector limit 40`.execute(trx);
  return r.rows.map((x) => String(x.id));
});
const exact = new Map<string, string[]>();
for (const q of qs) { const [e] = await emb.embed([q.text]); exact.set(q.text, await q40(toVectorLiteral(e), null)); }
for (const ef of [100, 200, 400, 1000]) {
  let hit = 0, tot = 0; const t = performance.now();
  for (const q of qs) { const [e] = await emb.embed([q.text]); const got = new Set(await q40(toVectorLiteral(e), ef)); const want = exact.get(q.text)!; tot += want.length; hit += want.filter((x) => got.has(x)).length; }
  console.log('ef', ef, 'recall@40', (hit / tot).toFixed(4), 'ms/query', ((performance.now() - t) / qs.length).toFixed(1));
}
await store.close();
