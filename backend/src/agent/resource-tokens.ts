/**
 * Downstream tokens for first-party resource APIs: the backend exchanges the user's access token for Deputy's API
 * (RFC 8693 token exchange; Auth0 Custom Token Exchange) for a short-lived token for another audience. The result
 * can never carry more than the user delegated. Cached per user, audience and scope set (C2), never logged.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TOKEN_EXCHANGE_SUBJECT_TYPE } from '../../../lib/defaults';

const ExchangeResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  scope: z.string().optional(),
  token_type: z.string(),
});

export class ResourceTokenError extends Error {
  constructor(readonly code: 'exchange_refused' | 'exchange_unavailable', message: string) {
    super(message);
  }
}

export interface ResourceTokenClientOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  subjectTokenType?: string;
  /** Renew this long before expiry. */
  skewSeconds?: number;
}

export class ResourceTokenClient {
  private readonly cache = new Map<string, { token: string; scopes: string[]; expiresAt: number }>();

  constructor(private readonly opts: ResourceTokenClientOptions) {}

  async get(subjectToken: string, sub: string, audience: string, scopes: string[]): Promise<{ token: string; scopes: string[] }> {
    const wanted = [...new Set(scopes)].sort();
    const key = [sub, audience, wanted.join(' '), createHash('sha256').update(subjectToken).digest('base64url')].join('|');
    const hit = this.cache.get(key);
    const now = Date.now() / 1000;
    if (hit && hit.expiresAt - (this.opts.skewSeconds ?? 30) > now) return hit;

    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      subject_token: subjectToken,
      subject_token_type: this.opts.subjectTokenType ?? TOKEN_EXCHANGE_SUBJECT_TYPE,
      audience,
      scope: wanted.join(' '),
    });
    let res: Response;
    try {
      res = await fetch(this.opts.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new ResourceTokenError('exchange_unavailable', 'The identity provider could not be reached.');
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const code = typeof json?.error === 'string' ? json.error : `status ${res.status}`;
      throw new ResourceTokenError('exchange_refused', `The identity provider refused access (${code}).`);
    }
    const parsed = ExchangeResponse.safeParse(json);
    if (!parsed.success) throw new ResourceTokenError('exchange_refused', 'The identity provider sent an unexpected response.');
    const entry = {
      token: parsed.data.access_token,
      scopes: (parsed.data.scope ?? '').split(' ').filter(Boolean),
      expiresAt: now + parsed.data.expires_in,
    };
    this.cache.set(key, entry);
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}
