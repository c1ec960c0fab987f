/**
 * Access-token verification against a real JWKS endpoint (node:http on 127.0.0.1, port 0) that counts its requests.
 * Security tests A1-A8 (docs/security-tests.md, section A).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SignJWT,
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import {
  TokenVerificationError,
  createAccessTokenVerifier,
  type VerifierOptions,
  type VerifiedUser,
} from '../../backend/src/auth/verify-access-token';

const AUDIENCE = 'https://api.deputy.test';
const CLIENT_ID = 'deputy-extension';
const OTHER_CLIENT_ID = 'some-other-spa';
const SUB = 'auth0|abc123';

interface SigningKey { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK; publicKey: CryptoKey }

async function makeKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** A tiny JWKS server: serves `keys`, counts requests, can be told to fail. */
class JwksServer {
  keys: JWK[] = [];
  requests = 0;
  status = 200;
  private server!: Server;
  port = 0;

  async start() {
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
        this.requests++;
        if (this.status !== 200) {
          res.writeHead(this.status, { 'content-type': 'text/plain' }).end('down');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get issuer() { return `http://127.0.0.1:${this.port}/`; }
  get jwksUrl() { return `${this.issuer}.well-known/jwks.json`; }

  stop() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let jwks: JwksServer;
let key1: SigningKey;
let key2: SigningKey;
let ecKey: SigningKey;
/** Never published. */
let rogue: SigningKey;

function claims(issuer: string, overrides: Record<string, unknown> = {}): JWTPayload {
  const base: JWTPayload = {
    iss: issuer,
    sub: SUB,
    aud: [AUDIENCE, `${issuer}userinfo`],
    azp: CLIENT_ID,
    scope: 'openid profile email read:threads',
    iat: now(),
    exp: now() + 3600,
    jti: crypto.randomUUID(),
  };
  const out: Record<string, unknown> = { ...base, ...overrides };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out as JWTPayload;
}

async function sign(
  payload: JWTPayload,
  opts: { key?: SigningKey; kid?: string | null; alg?: string; typ?: string | null } = {},
): Promise<string> {
  const key = opts.key ?? key1;
  const header: Record<string, unknown> = { alg: opts.alg ?? key.alg };
  if (opts.kid !== null) header.kid = opts.kid ?? key.kid;
  if (opts.typ !== null) header.typ = opts.typ ?? 'at+jwt';
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

function verifier(overrides: Partial<VerifierOptions> = {}) {
  return createAccessTokenVerifier({
    issuer: jwks.issuer,
    audience: AUDIENCE,
    allowedClientIds: [CLIENT_ID],
    ...overrides,
  });
}

/** Rejected with invalid_token, and neither message nor description echoes the token. */
async function expectRejected(verify: (t: string) => Promise<VerifiedUser>, token: string, description?: string | RegExp) {
  let error: unknown;
  try {
    await verify(token);
  } catch (e) {
    error = e;
  }
  expect(error, 'token should have been rejected').toBeInstanceOf(TokenVerificationError);
  const err = error as TokenVerificationError;
  expect(err.code).toBe('invalid_token');
  if (token) {
    expect(err.message).not.toContain(token);
    expect(err.description).not.toContain(token);
  }
  // Not even a recognisable piece of it (header, payload or signature segment).
  for (const part of token.split('.').filter((p) => p.length > 8)) {
    expect(err.message).not.toContain(part);
    expect(String(err.stack)).not.toContain(part);
  }
  if (description !== undefined) {
    if (typeof description === 'string') expect(err.description).toBe(description);
    else expect(err.description).toMatch(description);
  }
  return err;
}

beforeAll(async () => {
  [key1, key2, ecKey, rogue] = await Promise.all([makeKey('key-1'), makeKey('key-2'), makeKey('ec-1', 'ES256'), makeKey('rogue')]);
  jwks = new JwksServer();
  jwks.keys = [key1.publicJwk, ecKey.publicJwk];
  await jwks.start();
});

afterAll(async () => {
  await jwks?.stop();
});

describe('valid tokens', () => {
  it('accepts a token with aud as an array containing our API and parses scopes, client and auth context', async () => {
    const verify = verifier();
    const authTime = now() - 60;
    const token = await sign(claims(jwks.issuer, {
      scope: 'openid profile read:threads write:threads',
      permissions: ['read:docs', 'read:threads'],
      acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
      amr: ['pwd', 'mfa'],
      auth_time: authTime,
    }));
    const user = await verify(token);
    expect(user.sub).toBe(SUB);
    expect(user.scopes.sort()).toEqual(['openid', 'profile', 'read:docs', 'read:threads', 'write:threads']);
    expect(user.clientId).toBe(CLIENT_ID);
    expect(user.acr).toBe('http://schemas.openid.net/pape/policies/2007/06/multi-factor');
    expect(user.amr).toEqual(['pwd', 'mfa']);
    expect(user.authTime).toBe(authTime);
    expect(user.expiresAt).toBeGreaterThan(now());
    expect(user.claims.jti).toBeTypeOf('string');
  });

  it('accepts aud as a plain string, client_id instead of azp, and permissions only', async () => {
    const verify = verifier();
    const token = await sign(claims(jwks.issuer, { aud: AUDIENCE, azp: undefined, client_id: CLIENT_ID, scope: undefined, permissions: ['read:threads'] }));
    const user = await verify(token);
    expect(user.scopes).toEqual(['read:threads']);
    expect(user.clientId).toBe(CLIENT_ID);
    expect(user.acr).toBeUndefined();
  });

  it('accepts typ at+jwt and application/at+jwt when requireAtJwtTyp; JWT or no typ when not', async () => {
    const strict = verifier({ requireAtJwtTyp: true });
    await expect(strict(await sign(claims(jwks.issuer), { typ: 'at+jwt' }))).resolves.toMatchObject({ sub: SUB });
    await expect(strict(await sign(claims(jwks.issuer), { typ: 'application/at+jwt' }))).resolves.toMatchObject({ sub: SUB });
    const lenient = verifier();
    await expect(lenient(await sign(claims(jwks.issuer), { typ: 'JWT' }))).resolves.toMatchObject({ sub: SUB });
    await expect(lenient(await sign(claims(jwks.issuer), { typ: null }))).resolves.toMatchObject({ sub: SUB });
  });

  it('accepts ES256 when pinned to ES256', async () => {
    const verify = verifier({ algorithms: ['ES256'] });
    await expect(verify(await sign(claims(jwks.issuer), { key: ecKey }))).resolves.toMatchObject({ sub: SUB });
  });

  it('rejects a token without sub, or with an empty one', async () => {
    const verify = verifier();
    await expectRejected(verify, await sign(claims(jwks.issuer, { sub: undefined })), /sub/);
    await expectRejected(verify, await sign(claims(jwks.issuer, { sub: '' })), /sub/);
  });

  it('rejects garbage and oversized input without fetching keys', async () => {
    const verify = verifier();
    const before = jwks.requests;
    await expectRejected(verify, 'not-a-jwt', 'malformed token');
    await expectRejected(verify, 'a.b', 'malformed token');
    await expectRejected(verify, `${'a'.repeat(20_000)}.b.c`, 'malformed token');
    await expectRejected(verify, '', 'missing token');
    expect(jwks.requests).toBe(before);
  });
});

describe('A1 audience', () => {
  it('A1 token for another audience of the same issuer is rejected', async () => {
    const verify = verifier();
    await expectRejected(verify, await sign(claims(jwks.issuer, { aud: 'https://other-api.deputy.test' })), 'unexpected audience');
    await expectRejected(verify, await sign(claims(jwks.issuer, { aud: ['https://other-api.deputy.test', `${jwks.issuer}userinfo`] })), 'unexpected audience');
    // Look-alikes of our audience.
    await expectRejected(verify, await sign(claims(jwks.issuer, { aud: `${AUDIENCE}/` })), 'unexpected audience');
    await expectRejected(verify, await sign(claims(jwks.issuer, { aud: [] })), 'unexpected audience');
    await expectRejected(verify, await sign(claims(jwks.issuer, { aud: undefined })), /aud/);
  });
});

describe('A2 ID token presented as an access token', () => {
  it('A2 a real ID token (aud = client id, nonce, typ JWT) is rejected', async () => {
    const idToken = await sign(
      claims(jwks.issuer, { aud: CLIENT_ID, azp: undefined, scope: undefined, nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q', name: 'Ada' }),
      { typ: 'JWT' },
    );
    await expectRejected(verifier(), idToken, 'unexpected audience');
    await expectRejected(verifier({ requireAtJwtTyp: true }), idToken);
  });

  it('A2 an ID-token-shaped token with our audience (nonce, at_hash) is rejected even without requireAtJwtTyp', async () => {
    const verify = verifier();
    await expectRejected(verify, await sign(claims(jwks.issuer, { nonce: 'abc' }), { typ: 'JWT' }), 'id token presented as access token');
    await expectRejected(verify, await sign(claims(jwks.issuer, { at_hash: 'x' }), { typ: 'JWT' }), 'id token presented as access token');
    await expectRejected(verify, await sign(claims(jwks.issuer, { c_hash: 'x' })), 'id token presented as access token');
  });

  it('A2 with requireAtJwtTyp, typ JWT or no typ is rejected', async () => {
    const verify = verifier({ requireAtJwtTyp: true });
    await expectRejected(verify, await sign(claims(jwks.issuer), { typ: 'JWT' }), 'unexpected token type');
    await expectRejected(verify, await sign(claims(jwks.issuer), { typ: null }), /typ|token type/);
  });

  it('A2 other JWT kinds (logout token, DPoP proof, SET) are rejected', async () => {
    const verify = verifier();
    for (const typ of ['logout+jwt', 'dpop+jwt', 'secevent+jwt', 'application/jwt+foo']) {
      await expectRejected(verify, await sign(claims(jwks.issuer), { typ }), 'unexpected token type');
    }
  });
});

describe('A3 client', () => {
  it('A3 azp or client_id not our extension client is rejected', async () => {
    const verify = verifier();
    await expectRejected(verify, await sign(claims(jwks.issuer, { azp: OTHER_CLIENT_ID })), 'client not allowed');
    await expectRejected(verify, await sign(claims(jwks.issuer, { azp: undefined, client_id: OTHER_CLIENT_ID })), 'client not allowed');
    await expectRejected(verify, await sign(claims(jwks.issuer, { azp: CLIENT_ID, client_id: OTHER_CLIENT_ID })), 'client not allowed');
    await expectRejected(verify, await sign(claims(jwks.issuer, { azp: undefined })), 'client not allowed');
    await expectRejected(verify, await sign(claims(jwks.issuer, { azp: [CLIENT_ID] })), /azp/);
  });

  it('A3 without allowedClientIds any client is accepted (and reported)', async () => {
    const verify = verifier({ allowedClientIds: undefined });
    const user = await verify(await sign(claims(jwks.issuer, { azp: OTHER_CLIENT_ID })));
    expect(user.clientId).toBe(OTHER_CLIENT_ID);
  });
});

describe('A4 algorithms and keys', () => {
  it('A4 alg none is rejected (without touching the JWKS)', async () => {
    const verify = verifier();
    await verify(await sign(claims(jwks.issuer))); // warm the cache
    const before = jwks.requests;
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const payload = enc(claims(jwks.issuer));
    await expectRejected(verify, `${enc({ alg: 'none', typ: 'at+jwt' })}.${payload}.`, 'algorithm not allowed');
    await expectRejected(verify, `${enc({ alg: 'none', kid: key1.kid })}.${payload}.`, 'algorithm not allowed');
    await expectRejected(verify, `${enc({ alg: 'None' })}.${payload}.`, 'algorithm not allowed');
    // alg none with a signature from a real token glued on.
    const real = (await sign(claims(jwks.issuer))).split('.')[2];
    await expectRejected(verify, `${enc({ alg: 'none' })}.${payload}.${real}`, 'algorithm not allowed');
    expect(jwks.requests).toBe(before);
  });

  it('A4 HS256 signed with the RSA public key bytes is rejected', async () => {
    const verify = verifier();
    const pem = await exportSPKI(key1.publicKey);
    const secrets = [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(JSON.stringify(key1.publicJwk)),
      base64url.decode(key1.publicJwk.n!),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await new SignJWT(claims(jwks.issuer)).setProtectedHeader({ alg, kid: key1.kid, typ: 'at+jwt' }).sign(secret);
        await expectRejected(verify, token, 'algorithm not allowed');
      }
    }
  });

  it('A4 RS256 signed with a key not in the JWKS is rejected (known kid and unknown kid)', async () => {
    const verify = verifier();
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: key1.kid }), 'signature verification failed');
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue }), 'signing key not found');
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: null }), /signature verification failed|signing key not found/);
  });

  it('A4 an algorithm outside the pinned list is rejected even when its key is in the JWKS', async () => {
    await expectRejected(verifier(), await sign(claims(jwks.issuer), { key: ecKey }), 'algorithm not allowed');
    // A real RS256 token whose header is rewritten to another RSA algorithm.
    const [, payload, signature] = (await sign(claims(jwks.issuer))).split('.');
    for (const alg of ['PS256', 'RS512', 'ES256']) {
      const header = base64url.encode(JSON.stringify({ alg, kid: key1.kid, typ: 'at+jwt' }));
      await expectRejected(verifier(), `${header}.${payload}.${signature}`, 'algorithm not allowed');
    }
  });

  it('A4 the verifier refuses to be configured with none or symmetric algorithms', () => {
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS256'], ['dir'], []]) {
      expect(() => verifier({ algorithms })).toThrow(TypeError);
    }
    expect(() => verifier({ jwksUrl: 'http://idp.example.com/.well-known/jwks.json' })).toThrow(/https/);
  });
});

