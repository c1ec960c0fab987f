/**
 * Bulk loading of a benchmark corpus: rows straight into the knowledge-base tables (multi-row inserts, the search
 * indexes dropped during the load and built once at the end, which is far faster than growing an HNSW graph row by
 * row), and relationship tuples into FGA through the SDK (100 per write, OpenFGA's limit, a few writes in flight).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/store/schema';
import type { Embedder } from '../../src/knowledge/embedder';
import { toVectorLiteral } from '../../src/knowledge/embedder';
import type { FgaClient, Tuple } from '../../src/knowledge/fga-client';
import { type Corpus, userSub } from './corpus';

const HNSW = 'kb_chunks_embedding_hnsw';
const GIN = 'kb_chunks_tsv_gin';

export interface StoreLoadTimings {
  rows_ms: number;
  embed_ms: number;
  hnsw_index_ms: number;
  fts_index_ms: number;
}

export async function loadStore(db: Kysely<Database>, corpus: Corpus, embedder: Embedder, opts: { maintenanceWorkMem: string; onProgress?: (done: number) => void }): Promise<StoreLoadTimings> {
  await sql.raw(`drop index if exists ${HNSW}`).execute(db);
  await sql.raw(`drop index if exists ${GIN}`).execute(db);
  let embedMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < corpus.folders.length; i += 500) {
    await db
      .insertInto('kb_folders')
      .values(corpus.folders.slice(i, i + 500).map((f) => ({ id: f.id, name: `folder ${f.id.slice(0, 8)}`, parent_id: f.parent === undefined ? null : corpus.folders[f.parent].id, created_by: userSub(f.owner) })))
      .execute();
  }
  const docBatch = 100;
  for (let i = 0; i < corpus.documents.length; i += docBatch) {
    const docs = corpus.documents.slice(i, i + docBatch);
    const texts = docs.map((_, j) => corpus.chunkTexts(i + j));
    const rows: Array<{ document_id: string; idx: number; text: string; embedding: string }> = [];
    const te = performance.now();
    for (let j = 0; j < docs.length; j++) {
      const vectors = await embedder.embed(texts[j]);
      texts[j].forEach((text, idx) => rows.push({ document_id: docs[j].id, idx, text, embedding: toVectorLiteral(vectors[idx]) }));
    }
    embedMs += performance.now() - te;
    await db.transaction().execute(async (trx) => {
      // Consistent by construction: skip the per-row foreign-key triggers (a bulk-load setting, this transaction only).
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx
        .insertInto('kb_documents')
        .values(
          docs.map((d, j) => ({
            id: d.id,
            title: d.title,
            url: `https://docs.example/${d.id}`,
            source: 'upload' as const,
            content_type: 'text/plain',
            folder_id: d.folder === undefined ? null : corpus.folders[d.folder].id,
            created_by: userSub(d.owner),
            chars: texts[j].reduce((a, t) => a + t.length, 0),
            chunk_count: d.chunkCount,
            embedder: embedder.id,
          })),
        )
        .execute();
      for (let r = 0; r < rows.length; r += 250) await trx.insertInto('kb_chunks').values(rows.slice(r, r + 250)).execute();
    });
    opts.onProgress?.(i + docs.length);
  }
  const rowsMs = performance.now() - t0 - embedMs;
  // The same definitions as the migration; the HNSW graph must fit in maintenance_work_mem or the build crawls.
  const t1 = performance.now();
  await db.transaction().execute(async (trx) => {
    await sql.raw(`set local maintenance_work_mem = '${opts.maintenanceWorkMem}'`).execute(trx);
    await sql.raw(`create index ${HNSW} on kb_chunks using hnsw (embedding vector_cosine_ops)`).execute(trx);
  });
  const t2 = performance.now();
  await sql.raw(`create index ${GIN} on kb_chunks using gin (tsv)`).execute(db);
  const t3 = performance.now();
  await sql`analyze kb_chunks`.execute(db);
  await sql`analyze kb_documents`.execute(db);
  return { rows_ms: Math.round(rowsMs), embed_ms: Math.round(embedMs), hnsw_index_ms: Math.round(t2 - t1), fts_index_ms: Math.round(t3 - t2) };
}

export async function loadFga(fga: FgaClient, corpus: Corpus, inFlight = 4): Promise<{ tuples: number; writes: number; ms: number }> {
  const t0 = performance.now();
  const batches: Tuple[][] = [];
  for (let i = 0; i < corpus.tuples.length; i += 100) batches.push(corpus.tuples.slice(i, i + 100));
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) await fga.write(batches[next++]);
    }),
  );
  return { tuples: corpus.tuples.length, writes: batches.length, ms: Math.round(performance.now() - t0) };
}

export async function storeSizes(db: Kysely<Database>) {
  const row = await sql<{ table_mb: number; hnsw_mb: number; gin_mb: number }>`
    select round(pg_total_relation_size('kb_chunks') / 1048576.0, 1)::float as table_mb,
           round(pg_relation_size(${HNSW}::regclass) / 1048576.0, 1)::float as hnsw_mb,
           round(pg_relation_size(${GIN}::regclass) / 1048576.0, 1)::float as gin_mb`.execute(db);
  return row.rows[0];
}
