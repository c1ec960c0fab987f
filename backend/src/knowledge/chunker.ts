/**
 * Splits text into overlapping chunks along paragraphs and sentences, to a token budget. Tokens are estimated
 * (≈ 4 characters each, close enough for English and for OpenAI's tokenizers); a chunk never cuts a sentence
 * unless one sentence alone is over budget. Each chunk starts with the last sentences of the previous one (the
 * overlap), so a fact that straddles a boundary is whole in at least one chunk.
 */
export interface ChunkOptions {
  maxTokens?: number;
  overlapTokens?: number;
}

export const DEFAULT_CHUNK_TOKENS = 220;
export const DEFAULT_OVERLAP_TOKENS = 40;

export const estimateTokens = (s: string) => Math.ceil(s.length / 4);

interface Unit {
  text: string;
  tokens: number;
  /** Starts a new paragraph. */
  paragraph: boolean;
}

export function chunkText(text: string, opts: ChunkOptions = {}): string[] {
  const max = opts.maxTokens ?? DEFAULT_CHUNK_TOKENS;
  const overlap = Math.min(opts.overlapTokens ?? DEFAULT_OVERLAP_TOKENS, Math.floor(max / 2));
  const units = toUnits(text, max);
  const chunks: string[] = [];
  let current: Unit[] = [];
  let tokens = 0;
  let fresh = 0; // units in `current` not carried over from the previous chunk
  const flush = () => {
    if (fresh === 0) return;
    chunks.push(join(current));
    // Carry the tail (whole sentences, up to the overlap budget) into the next chunk.
    const carried: Unit[] = [];
    let t = 0;
    for (let i = current.length - 1; i >= 0 && t + current[i].tokens <= overlap; i--) {
      carried.unshift(current[i]);
      t += current[i].tokens;
    }
    current = carried;
    tokens = t;
    fresh = 0;
  };
  for (const u of units) {
    if (tokens + u.tokens > max && fresh > 0) flush();
    // The carried tail plus a long unit may still be over budget: drop the tail rather than exceed it.
    while (current.length && tokens + u.tokens > max) tokens -= current.shift()!.tokens;
    current.push(u);
    tokens += u.tokens;
    fresh++;
  }
  flush();
  return chunks;
}

function join(units: Unit[]): string {
  return units.map((u, i) => (i === 0 ? u.text : `${u.paragraph ? '\n\n' : ' '}${u.text}`)).join('');
}

function toUnits(text: string, max: number): Unit[] {
  const out: Unit[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const p = para.replace(/\s*\n\s*/g, ' ').trim();
    if (!p) continue;
    let first = true;
    for (const sentence of splitSentences(p)) {
      for (const piece of splitLong(sentence, max)) {
        out.push({ text: piece, tokens: estimateTokens(piece) + 1, paragraph: first });
        first = false;
      }
    }
  }
  return out;
}

/** One segmenter for the process: constructing one per paragraph cost ~15 µs each (9 s for 600k short paragraphs). */
const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });

export function splitSentences(p: string): string[] {
  return [...SENTENCES.segment(p)].map((s) => s.segment.trim()).filter(Boolean);
}

/** A sentence over budget is cut between words; a single "word" longer than a chunk is cut into pieces, none dropped. */
function splitLong(sentence: string, max: number): string[] {
  if (estimateTokens(sentence) <= max) return [sentence];
  const width = max * 4;
  const out: string[] = [];
  let cur = '';
  for (const word of sentence.split(/\s+/)) {
    for (let i = 0; i < word.length; i += width) {
      const w = word.slice(i, i + width);
      if (cur && estimateTokens(`${cur} ${w}`) > max) {
        out.push(cur);
        cur = '';
      }
      cur = cur ? `${cur} ${w}` : w;
    }
  }
  if (cur) out.push(cur);
  return out;
}
