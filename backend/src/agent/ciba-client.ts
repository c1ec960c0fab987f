/**
 * OpenID CIBA with rich authorization details (Auth0's `/bc-authorize` + polling): the backend asks the user, on
 * their trusted device, to approve exactly one call. The approved access token is verified here (signature, issuer,
 * audience, subject, our client) before anyone trusts its `authorization_details`.
 */
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import { CIBA_GRANT } from '../../../lib/defaults';

export interface CibaClientOptions {
  /** `https://{domain}/` with the trailing slash. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Key resolution for tests; otherwise the issuer's JWKS. */
  getKey?: JWTVerifyGetKey;
}

export interface CibaRequest {
  sub: string;
  audience: string;
  scopes: string[];
  bindingMessage: string;
  authorizationDetails: Array<Record<string, unknown>>;
  requestedExpirySeconds: number;
  /** Ask for a second factor on the trusted device (critical actions). */
  acrValues?: string;
}

export type PollResult =
  | { status: 'pending' }
  | { status: 'slow_down'; intervalSeconds: number }
  | { status: 'approved'; token: string; claims: JWTPayload & { authorization_details?: unknown } }
  | { status: 'denied' | 'expired' }
  /** The IdP refused the poll for another reason (reuse, unknown request): nothing was approved. */
  | { status: 'failed'; code: string };

export class CibaError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const Started = z.object({ auth_req_id: z.string().min(1), expires_in: z.number().int().positive(), interval: z.number().int().positive().optional() });
const Approved = z.object({ access_token: z.string().min(1), token_type: z.string() });
const OAuthError = z.object({ error: z.string(), error_description: z.string().optional(), interval: z.number().optional() });

/** Auth0 and the CIBA spec default: poll every 5 s unless told otherwise. */
export const DEFAULT_INTERVAL_SECONDS = 5;

export class CibaClient {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly opts: CibaClientOptions) {
    this.getKey = opts.getKey ?? createRemoteJWKSet(new URL(`${opts.issuer}.well-known/jwks.json`));
  }

  private async post(path: string, params: Record<string, string>): Promise<{ status: number; json: unknown; retryAfter?: number }> {
    const body = new URLSearchParams({ client_id: this.opts.clientId, client_secret: this.opts.clientSecret, ...params });
    let res: Response;
    try {
      res = await fetch(`${this.opts.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new CibaError('idp_unreachable', 'The identity provider could not be reached.');
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, json: await res.json().catch(() => ({})), ...(retryAfter > 0 ? { retryAfter } : {}) };
  }

  async start(req: CibaRequest): Promise<{ authReqId: string; expiresIn: number; intervalSeconds: number }> {
    const { status, json } = await this.post('bc-authorize', {
      scope: ['openid', ...req.scopes].join(' '),
      audience: req.audience,
      login_hint: JSON.stringify({ format: 'iss_sub', iss: this.opts.issuer, sub: req.sub }),
      binding_message: req.bindingMessage,
      authorization_details: JSON.stringify(req.authorizationDetails),
      requested_expiry: String(req.requestedExpirySeconds),
      ...(req.acrValues ? { acr_values: req.acrValues } : {}),
    });
    if (status !== 200) {
      const err = OAuthError.safeParse(json);
      const code = err.success ? err.data.error : `status_${status}`;
      throw new CibaError(code, `The identity provider refused the approval request (${code}${err.success && err.data.error_description ? `: ${err.data.error_description}` : ''}).`);
    }
    const ok = Started.safeParse(json);
    if (!ok.success) throw new CibaError('invalid_response', 'The identity provider sent an unexpected approval response.');
    return { authReqId: ok.data.auth_req_id, expiresIn: ok.data.expires_in, intervalSeconds: ok.data.interval ?? DEFAULT_INTERVAL_SECONDS };
  }

  /** One poll. `expect` is who must have approved and for which API: a token for anyone or anything else is refused. */
  async poll(authReqId: string, expect: { sub: string; audience: string }): Promise<PollResult> {
    const { status, json, retryAfter } = await this.post('oauth/token', { grant_type: CIBA_GRANT, auth_req_id: authReqId });
    if (status === 200) {
      const ok = Approved.safeParse(json);
      if (!ok.success) return { status: 'failed', code: 'invalid_response' };
      try {
        const { payload } = await jwtVerify(ok.data.access_token, this.getKey, { issuer: this.opts.issuer, audience: expect.audience, algorithms: ['RS256'] });
        if (payload.sub !== expect.sub) return { status: 'failed', code: 'wrong_subject' };
        if ((payload.azp ?? payload.client_id) !== this.opts.clientId) return { status: 'failed', code: 'wrong_client' };
        return { status: 'approved', token: ok.data.access_token, claims: payload };
      } catch {
        return { status: 'failed', code: 'invalid_token' };
      }
    }
    const err = OAuthError.safeParse(json);
    const code = err.success ? err.data.error : `status_${status}`;
    if (code === 'authorization_pending') return { status: 'pending' };
    if (code === 'slow_down') return { status: 'slow_down', intervalSeconds: Math.max(err.success ? (err.data.interval ?? 0) : 0, retryAfter ?? 0) };
    if (code === 'expired_token') return { status: 'expired' };
    // Auth0 answers access_denied both for a denial and for an expired request; only the description tells them apart.
    if (code === 'access_denied') return { status: /expired/i.test(err.success ? (err.data.error_description ?? '') : '') ? 'expired' : 'denied' };
    return { status: 'failed', code };
  }
}