describe('A5 unknown kid and JWKS flooding', () => {
  it('A5 unknown kid: at most one JWKS refetch within the cooldown, then rejected', async () => {
    const verify = verifier({ jwksCooldownMs: 300 });
    const start = jwks.requests;
    await verify(await sign(claims(jwks.issuer)));
    expect(jwks.requests - start).toBe(1);

    // Right after a fetch we are inside the cooldown: an unknown kid does not refetch at all.
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: 'unknown-1' }), 'signing key not found');
    expect(jwks.requests - start).toBe(1);

    await sleep(350);
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: 'unknown-2' }), 'signing key not found');
    expect(jwks.requests - start).toBe(2); // exactly one refetch
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: 'unknown-3' }), 'signing key not found');
    await expectRejected(verify, await sign(claims(jwks.issuer), { key: rogue, kid: 'unknown-2' }), 'signing key not found');
    expect(jwks.requests - start).toBe(2); // cooling down
  });

  it('A5 50 random kids (sequential, after the cooldown) cause at most 2 JWKS fetches', async () => {
    const verify = verifier({ jwksCooldownMs: 1_000 });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sign(claims(jwks.issuer), { key: rogue, kid: crypto.randomUUID() })));
    const start = jwks.requests;
    await verify(await sign(claims(jwks.issuer)));
    await sleep(1_050);
    for (const token of tokens) await expectRejected(verify, token, 'signing key not found');
    expect(jwks.requests - start).toBeLessThanOrEqual(2);
    // The real key still works throughout.
    await expect(verify(await sign(claims(jwks.issuer)))).resolves.toMatchObject({ sub: SUB });
  });

  it('A5 50 random kids at once on a cold verifier cause at most 2 JWKS fetches', async () => {
    const verify = verifier();
    const start = jwks.requests;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sign(claims(jwks.issuer), { key: rogue, kid: crypto.randomUUID() })));
    const results = await Promise.allSettled(tokens.map((t) => verify(t)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(jwks.requests - start).toBeLessThanOrEqual(2);
  });

  it('A5 50 random kids at once after the cooldown cause at most 2 JWKS fetches', async () => {
    const verify = verifier({ jwksCooldownMs: 200 });
    const start = jwks.requests;
    await verify(await sign(claims(jwks.issuer)));
    await sleep(250);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sign(claims(jwks.issuer), { key: rogue, kid: crypto.randomUUID() })));
    const results = await Promise.allSettled(tokens.map((t) => verify(t)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(jwks.requests - start).toBeLessThanOrEqual(2);
  });

  it('A5 a failing JWKS endpoint is not hammered either: one fetch per back-off, errors are retryable', async () => {
    const verify = verifier({ jwksCooldownMs: 1_000 }); // back-off = min(cooldown, 5 s) = 1 s
    const good = await sign(claims(jwks.issuer));
    const start = jwks.requests;
    jwks.status = 500;
    try {
      for (let i = 0; i < 20; i++) {
        const err = await expectRejected(verify, good, 'signing keys unavailable');
        expect(err.retryable).toBe(true);
      }
      expect(jwks.requests - start).toBe(1);
    } finally {
      jwks.status = 200;
    }
    await sleep(1_050);
    await expect(verify(good)).resolves.toMatchObject({ sub: SUB });
    expect(jwks.requests - start).toBe(2);
  });

  it('A5 a JWKS failure on an unknown kid does not break known keys, and random kids do not refetch during the back-off', async () => {
    const verify = verifier({ jwksCooldownMs: 1_000 }); // back-off = min(cooldown, 5 s) = 1 s
    const unknownX = await sign(claims(jwks.issuer), { key: rogue, kid: 'unknown-x' });
    const randoms = await Promise.all(Array.from({ length: 20 }, () => sign(claims(jwks.issuer), { key: rogue, kid: crypto.randomUUID() })));
    const good = await sign(claims(jwks.issuer));
    const start = jwks.requests;
    await verify(good);
    await sleep(1_050);
    jwks.status = 503;
    try {
      await expectRejected(verify, unknownX, 'signing keys unavailable');
      expect(jwks.requests - start).toBe(2);
      for (const token of randoms) await expectRejected(verify, token, 'signing key not found');
      await expect(verify(good)).resolves.toMatchObject({ sub: SUB });
      expect(jwks.requests - start).toBe(2);
    } finally {
      jwks.status = 200;
    }
  });
});

