import { sql } from 'kysely';
import { startFgaServer } from '/work/main/backend/emulators/fga/server';
import { Corpus, userSub } from '/work/main/backend/evals/rag/corpus';
import { loadFga, loadStore } from '/work/main/backend/evals/rag/load';
import { DocumentStore } from '/work/main/backend/src/knowledge/document-store';
import { HashingEmbedder, toVectorLiteral } from '/work/main/backend/src/knowledge/embedder';
import { FgaClient, fgaUser } from '/work/main/backend/src/knowledge/fga-client';
import { connectFga } from '/work/main/backend/src/knowledge/fga-setup';
import { openStore } from '/work/main/backend/src/store/database';
const N = Number(process.argv[2] ?? 500);
const srv = await startFgaServer({ port: 0 });
const store = await openStore({ pgliteDir: 'memory://' });
const corpus = new Corpus({ chunks: N * 10, docs: N, users: N / 5, groups: 10, publicDocs: 3, seed: 1 });
const { fga } = await connectFga({ apiUrl: srv.url, timeoutMs: 30000, storeName: 'probe' });
await loadFga(fga, corpus);
if (process.argv[3] === 'plain') await sql.raw('alter table kb_chunks alter column embedding set storage plain').execute(store.db);
console.log((await sql.raw(`select attname, attstorage from pg_attribute where attrelid = 'kb_chunks'::regclass and attnum > 0`).execute(store.db)).rows);
const emb = new HashingEmbedder();
console.log(await loadStore(store.db, corpus, emb, { maintenanceWorkMem: '1GB' }));
console.log((await sql.raw(`select pg_relation_size('kb_chunks') heap, pg_total_relation_size(reltoastrelid) toast from pg_class where relname='kb_chunks'`).execute(store.db)).rows);
const docs = new DocumentStore(store.db);
const qs = corpus.queries(30);
const time = async (label: string, f: (q: { user: number; text: string }, e: number[]) => Promise<unknown>) => {
  const ms: number[] = [];
  for (const q of qs) { const [e] = await emb.embed([q.text]); const t = performance.now(); await f(q, e); ms.push(performance.now() - t); }
  ms.sort((a, b) => a - b);
  console.log(label.padEnd(30), 'p50', ms[15].toFixed(1), 'p90', ms[27].toFixed(1));
};
await time('embed', async (q) => emb.embed([q.text]));
await time('select 1', async () => sql`select 1`.execute(store.db));
await time('nearest global 40', async (q, e) => docs.nearest(e, 40, undefined, 0.1));
await time('nearest global 160', async (q, e) => docs.nearest(e, 160, undefined, 0.1));
//await time('hnsw no trx', async (q, e) => sql`select id, document_id, idx, embedding <=> ${toVectorLiteral(e)}::vector as distance from kb_chunks where embedding <=> ${toVectorLiteral(e)}::vector <= 0.9 order by embedding <=> ${toVectorLiteral(e)}::vector limit 40`.execute(store.db));
//await time('hnsw trx no set', async (q, e) => store.db.transaction().execute((trx) => sql`select id, document_id, idx, embedding <=> ${toVectorLiteral(e)}::vector as distance from kb_chunks where embedding <=> ${toVectorLiteral(e)}::vector <= 0.9 order by embedding <=> ${toVectorLiteral(e)}::vector limit 40`.execute(trx)));
//await time('trx set only', async (q, e) => store.db.transaction().execute((trx) => sql.raw('set local hnsw.ef_search = 100').execute(trx)));
//await time('trx empty', async (q, e) => store.db.transaction().execute((trx) => sql`select 1`.execute(trx)));
await time('fullText global 40', async (q) => docs.fullText(q.text, 40));
const allowed = new Map<number, string[]>();
for (const q of qs) allowed.set(q.user, [...corpus.visibleDocuments(q.user)].map((d) => corpus.documents[d].id));
await time('nearest within', async (q, e) => docs.nearest(e, 20, allowed.get(q.user), 0.1));
await time('fullText within', async (q) => docs.fullText(q.text, 20, allowed.get(q.user)));
await time('listObjects', async (q) => fga.listObjects(fgaUser(userSub(q.user)), 'viewer', 'document'));
await time('check', async (q) => fga.check({ user: fgaUser(userSub(q.user)), relation: 'viewer', object: `document:${corpus.documents[0].id}` }));
await time('batchCheck 10', async (q) => fga.batchCheck(corpus.documents.slice(0, 10).map((d) => ({ user: fgaUser(userSub(q.user)), relation: 'viewer', object: `document:${d.id}` }))));
{ const [e] = await emb.embed([qs[1].text]); const v = toVectorLiteral(e);
const r = await sql`explain analyze select id, document_id, idx, embedding <=> ${v}::vector as distance from kb_chunks where embedding <=> ${v}::vector <= 0.9 order by embedding <=> ${v}::vector limit 40`.execute(store.db);
console.log((r.rows as any[]).map((x) => x['QUERY PLAN']).join('\n').replace(/\[[^\]]{100,}\]/g, '[vec]'));
const r2 = await sql.raw(`explain analyze select id, document_id, idx, embedding <=> '${v}'::vector as distance from kb_chunks where embedding <=> '${v}'::vector <= 0.9 order by embedding <=> '${v}'::vector limit 40`).execute(store.db);
console.log((r2.rows as any[]).map((x) => x['QUERY PLAN']).join('\n').replace(/\[[^\]]{100,}\]/g, '[vec]'));
}
process.exit(0);
const [e] = await emb.embed([qs[0].text]);
const v = toVectorLiteral(e);
for (const text of [
  `explain analyze select id, document_id, idx, embedding <=> '${v}'::vector as distance from kb_chunks where embedding <=> '${v}'::vector <= 0.9 order by embedding <=> '${v}'::vector limit 40`,
  `explain analyze select id, document_id, idx from kb_chunks, to_tsquery('english', '${qs[0].text.split(' ').join(' | ')}') q where tsv @@ q order by ts_rank_cd(tsv, q) desc, id limit 40`,
]) { const r = await sql.raw(text).execute(store.db); console.log((r.rows as any[]).map((x) => x['QUERY PLAN']).join('\n')); }
await store.close(); await srv.close();
