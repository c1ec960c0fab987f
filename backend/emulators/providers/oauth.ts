/**
 * The authorization server shared by the three providers: authorization requests and consent, one-time codes
 * (60 s, bound to client, redirect URI, account and an optional S256 PKCE challenge), the code and refresh grants,
 * revocation, and bearer-token checks for the APIs. Each provider module turns these outcomes into its own wire
 * format; what differs between providers (token prefixes, rotation, incremental consent) is in its profile.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type Grant, hashToken, type ProviderId, type ProviderState, type RevokedReason } from './state';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Shown on the consent page. */
  name: string;
}

export interface Account {
  email: string;
  name: string;
}

export interface ProviderProfile {
  id: ProviderId;
  /** Known scopes with the label the consent page shows. */
  scopes: Record<string, string>;
  newAccessToken(): string;
  newRefreshToken(): string;
  /** Slack and GitHub hand out a new refresh token on every refresh; Google keeps the first one. */
  rotateRefreshToken: boolean;
  refreshTokenTtlSeconds?: number;
  /** Google: a new consent adds to what the account granted this client before (include_granted_scopes). */
  incrementalConsent: boolean;
  /** Extra query parameters on a successful redirect (Google repeats the granted scopes). */
  codeRedirectParams?(scopes: string[]): Record<string, string>;
  /** Extra query parameters on an error redirect (GitHub adds an error_uri). */
  errorRedirectParams?(error: string): Record<string, string>;
}

export interface AuthorizeParams {
  clientId?: string;
  redirectUri?: string;
  scopes: string[];
  state?: string;
  loginHint?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  includeGrantedScopes: boolean;
  prompt?: string;
  /** When the provider insists on response_type=code (Google): the value received. */
  responseType?: string | null;
}

export type AuthorizeOutcome =
  | { kind: 'refuse'; status: 400; error: string; description: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'choose-account'; requestId: string; client: OAuthClient; accounts: readonly Account[] }
  | { kind: 'consent'; consentId: string; client: OAuthClient; account: Account; scopes: Array<{ scope: string; label: string }> };

export interface IssuedTokens {
  accessToken: string;
  /** Undefined on a Google refresh, which keeps the refresh token it already gave out. */
  refreshToken?: string;
  expiresIn: number;
  refreshTokenExpiresIn?: number;
  scopes: string[];
  grant: Grant;
}

export type Verified = { ok: true; grant: Grant } | { ok: false; reason: 'unknown' | 'expired' | RevokedReason };

interface PendingRequest {
  provider: ProviderId;
  client: OAuthClient;
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  includeGrantedScopes: boolean;
  expiresAt: number;
}

interface PendingConsent {
  request: PendingRequest;
  account: Account;
  expiresAt: number;
}

interface IssuedCode {
  provider: ProviderId;
  clientId: string;
  redirectUri: string;
  account: string;
  scopes: string[];
  codeChallenge?: string;
  expiresAt: number;
  /** Set once redeemed; a second redemption revokes what the first one produced. */
  redeemedBy?: string;
}

const CODE_TTL_MS = 60_000;
const INTERACTION_TTL_MS = 10 * 60_000;
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

