/**
 * Verification of the access tokens our API receives (security tests A1-A8).
 *
 * - Signature: asymmetric algorithms only, pinned (default RS256); keys from the issuer's JWKS through jose's
 *   `createRemoteJWKSet` (cached for `jwksCacheMaxAgeMs`; an unknown `kid` triggers at most one refetch per
 *   `jwksCooldownMs`), plus a short back-off after a failed JWKS fetch so that an unreachable or failing JWKS
 *   endpoint is not hammered once per request either.
 * - Claims: exact `iss`; our audience in `aud` (string or array); `exp` required, `nbf` honoured, `iat` not in the
 *   future, all with a small clock tolerance; `sub` required.
 * - Token kind: ID tokens are refused (their `aud` is a client id; they carry `nonce`/`at_hash`/`c_hash`); the
 *   header `typ` must be `at+jwt` when `requireAtJwtTyp`, otherwise absent, `JWT` or `at+jwt`.
 * - Client: with `allowedClientIds`, `azp` / `client_id` must be one of them.
 *
 * Errors are `TokenVerificationError`s whose messages come from a fixed vocabulary: never the token, never a claim
 * value, and safe to put in a `WWW-Authenticate` quoted string.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  type FlattenedJWSInput,
} from 'jose';

export interface VerifierOptions {
  /** Exact issuer, e.g. `https://tenant.auth0.com/` or `http://localhost:8788/` (trailing slash matters; no normalisation). */
  issuer: string;
  /** Our API's identifier; the token's `aud` may be a string or an array containing it. */
  audience: string;
  /** Default `${issuer}.well-known/jwks.json`. Must be https (http only for loopback hosts). */
  jwksUrl?: string;
  /** Default `['RS256']`. Asymmetric JWS algorithms only: never `none`, never `HS*`. */
  algorithms?: string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** When true the header `typ` must be `at+jwt` (or `application/at+jwt`), RFC 9068. Default false. */
  requireAtJwtTyp?: boolean;
  /** When set, `azp` / `client_id` must be one of them (A3). */
  allowedClientIds?: string[];
  /** Minimum time between JWKS refetches caused by an unknown `kid`. Default 30 000 ms. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Key resolution injected by tests; otherwise `createRemoteJWKSet(jwksUrl)`. */
  getKey?: JWTVerifyGetKey;
}

export interface VerifiedUser {
  sub: string;
  scopes: string[];
  clientId?: string;
  acr?: string;
  amr?: string[];
  authTime?: number;
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
  claims: JWTPayload;
}

export type TokenErrorCode = 'invalid_token' | 'insufficient_scope';

export class TokenVerificationError extends Error {
  readonly code: TokenErrorCode;
  /** Human-readable, from a fixed vocabulary; safe for a `WWW-Authenticate` quoted string. */
  readonly description: string;
  /**
   * True when the token could not be checked because the signing keys could not be fetched (JWKS endpoint down,
   * timing out or answering garbage): not the client's fault, a retry later may succeed (the bearer middleware
   * answers 503 instead of 401).
   */
  readonly retryable: boolean;
  /** The jose error code behind the failure, for logs (never contains token material). */
  readonly reason?: string;

  constructor(code: TokenErrorCode, description: string, opts: { retryable?: boolean; reason?: string } = {}) {
    super(`${code}: ${description}`);
    this.name = 'TokenVerificationError';
    this.code = code;
    this.description = description;
    this.retryable = opts.retryable ?? false;
    this.reason = opts.reason;
  }
}

/** Asymmetric JWS algorithms we are willing to pin. */
const ASYMMETRIC_ALGS = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

/** Longer than any sane access token; refuse before doing any work. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Compact JWS: three base64url segments. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Claims only ID tokens carry. */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'] as const;
/** Header typ values accepted when `requireAtJwtTyp` is off (lower-cased, without `application/`). */
const LENIENT_TYPS = new Set(['jwt', 'at+jwt']);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(description: string, reason?: string): TokenVerificationError {
  return new TokenVerificationError('invalid_token', description, { reason });
}

function defaultJwksUrl(issuer: string): string {
  return issuer.endsWith('/') ? `${issuer}.well-known/jwks.json` : `${issuer}/.well-known/jwks.json`;
}

