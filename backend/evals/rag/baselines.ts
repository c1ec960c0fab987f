/**
 * What the product's retriever is measured against, built from the same store queries and the same fusion:
 * - `exactTop`: the ground truth, an exact scan restricted to the documents the corpus says the user may view;
 * - `naivePerDocument`: post-filtering with one FGA Check per candidate document, one call at a time (the
 *   "check before retrieval" pattern of seed 002, applied to every candidate);
 * - `topKThenFilter`: the global top-k, then a batch check, dropping what is not allowed, never widening (what a
 *   vendor SDK's retriever filter does).
 */
import type { ChunkCandidate, DocumentStore } from '../../src/knowledge/document-store';
import type { Embedder } from '../../src/knowledge/embedder';
import { type FgaClient, fgaUser } from '../../src/knowledge/fga-client';
import { fuse, MAX_CANDIDATES } from '../../src/knowledge/retriever';

export interface BaselineResult {
  chunkIds: string[];
  documentIds: string[];
  fgaCalls: number;
}

/** The retriever's per-list depth (allowed candidates per list before fusion). */
export const depthFor = (k: number) => Math.max(20, 2 * k);

export async function exactTop(store: DocumentStore, embedder: Embedder, allowedIds: string[], query: string, k: number): Promise<string[]> {
  const [embedding] = await embedder.embed([query]);
  const depth = depthFor(k);
  const [vec, fts] = await Promise.all([store.nearest(embedding, depth, allowedIds, embedder.minSimilarity), store.fullText(query, depth, allowedIds)]);
  return fuse([vec, fts], k).map((c) => c.chunkId);
}

async function withTexts(store: DocumentStore, top: ChunkCandidate[], fgaCalls: number): Promise<BaselineResult> {
  // Read the text as a real answer would (the retriever does the same after filtering).
  await Promise.all([store.chunkTexts(top.map((c) => c.chunkId)), store.getMany([...new Set(top.map((c) => c.documentId))])]);
  return { chunkIds: top.map((c) => c.chunkId), documentIds: top.map((c) => c.documentId), fgaCalls };
}

export async function naivePerDocument(store: DocumentStore, fga: FgaClient, embedder: Embedder, sub: string, query: string, k: number): Promise<BaselineResult> {
  const [embedding] = await embedder.embed([query]);
  const depth = depthFor(k);
  const verdicts = new Map<string, boolean>();
  let fgaCalls = 0;
  let n = Math.min(MAX_CANDIDATES, depth * 2);
  let lists: ChunkCandidate[][];
  for (;;) {
    const [vec, fts] = await Promise.all([store.nearest(embedding, n, undefined, embedder.minSimilarity), store.fullText(query, n)]);
    for (const c of [...vec, ...fts]) {
      if (verdicts.has(c.documentId)) continue;
      fgaCalls++;
      verdicts.set(c.documentId, await fga.check({ user: fgaUser(sub), relation: 'viewer', object: `document:${c.documentId}` }));
    }
    lists = [vec, fts].map((l) => l.filter((c) => verdicts.get(c.documentId)).slice(0, depth));
    const short = [vec, fts].some((raw, i) => lists[i].length < depth && raw.length === n);
    if (!short || n >= MAX_CANDIDATES) break;
    n = Math.min(MAX_CANDIDATES, n * 4);
  }
  return withTexts(store, fuse(lists, k), fgaCalls);
}

export async function topKThenFilter(store: DocumentStore, fga: FgaClient, embedder: Embedder, sub: string, query: string, k: number): Promise<BaselineResult> {
  const [embedding] = await embedder.embed([query]);
  const depth = depthFor(k);
  const [vec, fts] = await Promise.all([store.nearest(embedding, depth, undefined, embedder.minSimilarity), store.fullText(query, depth)]);
  const top = fuse([vec, fts], k);
  const docIds = [...new Set(top.map((c) => c.documentId))];
  const ok = docIds.length ? await fga.batchCheck(docIds.map((id) => ({ user: fgaUser(sub), relation: 'viewer', object: `document:${id}` }))) : [];
  const allowed = new Set(docIds.filter((_, i) => ok[i]));
  return withTexts(store, top.filter((c) => allowed.has(c.documentId)), docIds.length ? 1 : 0);
}