describe('A6 key rotation', () => {
  it('A6 a new kid added to the JWKS is accepted; a removed key stops working once the cache expires', async () => {
    const rotating = new JwksServer();
    rotating.keys = [key1.publicJwk];
    await rotating.start();
    try {
      const verify = createAccessTokenVerifier({
        issuer: rotating.issuer,
        audience: AUDIENCE,
        allowedClientIds: [CLIENT_ID],
        jwksCooldownMs: 100,
        jwksCacheMaxAgeMs: 600,
      });
      const t1 = () => sign(claims(rotating.issuer), { key: key1 });
      const t2 = () => sign(claims(rotating.issuer), { key: key2 });
      await expect(verify(await t1())).resolves.toMatchObject({ sub: SUB });
      expect(rotating.requests).toBe(1);

      // The IdP publishes key-2 and starts signing with it.
      rotating.keys = [key1.publicJwk, key2.publicJwk];
      await sleep(150); // past the cooldown, well within the cache lifetime
      await expect(verify(await t2())).resolves.toMatchObject({ sub: SUB });
      expect(rotating.requests).toBe(2);

      // key-1 is retired: still accepted from the cache for now...
      rotating.keys = [key2.publicJwk];
      await expect(verify(await t1())).resolves.toMatchObject({ sub: SUB });
      expect(rotating.requests).toBe(2);

      // ...and refused once the cache has expired.
      await sleep(650);
      await expectRejected(verify, await t1(), 'signing key not found');
      await expect(verify(await t2())).resolves.toMatchObject({ sub: SUB });
      expect(rotating.requests).toBe(3);
    } finally {
      await rotating.stop();
    }
  });
});

