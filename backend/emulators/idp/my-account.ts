/**
 * Auth0's My Account API for connected accounts (`/me/v1/connected-accounts/...`), called by the extension with an
 * access token for the `https://{domain}/me/` audience, plus the tenant-side connect step that sends the browser to
 * the provider's consent and back.
 *
 *   POST /me/v1/connected-accounts/connect  → {connect_uri, auth_session, connect_params:{ticket}, expires_in}
 *   GET  /connected-accounts/connect?ticket → 302 to the provider's authorize endpoint (login_hint = the user)
 *   GET  /connected-accounts/callback       → code exchanged with the provider, 302 redirect_uri?connect_code&state
 *   POST /me/v1/connected-accounts/complete → the connected account (PKCE-bound, same user only, single use)
 *   GET  /me/v1/connected-accounts/accounts, GET .../connections, DELETE .../accounts/{id}
 *
 * Errors are RFC 7807 problem JSON. A connect flow is bound to the user who started it: completing it needs that
 * user's token, the PKCE verifier and the connect code (C4).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import type Koa from 'koa';
import { z } from 'zod';
import { MY_ACCOUNT_SCOPES } from '../../../lib/defaults';
import { type ConnectedAccountStore, publicAccount } from './connected-account-store';
import { BodyError, readRaw } from './json-body';
import { errorPage, PAGE_HEADERS } from './pages';
import { authorizeUrl, exchangeCode, revokeUpstream, type UpstreamProvider, type UpstreamTokens } from './upstream';
import type { DemoUser } from './users';

export interface MyAccountOptions {
  issuer: string;
  /** `${issuer}me/` */
  audience: string;
  publicKeys: JWTVerifyGetKey;
  /** Client id → its allowed callback URLs (a connect's redirect_uri must be one of the calling client's). */
  clients: Map<string, readonly string[]>;
  origins: ReadonlySet<string>;
  users: Map<string, DemoUser>;
  upstreams: UpstreamProvider[];
  store: ConnectedAccountStore;
  log: (line: string) => void;
}

const CONNECT_TTL_SECONDS = 300;
const now = () => Math.floor(Date.now() / 1000);
const random = (bytes = 24) => randomBytes(bytes).toString('base64url');
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

interface ConnectFlow {
  authSession: string;
  ticket: string;
  sub: string;
  clientId: string;
  connection: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scopes: string[];
  authorizationParams: Record<string, string>;
  expiresAt: number;
  upstreamState?: string;
  connectCode?: string;
  tokens?: UpstreamTokens;
}

const ConnectBody = z.strictObject({
  connection: z.string().min(1).max(100),
  redirect_uri: z.url(),
  state: z.string().min(8).max(512),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/, 'a base64url S256 challenge'),
  code_challenge_method: z.literal('S256'),
  scopes: z.array(z.string().regex(/^[\x21-\x7E]{1,200}$/)).max(50).optional(),
  authorization_params: z.record(z.string(), z.string().max(500)).optional(),
});

const CompleteBody = z.strictObject({
  auth_session: z.string().min(1).max(200),
  connect_code: z.string().min(1).max(200),
  redirect_uri: z.url(),
  code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'a PKCE code verifier'),
});

/** Parameters a connect request may not override on the provider's authorize URL. */
const RESERVED_UPSTREAM_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'user_scope', 'login_hint', 'code_challenge', 'code_challenge_method']);

class Problem extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string, readonly type = `https://auth0.com/api-errors/${title.toLowerCase().replace(/\s+/g, '-')}`) {
    super(detail);
  }
}

