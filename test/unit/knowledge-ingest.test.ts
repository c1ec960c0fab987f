/** Ingest: text out of each content type, chunking with overlap, and an offline embedder whose similarity means something. */
import { describe, expect, it } from 'vitest';
import { chunkText, estimateTokens } from '../../backend/src/knowledge/chunker';
import { EMBEDDING_DIMENSIONS, hashEmbed } from '../../backend/src/knowledge/embedder';
import { ExtractionError, extractText } from '../../backend/src/knowledge/extract';
import { tinyPdf } from '../helpers/tiny-pdf';

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('extracting text', () => {
  it('keeps plain text and its paragraphs', async () => {
    const { text } = await extractText({ contentType: 'text/plain', text: 'First line.\r\n\r\n\r\nSecond\tparagraph.' });
    expect(text).toBe('First line.\n\nSecond paragraph.');
  });

  it('drops Markdown markup but keeps the words', async () => {
    const md = '# Release notes\n\nWe **shipped** the [cache](https://x.test/c) in `v2`.\n\n- item one\n- item two\n\n```\nconst x = 1;\n```';
    const { text } = await extractText({ contentType: 'text/markdown', text: md });
    expect(text).toContain('Release notes');
    expect(text).toContain('We shipped the cache in v2.');
    expect(text).toContain('item one');
    expect(text).toContain('const x = 1;');
    expect(text).not.toMatch(/\*\*|\]\(|^#/m);
  });

  it('reads the article of an HTML page, not its navigation or scripts', async () => {
    const para = (n: number) => `<p>Paragraph ${n} explains how the zebra migration works across the savanna in considerable detail, with enough words for Readability.</p>`;
    const html = `<html><head><title>Zebra facts</title><script>stealCookies()</script></head><body>
      <nav><a href="/">Home</a> <a href="/login">Sign in</a></nav>
      <article><h1>Zebra migration</h1>${[1, 2, 3, 4, 5].map(para).join('')}</article>
      <footer>Copyright footer text</footer></body></html>`;
    const { text, title } = await extractText({ contentType: 'text/html', text: html });
    expect(title).toMatch(/Zebra/);
    expect(text).toContain('Paragraph 1 explains how the zebra migration works');
    expect(text).toContain('Paragraph 5');
    expect(text).not.toContain('stealCookies');
    expect(text).not.toContain('Sign in');
    // Paragraphs stay apart, so chunks can break between them.
    expect(text).toMatch(/Readability\.\n\nParagraph 2/);
  });

  it('reads a PDF generated here, page by page', async () => {
    const pdf = tinyPdf([['Quarterly report for the aurora project.', 'Revenue grew by 12 percent.'], ['Second page mentions the heron initiative.']], 'Aurora Q3');
    const { text, title } = await extractText({ contentType: 'application/pdf', dataBase64: pdf.toString('base64') });
    expect(text).toContain('Quarterly report for the aurora project.');
    expect(text).toContain('Revenue grew by 12 percent.');
    expect(text).toContain('heron initiative');
    expect(title).toBe('Aurora Q3');
  });

  it('refuses what is not a PDF, and bad base64, with a clear code', async () => {
    await expect(extractText({ contentType: 'application/pdf', dataBase64: Buffer.from('hello world!').toString('base64') })).rejects.toMatchObject({ code: 'unreadable_pdf' });
    await expect(extractText({ contentType: 'application/pdf', dataBase64: '%%%not base64' })).rejects.toBeInstanceOf(ExtractionError);
    await expect(extractText({ contentType: 'text/plain', text: '   \n\n ' })).rejects.toMatchObject({ code: 'empty_document' });
  });
});

describe('chunking', () => {
  const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} talks about topic ${i % 7} at some length here.`);
  const text = [sentences.slice(0, 20).join(' '), sentences.slice(20, 40).join(' '), sentences.slice(40).join(' ')].join('\n\n');

  it('stays within the budget and loses nothing', () => {
    const chunks = chunkText(text, { maxTokens: 80, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(estimateTokens(c)).toBeLessThanOrEqual(80 + 10);
    for (const s of sentences) expect(chunks.some((c) => c.includes(s))).toBe(true);
  });

  it('overlaps: each chunk starts with the end of the one before, and never cuts a sentence', () => {
    const chunks = chunkText(text, { maxTokens: 80, overlapTokens: 20 });
    for (let i = 1; i < chunks.length; i++) {
      const firstSentence = /^.*?\.(?=\s|$)/s.exec(chunks[i])![0];
      expect(chunks[i - 1]).toContain(firstSentence);
      expect(sentences.includes(firstSentence.trim())).toBe(true);
    }
  });

  it('without overlap, chunks do not repeat sentences', () => {
    const chunks = chunkText(text, { maxTokens: 80, overlapTokens: 0 });
    const all = chunks.join(' ');
    for (const s of sentences) expect(all.split(s).length - 1).toBe(1);
  });

  it('cuts a sentence longer than the budget between words', () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(long, { maxTokens: 50, overlapTokens: 10 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(estimateTokens(c)).toBeLessThanOrEqual(51);
    expect(chunks.join(' ')).toContain('word399');
  });

  it('keeps every character of a single "word" longer than a chunk (a key, a blob): cut into pieces, none dropped', () => {
    const blob = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('') + 'END';
    const chunks = chunkText(`Before. ${blob} After.`, { maxTokens: 50, overlapTokens: 0 });
    for (const c of chunks) expect(estimateTokens(c)).toBeLessThanOrEqual(51);
    expect(chunks.join('').replace(/\s+/g, '')).toContain(blob);
    expect(chunks.join(' ')).toContain('After.');
  });
});

describe('the offline embedder', () => {
  it('gives deterministic unit vectors of the fixed size', () => {
    const v = hashEmbed('Rust ownership and borrowing');
    expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(Math.abs(cosine(v, v) - 1)).toBeLessThan(1e-9);
    expect(hashEmbed('Rust ownership and borrowing')).toEqual(v);
  });

  it('puts texts about the same thing closer than texts about different things', () => {
    const q = hashEmbed('how does rust ownership work');
    const near = hashEmbed('Ownership in Rust: every value has an owner, and borrowing lends it without moving it.');
    const far = hashEmbed('Our holiday schedule: the office is closed between Christmas and New Year.');
    expect(cosine(q, near)).toBeGreaterThan(cosine(q, far) + 0.15);
    // Word fragments count too: "caching" is close to "cache".
    expect(cosine(hashEmbed('caching'), hashEmbed('cache'))).toBeGreaterThan(cosine(hashEmbed('caching'), hashEmbed('holiday')));
  });
});
