/**
 * Auth0-shaped CIBA with rich authorization details: `POST /bc-authorize` and the `urn:openid:params:grant-type:ciba`
 * poll at the token endpoint. Requests wait in a 0600 JSON file (they survive a restart) until the user answers on
 * the approvals page (approvals-page.ts), the trusted device that stands in for Auth0 Guardian.
 *
 * oidc-provider has a CIBA feature, but Auth0's semantics differ in the parts that matter here (the `iss_sub` login
 * hint, the binding-message character set, `access_denied` on expiry, `slow_down`, RAR types registered per API), so
 * this is its own small grant, like token-exchange.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type Koa from 'koa';
import { importJWK, type JWK, SignJWT } from 'jose';
import { invalidDetailsReason } from '../../../lib/authorization-details';
import { CIBA_GRANT, MFA_ACR } from '../../../lib/defaults';
import { clientCredentials, customGrant, sameSecret, tokenError } from './custom-grant';
import { readForm } from './json-body';
import { writeSecretFile } from './keys';
import { permissionsFor } from './rbac';
import type { DemoUser } from './users';

export type CibaStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface CibaRequest {
  id: string;
  clientId: string;
  sub: string;
  audience: string;
  scope: string;
  bindingMessage: string;
  authorizationDetails: Array<Record<string, unknown>>;
  /** The approver must also give their authenticator code. */
  mfa: boolean;
  createdAt: number;
  expiresAt: number;
  intervalSeconds: number;
  lastPolledAt?: number;
  status: CibaStatus;
  decidedAt?: number;
}

const BINDING_MESSAGE = /^[A-Za-z0-9 +\-_.,:#]{1,64}$/;

/** The requests, persisted so that a restart of the IdP loses none. */
export class CibaStore {
  private requests: CibaRequest[] = [];

  constructor(private readonly file: string) {
    try {
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { requests?: CibaRequest[] };
      if (Array.isArray(raw.requests)) this.requests = raw.requests;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`identity emulator: cannot read ${file}; delete it to start without CIBA requests`);
    }
  }

  private save() {
    const hourAgo = Date.now() - 3_600_000;
    this.requests = this.requests.filter((r) => (r.status === 'pending' ? r.expiresAt : (r.decidedAt ?? r.expiresAt)) > hourAgo);
    writeSecretFile(this.file, { requests: this.requests });
  }

  add(r: CibaRequest) {
    this.requests.push(r);
    this.save();
  }

  get(id: string) {
    return this.requests.find((r) => r.id === id);
  }

  forUser(sub: string) {
    return this.requests.filter((r) => r.sub === sub).sort((a, b) => b.createdAt - a.createdAt);
  }

  update(r: CibaRequest, patch: Partial<CibaRequest>) {
    Object.assign(r, patch);
    this.save();
  }
}

export const isExpired = (r: CibaRequest, now = Date.now()) => now >= r.expiresAt;

export interface BackchannelOptions {
  issuer: string;
  client: { id: string; secret: string };
  /** Known clients that are not allowed CIBA (public clients). */
  otherClientIds: Set<string>;
  /** Audience → the API scopes it defines. */
  apis: Record<string, readonly string[]>;
  users: Map<string, DemoUser>;
  signingJwk: JWK;
  store: CibaStore;
  intervalSeconds: number;
  log?: (line: string) => void;
}

