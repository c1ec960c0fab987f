/** Files added from the panel → CreateDocumentRequest: types, size limits, encodings, with errors naming the file and the limit. */
import { describe, expect, it } from 'vitest';
import {
  bytesToBase64,
  checkFile,
  contentTypeOf,
  documentRequestFromFile,
  FileRejectedError,
  type FileLike,
  formatBytes,
  MAX_DOCUMENT_BODY_BYTES,
  MAX_PDF_FILE_BYTES,
  MAX_TEXT_FILE_BYTES,
  titleFromFileName,
} from '../../lib/knowledge-files';
import { CreateDocumentRequest } from '../../lib/protocol';

function file(name: string, content: string | Uint8Array, type = ''): FileLike {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { name, type, size: bytes.byteLength, arrayBuffer: async () => bytes.slice().buffer };
}

/** A file that claims a size without holding the bytes (size checks must not read it). */
function hugeFile(name: string, size: number, type = ''): FileLike {
  return {
    name,
    type,
    size,
    arrayBuffer: async () => {
      throw new Error('read a file that should have been refused by its size');
    },
  };
}

describe('contentTypeOf', () => {
  it('knows text, Markdown, HTML and PDF by extension (case-insensitive), else by MIME type', () => {
    expect(contentTypeOf({ name: 'notes.MD', type: '' })).toBe('text/markdown');
    expect(contentTypeOf({ name: 'a.markdown', type: '' })).toBe('text/markdown');
    expect(contentTypeOf({ name: 'page.htm', type: '' })).toBe('text/html');
    expect(contentTypeOf({ name: 'r.txt', type: 'application/octet-stream' })).toBe('text/plain');
    expect(contentTypeOf({ name: 'paper.pdf', type: '' })).toBe('application/pdf');
    expect(contentTypeOf({ name: 'README', type: 'text/plain; charset=utf-8' })).toBe('text/plain');
    expect(contentTypeOf({ name: 'x', type: 'application/xhtml+xml' })).toBe('text/html');
    expect(contentTypeOf({ name: 'photo.png', type: 'image/png' })).toBeUndefined();
    expect(contentTypeOf({ name: 'doc.docx', type: '' })).toBeUndefined();
  });
});

describe('checkFile', () => {
  it('refuses other types with the list of what is accepted', () => {
    expect(() => checkFile({ name: 'photo.png', type: 'image/png', size: 10 })).toThrow(/“photo.png” cannot be added: only text \(.txt\), Markdown \(.md\), HTML \(.html\) and PDF \(.pdf\)/);
  });

  it('refuses empty files', () => {
    expect(() => checkFile({ name: 'e.txt', type: '', size: 0 })).toThrow('“e.txt” is empty.');
  });

  it('applies 2 MB to text files and 10 MiB to PDFs, at the byte', () => {
    expect(checkFile({ name: 'ok.md', type: '', size: MAX_TEXT_FILE_BYTES })).toBe('text/markdown');
    expect(() => checkFile({ name: 'big.md', type: '', size: MAX_TEXT_FILE_BYTES + 1 })).toThrow(
      '“big.md” is 2,000,001 bytes; Text, Markdown and HTML files can be at most 2,000,000 bytes.',
    );
    expect(checkFile({ name: 'ok.pdf', type: '', size: MAX_PDF_FILE_BYTES })).toBe('application/pdf');
    expect(() => checkFile({ name: 'big.pdf', type: '', size: 12_400_000 })).toThrow('“big.pdf” is 12 MB; PDF files can be at most 7.5 MB.');
  });

  it('the largest accepted files fit the wire schema limits', () => {
    expect(Math.ceil(MAX_PDF_FILE_BYTES / 3) * 4).toBeLessThanOrEqual(14_000_000);
    expect(Math.ceil(MAX_PDF_FILE_BYTES / 3) * 4 + 1000).toBeLessThanOrEqual(MAX_DOCUMENT_BODY_BYTES);
    expect(MAX_TEXT_FILE_BYTES).toBeLessThanOrEqual(2_000_000);
  });
});

describe('documentRequestFromFile', () => {
  it('reads Markdown as text, titled after the file name, and the request passes the wire schema', async () => {
    const req = await documentRequestFromFile(file('Release notes.v2.md', '# Release\n\nThe Orbit launch is on **March 3**. ✓'));
    expect(req).toEqual({ title: 'Release notes.v2', source: 'upload', contentType: 'text/markdown', text: '# Release\n\nThe Orbit launch is on **March 3**. ✓' });
    expect(CreateDocumentRequest.safeParse(req).success).toBe(true);
  });

  it('sends HTML as its source text (the server extracts it) and passes a folder on', async () => {
    const req = await documentRequestFromFile(file('page.html', '<h1>Hi</h1><p>there</p>', 'text/html'), { folderId: '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10' });
    expect(req).toMatchObject({ contentType: 'text/html', text: '<h1>Hi</h1><p>there</p>', folderId: '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10' });
    expect(CreateDocumentRequest.safeParse(req).success).toBe(true);
  });

  it('reads a PDF as base64 of its exact bytes', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('%PDF-1.4\n'), 0, 255, 128, 10]);
    const req = await documentRequestFromFile(file('paper.pdf', bytes));
    expect(req.contentType).toBe('application/pdf');
    expect(req.text).toBeUndefined();
    expect(Buffer.from(req.dataBase64!, 'base64')).toEqual(Buffer.from(bytes));
    expect(CreateDocumentRequest.safeParse(req).success).toBe(true);
  });

  it('refuses a .pdf that is not a PDF, and binary data named .txt', async () => {
    await expect(documentRequestFromFile(file('fake.pdf', 'hello'))).rejects.toThrow('“fake.pdf” is not a PDF file');
    await expect(documentRequestFromFile(file('bin.txt', new Uint8Array([0xff, 0xfe, 0xc3, 0x28])))).rejects.toMatchObject({
      code: 'not_utf8',
      message: expect.stringContaining('“bin.txt” is not UTF-8 text'),
    });
  });

  it('refuses a text file of only whitespace', async () => {
    await expect(documentRequestFromFile(file('blank.txt', ' \n\t '))).rejects.toThrow('“blank.txt” has no text.');
  });

  it('refuses text whose JSON encoding would exceed the request body limit', async () => {
    const err = await documentRequestFromFile(file('controls.txt', 'a' + '\u0001'.repeat(1_900_000))).catch((e) => e);
    expect(err).toMatchObject({ code: 'file_too_large', message: expect.stringContaining('“controls.txt” is too large to send (11 MB once encoded; at most 10 MB)') });
  });

  it('checks the size before reading anything', async () => {
    const err = await documentRequestFromFile(hugeFile('huge.pdf', 50_000_000)).catch((e) => e);
    expect(err).toBeInstanceOf(FileRejectedError);
    expect(err.code).toBe('file_too_large');
  });
});

describe('helpers', () => {
  it('base64 of large buffers matches Node', () => {
    const bytes = new Uint8Array(200_003).map((_, i) => (i * 31) & 0xff);
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });

  it('titles and sizes', () => {
    expect(titleFromFileName('dir/sub/notes.md')).toBe('notes');
    expect(titleFromFileName('.env')).toBe('.env');
    expect(titleFromFileName('x'.repeat(400) + '.txt')).toHaveLength(300);
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(2_400_000)).toBe('2.4 MB');
  });
});
