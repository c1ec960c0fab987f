/**
 * Grants oidc-provider does not implement (RFC 8693 token exchange, Auth0's Token Vault grant) are answered by Koa
 * middleware mounted before it. Each reads the token request's form body; requests for other grants get the body
 * replayed and go on to oidc-provider untouched. JSON bodies were already turned into form bodies (json-body.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { readRaw, replayRequest } from './json-body';

export function customGrant(grantType: string, handle: (ctx: Koa.Context, form: URLSearchParams) => Promise<void>): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/oauth/token') return next();
    const type = (ctx.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return next();
    const raw = await readRaw(ctx.req);
    const form = new URLSearchParams(raw.toString('utf8'));
    if (form.get('grant_type') !== grantType) {
      const replay = replayRequest(ctx.req, raw, ctx.get('content-type'));
      ctx.req = replay;
      ctx.request.req = replay;
      ctx.response.req = replay;
      return next();
    }
    ctx.set('cache-control', 'no-store');
    await handle(ctx, form);
  };
}

/** The client's id and secret from HTTP Basic (preferred) or the form (client_secret_post). */
export function clientCredentials(ctx: Koa.Context, form: URLSearchParams): { clientId: string; secret: string } {
  const basic = /^Basic (.+)$/i.exec(ctx.get('authorization') ?? '');
  if (basic) {
    const [id, s] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    return { clientId: decodeURIComponent(id ?? ''), secret: decodeURIComponent(s ?? '') };
  }
  return { clientId: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
}

export function tokenError(ctx: Koa.Context, status: number, error: string, description: string) {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

export const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
