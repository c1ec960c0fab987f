/**
 * Auth0 Token Vault's grant: the backend's confidential client trades the user's access token for Deputy's API (or
 * a refresh token) for the access token of the user's connected account at a third-party provider. The provider's
 * token is refreshed behind the exchange when it is about to expire. Shapes: shared/docs/auth0-wire.md.
 */
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { FEDERATED_CONNECTION_GRANT, FEDERATED_TOKEN_TYPE } from '../../../lib/defaults';
import type { ConnectedAccountStore } from './connected-account-store';
import { clientCredentials, customGrant, sameSecret, tokenError } from './custom-grant';
import { refreshTokens, type UpstreamProvider } from './upstream';

export interface TokenVaultOptions {
  issuer: string;
  /** The API the backend's client is linked to: subject access tokens must be for it (C1). */
  apiAudience: string;
  client: { id: string; secret: string };
  /** Public clients known to the tenant: they get 403 (may not use the grant) rather than 401. */
  publicClientIds: ReadonlySet<string>;
  publicKeys: JWTVerifyGetKey;
  provider: Provider;
  store: ConnectedAccountStore;
  upstreams: UpstreamProvider[];
  log: (line: string) => void;
  /** Has the session this subject token came from been signed out (B5)? */
  sessionEnded?: (sid: unknown) => boolean;
}

/** Refresh the provider token when less than this is left. */
const REFRESH_MARGIN_SECONDS = 60;

export function tokenVault(opts: TokenVaultOptions): Koa.Middleware {
  // Looked up on each use: the offline stack adds the providers once their emulator listens.
  const upstreams = { get: (name: string) => opts.upstreams.find((u) => u.connection === name), names: () => opts.upstreams.map((u) => u.connection) };

  async function subjectOf(form: URLSearchParams): Promise<string | undefined> {
    const token = form.get('subject_token') ?? '';
    const type = form.get('subject_token_type');
    if (type === 'urn:ietf:params:oauth:token-type:access_token') {
      try {
        const { payload } = await jwtVerify(token, opts.publicKeys, { issuer: opts.issuer, audience: opts.apiAudience, algorithms: ['RS256'], typ: 'at+jwt' });
        return 'nonce' in payload || opts.sessionEnded?.(payload.sid) ? undefined : payload.sub;
      } catch {
        return undefined;
      }
    }
    if (type === 'urn:ietf:params:oauth:token-type:refresh_token') {
      const rt = await opts.provider.RefreshToken.find(token).catch(() => undefined);
      if (!rt || rt.isExpired || rt.consumed || rt.clientId !== opts.client.id) return undefined;
      return rt.accountId;
    }
    return undefined;
  }

  return customGrant(FEDERATED_CONNECTION_GRANT, async (ctx, form) => {
    const fail = (status: number, error: string, description: string) => tokenError(ctx, status, error, description);
    const { clientId, secret } = clientCredentials(ctx, form);
    if (opts.publicClientIds.has(clientId) && clientId !== opts.client.id) {
      return fail(403, 'unauthorized_client', `Grant type '${FEDERATED_CONNECTION_GRANT}' not allowed for the client.`);
    }
    if (clientId !== opts.client.id || !secret || !sameSecret(secret, opts.client.secret)) return fail(401, 'access_denied', 'Unauthorized');
    if (form.get('requested_token_type') !== FEDERATED_TOKEN_TYPE) return fail(400, 'invalid_request', `requested_token_type must be ${FEDERATED_TOKEN_TYPE}`);
    const subjectType = form.get('subject_token_type') ?? '';
    if (!/^urn:ietf:params:oauth:token-type:(access|refresh)_token$/.test(subjectType)) {
      return fail(400, 'invalid_request', 'subject_token_type must be an access token or a refresh token');
    }
    const connection = form.get('connection') ?? '';
    const upstream = upstreams.get(connection);
    if (!upstream) return fail(400, 'invalid_request', `connection must be one of: ${upstreams.names().join(', ')}`);

    const sub = await subjectOf(form);
    if (!sub) return fail(401, 'invalid_grant', 'Invalid subject token.');
    const account = opts.store.find(sub, connection);
    if (!account) return fail(401, 'federated_connection_refresh_token_not_found', 'Federated connection Refresh Token not found.');

    const nowSeconds = Math.floor(Date.now() / 1000);
    if (account.tokens.expiresAt !== undefined && account.tokens.expiresAt - REFRESH_MARGIN_SECONDS <= nowSeconds) {
      try {
        opts.store.updateTokens(account, await refreshTokens(upstream, account.tokens));
      } catch (err) {
        opts.log(`token vault ${connection}: ${(err as Error).message}`);
        return fail(401, 'federated_connection_refresh_token_flow_failed', 'The connected account could not be refreshed; connect it again.');
      }
    }
    const { accessToken, expiresAt } = account.tokens;
    ctx.status = 200;
    ctx.body = {
      access_token: accessToken,
      scope: account.scopes.join(' '),
      expires_in: expiresAt !== undefined ? Math.max(1, expiresAt - nowSeconds) : 3600,
      issued_token_type: FEDERATED_TOKEN_TYPE,
      token_type: 'Bearer',
    };
  });
}

/** Local-emulator hook: refresh a connected account's provider token now (the provider then revokes the old one). */
export async function refreshConnectedAccount(opts: Pick<TokenVaultOptions, 'store' | 'upstreams'>, sub: string, connection: string): Promise<boolean> {
  const account = opts.store.find(sub, connection);
  const upstream = opts.upstreams.find((u) => u.connection === connection);
  if (!account || !upstream) return false;
  opts.store.updateTokens(account, await refreshTokens(upstream, account.tokens));
  return true;
}
