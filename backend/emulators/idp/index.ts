/**
 * Deputy's Auth0-compatible identity provider emulator: the offline stand-in for an Auth0 tenant.
 *
 * Built on oidc-provider (pinned), shaped like Auth0 on the wire: Auth0's paths (`/authorize`, `/oauth/token`,
 * `/.well-known/jwks.json`, `/userinfo`, `/oauth/revoke`, `/oidc/logout`, `/v2/logout`), the `audience` parameter,
 * RS256 JWT access tokens (`typ: at+jwt`) with `aud` = `[audience, <issuer>userinfo]` when `openid` was granted,
 * `azp`, `client_id`, space-separated `scope`; JSON or form bodies at the token endpoint; a first-party login page
 * without a consent screen; refresh-token rotation with reuse detection. See ./README.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type Koa from 'koa';
import Provider, {
  errors,
  type Account,
  type AccessToken,
  type ClientCredentials,
  type Configuration,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider';
import {
  DEFAULT_API_AUDIENCE,
  DEFAULT_API_SCOPES,
  DEFAULT_EXTENSION_CLIENT_ID,
  EXTENSION_ORIGIN,
  EXTENSION_REDIRECT_URI,
  MY_ACCOUNT_SCOPES,
  PROJECTS_AUDIENCE,
  PROJECTS_SCOPES,
} from '../../../lib/defaults';
import { permissionsFor } from './rbac';
import { ConnectedAccountStore } from './connected-account-store';
import { myAccountApi } from './my-account';
import { tokenExchange } from './token-exchange';
import { refreshConnectedAccount, tokenVault } from './token-vault';
import { approvalsPage } from './approvals-page';
import { backchannel, CibaStore } from './backchannel';
import { loadOrCreateTotpSecrets, MFA_ACR, totpUri, verifyTotp } from './totp';
import { createHmac } from 'node:crypto';
import type { UpstreamProvider } from './upstream';
import { BodyError, jsonBodyAsForm, readForm } from './json-body';
import { loadOrCreateSecrets, loadOrCreateSigningKeys } from './keys';
import {
  PAGE_HEADERS,
  avatarSvg,
  demoUsersPage,
  errorPage,
  homePage,
  loginPage,
  logoutConfirmPage,
  otpPage,
  signedOutPage,
} from './pages';
import { ModelStore } from './store';
import { SCOPE_CLAIMS, authenticate, demoUsers, userClaims, type DemoUser } from './users';

export type { DemoUser } from './users';

export interface IdpOptions {
  /** 0 = pick a free port. */
  port: number;
  /** Default 'localhost'; the issuer is `http://${host}:${port}/` (with the trailing slash). */
  host?: string;
  /** Signing keys, cookie keys, the backend client's secret and the session store live here (created if missing). */
  dataDir: string;
  /** Default DEFAULT_API_AUDIENCE. */
  audience?: string;
  /** Default ['chat']. */
  apiScopes?: string[];
  /** Default DEFAULT_EXTENSION_CLIENT_ID. */
  extensionClientId?: string;
  /** Default [EXTENSION_REDIRECT_URI] (https://<id>.chromiumapp.org/). */
  extensionRedirectUris?: string[];
  /** Default [EXTENSION_ORIGIN]; CORS is answered for these at /oauth/token, /oauth/revoke and /userinfo. */
  extensionOrigins?: string[];
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 8 hours. */
  sessionTtlSeconds?: number;
  /** Third-party providers behind Token Vault connections (the offline stack passes its provider emulator's). */
  upstreams?: UpstreamProvider[];
  /** CIBA polling interval the IdP asks for (default 5 s, as Auth0). */
  cibaIntervalSeconds?: number;
}

export interface RunningIdp {
  /** `http://host:port/` (trailing slash), the `iss` of every token. */
  issuer: string;
  /** `http://host:port` (no trailing slash): Auth0's "domain" for clients. */
  url: string;
  port: number;
  users: DemoUser[];
  /** Secret of the confidential `deputy-backend` client (generated at first run, kept in dataDir). */
  backendClientSecret: string;
  /** Each demo user's TOTP secret (base32) by sub: their second factor, shown on /demo-users. */
  totpSecrets: Map<string, string>;
  close(): Promise<void>;
}

