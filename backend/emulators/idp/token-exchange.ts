/**
 * RFC 8693 token exchange, shaped like Auth0 Custom Token Exchange: the backend's confidential client trades the
 * user's access token for Deputy's API for a short-lived token for another first-party API. The new token carries
 * at most what the user delegated: requested ∩ the user's permissions there ∩ the subject token's scopes.
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { importJWK, type JWK, jwtVerify, type JWTVerifyGetKey, SignJWT } from 'jose';
import { TOKEN_EXCHANGE_SUBJECT_TYPE } from '../../../lib/defaults';
import { clientCredentials, customGrant, sameSecret as same, tokenError } from './custom-grant';
import { permissionsFor } from './rbac';
import type { DemoUser } from './users';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface TokenExchangeOptions {
  issuer: string;
  /** The audience subject tokens must be for (Deputy's API). */
  subjectAudience: string;
  subjectClientId: string;
  client: { id: string; secret: string };
  /** Audiences that may be requested, with the scopes each defines. */
  resources: Record<string, readonly string[]>;
  users: Map<string, DemoUser>;
  publicKeys: JWTVerifyGetKey;
  signingJwk: JWK;
  ttlSeconds: number;
  /** Has the session this subject token came from been signed out (B5)? */
  sessionEnded?: (sid: unknown) => boolean;
}

export function tokenExchange(opts: TokenExchangeOptions): Koa.Middleware {
  const keyPromise = importJWK(opts.signingJwk, 'RS256');
  return customGrant(TOKEN_EXCHANGE_GRANT, async (ctx, form) => {
    const fail = (status: number, error: string, description: string) => tokenError(ctx, status, error, description);
    const { clientId, secret } = clientCredentials(ctx, form);
    if (clientId !== opts.client.id) {
      return clientId ? fail(400, 'unauthorized_client', 'this client may not use token exchange') : fail(401, 'invalid_client', 'client authentication failed');
    }
    if (!secret || !same(secret, opts.client.secret)) return fail(401, 'invalid_client', 'client authentication failed');
    if (form.get('subject_token_type') !== TOKEN_EXCHANGE_SUBJECT_TYPE) {
      return fail(400, 'invalid_request', `subject_token_type must be ${TOKEN_EXCHANGE_SUBJECT_TYPE}`);
    }
    const audience = form.get('audience') ?? '';
    const resourceScopes = opts.resources[audience];
    if (!resourceScopes || audience === opts.subjectAudience) return fail(400, 'invalid_target', 'unknown or disallowed audience');

    let claims: Record<string, unknown>;
    try {
      const { payload } = await jwtVerify(form.get('subject_token') ?? '', opts.publicKeys, {
        issuer: opts.issuer,
        audience: opts.subjectAudience,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      });
      if (payload.azp !== opts.subjectClientId || 'nonce' in payload) throw new Error('not an access token of the extension');
      if (opts.sessionEnded?.(payload.sid)) throw new Error('the session of the subject token has ended');
      claims = payload;
    } catch {
      return fail(400, 'invalid_grant', 'subject token is invalid');
    }
    const user = opts.users.get(String(claims.sub));
    if (!user) return fail(400, 'invalid_grant', 'subject token is invalid');

    const subjectScopes = new Set(String(claims.scope ?? '').split(' '));
    const allowed = permissionsFor(user.roles, audience);
    const requested = (form.get('scope') ?? resourceScopes.join(' ')).split(' ').filter(Boolean);
    const granted = requested.filter((s) => resourceScopes.includes(s) && allowed.has(s) && subjectScopes.has(s));
    if (granted.length === 0) return fail(400, 'invalid_scope', 'none of the requested scopes can be delegated for this user');

    const now = Math.floor(Date.now() / 1000);
    const subjectExp = typeof claims.exp === 'number' ? claims.exp : now + opts.ttlSeconds;
    const exp = Math.min(now + opts.ttlSeconds, subjectExp);
    const token = await new SignJWT({
      scope: granted.join(' '),
      permissions: granted,
      azp: opts.client.id,
      client_id: opts.client.id,
      act: { sub: `${opts.client.id}@clients` },
      ...(claims.acr ? { acr: claims.acr } : {}),
      ...(claims.amr ? { amr: claims.amr } : {}),
      ...(claims.auth_time ? { auth_time: claims.auth_time } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: opts.signingJwk.kid, typ: 'at+jwt' })
      .setIssuer(opts.issuer)
      .setSubject(user.sub)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(await keyPromise);
    ctx.status = 200;
    ctx.body = {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: exp - now,
      scope: granted.join(' '),
    };
  });
}
