/**
 * Plain text out of what users save: text as it is, Markdown without its markup, HTML through Readability (the
 * article, not the navigation), PDF through unpdf (PDF.js). Paragraph breaks are kept: the chunker splits on them.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { getDocumentProxy } from 'unpdf';
import type { DocumentContentType } from '../../../lib/protocol';
import { MAX_PDF_DECODED_BYTES, measurePdfInflation } from './pdf-inflation';

export class ExtractionError extends Error {
  constructor(readonly code: 'unreadable_pdf' | 'empty_document' | 'invalid_base64' | 'document_too_large' | 'document_too_complex', message: string) {
    super(message);
  }
}

/** The most text one document may hold: what `CreateDocumentRequest.text` allows, whatever the format. */
export const MAX_DOCUMENT_CHARS = 2_000_000;
export const MAX_PDF_PAGES = 2_000;
const tooLarge = (message: string) => new ExtractionError('document_too_large', message);

export interface Extracted {
  text: string;
  /** A title found in the content (HTML <title>/<h1>, PDF metadata), if any. */
  title?: string;
}

export async function extractText(input: { contentType: DocumentContentType; text?: string; dataBase64?: string }): Promise<Extracted> {
  let out: Extracted;
  switch (input.contentType) {
    case 'text/plain':
      out = { text: input.text ?? '' };
      break;
    case 'text/markdown':
      out = { text: markdownToText(input.text ?? '') };
      break;
    case 'text/html':
      out = htmlToText(input.text ?? '');
      break;
    case 'application/pdf':
      out = await pdfToText(decodeBase64(input.dataBase64 ?? ''));
      break;
  }
  const text = normaliseWhitespace(out.text);
  if (!text) throw new ExtractionError('empty_document', 'No text could be read from this document.');
  return { ...out, text };
}

