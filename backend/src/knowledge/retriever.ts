/**
 * Authorization-filtered retrieval: the top-k chunks of the documents a user may view (FGA `document#viewer`),
 * ranked by vector similarity and full-text relevance fused with reciprocal rank fusion. No text of a document the
 * user may not view is ever read out of the database for them: candidate lists carry ids only, and text is fetched
 * after the filter.
 *
 * Two strategies, one result:
 * - pre-filter: list-objects → the allowed ids go into the vector and full-text queries (exact ranking within them);
 * - post-filter: global candidates (HNSW + full text) → batch-check their documents → widen until each list has
 *   enough allowed candidates, or the bound is reached.
 * Both fuse the same per-list depth (`depth` allowed candidates per list), so on the same data they agree.
 *
 * Fail closed (F2): if FGA does not answer in time, retrieval returns nothing and throws `RetrievalUnavailableError`.
 */
import { ConsistencyPreference, type FgaClient, FgaUnavailableError, fgaUser } from './fga-client';
import { type ChunkCandidate, type DocumentStore, isUuid, type StoredDocument } from './document-store';
import type { Embedder } from './embedder';

export type Strategy = 'pre' | 'post';

export interface RetrievalHit {
  documentId: string;
  title: string;
  url?: string;
  chunkIndex: number;
  text: string;
  score: number;
}

export interface RetrievalResult {
  hits: RetrievalHit[];
  strategy: Strategy;
  /** FGA round trips this retrieval made (list-objects, batch-checks). */
  fgaCalls: number;
  /** Candidates whose document was checked (post-filter) or allowed documents (pre-filter). */
  examined: number;
  cacheHit: boolean;
}

export interface RetrieveOptions {
  k?: number;
  /** Force a strategy (benchmarks, tests); default: chosen by expected selectivity. */
  strategy?: Strategy | 'auto';
}

export interface Retriever {
  retrieve(sub: string, query: string, options?: RetrieveOptions): Promise<RetrievalResult>;
}

export class RetrievalUnavailableError extends Error {
  readonly code = 'retrieval_unavailable';
  constructor(cause?: unknown) {
    super('The knowledge base is unavailable right now: permissions could not be checked, so nothing was retrieved.');
    this.name = 'RetrievalUnavailableError';
    if (cause) this.cause = cause;
  }
}

/** OpenFGA's default `ListObjectsMaxResults`: a list that long may be cut short, so it cannot be the filter. */
export const LIST_OBJECTS_CAP = 1000;
/** Above this share of the corpus visible, post-filter; below, pre-filter (see `chooseStrategy`). */
export const POST_FILTER_MIN_SELECTIVITY = 0.2;
/** Widening stops here (and pgvector's `hnsw.ef_search` cannot go higher). */
export const MAX_CANDIDATES = 1000;
const RRF_K = 60;

/**
 * The allowed-document ids per user, for a short time. Keyed per user (F4); every entry is dropped when any
 * relationship changes in this process (share, revoke, delete, ingest), and results are re-checked against FGA
 * anyway before they are returned, so a revoked document is never served from here, even from another instance's
 * stale view.
 */
export class AllowedDocumentsCache {
  private readonly entries = new Map<string, { ids: string[]; at: number }>();
  /** How many documents each user could see when last listed: only a number, used to pick a strategy. */
  private readonly reach = new Map<string, { count: number; at: number }>();

  constructor(private readonly ttlMs = 30_000, private readonly maxUsers = 10_000) {}

  get(sub: string): string[] | undefined {
    const e = this.entries.get(sub);
    if (!e) return undefined;
    if (Date.now() - e.at > this.ttlMs) {
      this.entries.delete(sub);
      return undefined;
    }
    return e.ids;
  }

  set(sub: string, ids: string[]) {
    if (this.entries.size >= this.maxUsers) this.entries.clear();
    if (this.reach.size >= this.maxUsers) this.reach.clear();
    this.entries.set(sub, { ids, at: Date.now() });
    this.reach.set(sub, { count: ids.length, at: Date.now() });
  }