function validateOptions(opts: VerifierOptions) {
  if (typeof opts.issuer !== 'string' || opts.issuer.length === 0) throw new TypeError('verifier: issuer is required');
  if (typeof opts.audience !== 'string' || opts.audience.length === 0) throw new TypeError('verifier: audience is required');
  const algorithms = opts.algorithms ?? ['RS256'];
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError('verifier: algorithms must not be empty');
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGS.has(alg)) throw new TypeError(`verifier: algorithm ${JSON.stringify(alg)} is not allowed (asymmetric JWS algorithms only)`);
  }
  const clockTolerance = opts.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) throw new TypeError('verifier: clockToleranceSeconds must be a non-negative number');
  const cooldown = opts.jwksCooldownMs ?? 30_000;
  const cacheMaxAge = opts.jwksCacheMaxAgeMs ?? 600_000;
  for (const [name, v] of [['jwksCooldownMs', cooldown], ['jwksCacheMaxAgeMs', cacheMaxAge]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new TypeError(`verifier: ${name} must be a non-negative number`);
  }
  if (opts.allowedClientIds !== undefined) {
    if (!Array.isArray(opts.allowedClientIds) || opts.allowedClientIds.length === 0 || opts.allowedClientIds.some((id) => typeof id !== 'string' || id === '')) {
      throw new TypeError('verifier: allowedClientIds must be a non-empty list of client ids');
    }
  }
  return { algorithms, clockTolerance, cooldown, cacheMaxAge };
}

/** For errors thrown by jose's remote JWKS set: did fetching the set fail (as opposed to "no such key")? */
function isJwksFetchFailure(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  // Non-200 answer or unparsable body: a plain JOSEError with the generic code.
  if (err instanceof errors.JOSEError) return err.code === 'ERR_JOSE_GENERIC';
  // fetch() itself failing (connection refused, DNS, abort): not a JOSE error at all.
  return true;
}

/**
 * jose's remote JWKS set plus a back-off after a failed fetch. jose records the time of the last *successful* fetch
 * only, so while the endpoint fails every stale-cache or unknown-kid verification would fetch again; during the
 * back-off we answer from what was last fetched (if still fresh) or fail fast as retryable.
 */
function remoteKeyResolver(jwksUrl: URL, cooldownMs: number, cacheMaxAgeMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(jwksUrl, { cooldownDuration: cooldownMs, cacheMaxAge: cacheMaxAgeMs, timeoutDuration: 5_000 });
  const failureBackoffMs = Math.min(cooldownMs, 5_000);
  let failedAt = Number.NEGATIVE_INFINITY;
  let fallback: ReturnType<typeof createLocalJWKSet> | undefined;

  return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (Date.now() - failedAt < failureBackoffMs) {
      const last = remote.fresh ? remote.jwks() : undefined;
      if (!last) throw new TokenVerificationError('invalid_token', 'signing keys unavailable', { retryable: true, reason: 'jwks_backoff' });
      fallback ??= createLocalJWKSet(last);
      return fallback(header, token);
    }
    try {
      return await remote(header, token);
    } catch (err) {
      if (isJwksFetchFailure(err)) {
        failedAt = Date.now();
        fallback = undefined;
        const reason = err instanceof errors.JOSEError ? err.code : 'jwks_fetch_failed';
        throw new TokenVerificationError('invalid_token', 'signing keys unavailable', { retryable: true, reason });
      }
      throw err;
    }
  };
}