describe('A7 time claims', () => {
  it('A7 expired, nbf in the future and iat in the future beyond the skew are rejected', async () => {
    const verify = verifier({ clockToleranceSeconds: 30 });
    await expectRejected(verify, await sign(claims(jwks.issuer, { exp: now() - 3600 })), 'token expired');
    await expectRejected(verify, await sign(claims(jwks.issuer, { exp: now() - 45 })), 'token expired');
    await expectRejected(verify, await sign(claims(jwks.issuer, { nbf: now() + 60 })), 'token not yet valid');
    await expectRejected(verify, await sign(claims(jwks.issuer, { iat: now() + 60 })), 'token issued in the future');
    await expectRejected(verify, await sign(claims(jwks.issuer, { exp: undefined })), /exp/);
    await expectRejected(verify, await sign(claims(jwks.issuer, { exp: String(now() + 3600) })), /exp/);
    await expectRejected(verify, await sign(claims(jwks.issuer, { nbf: 'soon' })), /nbf/);
  });

  it('A7 within the skew they are accepted', async () => {
    const verify = verifier({ clockToleranceSeconds: 30 });
    await expect(verify(await sign(claims(jwks.issuer, { exp: now() - 10 })))).resolves.toMatchObject({ sub: SUB });
    await expect(verify(await sign(claims(jwks.issuer, { nbf: now() + 10 })))).resolves.toMatchObject({ sub: SUB });
    await expect(verify(await sign(claims(jwks.issuer, { iat: now() + 10 })))).resolves.toMatchObject({ sub: SUB });
  });

  it('A7 with zero tolerance the same tokens are rejected', async () => {
    const verify = verifier({ clockToleranceSeconds: 0 });
    await expectRejected(verify, await sign(claims(jwks.issuer, { exp: now() - 10 })), 'token expired');
    await expectRejected(verify, await sign(claims(jwks.issuer, { nbf: now() + 10 })), 'token not yet valid');
    await expectRejected(verify, await sign(claims(jwks.issuer, { iat: now() + 10 })), 'token issued in the future');
  });
});