const randomId = () => randomBytes(24).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export class OAuthServer {
  private readonly requests = new Map<string, PendingRequest>();
  private readonly consents = new Map<string, PendingConsent>();
  private readonly codes = new Map<string, IssuedCode>();

  constructor(
    private readonly state: ProviderState,
    private readonly clients: readonly OAuthClient[],
    readonly accounts: readonly Account[],
    private readonly accessTokenTtlSeconds: number,
  ) {}

  client(clientId: string | undefined): OAuthClient | undefined {
    return clientId ? this.clients.find((c) => c.clientId === clientId) : undefined;
  }

  account(email: string | undefined): Account | undefined {
    const wanted = email?.trim().toLowerCase();
    return wanted ? this.accounts.find((a) => a.email.toLowerCase() === wanted) : undefined;
  }

  authorize(profile: ProviderProfile, p: AuthorizeParams): AuthorizeOutcome {
    this.sweep();
    const client = this.client(p.clientId);
    if (!client) return { kind: 'refuse', status: 400, error: 'invalid_client', description: 'The OAuth client was not found.' };
    if (!p.redirectUri || !client.redirectUris.includes(p.redirectUri)) {
      return { kind: 'refuse', status: 400, error: 'redirect_uri_mismatch', description: `The redirect URI in the request does not match the ones registered for ${client.name}.` };
    }
    const fail = (error: string, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      location: withParams(p.redirectUri!, { error, error_description: description, ...profile.errorRedirectParams?.(error), state: p.state }),
    });
    if (p.responseType !== undefined && p.responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    if (p.scopes.length === 0) return fail('invalid_scope', 'No scopes were requested.');
    const unknown = p.scopes.filter((s) => !Object.hasOwn(profile.scopes, s));
    if (unknown.length) return fail('invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
    if (p.codeChallenge !== undefined || p.codeChallengeMethod !== undefined) {
      if (p.codeChallengeMethod !== 'S256' || !PKCE_VALUE.test(p.codeChallenge ?? '')) return fail('invalid_request', 'PKCE needs an S256 code_challenge.');
    }
    // Without a browser session there is no one to ask silently.
    if (p.prompt?.split(' ').includes('none')) return fail('interaction_required', 'The user must give consent.');

    const request: PendingRequest = {
      provider: profile.id,
      client,
      redirectUri: p.redirectUri,
      scopes: [...new Set(p.scopes)],
      state: p.state,
      codeChallenge: p.codeChallenge,
      includeGrantedScopes: p.includeGrantedScopes,
      expiresAt: Date.now() + INTERACTION_TTL_MS,
    };
    const account = this.account(p.loginHint);
    if (account) return this.consentFor(profile, request, account);
    const requestId = randomId();
    this.requests.set(requestId, request);
    return { kind: 'choose-account', requestId, client, accounts: this.accounts };
  }

  chooseAccount(profile: ProviderProfile, requestId: string, email: string): AuthorizeOutcome {
    this.sweep();
    const request = this.requests.get(requestId);
    const account = this.account(email);
    if (!request || request.provider !== profile.id) return { kind: 'refuse', status: 400, error: 'expired', description: 'This sign-in request has expired. Start again from the application.' };
    if (!account) return { kind: 'refuse', status: 400, error: 'unknown_account', description: 'No such account.' };
    this.requests.delete(requestId);
    return this.consentFor(profile, request, account);
  }

  /** The user's answer on the consent page: a code for the client, or access_denied. */
  decide(profile: ProviderProfile, consentId: string, allow: boolean): AuthorizeOutcome {
    this.sweep();
    const pending = this.consents.get(consentId);
    if (!pending || pending.request.provider !== profile.id) {
      return { kind: 'refuse', status: 400, error: 'expired', description: 'This consent request has expired or was already answered. Start again from the application.' };
    }
    this.consents.delete(consentId);
    const { request, account } = pending;
    if (!allow) {
      return {
        kind: 'redirect',
        location: withParams(request.redirectUri, { error: 'access_denied', ...profile.errorRedirectParams?.('access_denied'), state: request.state }),
      };
    }
    const earlier = profile.incrementalConsent && request.includeGrantedScopes ? (this.state.consent(profile.id, request.client.clientId, account.email)?.scopes ?? []) : [];
    const scopes = [...new Set([...earlier, ...request.scopes])];
    this.state.rememberConsent(profile.id, request.client.clientId, account.email, request.scopes);
    this.state.save();
    const code = randomBytes(32).toString('base64url');
    this.codes.set(hashToken(code), {
      provider: profile.id,
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      account: account.email,
      scopes,
      codeChallenge: request.codeChallenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return { kind: 'redirect', location: withParams(request.redirectUri, { code, ...profile.codeRedirectParams?.(scopes), state: request.state }) };
  }

  /** Client authentication at a token endpoint. */
  authenticateClient(clientId: string | undefined, clientSecret: string | undefined): { client: OAuthClient } | { error: 'unknown_client' | 'bad_secret' } {
    const client = this.client(clientId);
    if (!client) return { error: 'unknown_client' };
    if (!clientSecret || !sameSecret(clientSecret, client.clientSecret)) return { error: 'bad_secret' };
    return { client };
  }

  redeemCode(
    profile: ProviderProfile,
    client: OAuthClient,
    r: { code?: string; redirectUri?: string; codeVerifier?: string; redirectUriRequired: boolean },
  ): IssuedTokens | { error: 'invalid_code' | 'redirect_uri_mismatch' } {
    this.sweep();
    const key = r.code ? hashToken(r.code) : '';
    const code = this.codes.get(key);
    if (!code || code.provider !== profile.id || code.clientId !== client.clientId || code.expiresAt < Date.now()) return { error: 'invalid_code' };
    if (code.redeemedBy) {
      // RFC 6749 §4.1.2: a replayed code may mean it was stolen, so what it produced stops working too.
      this.revokeGrant(code.redeemedBy, 'revoked');
      this.state.save();
      return { error: 'invalid_code' };
    }
    if ((r.redirectUri !== undefined || r.redirectUriRequired) && r.redirectUri !== code.redirectUri) return { error: 'redirect_uri_mismatch' };
    if (code.codeChallenge) {
      const verifier = r.codeVerifier ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!PKCE_VALUE.test(verifier) || challenge !== code.codeChallenge) return { error: 'invalid_code' };
    }
    const grant: Grant = { id: randomUUID(), provider: profile.id, clientId: client.clientId, account: code.account, scopes: code.scopes, createdAt: Date.now() };
    code.redeemedBy = grant.id;
    this.state.addGrant(grant);
    const issued = this.issue(profile, grant, true);
    this.state.save();
    return issued;
  }

  refresh(profile: ProviderProfile, client: OAuthClient, refreshToken: string | undefined): IssuedTokens | { error: 'invalid_refresh_token' } {
    const record = refreshToken ? this.state.token(hashToken(refreshToken)) : undefined;
    const grant = record && this.state.grant(record.grantId);
    const usable =
      record?.kind === 'refresh' && !record.revoked && (record.expiresAt === undefined || record.expiresAt > Date.now()) && grant?.provider === profile.id && grant.clientId === client.clientId;
    if (!usable || !grant) return { error: 'invalid_refresh_token' };
    for (const t of this.state.tokensOf(grant.id)) if (t.kind === 'access' && !t.revoked) t.revoked = 'refreshed';
    if (profile.rotateRefreshToken) record.revoked = 'rotated';
    const issued = this.issue(profile, grant, profile.rotateRefreshToken);
    this.state.save();
    return issued;
  }

  verify(provider: ProviderId, token: string): Verified {
    const record = this.state.token(hashToken(token));
    const grant = record && this.state.grant(record.grantId);
    if (!record || record.kind !== 'access' || !grant || grant.provider !== provider) return { ok: false, reason: 'unknown' };
    if (record.revoked) return { ok: false, reason: record.revoked };
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) return { ok: false, reason: 'expired' };
    return { ok: true, grant };
  }

  /** Revokes the whole grant an access or refresh token belongs to (and forgets the consent); false if unknown. */
  revoke(provider: ProviderId, token: string, opts: { forgetConsent: boolean }): boolean {
    const record = this.state.token(hashToken(token));
    const grant = record && this.state.grant(record.grantId);
    if (!record || !grant || grant.provider !== provider || record.revoked) return false;
    this.revokeGrant(grant.id, 'revoked');
    if (opts.forgetConsent) this.state.forgetConsent(provider, grant.clientId, grant.account);
    this.state.save();
    return true;
  }

  private consentFor(profile: ProviderProfile, request: PendingRequest, account: Account): AuthorizeOutcome {
    const consentId = randomId();
    this.consents.set(consentId, { request, account, expiresAt: Date.now() + INTERACTION_TTL_MS });
    return {
      kind: 'consent',
      consentId,
      client: request.client,
      account,
      scopes: request.scopes.map((scope) => ({ scope, label: profile.scopes[scope]! })),
    };
  }

  private issue(profile: ProviderProfile, grant: Grant, withRefreshToken: boolean): IssuedTokens {
    const now = Date.now();
    const accessToken = profile.newAccessToken();
    this.state.addToken({ hash: hashToken(accessToken), kind: 'access', grantId: grant.id, expiresAt: now + this.accessTokenTtlSeconds * 1000, createdAt: now });
    let refreshToken: string | undefined;
    if (withRefreshToken) {
      refreshToken = profile.newRefreshToken();
      const ttl = profile.refreshTokenTtlSeconds;
      this.state.addToken({ hash: hashToken(refreshToken), kind: 'refresh', grantId: grant.id, expiresAt: ttl ? now + ttl * 1000 : undefined, createdAt: now });
    }
    return { accessToken, refreshToken, expiresIn: this.accessTokenTtlSeconds, refreshTokenExpiresIn: profile.refreshTokenTtlSeconds, scopes: grant.scopes, grant };
  }

  private revokeGrant(grantId: string, reason: RevokedReason) {
    for (const t of this.state.tokensOf(grantId)) if (!t.revoked) t.revoked = reason;
  }

  private sweep() {
    const now = Date.now();
    for (const [k, v] of this.requests) if (v.expiresAt < now) this.requests.delete(k);
    for (const [k, v] of this.consents) if (v.expiresAt < now) this.consents.delete(k);
    for (const [k, v] of this.codes) if (v.expiresAt < now) this.codes.delete(k);
  }
}