  reachOf(sub: string): number | undefined {
    const r = this.reach.get(sub);
    return r && Date.now() - r.at < 10 * this.ttlMs ? r.count : undefined;
  }

  invalidate(sub?: string) {
    if (sub === undefined) this.entries.clear();
    else this.entries.delete(sub);
  }
}

export interface AuthorizedRetrieverDeps {
  documents: DocumentStore;
  fga: FgaClient;
  embedder: Embedder;
  cache?: AllowedDocumentsCache;
}

export class AuthorizedRetriever implements Retriever {
  readonly cache: AllowedDocumentsCache;
  private corpusSize: { n: number; at: number } | undefined;

  constructor(private readonly deps: AuthorizedRetrieverDeps) {
    this.cache = deps.cache ?? new AllowedDocumentsCache();
  }

  async retrieve(sub: string, query: string, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    const k = Math.max(1, Math.min(50, options.k ?? 8));
    const [embedding] = await this.deps.embedder.embed([query]);
    try {
      const strategy = options.strategy && options.strategy !== 'auto' ? options.strategy : await this.chooseStrategy(sub);
      return strategy === 'pre' ? await this.preFilter(sub, query, embedding, k, options.strategy === 'pre') : await this.postFilter(sub, query, embedding, k, await this.selectivity(sub));
    } catch (err) {
      if (err instanceof FgaUnavailableError) throw new RetrievalUnavailableError(err);
      throw err;
    }
  }

  /**
   * Expected selectivity s = (documents the user can view) / (documents in the corpus), with the first number
   * remembered from the user's last list-objects. Post-filtering needs about depth/s candidates to find `depth`
   * allowed ones, so it is cheap when s is large (most of the corpus is visible, and the allowed-id list would be
   * long both to fetch and to scan); pre-filtering costs in proportion to what the user can see, so it wins when s
   * is small, where post-filtering would wade through (and check) mostly forbidden candidates and could hit the
   * widening bound. Unknown reach → pre-filter (which measures it); a list-objects answer at the server's cap may be
   * truncated, so it switches to post-filter.
   */
  async chooseStrategy(sub: string): Promise<Strategy> {
    const reach = this.cache.reachOf(sub);
    if (reach === undefined) return 'pre';
    if (reach >= LIST_OBJECTS_CAP) return 'post';
    const total = await this.totalDocuments();
    return total > 0 && reach / total >= POST_FILTER_MIN_SELECTIVITY ? 'post' : 'pre';
  }

  /** The expected share of the corpus the user may view, when their reach is known. */
  private async selectivity(sub: string): Promise<number | undefined> {
    const reach = this.cache.reachOf(sub);
    if (reach === undefined) return undefined;
    const total = await this.totalDocuments();
    return total > 0 ? Math.min(1, reach / total) : undefined;
  }

  private async totalDocuments(): Promise<number> {
    if (!this.corpusSize || Date.now() - this.corpusSize.at > 10_000) this.corpusSize = { n: await this.deps.documents.count(), at: Date.now() };
    return this.corpusSize.n;
  }

  private depth(k: number) {
    return Math.max(20, 2 * k);
  }

