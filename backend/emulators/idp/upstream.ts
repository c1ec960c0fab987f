/**
 * The IdP as an OAuth client of the third-party providers behind Token Vault connections (Google, Slack, GitHub):
 * the authorize URL of the connect step, the code exchange, and the refresh that keeps a connected account's
 * provider token usable. Each provider's token response has its own shape; they are normalized here.
 */
import { z } from 'zod';

export interface UpstreamProvider {
  /** Auth0 connection name: google-oauth2, sign-in-with-slack, github. */
  connection: string;
  strategy: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl?: string;
  clientId: string;
  clientSecret: string;
  /** Slack asks for user-token scopes as `user_scope`. */
  scopeParam: 'scope' | 'user_scope';
  scopeSeparator: ' ' | ',';
  /** Scopes offered when the connect request names none, and listed by the connections endpoint. */
  defaultScopes: string[];
  extraAuthorizeParams?: Record<string, string>;
  /** Slack nests the user token under `authed_user`; GitHub answers JSON only when asked to. */
  tokenStyle: 'oauth2' | 'slack' | 'github';
}

export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds since the epoch; undefined when the provider's token does not expire. */
  expiresAt?: number;
  scopes: string[];
}

export class UpstreamError extends Error {}

const TokenFields = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});

export function authorizeUrl(up: UpstreamProvider, opts: { redirectUri: string; state: string; scopes: string[]; loginHint?: string; extra?: Record<string, string> }): string {
  const url = new URL(up.authorizeUrl);
  const params: Record<string, string> = {
    ...opts.extra,
    ...up.extraAuthorizeParams,
    client_id: up.clientId,
    redirect_uri: opts.redirectUri,
    response_type: 'code',
    state: opts.state,
    [up.scopeParam]: opts.scopes.join(up.scopeSeparator),
    ...(opts.loginHint ? { login_hint: opts.loginHint } : {}),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

async function tokenRequest(up: UpstreamProvider, form: Record<string, string>): Promise<UpstreamTokens> {
  let res: Response;
  try {
    res = await fetch(up.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ ...form, client_id: up.clientId, client_secret: up.clientSecret }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new UpstreamError(`${up.connection}: the provider's token endpoint could not be reached`);
  }
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!res.ok || !json || json.error || json.ok === false) {
    throw new UpstreamError(`${up.connection}: the provider refused (${String(json?.error ?? `status ${res.status}`)})`);
  }
  const fields = TokenFields.safeParse(up.tokenStyle === 'slack' ? json.authed_user : json);
  if (!fields.success) throw new UpstreamError(`${up.connection}: unexpected token response`);
  const { access_token, refresh_token, expires_in, scope } = fields.data;
  return {
    accessToken: access_token,
    refreshToken: refresh_token,
    expiresAt: expires_in ? Math.floor(Date.now() / 1000) + expires_in : undefined,
    scopes: (scope ?? '').split(/[ ,]+/).filter(Boolean),
  };
}

export const exchangeCode = (up: UpstreamProvider, code: string, redirectUri: string) =>
  tokenRequest(up, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });

/** A refreshed token; providers that answer without `scope` or a new refresh token keep the previous ones. */
export async function refreshTokens(up: UpstreamProvider, previous: UpstreamTokens): Promise<UpstreamTokens> {
  if (!previous.refreshToken) throw new UpstreamError(`${up.connection}: no refresh token`);
  const next = await tokenRequest(up, { grant_type: 'refresh_token', refresh_token: previous.refreshToken });
  return { ...next, refreshToken: next.refreshToken ?? previous.refreshToken, scopes: next.scopes.length ? next.scopes : previous.scopes };
}

/** Best effort: a disconnected account's grant is revoked where the provider supports it (Google). */
export async function revokeUpstream(up: UpstreamProvider, tokens: UpstreamTokens): Promise<void> {
  if (!up.revokeUrl) return;
  const token = tokens.refreshToken ?? tokens.accessToken;
  await fetch(up.revokeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(5_000),
  }).catch(() => {});
}

/** The three providers as the offline stack's provider emulator serves them (`providersUrl` without trailing slash). */
export function emulatedUpstreams(providersUrl: string, client: { clientId: string; clientSecret: string }): UpstreamProvider[] {
  return [
    {
      connection: 'google-oauth2',
      strategy: 'google-oauth2',
      authorizeUrl: `${providersUrl}/google/o/oauth2/v2/auth`,
      tokenUrl: `${providersUrl}/google/token`,
      revokeUrl: `${providersUrl}/google/revoke`,
      ...client,
      scopeParam: 'scope',
      scopeSeparator: ' ',
      defaultScopes: ['openid', 'email', 'profile'],
      extraAuthorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
      tokenStyle: 'oauth2',
    },
    {
      connection: 'sign-in-with-slack',
      strategy: 'oauth2',
      authorizeUrl: `${providersUrl}/slack/oauth/v2/authorize`,
      tokenUrl: `${providersUrl}/slack/api/oauth.v2.access`,
      ...client,
      scopeParam: 'user_scope',
      scopeSeparator: ',',
      defaultScopes: ['channels:read'],
      tokenStyle: 'slack',
    },
    {
      connection: 'github',
      strategy: 'github',
      authorizeUrl: `${providersUrl}/github/login/oauth/authorize`,
      tokenUrl: `${providersUrl}/github/login/oauth/access_token`,
      ...client,
      scopeParam: 'scope',
      scopeSeparator: ' ',
      defaultScopes: ['read:user'],
      tokenStyle: 'github',
    },
  ];
}