/** The confidential backend client (client_credentials now; Token Vault and CIBA later). */
export const BACKEND_CLIENT_ID = 'deputy-backend';

/** Extra logout URLs registered for each extension redirect URI: `<redirect>logout`. */
export const logoutUrlsFor = (redirectUris: readonly string[]) => redirectUris.flatMap((u) => [u, `${u}logout`]);

const HOUR = 3600;
const DAY = 24 * HOUR;
const OIDC_SCOPE_ORDER = ['openid', 'profile', 'email'] as const;
const JSON_BODY_PATHS = new Set(['/oauth/token', '/oauth/revoke', '/bc-authorize']);

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function truthyEnv(v: string | undefined): boolean {
  return !!v && !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

export async function startIdp(opts: IdpOptions): Promise<RunningIdp> {
  const host = opts.host ?? 'localhost';
  const audience = opts.audience ?? DEFAULT_API_AUDIENCE;
  const apiScopes = [...(opts.apiScopes ?? [...DEFAULT_API_SCOPES, ...PROJECTS_SCOPES])];
  const extensionClientId = opts.extensionClientId ?? DEFAULT_EXTENSION_CLIENT_ID;
  const redirectUris = [...(opts.extensionRedirectUris ?? [EXTENSION_REDIRECT_URI])];
  const extensionOrigins = new Set(opts.extensionOrigins ?? [EXTENSION_ORIGIN]);
  const accessTokenTtl = opts.accessTokenTtlSeconds ?? HOUR;
  const sessionTtl = opts.sessionTtlSeconds ?? 8 * HOUR;
  for (const [name, v] of [['accessTokenTtlSeconds', accessTokenTtl], ['sessionTtlSeconds', sessionTtl]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`startIdp: ${name} must be a positive integer`);
  }
  if (apiScopes.some((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) throw new TypeError('startIdp: apiScopes must be valid scope tokens');

  const debug = truthyEnv(process.env.IDP_DEBUG);
  const log = (line: string) => console.error(`[idp] ${line}`);

  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const signingKeys = await loadOrCreateSigningKeys(opts.dataDir);
  const secrets = loadOrCreateSecrets(opts.dataDir);
  const store = new ModelStore(path.join(opts.dataDir, 'store.json'), log);
  /** Sessions ended by sign-out (kept as long as an access token of theirs could live): their tokens are refused here. */
  const ENDED_SESSION = 'EndedSession';
  const sessionEnded = (sid: unknown) => typeof sid === 'string' && store.get(ENDED_SESSION, sid) !== undefined;
  const connectedAccounts = new ConnectedAccountStore(path.join(opts.dataDir, 'connected-accounts.json'));
  const upstreams = opts.upstreams ?? [];

  const server = http.createServer();
  try {
    await listen(server, opts.port, host);
  } catch (err) {
    store.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${url}/`;
  const userinfoAudience = `${issuer}userinfo`;
  const myAccountAudience = `${issuer}me/`;
  const users = demoUsers(url);
  const usersBySub = new Map(users.map((u) => [u.sub, u]));
  const localKeys = createLocalJWKSet(signingKeys.publicJwks);
  const totpSecrets = loadOrCreateTotpSecrets(opts.dataDir, users);
  const cibaInterval = opts.cibaIntervalSeconds ?? 5;
  if (!Number.isInteger(cibaInterval) || cibaInterval <= 0) throw new TypeError('startIdp: cibaIntervalSeconds must be a positive integer');

  const extensionClient = {
    client_id: extensionClientId,
    client_name: 'Deputy browser extension',
    application_type: 'web' as const,
    token_endpoint_auth_method: 'none' as const,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code' as const],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: logoutUrlsFor(redirectUris),
  };
  const backendClient = {
    client_id: BACKEND_CLIENT_ID,
    client_name: 'Deputy backend',
    client_secret: secrets.backendClientSecret,
    token_endpoint_auth_method: 'client_secret_basic' as const,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
  const clientNames = new Map([[extensionClient.client_id, extensionClient.client_name], [backendClient.client_id, backendClient.client_name]]);
  const logoutUrlsByClient = new Map<string, readonly string[]>([
    [extensionClient.client_id, extensionClient.post_logout_redirect_uris],
    [backendClient.client_id, []],
  ]);

  /** Auth0-style `scope` of each access token issued during a request, for the token response (keyed by Koa ctx). */
  const issuedScope = new WeakMap<object, string>();

  const resourceServer = (): ResourceServer => ({
    scope: apiScopes.join(' '),
    audience,
    accessTokenTTL: accessTokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  /** Scopes as Auth0 puts them in `scope`: the granted OIDC scopes, then the API's, then offline_access. */
  function auth0Scope(ctx: KoaContextWithOIDC | undefined, token: AccessToken | ClientCredentials): string {
    const apiGranted = (token.scope ?? '').split(' ').filter(Boolean);
    if (token.kind !== 'AccessToken' || !ctx?.oidc) return apiGranted.join(' ');
    const { entities } = ctx.oidc;
    const source = entities.AuthorizationCode ?? entities.RefreshToken ?? entities.BackchannelAuthenticationRequest ?? entities.DeviceCode;
    const requested = ctx.oidc.params?.scope ? ctx.oidc.requestParamScopes : source?.scopes;
    const granted = new Set(entities.Grant && requested ? entities.Grant.getOIDCScopeFiltered(requested).split(' ').filter(Boolean) : []);
    const scopes = OIDC_SCOPE_ORDER.filter((s) => granted.has(s)) as string[];
    for (const s of apiGranted) if (!scopes.includes(s)) scopes.push(s);
    if (granted.has('offline_access')) scopes.push('offline_access');
    return scopes.join(' ');
  }

  const configuration: Configuration = {
    adapter: store.adapterClass(),
    jwks: signingKeys.privateJwks as Configuration['jwks'],
    clients: [extensionClient, backendClient],
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    acrValues: [MFA_ACR],
    clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    responseTypes: ['code'],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: {
      openid: [...SCOPE_CLAIMS.openid],
      profile: [...SCOPE_CLAIMS.profile],
      email: [...SCOPE_CLAIMS.email],
      acr: null,
      amr: null,
      sid: null,
      auth_time: null,
    },
    // Like Auth0: the ID token carries the profile/email claims of the granted scopes, not only `sub`.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    // Auth0's name for the resource indicator; resolved by defaultResource below.
    extraParams: ['audience'],
    cookies: {
      keys: secrets.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.set(PAGE_HEADERS);
          ctx.type = 'html';
          ctx.body = logoutConfirmPage(form, 'op.logoutForm');
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.set(PAGE_HEADERS);
          ctx.type = 'html';
          ctx.body = signedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        // Auth0's `audience` (at /authorize it is an extra param; at /oauth/token it is read from the raw body).
        defaultResource: async (ctx, _client, oneOf) => {
          const body = (ctx.oidc.body ?? {}) as Record<string, unknown>;
          const requested = (ctx.oidc.params?.audience as string | undefined) ?? (typeof body.audience === 'string' ? body.audience : undefined);
          if (oneOf) return requested && oneOf.includes(requested) ? requested : oneOf[0]!;
          return requested || undefined!;
        },
        // Codes and refresh tokens issued for the API keep yielding JWTs for it (not opaque userinfo tokens).
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator === audience) return resourceServer();
          if (resourceIndicator === myAccountAudience) return { ...resourceServer(), audience: myAccountAudience, scope: MY_ACCOUNT_SCOPES.join(' ') };
          throw new errors.InvalidTarget(`no API with the audience ${resourceIndicator}`);
        },
      },
    },
    formats: {
      customizers: {
        jwt: async (ctx, token, jwt) => {
          const scope = auth0Scope(ctx, token);
          const p = jwt.payload;
          if (scope) p.scope = scope;
          else delete p.scope;
          p.azp = token.clientId;
          const primary = Array.isArray(p.aud) ? p.aud[0] : p.aud;
          if (token.kind === 'ClientCredentials') {
            p.sub = `${token.clientId}@clients`;
            p.gty = 'client-credentials';
          }
          p.aud = scope.split(' ').includes('openid') ? [primary, userinfoAudience] : primary;
          // Auth0 RBAC with "Add Permissions in the Access Token".
          if (token.kind === 'AccessToken') p.permissions = (token.scope ?? '').split(' ').filter(Boolean);
          // How the user authenticated (RFC 9470): from the code or refresh token this access token comes from.
          const auth = ctx?.oidc?.entities.AuthorizationCode ?? ctx?.oidc?.entities.RotatedRefreshToken ?? ctx?.oidc?.entities.RefreshToken;
          if (token.kind === 'AccessToken' && auth) {
            // Auth0 access tokens name the session they come from; signing out ends what it issued (B5).
            if (auth.sessionUid) p.sid = auth.sessionUid;
            if (auth.acr === MFA_ACR) p.acr = auth.acr;
            if (auth.amr?.length) p.amr = auth.amr;
            if (auth.authTime) p.auth_time = auth.authTime;
          }
          if (ctx) issuedScope.set(ctx, scope);
        },
      },
    },
    findAccount: async (_ctx, sub): Promise<Account | undefined> => {
      const user = usersBySub.get(sub);
      if (!user) return undefined;
      return { accountId: user.sub, claims: () => userClaims(user) as Awaited<ReturnType<Account['claims']>> };
    },
    // First-party clients: no consent screen. Every scope and API scope the client asks for (and we support) is
    // granted on the spot, so the consent prompt never triggers (and prompt=none works for new scopes too).
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const client = oidc.client!;
      const accountId = oidc.session!.accountId!;
      const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? oidc.session!.grantIdFor(client.clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
      grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
      const oidcScopes = [...oidc.requestParamOIDCScopes];
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      const claims = [...oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, rs] of Object.entries(oidc.resourceServers ?? {})) {
        const available = new Set((rs.scope ?? '').split(' '));
        // Every user may manage their own connected accounts.
        const permitted = indicator === myAccountAudience ? new Set<string>(MY_ACCOUNT_SCOPES) : permissionsFor(usersBySub.get(accountId)?.roles ?? [], indicator);
        const wanted = [...oidc.requestParamScopes].filter((s) => available.has(s) && permitted.has(s));
        if (wanted.length) grant.addResourceScope(indicator, wanted.join(' '));
        // Scopes the user's roles do not grant are recorded as rejected, so they are simply left out of the token
        // (as with Auth0 RBAC) instead of prompting for consent again and again.
        const refused = [...oidc.requestParamScopes].filter((s) => available.has(s) && !permitted.has(s));
        if (refused.length) grant.rejectResourceScope(indicator, refused.join(' '));
      }
      await grant.save();
      return grant;
    },
    clientBasedCORS: (_ctx, origin, client) => client.clientId === extensionClientId && extensionOrigins.has(origin),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 10 * HOUR,
      // Absolute lifetime of a rotating family: the successor gets what is left of its predecessor.
      RefreshToken: (ctx) => {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        return rotated ? Math.max(1, rotated.remainingTTL) : 30 * DAY;
      },
      Grant: 30 * DAY,
      Session: sessionTtl,
      Interaction: 30 * 60,
    },
    renderError: async (ctx, out) => {
      ctx.set(PAGE_HEADERS);
      ctx.type = 'html';
      const title = out.error === 'invalid_redirect_uri' ? 'Callback URL mismatch' : out.error === 'invalid_client' ? 'Unknown application' : 'Sign-in error';
      ctx.body = errorPage(title, String(out.error), out.error_description ? String(out.error_description) : undefined);
    },
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      revocation: '/oauth/revoke',
      end_session: '/oidc/logout',
      backchannel_authentication: '/bc-authorize',
      pushed_authorization_request: '/oauth/par',
      introspection: '/oauth/introspect',
      device_authorization: '/oauth/device/code',
      code_verification: '/activate',
      registration: '/oidc/register',
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };

  const provider = new Provider(issuer, configuration);

  // ---- logging: quiet by default, never tokens or secrets ---------------------------------------------------------
  // (typed as a plain emitter: the typings do not list Koa's own 'error' event nor accept event names as strings)
  const events = provider as unknown as NodeJS.EventEmitter;
  events.on('server_error', (ctx: Koa.Context, err: Error) => {
    log(`server error at ${ctx.method} ${ctx.path}: ${err.message}`);
    if (debug && err.stack) log(err.stack);
  });
  events.on('error', (err: Error & { status?: number; expose?: boolean }, ctx?: Koa.Context) => {
    if (err.expose) return;
    log(`unhandled error${ctx ? ` at ${ctx.method} ${ctx.path}` : ''}: ${err.message}`);
  });
  if (debug) {
    for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'revocation.error', 'jwks.error', 'discovery.error', 'backchannel.error']) {
      events.on(event, (_ctx: unknown, err: { error?: string; error_description?: string; message?: string }) => {
        log(`${event}: ${err.error ?? err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
      });
    }
    events.on('grant.revoked', (_ctx: unknown, grantId: string) => log(`grant revoked (${grantId.slice(0, 6)}…)`));
  }

  // ---- helpers for our own routes ---------------------------------------------------------------------------------
  const page = (ctx: Koa.Context, status: number, html: string) => {
    ctx.status = status;
    ctx.set(PAGE_HEADERS);
    ctx.type = 'html';
    ctx.body = html;
  };
  const allowCors = (ctx: Koa.Context) => {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (origin && extensionOrigins.has(origin)) ctx.set('access-control-allow-origin', origin);
  };

  // 1. request log (debug only; path without the query string, which carries codes and state)
  provider.use(async (ctx, next) => {
    const started = Date.now();
    try {
      await next();
    } finally {
      // interaction and resume ids are redacted (they are bearer-like while a sign-in is in flight)
      const shown = ctx.path.replace(/^\/(interaction|authorize)\/[^/]+/, '/$1/:uid');
      if (debug) log(`${ctx.method} ${shown} -> ${ctx.status} (${Date.now() - started} ms)`);
    }
  });

  // 2. errors of our own routes: a page or JSON, never a stack trace
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof BodyError) {
        ctx.status = err.status;
        ctx.body = { error: err.error, error_description: err.description };
        return;
      }
      if (err instanceof errors.SessionNotFound) {
        page(ctx, 400, errorPage('Sign-in expired', 'session_not_found', 'This sign-in request has expired or was already completed. Start signing in again from Deputy.'));
        return;
      }
      log(`error at ${ctx.method} ${ctx.path}: ${(err as Error).message}`);
      if (debug && (err as Error).stack) log((err as Error).stack!);
      page(ctx, 500, errorPage('Something went wrong', 'server_error', 'The identity emulator hit an unexpected error.'));
    }
  });

  // 3. offline_access without prompt=consent (Auth0 issues refresh tokens for it; oidc-provider drops the scope
  //    unless consent is prompted). Interactive requests asking for offline_access get `consent` added to `prompt`;
  //    our interaction handler grants it without showing anything. prompt=none requests are left alone.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/authorize') {
      const q = new URLSearchParams(ctx.querystring);
      const scopes = q.getAll('scope');
      const prompts = q.getAll('prompt');
      if (scopes.length === 1 && scopes[0]!.split(' ').includes('offline_access') && prompts.length <= 1) {
        const prompt = new Set((prompts[0] ?? '').split(' ').filter(Boolean));
        if (!prompt.has('none') && !prompt.has('consent')) {
          prompt.add('consent');
          q.set('prompt', [...prompt].join(' '));
          ctx.querystring = q.toString();
        }
      }
    }
    return next();
  });

  // 4. JSON bodies at the token (and revocation) endpoint
  provider.use(jsonBodyAsForm(JSON_BODY_PATHS, allowCors));

  // 4b. RFC 8693 token exchange for first-party resource APIs (Auth0 Custom Token Exchange)
  provider.use(
    tokenExchange({
      issuer,
      subjectAudience: audience,
      subjectClientId: extensionClientId,
      client: { id: backendClient.client_id, secret: secrets.backendClientSecret },
      resources: { [PROJECTS_AUDIENCE]: PROJECTS_SCOPES },
      users: usersBySub,
      publicKeys: localKeys,
      signingJwk: signingKeys.privateJwks.keys[0]!,
      ttlSeconds: Math.min(300, accessTokenTtl),
      sessionEnded,
    }),
  );

  // 4c. Auth0 Token Vault: a connected account's provider token for the backend
  provider.use(
    tokenVault({
      issuer,
      apiAudience: audience,
      client: { id: backendClient.client_id, secret: secrets.backendClientSecret },
      publicClientIds: new Set([extensionClientId]),
      publicKeys: localKeys,
      provider,
      store: connectedAccounts,
      upstreams,
      log,
      sessionEnded,
    }),
  );

  // 4c'. CIBA (`/bc-authorize` + polling) and the approvals page, the user's trusted device
  const cibaStore = new CibaStore(path.join(opts.dataDir, 'ciba-requests.json'));
  for (const mw of backchannel({
    issuer,
    client: { id: backendClient.client_id, secret: secrets.backendClientSecret },
    otherClientIds: new Set([extensionClientId]),
    apis: { [audience]: apiScopes, [PROJECTS_AUDIENCE]: PROJECTS_SCOPES },
    users: usersBySub,
    signingJwk: signingKeys.privateJwks.keys[0]!,
    store: cibaStore,
    intervalSeconds: cibaInterval,
    log,
  })) provider.use(mw);
  provider.use(
    approvalsPage({
      store: cibaStore,
      users,
      usersBySub,
      totpSecrets,
      key: secrets.cookieKeys[0]!,
      clientName: (id) => (id === backendClient.client_id ? 'Deputy' : (clientNames.get(id) ?? id)),
    }),
  );

  // 4d. My Account API (connected accounts) and the connect step's redirects through the provider
  provider.use(
    myAccountApi({
      issuer,
      audience: myAccountAudience,
      publicKeys: localKeys,
      clients: new Map([[extensionClientId, redirectUris]]),
      origins: extensionOrigins,
      users: usersBySub,
      upstreams,
      store: connectedAccounts,
      log,
    }),
  );

  // 5. token responses report the same `scope` as the access token (Auth0 style: OIDC + API scopes)
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/oauth/token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    const scope = issuedScope.get(ctx);
    if (body && typeof body === 'object' && typeof body.access_token === 'string' && scope !== undefined) {
      if (scope) body.scope = scope;
      else delete body.scope;
    }
  });

  // 6. our own routes
  provider.use(async (ctx, next) => {
    const { method } = ctx;
    const p = ctx.path;

    if (method === 'GET' && p === '/') return page(ctx, 200, homePage(issuer));
    if (method === 'GET' && p === '/demo-users') {
      return page(ctx, 200, demoUsersPage(users, issuer, (u) => ({ secret: totpSecrets.get(u.sub) ?? '', uri: totpUri(totpSecrets.get(u.sub) ?? '', u) })));
    }

    const avatar = /^\/avatars\/([a-z0-9_-]+)\.svg$/.exec(p);
    if (method === 'GET' && avatar) {
      const user = users.find((u) => u.username === avatar[1]);
      if (!user) return next();
      ctx.set('cache-control', 'public, max-age=86400');
      ctx.set('x-content-type-options', 'nosniff');
      ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      ctx.type = 'image/svg+xml';
      ctx.body = avatarSvg(user);
      return;
    }

    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/otp|\/abort)?$/.exec(p);
    if (interaction) return handleInteraction(ctx, interaction[1]!, interaction[2] ?? '');

    if (method === 'GET' && p === '/v2/logout') return handleV2Logout(ctx);

    // Local-emulator hook for tests: refresh a connected account's provider token now.
    if (method === 'POST' && p === '/_emulator/connected-accounts/refresh') {
      const form = await readForm(ctx.req);
      const done = await refreshConnectedAccount({ store: connectedAccounts, upstreams }, form.get('sub') ?? '', form.get('connection') ?? '');
      ctx.status = done ? 204 : 404;
      return;
    }

    if ((method === 'GET' || method === 'POST') && p === '/userinfo') {
      const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(ctx.get('authorization'));
      if (m) return handleJwtUserinfo(ctx, m[1]!);
    }
    return next();
  });

  async function handleInteraction(ctx: Koa.Context, uid: string, action: string) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    const params = details.params as Record<string, string | undefined>;
    const finish = async (result: Parameters<Provider['interactionResult']>[2], merge = true) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
      ctx.set('cache-control', 'no-store');
      ctx.status = 303;
      ctx.redirect(returnTo);
    };
    const render = (status: number, opts: { email?: string; error?: string } = {}) =>
      page(
        ctx,
        status,
        loginPage({
          action: `/interaction/${uid}/login`,
          abortUrl: `/interaction/${uid}/abort`,
          clientName: clientNames.get(params.client_id ?? '') ?? 'an application',
          ...opts,
        }),
      );

    if (action === '/abort' && ctx.method === 'GET') {
      return finish({ error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
    }
    if (action === '' && ctx.method === 'GET') {
      if (details.prompt.name === 'login') return render(200, { email: params.login_hint });
      // First party: nothing to ask (see loadExistingGrant); confirm and go on.
      if (details.prompt.name === 'consent') return finish({ consent: {} });
      return finish({ error: 'interaction_required', error_description: `unsupported prompt ${details.prompt.name}` }, false);
    }
    if (action === '/login' && ctx.method === 'POST') {
      if (details.prompt.name !== 'login') return page(ctx, 400, errorPage('Sign-in error', 'invalid_request', 'This sign-in step is not expecting a password.'));
      const form = await readForm(ctx.req);
      const login = form.get('email') ?? '';
      const user = authenticate(users, login, form.get('password') ?? '');
      if (!user) {
        if (debug) log('sign-in failed: wrong email or password');
        return render(400, { email: login, error: 'Wrong email or password.' });
      }
      if (debug) log(`sign-in: ${user.username}`);
      if ((params.acr_values ?? '').split(' ').includes(MFA_ACR)) {
        // Step-up: the password is right; the second factor comes next, bound to this interaction and this user.
        return page(ctx, 200, otpPage({ action: `/interaction/${uid}/otp`, abortUrl: `/interaction/${uid}/abort`, pending: pendingSecondFactor(uid, user.sub) }));
      }
      return finish({ login: { accountId: user.sub, amr: ['pwd'], remember: true }, consent: {} }, false);
    }
    if (action === '/otp' && ctx.method === 'POST') {
      const form = await readForm(ctx.req);
      const pending = form.get('pending') ?? '';
      const sub = users.find((u) => pending === pendingSecondFactor(uid, u.sub))?.sub;
      if (details.prompt.name !== 'login' || !sub) return page(ctx, 400, errorPage('Sign-in error', 'invalid_request', 'Sign in with your password first.'));
      if (!verifyTotp(totpSecrets.get(sub) ?? '', form.get('code') ?? '')) {
        return page(ctx, 400, otpPage({ action: `/interaction/${uid}/otp`, abortUrl: `/interaction/${uid}/abort`, pending, error: 'That code is not valid.' }));
      }
      return finish({ login: { accountId: sub, acr: MFA_ACR, amr: ['pwd', 'mfa'], remember: true }, consent: {} }, false);
    }
    ctx.status = 405;
    ctx.body = 'Method Not Allowed';
  }

  function pendingSecondFactor(uid: string, sub: string): string {
    return createHmac('sha256', secrets.cookieKeys[0]!).update(`otp.${uid}.${sub}`).digest('base64url');
  }

  /** Auth0's logout: ends the IdP session at once (no confirmation) and redirects to a registered returnTo. */
  async function handleV2Logout(ctx: Koa.Context) {
    ctx.set('cache-control', 'no-store');
    const clientId = typeof ctx.query.client_id === 'string' ? ctx.query.client_id : undefined;
    const returnTo = typeof ctx.query.returnTo === 'string' ? ctx.query.returnTo : undefined;
    if (Array.isArray(ctx.query.client_id) || Array.isArray(ctx.query.returnTo)) {
      return page(ctx, 400, errorPage('Sign-out error', 'invalid_request', 'client_id and returnTo must be given at most once.'));
    }
    if (clientId !== undefined && !logoutUrlsByClient.has(clientId)) {
      return page(ctx, 400, errorPage('Sign-out error', 'invalid_request', `Unknown client_id "${clientId}".`));
    }
    if (returnTo !== undefined) {
      const allowed = clientId !== undefined ? logoutUrlsByClient.get(clientId)! : [...logoutUrlsByClient.values()].flat();
      if (!allowed.includes(returnTo)) {
        return page(
          ctx,
          400,
          errorPage(
            'Sign-out error',
            'invalid_request',
            `The "returnTo" querystring parameter "${returnTo}" is not defined as a valid URL in "Allowed Logout URLs"${clientId ? ` of the client ${clientId}` : ''}.`,
          ),
        );
      }
    }
    await endIdpSession(ctx);
    if (returnTo !== undefined) {
      ctx.status = 302;
      ctx.redirect(returnTo);
      return;
    }
    page(ctx, 200, signedOutPage());
  }

  async function endIdpSession(ctx: Koa.Context) {
    const session = await provider.Session.get(ctx as unknown as KoaContextWithOIDC);
    if (session.jti && session.exp) {
      // Grants that expire with the session go with it (like oidc-provider's own end_session); offline grants stay.
      if (session.uid) store.set(ENDED_SESSION, session.uid, { sid: session.uid }, Math.max(accessTokenTtl, 3600));
      const authorizations = (session.authorizations ?? {}) as Record<string, { grantId?: string; persistsLogout?: boolean }>;
      for (const { grantId, persistsLogout } of Object.values(authorizations)) {
        if (!grantId || persistsLogout) continue;
        for (const model of [provider.AccessToken, provider.AuthorizationCode, provider.RefreshToken]) await model.revokeByGrantId(grantId);
        await provider.Grant.adapter.destroy(grantId);
      }
      await session.destroy();
      if (debug) log('IdP session ended (/v2/logout)');
    }
    ctx.cookies.set(provider.cookieName('session'), null, configuration.cookies!.long);
  }

  async function handleJwtUserinfo(ctx: Koa.Context, token: string) {
    allowCors(ctx);
    ctx.set('cache-control', 'no-store');
    const fail = (status: number, error: string, description: string) => {
      ctx.status = status;
      ctx.set('www-authenticate', `Bearer realm="${issuer}", error="${error}", error_description="${description}"`);
      ctx.body = { error, error_description: description };
    };
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(token, localKeys, { issuer, algorithms: ['RS256'], typ: 'at+jwt', audience: userinfoAudience }));
    } catch {
      return fail(401, 'invalid_token', 'invalid access token');
    }
    if (sessionEnded(claims.sid)) return fail(401, 'invalid_token', 'the session of this access token has ended');
    const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
    if (!scopes.has('openid')) return fail(403, 'insufficient_scope', 'access token missing openid scope');
    const user = usersBySub.get(String(claims.sub));
    if (!user) return fail(401, 'invalid_token', 'unknown user');
    const all = userClaims(user);
    const released: Record<string, unknown> = { sub: user.sub };
    for (const scope of ['profile', 'email'] as const) {
      if (!scopes.has(scope)) continue;
      for (const c of SCOPE_CLAIMS[scope]) if (all[c] !== undefined) released[c] = all[c];
    }
    ctx.status = 200;
    ctx.body = released;
  }

  server.on('request', provider.callback());

  let closing: Promise<void> | undefined;
  return {
    issuer,
    url,
    port,
    users,
    backendClientSecret: secrets.backendClientSecret,
    totpSecrets,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          store.close();
          resolve();
        });
      })),
  };
}