export function myAccountApi(opts: MyAccountOptions): Koa.Middleware {
  const flows = new Map<string, ConnectFlow>();
  // Looked up on each use: the offline stack adds the providers once their emulator listens.
  const upstreams = { get: (name: string) => opts.upstreams.find((u) => u.connection === name), names: () => opts.upstreams.map((u) => u.connection) };
  const callbackUrl = `${opts.issuer}connected-accounts/callback`;

  const sweep = () => {
    for (const [k, f] of flows) if (f.expiresAt < now()) flows.delete(k);
  };
  const flowBy = (pred: (f: ConnectFlow) => boolean) => {
    sweep();
    for (const f of flows.values()) if (pred(f)) return f;
    return undefined;
  };

  async function authenticate(ctx: Koa.Context, scope: (typeof MY_ACCOUNT_SCOPES)[number]) {
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(ctx.get('authorization'));
    if (!m) throw new Problem(401, 'Unauthorized', 'A bearer access token for the My Account API is required.');
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(m[1]!, opts.publicKeys, { issuer: opts.issuer, audience: opts.audience, algorithms: ['RS256'], typ: 'at+jwt' }));
    } catch {
      throw new Problem(401, 'Unauthorized', 'The access token is invalid or expired.');
    }
    const clientId = String(claims.azp ?? '');
    const user = opts.users.get(String(claims.sub));
    if (!user || !opts.clients.has(clientId)) throw new Problem(401, 'Unauthorized', 'The access token is invalid or expired.');
    if (!String(claims.scope ?? '').split(' ').includes(scope)) throw new Problem(403, 'Insufficient Scope', `The access token lacks the scope ${scope}.`);
    return { user, clientId };
  }

  async function jsonBody<T extends z.ZodType>(ctx: Koa.Context, schema: T): Promise<z.infer<T>> {
    if (!/^application\/json\b/i.test(ctx.get('content-type'))) throw new Problem(415, 'Unsupported Media Type', 'Send a JSON body.');
    let raw: unknown;
    try {
      raw = JSON.parse((await readRaw(ctx.req, 16 * 1024)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyError) throw new Problem(err.status, 'Bad Request', err.description);
      throw new Problem(400, 'Bad Request', 'The body is not valid JSON.');
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Problem(400, 'Bad Request', `Invalid request: ${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    return parsed.data;
  }

  const json = (ctx: Koa.Context, status: number, body: unknown) => {
    ctx.status = status;
    ctx.set('cache-control', 'no-store');
    ctx.body = body;
  };

  async function connect(ctx: Koa.Context) {
    const { user, clientId } = await authenticate(ctx, 'create:me:connected_accounts');
    const body = await jsonBody(ctx, ConnectBody);
    const upstream = upstreams.get(body.connection);
    if (!upstream) throw new Problem(400, 'Bad Request', `The connection ${body.connection} is not enabled for connected accounts.`);
    if (!opts.clients.get(clientId)!.includes(body.redirect_uri)) {
      throw new Problem(400, 'Bad Request', 'redirect_uri is not one of the allowed callback URLs of this application.');
    }
    const authorizationParams = Object.fromEntries(Object.entries(body.authorization_params ?? {}).filter(([k]) => !RESERVED_UPSTREAM_PARAMS.has(k)));
    const flow: ConnectFlow = {
      authSession: random(),
      ticket: random(),
      sub: user.sub,
      clientId,
      connection: upstream.connection,
      redirectUri: body.redirect_uri,
      state: body.state,
      codeChallenge: body.code_challenge,
      scopes: [...new Set(body.scopes?.length ? body.scopes : upstream.defaultScopes)],
      authorizationParams,
      expiresAt: now() + CONNECT_TTL_SECONDS,
    };
    flows.set(flow.authSession, flow);
    json(ctx, 201, {
      connect_uri: `${opts.issuer}connected-accounts/connect`,
      auth_session: flow.authSession,
      connect_params: { ticket: flow.ticket },
      expires_in: CONNECT_TTL_SECONDS,
    });
  }

  /** The browser arrives with the ticket; it goes on to the provider's consent for the user who started the flow. */
  function startAtProvider(ctx: Koa.Context) {
    const ticket = typeof ctx.query.ticket === 'string' ? ctx.query.ticket : '';
    const flow = ticket ? flowBy((f) => f.ticket === ticket && !f.upstreamState) : undefined;
    if (!flow) return page(ctx, 400, errorPage('Connection expired', 'invalid_ticket', 'This connection request has expired or was already used. Start connecting again from Deputy.'));
    flow.upstreamState = random();
    const upstream = upstreams.get(flow.connection)!;
    ctx.set('cache-control', 'no-store');
    ctx.status = 302;
    ctx.redirect(
      authorizeUrl(upstream, {
        redirectUri: callbackUrl,
        state: flow.upstreamState,
        scopes: flow.scopes,
        loginHint: opts.users.get(flow.sub)?.email,
        extra: flow.authorizationParams,
      }),
    );
  }

  /** The provider sends the browser back: exchange its code, then return to the application with a connect code. */
  async function providerCallback(ctx: Koa.Context) {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const flow = state ? flowBy((f) => f.upstreamState === state && !f.connectCode) : undefined;
    if (!flow) return page(ctx, 400, errorPage('Connection expired', 'invalid_state', 'This connection request has expired or was already completed. Start connecting again from Deputy.'));
    const back = new URL(flow.redirectUri);
    back.searchParams.set('state', flow.state);
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    if (!code) {
      flows.delete(flow.authSession);
      back.searchParams.set('error', typeof ctx.query.error === 'string' && ctx.query.error === 'access_denied' ? 'access_denied' : 'server_error');
      back.searchParams.set('error_description', ctx.query.error === 'access_denied' ? 'The user did not allow access.' : 'The provider did not complete the connection.');
    } else {
      try {
        flow.tokens = await exchangeCode(upstreams.get(flow.connection)!, code, callbackUrl);
        flow.connectCode = random();
        back.searchParams.set('connect_code', flow.connectCode);
      } catch (err) {
        opts.log(`connect ${flow.connection}: ${(err as Error).message}`);
        flows.delete(flow.authSession);
        back.searchParams.set('error', 'server_error');
        back.searchParams.set('error_description', 'The provider did not issue a token.');
      }
    }
    ctx.set('cache-control', 'no-store');
    ctx.status = 302;
    ctx.redirect(back.toString());
  }

  async function complete(ctx: Koa.Context) {
    const { user } = await authenticate(ctx, 'create:me:connected_accounts');
    const body = await jsonBody(ctx, CompleteBody);
    sweep();
    const flow = flows.get(body.auth_session);
    if (!flow || !flow.connectCode || !flow.tokens) throw new Problem(400, 'Bad Request', 'The connect session is unknown, expired or not finished.');
    // Any mismatch burns the session: a connect flow is completed once, by the user who started it, or never.
    flows.delete(flow.authSession);
    if (flow.sub !== user.sub) throw new Problem(403, 'Forbidden', 'This connect session belongs to another user.');
    const challenge = createHash('sha256').update(body.code_verifier).digest('base64url');
    if (!same(body.connect_code, flow.connectCode) || body.redirect_uri !== flow.redirectUri || !same(challenge, flow.codeChallenge)) {
      throw new Problem(400, 'Bad Request', 'The connect code, redirect_uri or code_verifier does not match the connect session.');
    }
    const account = opts.store.upsert(user.sub, flow.connection, flow.tokens);
    json(ctx, 201, publicAccount(account));
  }

  async function listAccounts(ctx: Koa.Context) {
    const { user } = await authenticate(ctx, 'read:me:connected_accounts');
    const connection = typeof ctx.query.connection === 'string' ? ctx.query.connection : undefined;
    json(ctx, 200, { accounts: opts.store.list(user.sub, connection).map(publicAccount) });
  }

  async function listConnections(ctx: Koa.Context) {
    await authenticate(ctx, 'read:me:connected_accounts');
    json(ctx, 200, { connections: opts.upstreams.map((u) => ({ name: u.connection, strategy: u.strategy, scopes: u.defaultScopes })) });
  }

  async function deleteAccount(ctx: Koa.Context, id: string) {
    const { user } = await authenticate(ctx, 'delete:me:connected_accounts');
    const removed = opts.store.remove(user.sub, id);
    if (!removed) throw new Problem(404, 'Not Found', 'No connected account with that id.');
    const upstream = upstreams.get(removed.connection);
    if (upstream) await revokeUpstream(upstream, removed.tokens);
    ctx.status = 204;
  }

  const page = (ctx: Koa.Context, status: number, html: string) => {
    ctx.status = status;
    ctx.set(PAGE_HEADERS);
    ctx.type = 'html';
    ctx.body = html;
  };

  return async (ctx, next) => {
    const p = ctx.path;
    if (ctx.method === 'GET' && p === '/connected-accounts/connect') return startAtProvider(ctx);
    if (ctx.method === 'GET' && p === '/connected-accounts/callback') return providerCallback(ctx);
    if (!p.startsWith('/me/v1/')) return next();

    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (origin && opts.origins.has(origin)) {
      ctx.set('access-control-allow-origin', origin);
      if (ctx.method === 'OPTIONS') {
        ctx.set('access-control-allow-methods', 'GET, POST, DELETE');
        ctx.set('access-control-allow-headers', 'authorization, content-type');
        ctx.set('access-control-max-age', '600');
        ctx.status = 204;
        return;
      }
    }
    try {
      const account = /^\/me\/v1\/connected-accounts\/accounts\/([A-Za-z0-9_-]{1,100})$/.exec(p);
      if (ctx.method === 'POST' && p === '/me/v1/connected-accounts/connect') return await connect(ctx);
      if (ctx.method === 'POST' && p === '/me/v1/connected-accounts/complete') return await complete(ctx);
      if (ctx.method === 'GET' && p === '/me/v1/connected-accounts/accounts') return await listAccounts(ctx);
      if (ctx.method === 'GET' && p === '/me/v1/connected-accounts/connections') return await listConnections(ctx);
      if (ctx.method === 'DELETE' && account) return await deleteAccount(ctx, account[1]!);
      throw new Problem(404, 'Not Found', 'No such My Account API route.');
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      ctx.status = err.status;
      ctx.type = 'application/problem+json';
      ctx.set('cache-control', 'no-store');
      if (err.status === 401) ctx.set('www-authenticate', `Bearer realm="${opts.audience}", error="invalid_token"`);
      ctx.body = { type: err.type, status: err.status, title: err.title, detail: err.detail };
    }
  };
}