  private async preFilter(sub: string, query: string, embedding: number[], k: number, forced: boolean): Promise<RetrievalResult> {
    const { documents, fga } = this.deps;
    let fgaCalls = 0;
    let cached = this.cache.get(sub);
    const cacheHit = cached !== undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      let allowed = cached;
      if (!allowed) {
        fgaCalls++;
        allowed = await fga.listObjects(fgaUser(sub), 'viewer', 'document', attempt ? ConsistencyPreference.HigherConsistency : ConsistencyPreference.MinimizeLatency);
        this.cache.set(sub, allowed);
        if (allowed.length >= LIST_OBJECTS_CAP && !forced) {
          const post = await this.postFilter(sub, query, embedding, k, await this.selectivity(sub));
          return { ...post, fgaCalls: post.fgaCalls + fgaCalls };
        }
      }
      const ids = allowed.filter(isUuid);
      const depth = this.depth(k);
      const [vec, fts] = await Promise.all([documents.nearest(embedding, depth, ids, this.deps.embedder.minSimilarity), documents.fullText(query, depth, ids)]);
      const top = fuse([vec, fts], k);
      // The last word is FGA's, at higher consistency: a cached or lagging list never serves a revoked document.
      const docIds = [...new Set(top.map((c) => c.documentId))];
      fgaCalls++;
      const ok = await fga.batchCheck(docIds.map((id) => ({ user: fgaUser(sub), relation: 'viewer', object: `document:${id}` })));
      if (ok.every(Boolean)) return { hits: await this.materialise(top), strategy: 'pre', fgaCalls, examined: ids.length, cacheHit };
      // Something changed since the list was made: list again, fresh.
      this.cache.invalidate(sub);
      cached = undefined;
    }
    return { hits: [], strategy: 'pre', fgaCalls, examined: 0, cacheHit };
  }

  private async postFilter(sub: string, query: string, embedding: number[], k: number, selectivity?: number): Promise<RetrievalResult> {
    const { documents, fga } = this.deps;
    const depth = this.depth(k);
    const verdicts = new Map<string, boolean>();
    let fgaCalls = 0;
    // Enough candidates that, at the expected selectivity, `depth` of them are allowed (with a margin): usually one round.
    let n = Math.min(MAX_CANDIDATES, Math.max(depth * 2, Math.ceil((1.5 * depth) / Math.max(selectivity ?? 0.5, 0.01))));
    let lists: ChunkCandidate[][] = [];
    for (;;) {
      const [vec, fts] = await Promise.all([documents.nearest(embedding, n, undefined, this.deps.embedder.minSimilarity), documents.fullText(query, n)]);
      const unknown = [...new Set([...vec, ...fts].map((c) => c.documentId))].filter((id) => !verdicts.has(id));
      if (unknown.length) {
        fgaCalls++;
        const ok = await fga.batchCheck(unknown.map((id) => ({ user: fgaUser(sub), relation: 'viewer', object: `document:${id}` })));
        unknown.forEach((id, i) => verdicts.set(id, ok[i]));
      }
      lists = [vec, fts].map((l) => l.filter((c) => verdicts.get(c.documentId) === true).slice(0, depth));
      // A list needs widening if it has fewer than `depth` allowed candidates while more candidates exist.
      const short = [vec, fts].some((raw, i) => lists[i].length < depth && raw.length === n);
      if (!short || n >= MAX_CANDIDATES) break;
      n = Math.min(MAX_CANDIDATES, n * 4);
    }
    const top = fuse(lists, k);
    return { hits: await this.materialise(top), strategy: 'post', fgaCalls, examined: verdicts.size, cacheHit: false };
  }

  /** Text and titles, read only now, only for chunks already known to be allowed. */
  private async materialise(top: Array<ChunkCandidate & { score: number }>): Promise<RetrievalHit[]> {
    if (!top.length) return [];
    const [texts, docs] = await Promise.all([
      this.deps.documents.chunkTexts(top.map((c) => c.chunkId)),
      this.deps.documents.getMany([...new Set(top.map((c) => c.documentId))]),
    ]);
    const byId = new Map<string, StoredDocument>(docs.map((d) => [d.id, d]));
    return top.flatMap((c) => {
      const d = byId.get(c.documentId);
      const text = texts.get(c.chunkId);
      return d && text !== undefined ? [{ documentId: d.id, title: d.title, url: d.url, chunkIndex: c.idx, text, score: c.score }] : [];
    });
  }
}

/** Reciprocal rank fusion: Σ 1/(60 + rank) over the lists a chunk appears in; ties broken by chunk id. */
export function fuse(lists: ChunkCandidate[][], k: number): Array<ChunkCandidate & { score: number }> {
  const scores = new Map<string, ChunkCandidate & { score: number }>();
  for (const list of lists) {
    list.forEach((c, rank) => {
      const e = scores.get(c.chunkId) ?? { ...c, score: 0 };
      e.score += 1 / (RRF_K + rank + 1);
      scores.set(c.chunkId, e);
    });
  }
  return [...scores.values()].sort((a, b) => b.score - a.score || Number(a.chunkId) - Number(b.chunkId)).slice(0, k);
}