export function normaliseWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .replace(/[ \t\u00A0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Line by line, with patterns that cannot backtrack super-linearly: a saved document is attacker-controlled text, and
 * one regex that goes cubic on "# a" followed by thousands of spaces would block the whole backend.
 */
export function markdownToText(md: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const line of md.split(/\r?\n/)) {
    if (!line.trim()) {
      out.push('');
      continue;
    }
    if (/^ {0,3}(```|~~~)/.test(line)) {
      inFence = !inFence;
      out.push('');
      continue;
    }
    out.push(inFence ? line : markdownInline(markdownBlock(line)));
  }
  return out.join('\n');
}

function markdownBlock(line: string): string {
  const heading = /^ {0,3}#{1,6}[ \t]+/.exec(line);
  if (heading) return `\n${trimClosingHashes(line.slice(heading[0].length))}\n`;
  if (/^[ \t]*([-*_][ \t]*){3,}$/.test(line)) return '';
  return line
    .replace(/^ {0,3}> ?/, '')
    .replace(/^[ \t]*[-*+][ \t]+/, '')
    .replace(/^[ \t]*\d{1,9}[.)][ \t]+/, '');
}

/** "Title ##  " → "Title" (what `(.*?)\s*#*\s*$` meant, without the regex's cubic backtracking). */
function trimClosingHashes(s: string): string {
  let end = s.length;
  while (end > 0 && /[ \t]/.test(s[end - 1]!)) end--;
  while (end > 0 && s[end - 1] === '#') end--;
  while (end > 0 && /[ \t]/.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Inner spans exclude their own openers, so every failed attempt stops at the next opener: linear in the line. */
function markdownInline(line: string): string {
  return line
    .replace(/!\[([^[\]]*)\]\([^()]*\)/g, '$1')
    .replace(/\[([^[\]]+)\]\([^()]*\)/g, '$1')
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/__([^_]+)__/g, '$1')
    .replace(/(\*|_)([^*_]+)\1/g, '$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/<[^<>]+>/g, '');
}

const BLOCK = new Set(['P', 'DIV', 'SECTION', 'ARTICLE', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'LI', 'PRE', 'BLOCKQUOTE', 'TR', 'TABLE', 'UL', 'OL', 'DL', 'DT', 'DD', 'FIGURE', 'FIGCAPTION', 'HEADER', 'FOOTER', 'MAIN', 'ASIDE']);
const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'IFRAME']);

/**
 * Readability's cost grows about with the cube of the nesting depth (2,000 nested <div>s: ~50 s on one core), and a
 * recursive walk overflows the stack on deep trees: past this depth the body is read as it is, iteratively.
 */
const MAX_READABILITY_DEPTH = 100;

/** linkedom's parse is quadratic in nesting depth (100,000 nested <div>s: seconds): deeper HTML is refused before it. */
const MAX_HTML_DEPTH = 1_000;
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** Closed by the next of their kind (or their parent's end) in HTML parsing, so they never nest deeply on their own. */
const IMPLIED_END = new Set(['p', 'li', 'dt', 'dd', 'option', 'tr', 'td', 'th']);

/** An upper bound of the nesting depth, from the tags alone, in one linear scan. */
export function htmlNestingDepth(html: string): number {
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/g)) {
    const tag = m[2]!.toLowerCase();
    if (VOID.has(tag) || IMPLIED_END.has(tag)) continue;
    depth = m[1] ? Math.max(0, depth - 1) : depth + 1;
    if (depth > max) max = depth;
  }
  return max;
}

export function htmlToText(html: string): Extracted {
  if (htmlNestingDepth(html) > MAX_HTML_DEPTH) {
    throw new ExtractionError('document_too_complex', `The HTML is nested more than ${MAX_HTML_DEPTH} elements deep, so it cannot be read. Save it as text instead.`);
  }
  const { document } = parseHTML(html.includes('<html') ? html : `<!doctype html><html><head></head><body>${html}</body></html>`);
  const pageTitle = document.querySelector('title')?.textContent?.trim() || undefined;
  let article: ReturnType<Readability['parse']> = null;
  if (document.body && maxDepth(document.body as unknown as Node) <= MAX_READABILITY_DEPTH) {
    try {
      // Readability mutates the DOM it reads: give it a copy.
      const copy = parseHTML(document.toString()).document;
      article = new Readability(copy as unknown as Document, { charThreshold: 100 }).parse();
    } catch {
      article = null;
    }
  }
  const source = article?.content ? parseHTML(`<!doctype html><html><body>${article.content}</body></html>`).document.body : document.body;
  return { text: source ? blockText(source as unknown as Node) : '', title: article?.title?.trim() || pageTitle };
}

function maxDepth(root: Node): number {
  let max = 0;
  const stack: Array<[Node, number]> = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > max) max = depth;
    if (max > MAX_READABILITY_DEPTH) return max;
    for (const child of Array.from(node.childNodes)) if (child.nodeType === 1) stack.push([child, depth + 1]);
  }
  return max;
}

/** Text of a DOM tree with a blank line between block elements (textContent would run paragraphs together). Iterative: no depth limit. */
function blockText(root: Node): string {
  const parts: string[] = [];
  // A string on the stack is a closing separator to emit once the element's children are done.
  const stack: Array<Node | string> = [root];
  while (stack.length) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      parts.push(item);
      continue;
    }
    if (item.nodeType === 3) {
      parts.push(item.textContent ?? '');
      continue;
    }
    if (item.nodeType !== 1) continue;
    const tag = (item as Element).tagName.toUpperCase();
    if (SKIP.has(tag)) continue;
    if (tag === 'BR') {
      parts.push('\n');
      continue;
    }
    const block = BLOCK.has(tag);
    if (block) {
      parts.push('\n\n');
      stack.push('\n\n');
    }
    const children = Array.from(item.childNodes);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return parts.join('');
}

function decodeBase64(data: string): Uint8Array {
  const clean = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) throw new ExtractionError('invalid_base64', 'dataBase64 is not valid base64.');
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

async function pdfToText(bytes: Uint8Array): Promise<Extracted> {
  if (bytes.length < 5 || Buffer.from(bytes.subarray(0, 5)).toString('latin1') !== '%PDF-') {
    throw new ExtractionError('unreadable_pdf', 'The file is not a PDF.');
  }
  const inflation = measurePdfInflation(bytes);
  if (!inflation.ok) {
    throw inflation.reason === 'too_large'
      ? tooLarge(`The PDF's compressed content expands past ${MAX_PDF_DECODED_BYTES / 1024 / 1024} MB, so it was not read.`)
      : new ExtractionError('unreadable_pdf', 'The PDF uses LZW or run-length compression, which is not accepted. Save it again as a current PDF.');
  }
  try {
    const pdf = await getDocumentProxy(bytes);
    try {
      // A few MB of PDF can hold hundreds of MB of compressed text (and unpdf reads every page at once): pages are
      // read one at a time and reading stops at the same budgets a text upload has.
      if (pdf.numPages > MAX_PDF_PAGES) throw tooLarge(`The PDF has ${pdf.numPages} pages; at most ${MAX_PDF_PAGES} can be saved.`);
      const text: string[] = [];
      let chars = 0;
      for (let n = 1; n <= pdf.numPages; n++) {
        const content = await (await pdf.getPage(n)).getTextContent();
        const page = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
        chars += page.length;
        if (chars > MAX_DOCUMENT_CHARS) throw tooLarge(`The PDF holds more than ${MAX_DOCUMENT_CHARS} characters of text.`);
        text.push(page);
      }
      const meta = await pdf.getMetadata().catch(() => undefined);
      const title = (meta?.info as { Title?: unknown } | undefined)?.Title;
      return { text: text.join('\n\n'), title: typeof title === 'string' && title.trim() ? title.trim() : undefined };
    } finally {
      await (pdf as unknown as { destroy?: () => Promise<void> }).destroy?.().catch(() => {});
    }
  } catch (err) {
    if (err instanceof ExtractionError) throw err;
    throw new ExtractionError('unreadable_pdf', 'The PDF could not be read.');
  }
}
