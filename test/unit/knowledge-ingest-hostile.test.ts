/**
 * Saved documents are attacker-controlled text (a poisoned page, an uploaded file): reading one must cost time in
 * proportion to its size. Each input here took the old extractor from seconds to hours of one core (a cubic heading
 * regex, line-crossing `^\s*` patterns, Readability on deep nesting, a recursive walk that overflowed the stack);
 * with linear extraction each finishes well inside the test timeout, with the words intact.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../backend/src/knowledge/chunker';
import { extractText, markdownToText } from '../../backend/src/knowledge/extract';
import { tinyPdf } from '../helpers/tiny-pdf';

describe('hostile documents are read in linear time', () => {
  it('a Markdown heading followed by a long run of spaces (cubic backtracking before)', async () => {
    const { text } = await extractText({ contentType: 'text/markdown', text: `# Heading${' '.repeat(20_000)}tail ##` });
    expect(text).toBe('Heading tail');
  });

  it('thousands of blank lines, unclosed brackets, links and tags', () => {
    const md = `${'\n'.repeat(200_000)}x\n${'![a'.repeat(50_000)}\n${'[a]('.repeat(50_000)}\n${'<'.repeat(100_000)}\n${' \n'.repeat(100_000)}end`;
    const text = markdownToText(md);
    expect(text).toContain('end');
    expect(text).toContain('![a![a');
  });

  it('keeps what the markup meant: headings, emphasis, links, lists, code', () => {
    const text = markdownToText('## Title ##\n\n> quoted **bold** and _it_\n- [link](https://x.test/a) ![img](i.png)\n1. `code` <b>tag</b>\n***\n```js\n# not a heading\n```');
    expect(text).toBe('\nTitle\n\n\nquoted bold and it\nlink img\ncode tag\n\n\n# not a heading\n');
  });

  it('HTML nested hundreds deep: Readability skipped, text read without recursion', async () => {
    const { text } = await extractText({ contentType: 'text/html', text: `${'<div>'.repeat(900)}<p>Deep words survive.</p>${'</div>'.repeat(900)}` });
    expect(text).toBe('Deep words survive.');
  });

  it('HTML nested 200,000 deep is refused before parsing (the parser is quadratic in depth)', async () => {
    await expect(extractText({ contentType: 'text/html', text: `${'<div>'.repeat(200_000)}x` })).rejects.toMatchObject({ code: 'document_too_complex' });
    // Void and implicitly closed elements do not count as nesting.
    const flat = `<article>${'<p>Line one.<br><li>item'.repeat(5_000)}</article>`;
    await expect(extractText({ contentType: 'text/html', text: flat })).resolves.toMatchObject({ text: expect.stringContaining('Line one.') });
  });

  it('hundreds of thousands of one-line paragraphs chunk in one pass', () => {
    const chunks = chunkText('a.\n\n'.repeat(200_000));
    expect(chunks.length).toBeGreaterThan(1000);
    expect(chunks.every((c) => c.length <= 220 * 4 + 10)).toBe(true);
  }, 30_000);
});

/** A PDF whose `pages` pages all draw one shared content stream: a small file that expands to pages × the text. */
function amplifiedPdf(pages: number, line: string, lines: number): string {
  const ops = ['BT', '/F1 11 Tf', '14 TL', '50 740 Td', ...Array.from({ length: lines }, () => `(${line}) Tj T*`), 'ET'].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, i) => `${5 + i} 0 R`).join(' ')}] /Count ${pages} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`,
    ...Array.from({ length: pages }, () => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>'),
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1').toString('base64');
}

describe('PDFs are read within the text budget', () => {
  it('a small PDF that expands past 2,000,000 characters is refused as too large, not stored', async () => {
    // 1,500 pages × 1,600 characters from ~200 KB of PDF.
    const dataBase64 = amplifiedPdf(1_500, 'x'.repeat(80), 20);
    expect(dataBase64.length).toBeLessThan(400_000);
    await expect(extractText({ contentType: 'application/pdf', dataBase64 })).rejects.toMatchObject({ code: 'document_too_large' });
  }, 30_000);

  it('a PDF with more pages than the limit is refused before its pages are read', async () => {
    await expect(extractText({ contentType: 'application/pdf', dataBase64: amplifiedPdf(2_500, 'y', 1) })).rejects.toMatchObject({ code: 'document_too_large' });
  });

  it('an ordinary multi-page PDF still reads every page', async () => {
    const { text } = await extractText({ contentType: 'application/pdf', dataBase64: amplifiedPdf(3, 'Shared line of text.', 2) });
    expect(text.match(/Shared line of text\./g)).toHaveLength(6);
  });
});

/** One page whose content stream is `decoded` bytes of spaces, Flate-compressed (`layers` times), in a tiny file. */
function bombPdf(decoded: number, layers = 1): string {
  let data = Buffer.alloc(decoded, 0x20);
  for (let i = 0; i < layers; i++) data = zlib.deflateSync(data, { level: 9 });
  const filter = layers === 1 ? '/FlateDecode' : `[${' /FlateDecode'.repeat(layers)} ]`;
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let len = 0;
  const add = (b: Buffer) => {
    offsets.push(len);
    parts.push(b);
    len += b.length;
  };
  parts.push(Buffer.from('%PDF-1.4\n', 'latin1'));
  len = parts[0]!.length;
  add(Buffer.from('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n', 'latin1'));
  add(Buffer.from('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n', 'latin1'));
  add(Buffer.from('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n', 'latin1'));
  add(Buffer.concat([Buffer.from(`4 0 obj\n<< /Length ${data.length} /Filter ${filter} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj\n', 'latin1')]));
  parts.push(Buffer.from(`xref\n0 5\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${len}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts).toString('base64');
}

describe('PDF decompression bombs are refused before PDF.js decodes them', () => {
  it('a 200 KB Flate stream that decodes to 200 MB (before: ~0.5 GB of memory; 7.5 MB of it takes the process down)', async () => {
    const dataBase64 = bombPdf(200 * 1024 * 1024);
    expect(dataBase64.length).toBeLessThan(400_000);
    await expect(extractText({ contentType: 'application/pdf', dataBase64 })).rejects.toMatchObject({ code: 'document_too_large' });
  }, 30_000);

  it('nested Flate layers are measured layer by layer', async () => {
    const dataBase64 = bombPdf(200 * 1024 * 1024, 2);
    expect(dataBase64.length).toBeLessThan(20_000);
    await expect(extractText({ contentType: 'application/pdf', dataBase64 })).rejects.toMatchObject({ code: 'document_too_large' });
  }, 30_000);

  it('a PDF within the budget is read as before; LZW (unmeasurable) is refused, even behind a #-escaped name', async () => {
    await expect(extractText({ contentType: 'application/pdf', dataBase64: bombPdf(1_000) })).rejects.toMatchObject({ code: 'empty_document' });
    const lzw = Buffer.from(Buffer.from(tinyPdf([['Hello']]).toString('latin1').replace('/Length', '/Filter /LZW#44ecode /Length'), 'latin1')).toString('base64');
    await expect(extractText({ contentType: 'application/pdf', dataBase64: lzw })).rejects.toMatchObject({ code: 'unreadable_pdf' });
    await expect(extractText({ contentType: 'application/pdf', dataBase64: tinyPdf([['Compressed hello']]).toString('base64') })).resolves.toMatchObject({ text: 'Compressed hello' });
  });
});
