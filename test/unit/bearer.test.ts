/**
 * The bearer middleware through a real Hono app (`app.request`), with the real verifier and a real JWKS endpoint
 * (node:http on 127.0.0.1, port 0). Security test A9 plus the RFC 6750 / RFC 7807 shape of failures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireScopes, requireUser, type AccessTokenVerifier, type AuthEnv } from '../../backend/src/auth/bearer';
import { createAccessTokenVerifier } from '../../backend/src/auth/verify-access-token';

const AUDIENCE = 'https://api.deputy.test';
const CLIENT_ID = 'deputy-extension';
const SUB = 'auth0|abc123';
const KID = 'bearer-key-1';

let server: Server;
let issuer: string;
let jwksStatus = 200;
let jwksRequests = 0;
let privateKey: CryptoKey;
let publicJwk: JWK;
let app: Hono<AuthEnv>;

const now = () => Math.floor(Date.now() / 1000);

function sign(overrides: Record<string, unknown> = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: issuer,
    sub: SUB,
    aud: [AUDIENCE, `${issuer}userinfo`],
    azp: CLIENT_ID,
    scope: 'openid profile read:threads',
    iat: now(),
    exp: now() + 3600,
    ...overrides,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'at+jwt' }).sign(privateKey);
}

function buildApp(verify: AccessTokenVerifier) {
  const a = new Hono<AuthEnv>();
  a.get('/health', (c) => c.json({ ok: true }));
  a.use('/api/*', requireUser(verify));
  a.get('/api/me', (c) => {
    const user = c.get('user');
    return c.json({ sub: user.sub, scopes: user.scopes, clientId: user.clientId });
  });
  a.get('/api/threads', requireScopes('read:threads'), (c) => c.json({ threads: [] }));
  a.post('/api/threads', requireScopes('read:threads', 'write:threads'), (c) => c.json({ created: true }, 201));
  return a;
}

interface Problem { type: string; title: string; status: number; code: string; detail: string }

/** Asserts the RFC 7807 body and returns it; the token must appear nowhere in the response. */
async function expectProblem(res: Response, status: number, code: string, token?: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const text = await res.text();
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ type: 'about:blank', status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  if (token) {
    expect(text).not.toContain(token);
    res.headers.forEach((value, name) => {
      expect(value, `header ${name}`).not.toContain(token);
      for (const part of token.split('.').filter((p) => p.length > 8)) expect(value).not.toContain(part);
    });
    for (const part of token.split('.').filter((p) => p.length > 8)) expect(text).not.toContain(part);
  }
  return body;
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      jwksRequests++;
      if (jwksStatus !== 200) return void res.writeHead(jwksStatus).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  app = buildApp(createAccessTokenVerifier({ issuer, audience: AUDIENCE, allowedClientIds: [CLIENT_ID], requireAtJwtTyp: true }));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('A9 token transport', () => {
  it('A9 the Authorization header works → 200 with the verified user', async () => {
    const token = await sign();
    const res = await app.request('/api/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: SUB, scopes: ['openid', 'profile', 'read:threads'], clientId: CLIENT_ID });
    // Scheme is case-insensitive (RFC 7235).
    const lower = await app.request('/api/me', { headers: { Authorization: `bearer ${token}` } });
    expect(lower.status).toBe(200);
  });

  it('A9 token in the query string (access_token=) → 401, not used', async () => {
    const token = await sign();
    const res = await app.request(`/api/me?access_token=${encodeURIComponent(token)}`);
    const body = await expectProblem(res, 401, 'missing_token', token);
    expect(body.title).toBe('Unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="deputy"');
  });

  it('A9 token in a cookie → 401, not used', async () => {
    const token = await sign();
    for (const cookie of [`access_token=${token}`, `token=${token}`, `Authorization=Bearer ${token}`]) {
      const res = await app.request('/api/me', { headers: { Cookie: cookie } });
      await expectProblem(res, 401, 'missing_token', token);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="deputy"');
    }
  });

  it('A9 token in a form body → 401, not used', async () => {
    const token = await sign();
    const res = await app.request('/api/threads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `access_token=${encodeURIComponent(token)}`,
    });
    await expectProblem(res, 401, 'missing_token', token);
  });

  it('A9 no header → 401 with a challenge without error (RFC 6750 §3.1); other schemes count as no token', async () => {
    const res = await app.request('/api/me');
    await expectProblem(res, 401, 'missing_token');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="deputy"');
    const basic = await app.request('/api/me', { headers: { Authorization: 'Basic ZGVwdXR5OnNlY3JldA==' } });
    await expectProblem(basic, 401, 'missing_token');
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="deputy"');
    // Unprotected routes are unaffected.
    expect((await app.request('/health')).status).toBe(200);
  });

  it('A9 an invalid token in the header → 401 invalid_token with WWW-Authenticate error and problem JSON, no token echoed', async () => {
    const expired = await sign({ exp: now() - 3600 });
    const res = await app.request('/api/me', { headers: { Authorization: `Bearer ${expired}` } });
    const body = await expectProblem(res, 401, 'invalid_token', expired);
    expect(body.detail).toBe('token expired');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="deputy", error="invalid_token", error_description="token expired"');

    const otherAudience = await sign({ aud: 'https://other-api.deputy.test' });
    const res2 = await app.request('/api/me', { headers: { Authorization: `Bearer ${otherAudience}` } });
    await expectProblem(res2, 401, 'invalid_token', otherAudience);
    expect(res2.headers.get('www-authenticate')).toMatch(/^Bearer realm="deputy", error="invalid_token", error_description="[^"]+"$/);
  });

  it('A9 malformed Authorization headers → 401 invalid_token', async () => {
    const token = await sign();
    for (const header of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Bearer "${token}"`, `Bearer ${token}, Bearer ${token}`]) {
      const res = await app.request('/api/me', { headers: { Authorization: header } });
      await expectProblem(res, 401, 'invalid_token', token);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('A9 header and query together: only the header counts', async () => {
    const good = await sign();
    const bad = await sign({ aud: 'https://other-api.deputy.test' });
    const ok = await app.request(`/api/me?access_token=${bad}`, { headers: { Authorization: `Bearer ${good}` } });
    expect(ok.status).toBe(200);
    const no = await app.request(`/api/me?access_token=${good}`, { headers: { Authorization: `Bearer ${bad}` } });
    await expectProblem(no, 401, 'invalid_token', good);
  });
});

describe('scopes', () => {
  it('requireScopes lets a token with the scope through', async () => {
    const res = await app.request('/api/threads', { headers: { Authorization: `Bearer ${await sign()}` } });
    expect(res.status).toBe(200);
  });

  it('requireScopes answers 403 insufficient_scope with the needed scopes in the challenge', async () => {
    const token = await sign({ scope: 'openid read:threads' });
    const res = await app.request('/api/threads', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    const body = await expectProblem(res, 403, 'insufficient_scope', token);
    expect(body.title).toBe('Forbidden');
    expect(body.detail).toContain('write:threads');
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer realm="deputy", error="insufficient_scope", /);
    expect(challenge).toContain('scope="read:threads write:threads"');
  });

  it('permissions (Auth0 RBAC) count as scopes', async () => {
    const token = await sign({ scope: 'openid', permissions: ['read:threads', 'write:threads'] });
    const res = await app.request('/api/threads', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
  });
});

describe('JWKS outage', () => {
  it('signing keys unavailable → 503 problem JSON with Retry-After, not 401 (the client should not sign in again)', async () => {
    // A separate app whose verifier has never fetched keys.
    const cold = buildApp(createAccessTokenVerifier({ issuer, audience: AUDIENCE, allowedClientIds: [CLIENT_ID] }));
    const token = await sign();
    jwksStatus = 500;
    const before = jwksRequests;
    try {
      for (let i = 0; i < 5; i++) {
        const res = await cold.request('/api/me', { headers: { Authorization: `Bearer ${token}` } });
        const body = await expectProblem(res, 503, 'temporarily_unavailable', token);
        expect(body.title).toBe('Service Unavailable');
        expect(res.headers.get('retry-after')).toBe('5');
      }
      expect(jwksRequests - before).toBe(1);
    } finally {
      jwksStatus = 200;
    }
  });
});