function mapJoseError(err: unknown): TokenVerificationError {
  if (err instanceof TokenVerificationError) return err;
  if (err instanceof errors.JWTExpired) return invalid('token expired', err.code);
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = /^[a-z_]{1,20}$/.test(err.claim) ? err.claim : 'claim';
    if (err.reason === 'missing') return invalid(`missing required claim ${claim}`, err.code);
    if (err.reason === 'invalid') return invalid(`invalid claim ${claim}`, err.code);
    switch (claim) {
      case 'iss': return invalid('unexpected issuer', err.code);
      case 'aud': return invalid('unexpected audience', err.code);
      case 'nbf': return invalid('token not yet valid', err.code);
      case 'typ': return invalid('unexpected token type', err.code);
      default: return invalid(`invalid claim ${claim}`, err.code);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid('algorithm not allowed', err.code);
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('signature verification failed', err.code);
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return invalid('signing key not found', err.code);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return invalid('malformed token', err.code);
  if (err instanceof errors.JOSENotSupported || err instanceof errors.JWKInvalid) return invalid('unsupported token', err.code);
  return invalid('invalid token', err instanceof errors.JOSEError ? err.code : undefined);
}

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function stringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function createAccessTokenVerifier(opts: VerifierOptions): (token: string) => Promise<VerifiedUser> {
  const { algorithms, clockTolerance, cooldown, cacheMaxAge } = validateOptions(opts);
  const { issuer, audience, requireAtJwtTyp = false } = opts;
  const allowedClientIds = opts.allowedClientIds ? new Set(opts.allowedClientIds) : undefined;

  let getKey = opts.getKey;
  if (!getKey) {
    const jwksUrl = new URL(opts.jwksUrl ?? defaultJwksUrl(issuer));
    if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(jwksUrl.hostname))) {
      throw new TypeError('verifier: jwksUrl must be https (http is allowed for loopback hosts only)');
    }
    getKey = remoteKeyResolver(jwksUrl, cooldown, cacheMaxAge);
  }
  const keys = getKey;

  return async function verifyAccessToken(token: string): Promise<VerifiedUser> {
    if (typeof token !== 'string' || token.length === 0) throw invalid('missing token');
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw invalid('malformed token');

    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      const result = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms,
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
        ...(requireAtJwtTyp ? { typ: 'at+jwt' } : {}),
      });
      payload = result.payload;
      typ = result.protectedHeader.typ;
    } catch (err) {
      throw mapJoseError(err);
    }

    // Token kind (A2). jose already enforced `at+jwt` when required.
    if (typ !== undefined && (typeof typ !== 'string' || !LENIENT_TYPS.has(normalizeTyp(typ)))) throw invalid('unexpected token type');
    for (const claim of ID_TOKEN_CLAIMS) {
      if (Object.prototype.hasOwnProperty.call(payload, claim)) throw invalid('id token presented as access token');
    }

    // Time claims beyond what jose checks (A7): exp finite, iat not in the future.
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('invalid claim exp');
    if (payload.iat !== undefined) {
      if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw invalid('invalid claim iat');
      if (payload.iat > now + clockTolerance) throw invalid('token issued in the future');
    }

    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0) throw invalid('invalid claim sub');

    // Client (A3).
    const azp = payload.azp;
    const clientIdClaim = payload.client_id;
    if (azp !== undefined && typeof azp !== 'string') throw invalid('invalid claim azp');
    if (clientIdClaim !== undefined && typeof clientIdClaim !== 'string') throw invalid('invalid claim client_id');
    if (azp !== undefined && clientIdClaim !== undefined && azp !== clientIdClaim) throw invalid('client not allowed');
    const clientId = (clientIdClaim ?? azp) as string | undefined;
    if (allowedClientIds && (clientId === undefined || !allowedClientIds.has(clientId))) throw invalid('client not allowed');

    // Scopes: `scope` (space-separated) and/or Auth0 RBAC `permissions`.
    const scopes = new Set<string>();
    if (payload.scope !== undefined) {
      if (typeof payload.scope !== 'string') throw invalid('invalid claim scope');
      for (const s of payload.scope.split(' ')) if (s) scopes.add(s);
    }
    if (payload.permissions !== undefined) {
      if (!stringArray(payload.permissions)) throw invalid('invalid claim permissions');
      for (const p of payload.permissions) if (p) scopes.add(p);
    }

    // Authentication context (step-up, RFC 9470).
    const { acr, amr, auth_time: authTime } = payload;
    if (acr !== undefined && typeof acr !== 'string') throw invalid('invalid claim acr');
    if (amr !== undefined && !stringArray(amr)) throw invalid('invalid claim amr');
    if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isFinite(authTime))) throw invalid('invalid claim auth_time');

    return {
      sub,
      scopes: Array.from(scopes),
      ...(clientId !== undefined ? { clientId } : {}),
      ...(acr !== undefined ? { acr } : {}),
      ...(amr !== undefined ? { amr: amr as string[] } : {}),
      ...(authTime !== undefined ? { authTime: authTime as number } : {}),
      expiresAt: exp,
      claims: payload,
    };
  };
}
