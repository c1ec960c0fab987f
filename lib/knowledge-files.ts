/**
 * Files the user adds to the knowledge base from the panel → `CreateDocumentRequest`s. Text, Markdown and HTML are
 * read as UTF-8 text; PDF as base64 (the backend extracts its text). The limits follow the wire schema
 * (`text` ≤ 2,000,000 characters, `dataBase64` ≤ 14,000,000 characters) and are checked before anything is read
 * or sent, so a file that is too big, empty, of another type, or not what its name says fails here with a message
 * naming the file and the limit.
 */
import { type CreateDocumentRequest, type DocumentContentType, MAX_DOCUMENT_BODY_BYTES } from './protocol';

/** Text files: at most this many bytes (UTF-8 never has more characters than bytes, so the text fits the schema). */
export const MAX_TEXT_FILE_BYTES = 2_000_000;
export { MAX_DOCUMENT_BODY_BYTES };
/** PDF files: 7.5 MB, whose base64 (10,000,000 characters) and JSON wrapping fit that body. */
export const MAX_PDF_FILE_BYTES = 7_500_000;

/** What the file picker offers. */
export const ACCEPTED_FILE_TYPES = '.txt,.text,.md,.markdown,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf';

const BY_EXTENSION: Record<string, DocumentContentType> = {
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  pdf: 'application/pdf',
};

const BY_MIME: Record<string, DocumentContentType> = {
  'text/plain': 'text/plain',
  'text/markdown': 'text/markdown',
  'text/x-markdown': 'text/markdown',
  'text/html': 'text/html',
  'application/xhtml+xml': 'text/html',
  'application/pdf': 'application/pdf',
};

export class FileRejectedError extends Error {
  override name = 'FileRejectedError';
  constructor(
    readonly code: 'unsupported_type' | 'file_empty' | 'file_too_large' | 'not_utf8' | 'not_pdf',
    message: string,
  ) {
    super(message);
  }
}

/** The minimal part of a DOM `File` this module needs (tests pass plain objects). */
export interface FileLike {
  name: string;
  type: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The document type of a file, from its extension first (browsers often leave `type` empty for .md), then its MIME type. */
export function contentTypeOf(file: Pick<FileLike, 'name' | 'type'>): DocumentContentType | undefined {
  return BY_EXTENSION[extensionOf(file.name)] ?? BY_MIME[file.type.split(';')[0]!.trim().toLowerCase()];
}

/** "notes.md" → "notes"; names without a usable stem keep their whole name. */
export function titleFromFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  const dot = base.lastIndexOf('.');
  const stem = (dot > 0 ? base.slice(0, dot) : base).trim();
  return (stem || base.trim() || 'Untitled').slice(0, 300);
}

/** 1536 → "1.5 KB", 2_400_000 → "2.4 MB" (decimal units, as file managers show). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

/** Base64 of bytes, in slices (String.fromCharCode on a whole large file would overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

/** Checks type and size without reading the file. */
export function checkFile(file: Pick<FileLike, 'name' | 'type' | 'size'>): DocumentContentType {
  const type = contentTypeOf(file);
  if (!type) {
    throw new FileRejectedError(
      'unsupported_type',
      `“${file.name}” cannot be added: only text (.txt), Markdown (.md), HTML (.html) and PDF (.pdf) files can.`,
    );
  }
  if (file.size === 0) throw new FileRejectedError('file_empty', `“${file.name}” is empty.`);
  const max = type === 'application/pdf' ? MAX_PDF_FILE_BYTES : MAX_TEXT_FILE_BYTES;
  if (file.size > max) {
    const kind = type === 'application/pdf' ? 'PDF files' : 'Text, Markdown and HTML files';
    // Just over the limit rounds to the limit: then say it in bytes.
    const [size, limit] =
      formatBytes(file.size) === formatBytes(max)
        ? [`${file.size.toLocaleString('en-US')} bytes`, `${max.toLocaleString('en-US')} bytes`]
        : [formatBytes(file.size), formatBytes(max)];
    throw new FileRejectedError('file_too_large', `“${file.name}” is ${size}; ${kind} can be at most ${limit}.`);
  }
  return type;
}

/** Reads a file into the request that uploads it. Throws `FileRejectedError` with a message for the user. */
export async function documentRequestFromFile(file: FileLike, options: { folderId?: string } = {}): Promise<CreateDocumentRequest> {
  const contentType = checkFile(file);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const base = { title: titleFromFileName(file.name), source: 'upload' as const, contentType, ...(options.folderId ? { folderId: options.folderId } : {}) };
  if (contentType === 'application/pdf') {
    const magic = String.fromCharCode(...bytes.subarray(0, 5));
    if (magic !== '%PDF-') throw new FileRejectedError('not_pdf', `“${file.name}” is not a PDF file (it does not start with %PDF-).`);
    return { ...base, dataBase64: bytesToBase64(bytes) };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileRejectedError('not_utf8', `“${file.name}” is not UTF-8 text. Save it as UTF-8, or add it as a PDF.`);
  }
  if (!text.trim()) throw new FileRejectedError('file_empty', `“${file.name}” has no text.`);
  const request = { ...base, text };
  // JSON escapes can make text with many quotes or control characters larger than the file.
  const bodyBytes = new TextEncoder().encode(JSON.stringify(request)).byteLength;
  if (bodyBytes > MAX_DOCUMENT_BODY_BYTES) {
    throw new FileRejectedError('file_too_large', `“${file.name}” is too large to send (${formatBytes(bodyBytes)} once encoded; at most ${formatBytes(MAX_DOCUMENT_BODY_BYTES)}).`);
  }
  return request;
}
