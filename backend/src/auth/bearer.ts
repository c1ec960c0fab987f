/**
 * Bearer-token middleware for Hono (RFC 6750, security test A9).
 *
 * Only the `Authorization: Bearer <token>` header is read: a token in the query string (`access_token=`), a form
 * body or a cookie is ignored, so such a request is answered as if no token had been sent. Failures are RFC 7807
 * problem JSON plus the RFC 6750 `WWW-Authenticate` challenge; neither ever echoes the token.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError, problem } from '../http/problem';
import { TokenVerificationError, type VerifiedUser } from './verify-access-token';

/**
 * `accessToken` is the raw bearer token, kept only so the backend can exchange it for a downstream token
 * (token exchange, Token Vault). It is never logged, stored, or shown to the model.
 */
export type Variables = { user: VerifiedUser; accessToken: string };
export type AuthEnv = { Variables: Variables };

export type AccessTokenVerifier = (token: string) => Promise<VerifiedUser>;

const REALM = 'deputy';
/** `Bearer` + RFC 6750 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Keep a value inside an RFC 7230 quoted-string without escapes: printable ASCII minus `"` and `\`. */
function quoted(value: string): string {
  return value.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 200);
}

function challenge(params: Record<string, string | undefined>): string {
  const parts = [`realm="${REALM}"`];
  for (const [k, v] of Object.entries(params)) if (v !== undefined) parts.push(`${k}="${quoted(v)}"`);
  return `Bearer ${parts.join(', ')}`;
}

const NO_STORE = { 'Cache-Control': 'no-store' };

function unauthorized(c: Context, code: 'missing_token' | 'invalid_token', detail: string): Response {
  // RFC 6750 §3.1: no error code when the request simply carried no credentials.
  const header = code === 'missing_token' ? challenge({}) : challenge({ error: 'invalid_token', error_description: detail });
  return problem(c, new ApiError(401, code, 'Unauthorized', detail), { ...NO_STORE, 'WWW-Authenticate': header });
}

function forbidden(c: Context, detail: string, scope: string | undefined): Response {
  return problem(c, new ApiError(403, 'insufficient_scope', 'Forbidden', detail), {
    ...NO_STORE,
    'WWW-Authenticate': challenge({ error: 'insufficient_scope', error_description: detail, scope }),
  });
}

/**
 * Requires a valid access token in the `Authorization` header and exposes the verified user as `c.get('user')`.
 * 401 `missing_token` without a Bearer header, 401 `invalid_token` when verification fails, 503 when the signing
 * keys could not be fetched (the token may be fine; the client should retry rather than sign in again).
 */
export function requireUser(verify: AccessTokenVerifier): MiddlewareHandler<AuthEnv> {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined || !/^bearer(\s|$)/i.test(header.trimStart())) {
      return unauthorized(c, 'missing_token', 'an access token is required in the Authorization header');
    }
    const match = BEARER.exec(header.trim());
    if (!match) return unauthorized(c, 'invalid_token', 'malformed Authorization header');

    let user: VerifiedUser;
    try {
      user = await verify(match[1]);
    } catch (err) {
      if (err instanceof TokenVerificationError) {
        if (err.retryable) {
          const err503 = new ApiError(503, 'temporarily_unavailable', 'Service Unavailable', 'the access token cannot be checked right now; retry later');
          return problem(c, err503, { ...NO_STORE, 'Retry-After': '5' });
        }
        if (err.code === 'insufficient_scope') return forbidden(c, err.description, undefined);
        return unauthorized(c, 'invalid_token', err.description);
      }
      // Anything else is a bug in the verifier: fail closed, say nothing specific.
      return unauthorized(c, 'invalid_token', 'invalid token');
    }
    c.set('user', user);
    c.set('accessToken', match[1]);
    await next();
  });
}

/**
 * Requires every listed scope (after `requireUser`). 403 `insufficient_scope` with the needed scopes in the
 * challenge's `scope` parameter.
 */
export function requireScopes(...scopes: string[]): MiddlewareHandler<AuthEnv> {
  if (scopes.length === 0) throw new TypeError('requireScopes: at least one scope');
  return createMiddleware<AuthEnv>(async (c, next) => {
    const user = c.get('user');
    if (!user) throw new Error('requireScopes used without requireUser');
    const granted = new Set(user.scopes);
    const missing = scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) {
      return forbidden(c, `the access token lacks the required scope${missing.length > 1 ? 's' : ''}: ${missing.join(' ')}`, scopes.join(' '));
    }
    await next();
  });
}