describe('A8 issuer', () => {
  it('A8 wrong or look-alike iss is rejected (local issuer)', async () => {
    const verify = verifier();
    const iss = jwks.issuer; // http://127.0.0.1:PORT/
    for (const bad of [
      iss.slice(0, -1), // missing trailing slash
      `${iss}/`,
      `${iss}other-tenant/`,
      iss.replace('127.0.0.1', 'localhost'),
      iss.replace('http://', 'https://'),
      iss.replace('127.0.0.1', '127.0.0.1.evil.test'),
      ` ${iss}`,
    ]) {
      await expectRejected(verify, await sign(claims(iss, { iss: bad })), 'unexpected issuer');
    }
    await expectRejected(verify, await sign(claims(iss, { iss: undefined })), /iss/);
    await expectRejected(verify, await sign(claims(iss, { iss: [iss] })), /iss|issuer/);
  });

  it('A8 wrong or look-alike iss is rejected (Auth0-style issuer)', async () => {
    const issuer = 'https://deputy.eu.auth0.com/';
    const verify = verifier({ issuer, jwksUrl: jwks.jwksUrl });
    await expect(verify(await sign(claims(issuer)))).resolves.toMatchObject({ sub: SUB });
    for (const bad of [
      'https://deputy.eu.auth0.com', // missing trailing slash
      'https://other.eu.auth0.com/', // other tenant
      'https://deputy.eu.auth0.com.evil.com/', // look-alike
      'https://deputy-eu.auth0.com/',
      'https://DEPUTY.eu.auth0.com/',
      'http://deputy.eu.auth0.com/',
      'https://deputy.eu.auth0.com:443/',
      'https://deputy.eu.auth0.com/\u200b',
    ]) {
      await expectRejected(verify, await sign(claims(issuer, { iss: bad })), 'unexpected issuer');
    }
  });
});
