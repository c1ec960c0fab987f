/**
 * Text → 384-dimensional unit vectors. With an embeddings model configured, OpenAI's (through the `openai` SDK, with
 * `dimensions: 384` so the column size never changes); otherwise a deterministic offline embedder.
 */
import OpenAI from 'openai';

export const EMBEDDING_DIMENSIONS = 384;

export interface Embedder {
  /** Stored with each document: vectors from different embedders are not comparable. */
  readonly id: string;
  /**
   * Below this cosine similarity a chunk is unrelated to the query (hashing collisions, or a model's floor for any
   * two texts): nearest-neighbour lists stop there, so a small knowledge base does not return whatever is nearest.
   */
  readonly minSimilarity: number;
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Feature hashing: word unigrams (stop words dropped, light stemming), word bigrams and character trigrams inside
 * words are hashed into 384 signed buckets, weighted (sub-linear term frequency), then L2-normalised. Texts that
 * share words and word fragments land close together under cosine similarity, so nearest neighbours are meaningful
 * without a model; it knows nothing of synonyms (full-text search and fusion make up for some of that).
 */
export class HashingEmbedder implements Embedder {
  readonly id = 'hashing-v1-384';
  readonly minSimilarity = 0.1;

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => hashEmbed(t));
  }
}

const STOP = new Set(
  'a an and are as at be been but by can could did do does for from had has have how i if in into is it its me my no not of on or our so than that the their them then there these they this to too was we were what when where which who why will with would you your about also just any some more most very all'.split(' '),
);

export function tokens(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** A light stemmer: enough that "tokens"/"token" and "caching"/"cache" share a feature. */
export function stem(w: string): string {
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && w.endsWith('es') && /(s|x|z|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  return w;
}

export function hashEmbed(text: string): number[] {
  const v = new Float64Array(EMBEDDING_DIMENSIONS);
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const words = tokens(text).filter((w) => !STOP.has(w)).map(stem);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    add(`u:${w}`, 1);
    if (i + 1 < words.length) add(`b:${w} ${words[i + 1]}`, 0.6);
    const padded = `^${w}$`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`t:${padded.slice(j, j + 3)}`, 0.25);
  }
  for (const [feature, weight] of counts) {
    const h = fnv1a(feature);
    const bucket = h % EMBEDDING_DIMENSIONS;
    const sign = (h >>> 31) & 1 ? -1 : 1;
    // Sub-linear: a word said ten times is not ten times as much about it.
    v[bucket] += sign * (weight >= 1 ? 1 + Math.log(weight) : weight);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  // An empty text gets a fixed unit vector, so every stored vector has a defined cosine distance.
  if (norm === 0) return Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => (i === 0 ? 1 : 0));
  return Array.from(v, (x) => x / norm);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class OpenAiEmbedder implements Embedder {
  readonly id: string;
  readonly minSimilarity = 0.2;
  private readonly client: OpenAI;

  constructor(private readonly opts: { model: string; apiKey: string; baseURL?: string }) {
    this.id = `openai:${opts.model}:${EMBEDDING_DIMENSIONS}`;
    this.client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 2, timeout: 30_000 });
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 64) {
      const batch = texts.slice(i, i + 64);
      const res = await this.client.embeddings.create({ model: this.opts.model, input: batch, dimensions: EMBEDDING_DIMENSIONS, encoding_format: 'float' });
      for (const d of [...res.data].sort((a, b) => a.index - b.index)) {
        if (d.embedding.length !== EMBEDDING_DIMENSIONS) throw new Error(`The embeddings model returned ${d.embedding.length} dimensions, not ${EMBEDDING_DIMENSIONS}.`);
        out.push(d.embedding);
      }
    }
    return out;
  }
}

export function createEmbedder(cfg: { model?: string; apiKey?: string; baseURL?: string }): Embedder {
  return cfg.model ? new OpenAiEmbedder({ model: cfg.model, apiKey: cfg.apiKey ?? 'offline', baseURL: cfg.baseURL }) : new HashingEmbedder();
}

/** pgvector's text form. */
export const toVectorLiteral = (v: number[]) => `[${v.map((x) => (Number.isFinite(x) ? x.toFixed(6) : '0')).join(',')}]`;
