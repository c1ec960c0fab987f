/**
 * Auth0 Token Vault client: exchanges the user's access token for Deputy's API for the access token of the user's
 * connected account at a third-party provider (grant `...:federated-connection-access-token`). Tokens are cached
 * briefly per user, connection and scope set (C2), dropped when the provider refuses one (401), and never logged,
 * shown to the model, or sent to the extension.
 */
import { z } from 'zod';
import { FEDERATED_CONNECTION_GRANT, FEDERATED_TOKEN_TYPE } from '../../../lib/defaults';

const ExchangeResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  scope: z.string().optional(),
  token_type: z.string(),
});

/** Errors of the grant that mean "the user has to connect (again)". */
const NOT_CONNECTED = new Set(['federated_connection_refresh_token_not_found', 'federated_connection_refresh_token_flow_failed']);

export type ConnectionToken =
  | { status: 'connected'; token: string; scopes: string[] }
  | { status: 'not_connected'; reason: 'no_account' | 'refresh_failed' };

export class TokenVaultError extends Error {
  constructor(readonly code: 'vault_refused' | 'vault_unavailable', message: string) {
    super(message);
  }
}

export interface TokenVaultClientOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Renew this long before the provider token expires. Default 30 s. */
  skewSeconds?: number;
  /** Keep a token at most this long, whatever its lifetime. Default 300 s. */
  maxCacheSeconds?: number;
  /** Called once per exchange sent (metrics, tests); never with a token. */
  onExchange?: (connection: string) => void;
}

interface Entry {
  token: string;
  scopes: string[];
  expiresAt: number;
}

export class TokenVaultClient {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly opts: TokenVaultClientOptions) {}

  private static key(sub: string, connection: string, scopes: readonly string[]) {
    return JSON.stringify([sub, connection, [...new Set(scopes)].sort()]);
  }

  async get(subjectToken: string, sub: string, connection: string, scopes: readonly string[]): Promise<ConnectionToken> {
    const key = TokenVaultClient.key(sub, connection, scopes);
    const now = Date.now() / 1000;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) return { status: 'connected', token: hit.token, scopes: hit.scopes };
    this.cache.delete(key);

    this.opts.onExchange?.(connection);
    let res: Response;
    try {
      res = await fetch(this.opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: FEDERATED_CONNECTION_GRANT,
          client_id: this.opts.clientId,
          client_secret: this.opts.clientSecret,
          subject_token: subjectToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          requested_token_type: FEDERATED_TOKEN_TYPE,
          connection,
        }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new TokenVaultError('vault_unavailable', 'The identity provider could not be reached.');
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const error = typeof json.error === 'string' ? json.error : `status ${res.status}`;
      if (NOT_CONNECTED.has(error)) {
        return { status: 'not_connected', reason: error === 'federated_connection_refresh_token_not_found' ? 'no_account' : 'refresh_failed' };
      }
      throw new TokenVaultError('vault_refused', `The identity provider refused access to the connected account (${error}).`);
    }
    const parsed = ExchangeResponse.safeParse(json);
    if (!parsed.success) throw new TokenVaultError('vault_refused', 'The identity provider sent an unexpected Token Vault response.');
    const lifetime = Math.min(parsed.data.expires_in - (this.opts.skewSeconds ?? 30), this.opts.maxCacheSeconds ?? 300);
    const entry: Entry = { token: parsed.data.access_token, scopes: (parsed.data.scope ?? '').split(/[ ,]+/).filter(Boolean), expiresAt: now + lifetime };
    if (lifetime > 0) {
      this.cache.set(key, entry);
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    }
    return { status: 'connected', token: entry.token, scopes: entry.scopes };
  }

  /** The provider refused a token (401), or the user changed their connections: exchange again next time. */
  invalidate(sub: string, connection?: string): void {
    for (const key of this.cache.keys()) {
      const [s, c] = JSON.parse(key) as [string, string];
      if (s === sub && (connection === undefined || c === connection)) this.cache.delete(key);
    }
  }
}