export function backchannel(opts: BackchannelOptions): Koa.Middleware[] {
  const keyPromise = importJWK(opts.signingJwk, 'RS256');
  const authenticateClient = (ctx: Koa.Context, form: URLSearchParams): boolean => {
    const { clientId, secret } = clientCredentials(ctx, form);
    if (clientId !== opts.client.id || !secret || !sameSecret(secret, opts.client.secret)) {
      tokenError(ctx, 401, 'invalid_client', opts.otherClientIds.has(clientId) ? 'this client may not use CIBA' : 'client authentication failed');
      return false;
    }
    return true;
  };

  const authorize: Koa.Middleware = async (ctx, next) => {
    if (ctx.path !== '/bc-authorize') return next();
    ctx.set('cache-control', 'no-store');
    if (ctx.method !== 'POST') return tokenError(ctx, 405, 'invalid_request', 'use POST');
    const form = await readForm(ctx.req);
    if (!authenticateClient(ctx, form)) return;
    const fail = (error: string, description: string) => tokenError(ctx, 400, error, description);

    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('openid')) return fail('invalid_scope', 'scope must contain openid');
    const audience = form.get('audience') ?? '';
    const apiScopes = opts.apis[audience];
    if (!apiScopes) return fail('invalid_request', 'unknown audience');

    let hint: { format?: unknown; iss?: unknown; sub?: unknown };
    try {
      hint = JSON.parse(form.get('login_hint') ?? '');
    } catch {
      return fail('invalid_request', 'login_hint must be JSON: {"format":"iss_sub","iss":"...","sub":"..."}');
    }
    if (hint?.format !== 'iss_sub' || hint.iss !== opts.issuer || typeof hint.sub !== 'string') {
      return fail('invalid_request', `login_hint must be {"format":"iss_sub","iss":"${opts.issuer}","sub":"<user id>"}`);
    }
    const user = opts.users.get(hint.sub);
    if (!user) return fail('unknown_user_id', 'no such user');

    const bindingMessage = form.get('binding_message') ?? '';
    if (!BINDING_MESSAGE.test(bindingMessage)) {
      return fail('invalid_binding_message', 'binding_message is required: at most 64 letters, digits, spaces and + - _ . , : #');
    }
    let details: unknown = [];
    const rawDetails = form.get('authorization_details');
    if (rawDetails !== null) {
      try {
        details = JSON.parse(rawDetails);
      } catch {
        return fail('invalid_authorization_details', 'authorization_details is not JSON');
      }
      const reason = invalidDetailsReason(details, audience);
      if (reason) return fail('invalid_authorization_details', reason);
    }
    const expiry = form.get('requested_expiry');
    const expiresIn = expiry === null ? 300 : Number(expiry);
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 300) return fail('invalid_request', 'requested_expiry must be an integer from 1 to 300');

    const permitted = permissionsFor(user.roles, audience);
    const granted = scopes.filter((s) => s === 'openid' || (apiScopes.includes(s) && permitted.has(s)));
    const now = Date.now();
    const request: CibaRequest = {
      id: randomBytes(24).toString('base64url'),
      clientId: opts.client.id,
      sub: user.sub,
      audience,
      scope: granted.join(' '),
      bindingMessage,
      authorizationDetails: details as Array<Record<string, unknown>>,
      mfa: (form.get('acr_values') ?? '').split(' ').includes(MFA_ACR),
      createdAt: now,
      expiresAt: now + expiresIn * 1000,
      intervalSeconds: opts.intervalSeconds,
      status: 'pending',
    };
    opts.store.add(request);
    ctx.status = 200;
    ctx.body = { auth_req_id: request.id, expires_in: expiresIn, interval: request.intervalSeconds };
  };

  const poll = customGrant(CIBA_GRANT, async (ctx, form) => {
    if (!authenticateClient(ctx, form)) return;
    const fail = (error: string, description: string, extra: Record<string, unknown> = {}) => {
      tokenError(ctx, 400, error, description);
      Object.assign(ctx.body as object, extra);
    };
    const r = opts.store.get(form.get('auth_req_id') ?? '');
    if (!r || r.clientId !== opts.client.id || r.status === 'redeemed') return fail('invalid_grant', 'Invalid or expired auth_req_id.');
    const now = Date.now();
    if (r.status === 'denied') return fail('access_denied', 'The end-user denied the authorization request.');
    if (r.status === 'pending' && isExpired(r, now)) return fail('access_denied', 'The authorization request has expired.');
    if (r.status === 'pending') {
      const early = r.lastPolledAt !== undefined && now - r.lastPolledAt < r.intervalSeconds * 1000;
      if (early) {
        const interval = r.intervalSeconds + 5;
        opts.store.update(r, { lastPolledAt: now, intervalSeconds: interval });
        ctx.set('retry-after', String(interval));
        return fail('slow_down', 'You are polling faster than allowed. Try again later.', { interval });
      }
      opts.store.update(r, { lastPolledAt: now });
      return fail('authorization_pending', 'The end-user authorization is pending.');
    }
    // Approved: one token, once (D1).
    opts.store.update(r, { status: 'redeemed' });
    const key = await keyPromise;
    const nowS = Math.floor(now / 1000);
    const ttl = 300;
    const apiScopes = r.scope.split(' ').filter((s) => s !== 'openid');
    const authTime = Math.floor((r.decidedAt ?? now) / 1000);
    const auth = r.mfa ? { acr: MFA_ACR, amr: ['mfa'], auth_time: authTime } : {};
    const accessToken = await new SignJWT({
      scope: r.scope,
      permissions: apiScopes,
      azp: opts.client.id,
      client_id: opts.client.id,
      authorization_details: r.authorizationDetails,
      ...auth,
    })
      .setProtectedHeader({ alg: 'RS256', kid: opts.signingJwk.kid, typ: 'at+jwt' })
      .setIssuer(opts.issuer)
      .setSubject(r.sub)
      .setAudience(r.audience)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttl)
      .setJti(randomUUID())
      .sign(key);
    const idToken = await new SignJWT({ auth_time: authTime, ...(r.mfa ? { acr: MFA_ACR, amr: ['mfa'] } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid: opts.signingJwk.kid, typ: 'JWT' })
      .setIssuer(opts.issuer)
      .setSubject(r.sub)
      .setAudience(opts.client.id)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttl)
      .sign(key);
    ctx.status = 200;
    ctx.body = { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: ttl, scope: r.scope, authorization_details: r.authorizationDetails };
  });

  return [authorize, poll];
}
