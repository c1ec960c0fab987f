import { sql } from 'kysely';
import { Corpus } from './corpus';
import { loadStore } from './load';
import { HashingEmbedder, toVectorLiteral } from '../../src/knowledge/embedder';
import { toOrQuery } from '../../src/knowledge/document-store';
import { openStore } from '../../src/store/database';
const N = Number(process.argv[2] ?? 2000);
const store = await openStore({ pgliteDir: 'memory://' });
const corpus = new Corpus({ chunks: N * 10, docs: N, users: N / 10, groups: 20, publicDocs: 5, seed: 1 });
const emb = new HashingEmbedder();
if (process.argv[3]) await sql.raw(`alter table kb_chunks alter column embedding set storage ${process.argv[3]}`).execute(store.db);
console.log(await loadStore(store.db, corpus, emb, { maintenanceWorkMem: '1GB' }));
for (const q of corpus.queries(3)) {
  const ids = [...corpus.visibleDocuments(q.user)].map((d) => corpus.documents[d].id);
  const [e] = await emb.embed([q.text]);
  const v = toVectorLiteral(e);
  const show = (r: { rows: unknown[] }) => console.log((r.rows as any[]).map((x) => x['QUERY PLAN']).join('\n').replace(/\[[^\]]{100,}\]/g, '[vec]').replace(/\{[0-9a-f,-]{200,}\}/g, '{ids}'));
  show(await sql`explain (analyze, buffers) select id, document_id, idx from kb_chunks
        where document_id = any(${ids}::uuid[]) and embedding <=> ${v}::vector <= ${0.9}
        order by (embedding <=> ${v}::vector) + 0, id limit 20`.execute(store.db));
  show(await sql`explain (analyze, buffers) select id, document_id, idx from kb_chunks, to_tsquery('english', ${toOrQuery(q.text)!}) q
      where tsv @@ q and document_id = any(${ids}::uuid[])
      order by ts_rank_cd(tsv, q) desc, id limit 20`.execute(store.db));
}
await store.close();
