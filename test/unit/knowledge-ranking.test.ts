/** Pieces of retrieval that need no server: rank fusion, the full-text query, FGA ids for subs. */
import { describe, expect, it } from 'vitest';
import { toOrQuery } from '../../backend/src/knowledge/document-store';
import { fgaUser } from '../../backend/src/knowledge/fga-client';
import { fuse } from '../../backend/src/knowledge/retriever';

const c = (chunkId: string, documentId = `d${chunkId}`) => ({ chunkId, documentId, idx: 0 });

describe('reciprocal rank fusion', () => {
  it('prefers what both lists rank well, and cuts at k', () => {
    const vector = [c('1'), c('2'), c('3'), c('4')];
    const text = [c('3'), c('5'), c('1')];
    const top = fuse([vector, text], 3);
    expect(top.map((x) => x.chunkId)).toEqual(['1', '3', '2']);
    expect(top[0].score).toBeCloseTo(1 / 61 + 1 / 63);
  });

  it('is deterministic on ties (by chunk id)', () => {
    expect(fuse([[c('9')], [c('4')]], 2).map((x) => x.chunkId)).toEqual(['4', '9']);
  });
});

describe('full-text query', () => {
  it('ORs the words and keeps nothing the tsquery parser could trip on', () => {
    expect(toOrQuery("What's the rust ownership model? (a & b) | !c")).toBe('what | the | rust | ownership | model');
    expect(toOrQuery('!!! ??? &')).toBeUndefined();
    expect(toOrQuery('Café résumé')).toBe('cafe | resume');
  });
});

describe('FGA user ids', () => {
  it('keeps Auth0 subs readable and encodes what FGA ids cannot hold', () => {
    expect(fgaUser('auth0|abc123')).toBe('user:auth0|abc123');
    expect(fgaUser('weird:sub#x y')).toBe('user:weird%3Asub%23x%20y');
  });
});
