/**
 * The knowledge base's HTTP API, mounted under /v1 behind the bearer-token middleware. Bodies are validated with
 * the shared zod schemas; errors are problem JSON; a document the caller may not view answers 404.
 */
import { Hono } from 'hono';
import type { z } from 'zod';
import { CreateDocumentRequest, CreateFolderRequest, type DocumentList, type FolderList, type GroupList, Id, MAX_DOCUMENT_BODY_BYTES, ShareRequest, type ShareList } from '../../../lib/protocol';
import type { Variables } from '../auth/bearer';
import { ApiError, validationError } from '../http/problem';
import type { KnowledgeBase } from './knowledge-base';

/** Documents arrive whole (a saved page, an uploaded PDF as base64): far above the API's usual 256 KB. */
const MAX_SMALL_BODY_BYTES = 16 * 1024;

export function knowledgeRoutes(kb: KnowledgeBase) {
  const r = new Hono<{ Variables: Variables }>();
  const sub = (c: { get(k: 'user'): { sub: string } }) => c.get('user').sub;

  r.post('/documents', async (c) => {
    const body = await parseBody(c.req.raw, CreateDocumentRequest, MAX_DOCUMENT_BODY_BYTES);
    return c.json(await kb.create(sub(c), body), 201);
  });

  r.get('/documents', async (c) => c.json({ documents: await kb.list(sub(c)) } satisfies z.infer<typeof DocumentList>));

  r.get('/documents/:id', async (c) => c.json(await kb.get(sub(c), parseId(c.req.param('id'), 'document'))));

  r.delete('/documents/:id', async (c) => {
    await kb.delete(sub(c), parseId(c.req.param('id'), 'document'));
    return c.body(null, 204);
  });

  for (const type of ['document', 'folder'] as const) {
    const base = `/${type}s/:id/shares`;
    r.get(base, async (c) => c.json({ shares: await kb.listShares(sub(c), type, parseId(c.req.param('id') ?? '', type)) } satisfies z.infer<typeof ShareList>));
    r.post(base, async (c) => {
      const id = parseId(c.req.param('id') ?? '', type);
      const body = await parseBody(c.req.raw, ShareRequest, MAX_SMALL_BODY_BYTES);
      return c.json(await kb.share(sub(c), type, id, body), 201);
    });
    r.delete(base, async (c) => {
      const id = parseId(c.req.param('id') ?? '', type);
      const body = await parseBody(c.req.raw, ShareRequest, MAX_SMALL_BODY_BYTES);
      await kb.revoke(sub(c), type, id, body);
      return c.body(null, 204);
    });
  }

  r.post('/folders', async (c) => {
    const body = await parseBody(c.req.raw, CreateFolderRequest, MAX_SMALL_BODY_BYTES);
    return c.json(await kb.createFolder(sub(c), body), 201);
  });

  r.get('/folders', async (c) => c.json({ folders: await kb.listFolders(sub(c)) } satisfies z.infer<typeof FolderList>));

  r.get('/groups', async (c) => c.json({ groups: (await kb.groups(sub(c))).map((id) => ({ id })) } satisfies z.infer<typeof GroupList>));

  return r;
}

function parseId(value: string, what: string): string {
  const parsed = Id.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'invalid_id', 'Bad Request', `The ${what} id must be a UUID.`);
  return parsed.data;
}

async function parseBody<S extends z.ZodType>(req: Request, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Unsupported Media Type', 'Send the body as application/json.');
  }
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readLimited(req, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'Bad Request', 'The body is not valid JSON.');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Reads at most `maxBytes`, stopping early instead of buffering an oversized body whole. */
async function readLimited(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

const tooLarge = (max: number) => new ApiError(413, 'body_too_large', 'Payload Too Large', `The body is larger than ${max} bytes.`);
