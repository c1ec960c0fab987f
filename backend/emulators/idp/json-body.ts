/**
 * Auth0 accepts JSON bodies at /oauth/token (and /oauth/revoke); oidc-provider reads only
 * application/x-www-form-urlencoded there and parses the raw request stream itself. This Koa middleware, mounted
 * before oidc-provider's router, reads a JSON body, converts it to the equivalent form body and hands oidc-provider a
 * fresh request stream carrying that form body (same socket, method, URL and headers apart from the content type and
 * length). oidc-provider then parses and validates it exactly as if the client had sent a form.
 *
 * Conversion: strings as they are; numbers and booleans as their string form; arrays of primitives as repeated
 * parameters; any other object or array (e.g. `authorization_details`) as its JSON text; null and undefined dropped.
 */
import { IncomingMessage } from 'node:http';
import type Koa from 'koa';

/** oidc-provider's own body size limit. */
const LIMIT = 56 * 1024;

export class BodyError extends Error {
  constructor(readonly status: number, readonly error: string, readonly description: string) {
    super(description);
  }
}

export async function readRaw(req: IncomingMessage, limit = LIMIT): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyError(413, 'invalid_request', 'request entity too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyError(413, 'invalid_request', 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** Reads a small urlencoded form body (our own interaction routes). */
export async function readForm(req: IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BodyError(415, 'invalid_request', 'expected an application/x-www-form-urlencoded body');
  return new URLSearchParams((await readRaw(req, limit)).toString('utf8'));
}

export function jsonToForm(value: Record<string, unknown>): string {
  const form = new URLSearchParams();
  const primitive = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (primitive(v)) form.append(key, String(v));
    else if (Array.isArray(v) && v.every(primitive)) for (const item of v) form.append(key, String(item));
    else form.append(key, JSON.stringify(v));
  }
  return form.toString();
}

/** A new request on the same socket that replays `body` as its payload. */
export function replayRequest(original: IncomingMessage, body: Buffer, contentType: string): IncomingMessage {
  const req = new IncomingMessage(original.socket);
  req.method = original.method;
  req.url = original.url;
  req.httpVersion = original.httpVersion;
  req.httpVersionMajor = original.httpVersionMajor;
  req.httpVersionMinor = original.httpVersionMinor;
  const headers: Record<string, string | string[] | undefined> = { ...original.headers, 'content-type': contentType, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  req.headers = headers as IncomingMessage['headers'];
  req.rawHeaders = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : v === undefined ? [] : [k, v]));
  // The body is all here: the stream must not count as aborted (that would destroy the shared socket).
  req.complete = true;
  req.push(body);
  req.push(null);
  return req;
}

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Koa middleware: for POSTs to `paths` with a JSON body, let oidc-provider see the equivalent form body.
 * `decorateError` adds headers (CORS) to the error answers this middleware gives itself.
 */
export function jsonBodyAsForm(paths: ReadonlySet<string>, decorateError: (ctx: Koa.Context) => void = () => {}): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !paths.has(ctx.path) || !isJson(ctx.get('content-type'))) return next();
    let parsed: unknown;
    try {
      const raw = await readRaw(ctx.req);
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      const e = err instanceof BodyError ? err : new BodyError(400, 'invalid_request', 'failed to parse the request body');
      decorateError(ctx);
      ctx.status = e.status;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: e.error, error_description: e.description };
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      decorateError(ctx);
      ctx.status = 400;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: 'the JSON request body must be an object' };
      return;
    }
    const form = Buffer.from(jsonToForm(parsed as Record<string, unknown>), 'utf8');
    const replay = replayRequest(ctx.req, form, 'application/x-www-form-urlencoded');
    ctx.req = replay;
    ctx.request.req = replay;
    ctx.response.req = replay;
    return next();
  };
}
