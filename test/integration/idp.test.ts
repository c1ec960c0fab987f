/** The Auth0-compatible identity emulator over HTTP: discovery, PKCE sign-in, token shape, B1-B4, logout, CORS. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { BACKEND_CLIENT_ID, startIdp, type RunningIdp } from '../../backend/emulators/idp/index';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_ID, EXTENSION_ORIGIN, EXTENSION_REDIRECT_URI } from '../../lib/defaults';
import {
  CookieJar,
  authorizeUrl,
  exchangeCode,
  fetchWithJar,
  followRedirects,
  loginError,
  loginFormAction,
  pkceLogin,
  pkcePair,
  randomState,
  type PkceLoginOptions,
} from '../helpers/pkce-login';

const TTL = 15;
const CLIENT_ID = DEFAULT_EXTENSION_CLIENT_ID;
const REDIRECT = EXTENSION_REDIRECT_URI;
const SCOPE = 'openid profile email chat';

let idp: RunningIdp;
let dataDir: string;
const consoleSpies: MockInstance[] = [];

const alice = () => idp.users.find((u) => u.username === 'alice')!;
const bob = () => idp.users.find((u) => u.username === 'bob')!;

const login = (extra: Partial<PkceLoginOptions> = {}) =>
  pkceLogin({
    idpUrl: idp.url,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    audience: DEFAULT_API_AUDIENCE,
    scope: SCOPE,
    email: alice().email,
    password: alice().password,
    ...extra,
  });

const jwks = () => createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`));

const verifyAccessToken = (token: string) =>
  jwtVerify(token, jwks(), { issuer: idp.issuer, audience: DEFAULT_API_AUDIENCE, algorithms: ['RS256'], typ: 'at+jwt' });

/** Starts an authorization with the given parameters (defaults: a valid S256 request) and follows redirects. */
async function authorize(opts: { jar?: CookieJar; redirectUri?: string; state?: string; codeChallenge?: string | null; extraParams?: Record<string, string>; scope?: string } = {}) {
  const jar = opts.jar ?? new CookieJar();
  const { verifier, challenge } = pkcePair();
  const state = opts.state ?? randomState();
  const url = authorizeUrl({
    idpUrl: idp.url,
    clientId: CLIENT_ID,
    redirectUri: opts.redirectUri ?? REDIRECT,
    audience: DEFAULT_API_AUDIENCE,
    scope: opts.scope ?? SCOPE,
    state,
    nonce: randomState(),
    codeChallenge: opts.codeChallenge === null ? undefined : (opts.codeChallenge ?? challenge),
    extraParams: opts.extraParams,
  });
  const step = await followRedirects(jar, url, REDIRECT);
  return { jar, verifier, state, step, url };
}

async function refresh(refreshToken: string, body: 'form' | 'json' = 'form') {
  const params = { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken };
  const res = await fetch(`${idp.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: body === 'json' ? JSON.stringify(params) : new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

beforeAll(async () => {
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) consoleSpies.push(vi.spyOn(console, m));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-idp-'));
  idp = await startIdp({ port: 0, dataDir, accessTokenTtlSeconds: TTL });
});

afterAll(async () => {
  await idp?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  for (const s of consoleSpies) s.mockRestore();
});

describe('identity emulator: discovery and keys', () => {
  it('publishes an Auth0-shaped discovery document with the trailing-slash issuer', async () => {
    expect(idp.issuer).toBe(`${idp.url}/`);
    expect(idp.url).toMatch(/^http:\/\/localhost:\d+$/);
    const res = await fetch(`${idp.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as Record<string, unknown>;
    expect(d.issuer).toBe(`${idp.url}/`);
    expect(d.authorization_endpoint).toBe(`${idp.url}/authorize`);
    expect(d.token_endpoint).toBe(`${idp.url}/oauth/token`);
    expect(d.jwks_uri).toBe(`${idp.url}/.well-known/jwks.json`);
    expect(d.userinfo_endpoint).toBe(`${idp.url}/userinfo`);
    expect(d.revocation_endpoint).toBe(`${idp.url}/oauth/revoke`);
    expect(d.end_session_endpoint).toBe(`${idp.url}/oidc/logout`);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
  });

  it('serves public RS256 signing keys only, and keeps the private set in dataDir with mode 0600', async () => {
    const res = await fetch(`${idp.url}/.well-known/jwks.json`);
    const { keys } = (await res.json()) as { keys: JWK[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(typeof k.kid).toBe('string');
      expect(k.d).toBeUndefined();
    }
    for (const f of ['jwks.json', 'secrets.json']) {
      expect(fs.statSync(path.join(dataDir, f)).mode & 0o777).toBe(0o600);
    }
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'jwks.json'), 'utf8')) as { keys: JWK[] };
    expect(stored.keys.map((k) => k.kid)).toEqual(keys.map((k) => k.kid));
    expect(typeof stored.keys[0]!.d).toBe('string');
  });

  it('lists the demo users with their passwords on /demo-users and says it is an offline emulator', async () => {
    const res = await fetch(`${idp.url}/demo-users`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const u of [alice(), bob()]) {
      expect(html).toContain(u.email);
      expect(html).toContain(u.password);
      expect(html).toContain(u.name);
    }
    expect(html).toMatch(/offline/i);
    expect(alice()).toMatchObject({ name: 'Alice Anders', email: 'alice@example.com', roles: ['admin'] });
    expect(bob()).toMatchObject({ name: 'Bob Brown', email: 'bob@example.com', roles: ['member'] });
    expect(alice().sub).toMatch(/^auth0\|/);
  });
});

describe('identity emulator: PKCE sign-in and token shape', () => {
  it('signs in through the login page and issues an Auth0-shaped RS256 at+jwt access token', async () => {
    const tokens = await login({ scope: `${SCOPE} unknown:scope` });
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expires_in).toBeGreaterThan(TTL - 3);
    expect(tokens.expires_in).toBeLessThanOrEqual(TTL);
    expect(tokens.scope).toBe('openid profile email chat');
    expect(tokens.refresh_token).toBeUndefined();

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(typeof header.kid).toBe('string');

    const { payload } = await verifyAccessToken(tokens.access_token);
    expect(payload.iss).toBe(`${idp.url}/`);
    expect(payload.sub).toBe(alice().sub);
    expect(payload.aud).toEqual([DEFAULT_API_AUDIENCE, `${idp.issuer}userinfo`]);
    expect(payload.azp).toBe(CLIENT_ID);
    expect(payload.client_id).toBe(CLIENT_ID);
    expect(payload.scope).toBe('openid profile email chat');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(TTL);
    for (const idTokenOnly of ['nonce', 'at_hash', 'c_hash', 'email', 'name']) expect(payload).not.toHaveProperty(idTokenOnly);

    const id = await jwtVerify(tokens.id_token, jwks(), { issuer: idp.issuer, audience: CLIENT_ID, algorithms: ['RS256'] });
    expect(id.payload).toMatchObject({
      sub: alice().sub,
      name: 'Alice Anders',
      given_name: 'Alice',
      family_name: 'Anders',
      email: 'alice@example.com',
      email_verified: true,
      picture: alice().picture,
    });
    const picture = await fetch(alice().picture!);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toMatch(/image\/svg\+xml/);
  });

  it('gives a string aud and no ID token when openid is not requested, and only granted claims in the ID token', async () => {
    const apiOnly = await login({ scope: 'chat' });
    const { payload } = await verifyAccessToken(apiOnly.access_token);
    expect(payload.aud).toBe(DEFAULT_API_AUDIENCE);
    expect(payload.scope).toBe('chat');
    expect(apiOnly.id_token).toBeUndefined();

    const openidOnly = await login({ scope: 'openid chat', email: bob().email, password: bob().password });
    const id = decodeJwt(openidOnly.id_token);
    expect(id.sub).toBe(bob().sub);
    expect(id).not.toHaveProperty('email');
    expect(id).not.toHaveProperty('name');
    expect(decodeJwt(openidOnly.access_token).scope).toBe('openid chat');
  });

  it('accepts the username instead of the e-mail address', async () => {
    const tokens = await login({ email: 'bob', password: bob().password });
    expect(decodeJwt(tokens.access_token).sub).toBe(bob().sub);
  });

  it('answers /userinfo for the API access token (aud contains <issuer>userinfo), with CORS for the extension', async () => {
    const tokens = await login();
    const res = await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}`, origin: EXTENSION_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    expect(await res.json()).toMatchObject({ sub: alice().sub, name: 'Alice Anders', email: 'alice@example.com' });

    const apiOnly = await login({ scope: 'chat' });
    const refused = await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${apiOnly.access_token}` } });
    expect(refused.status).toBe(401);
    const tampered = tokens.access_token.slice(0, -4) + (tokens.access_token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
  });

  it('without an audience issues an opaque access token that works at /userinfo (like Auth0)', async () => {
    const tokens = await login({ audience: '', scope: 'openid profile email' });
    expect(tokens.access_token.split('.').length).not.toBe(3);
    const res = await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: alice().sub, email: 'alice@example.com', name: 'Alice Anders' });
  });

  it('prompt=login shows the login page even with an IdP session', async () => {
    const first = await login();
    const { step } = await authorize({ jar: first.cookies, extraParams: { prompt: 'login' } });
    expect(step.kind).toBe('page');
    if (step.kind === 'page') expect(loginFormAction(step.html, step.url)).toBeTruthy();
  });

  it('explains an expired or foreign sign-in request instead of failing obscurely', async () => {
    const { step } = await authorize();
    if (step.kind !== 'page') throw new Error('expected the login page');
    const res = await fetch(step.url); // no cookies: the interaction is not this browser's
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/expired/);
  });

  it('refuses an audience it does not know', async () => {
    const { step } = await authorize({ extraParams: { audience: 'https://not-an-api.example/' } });
    expect(step.kind).toBe('callback');
    if (step.kind !== 'callback') return;
    expect(step.url.searchParams.get('error')).toBe('invalid_target');
    expect(step.url.searchParams.get('code')).toBeNull();
  });

  it('renders an accessible login page: labelled email and password fields and a Continue button', async () => {
    const { step } = await authorize();
    expect(step.kind).toBe('page');
    if (step.kind !== 'page') return;
    expect(step.status).toBe(200);
    const html = step.html;
    expect(html).toContain('<title>Sign in to Deputy (local identity emulator)</title>');
    expect(html).toMatch(/<label for="email">[^<]*Email/);
    expect(html).toMatch(/<input id="email" name="email"/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    expect(html).toMatch(/<input id="password" name="password" type="password"/);
    expect(html).toMatch(/<button type="submit">Continue<\/button>/);
    expect(html).toContain('/demo-users');
    const res = await fetch(step.url);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });
});

describe('identity emulator: token endpoint bodies', () => {
  it('accepts a JSON body at /oauth/token for the authorization code exchange', async () => {
    const tokens = await login({ tokenRequestBody: 'json' });
    const { payload } = await verifyAccessToken(tokens.access_token);
    expect(payload.sub).toBe(alice().sub);
    expect(tokens.scope).toBe('openid profile email chat');
  });

  it('accepts JSON and form client_credentials requests from the confidential backend client', async () => {
    const json = await fetch(`${idp.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: BACKEND_CLIENT_ID, client_secret: idp.backendClientSecret, audience: DEFAULT_API_AUDIENCE, scope: 'chat' }),
    });
    expect(json.status).toBe(200);
    const body = (await json.json()) as { access_token: string; scope: string };
    const { payload } = await verifyAccessToken(body.access_token);
    expect(payload).toMatchObject({ sub: `${BACKEND_CLIENT_ID}@clients`, aud: DEFAULT_API_AUDIENCE, azp: BACKEND_CLIENT_ID, client_id: BACKEND_CLIENT_ID, scope: 'chat' });
    expect(body.scope).toBe('chat');

    const basic = Buffer.from(`${BACKEND_CLIENT_ID}:${idp.backendClientSecret}`).toString('base64');
    const form = await fetch(`${idp.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: DEFAULT_API_AUDIENCE }),
    });
    expect(form.status).toBe(200);

    const wrong = await fetch(`${idp.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: BACKEND_CLIENT_ID, client_secret: 'nope', audience: DEFAULT_API_AUDIENCE }),
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('answers a malformed or non-object JSON body with invalid_request', async () => {
    for (const body of ['{"grant_type":', '["a"]', '42']) {
      const res = await fetch(`${idp.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    // and the server still works on the same keep-alive connections afterwards
    const ok = await login();
    expect(ok.access_token).toBeTruthy();
  });
});

describe('identity emulator: authorization request checks', () => {
  it('B1 refuses authorization without PKCE, with the plain method, or with a method but no S256', async () => {
    const cases: Array<Record<string, string>> = [
      {}, // no code_challenge at all
      { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' },
      { code_challenge: pkcePair().challenge }, // challenge without method
    ];
    for (const extraParams of cases) {
      const { step, state } = await authorize({ codeChallenge: null, extraParams });
      expect(step.kind).toBe('callback');
      if (step.kind !== 'callback') continue;
      expect(step.url.searchParams.get('code')).toBeNull();
      expect(step.url.searchParams.get('error')).toBe('invalid_request');
      expect(step.url.searchParams.get('state')).toBe(state);
    }
  });

  it('B1 refuses a code exchange with a wrong or missing code_verifier', async () => {
    const first = await login();
    const { step } = await authorize({ jar: first.cookies, extraParams: { prompt: 'none' } });
    expect(step.kind).toBe('callback');
    if (step.kind !== 'callback') return;
    const code = step.url.searchParams.get('code')!;
    await expect(exchangeCode({ idpUrl: idp.url, clientId: CLIENT_ID, redirectUri: REDIRECT, code, verifier: pkcePair().verifier })).rejects.toThrow(/invalid_grant/);
    // the code was burnt by the failed attempt? Either way it must not work without the verifier.
    const res = await fetch(`${idp.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: REDIRECT }),
    });
    expect(res.status).toBe(400);
  });

  it('B2 refuses redirect URIs that are not exactly registered (other extension id, extra path, case, scheme)', async () => {
    const host = `${EXTENSION_ID}.chromiumapp.org`;
    const variants = [
      'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/',
      `https://${host}/extra`,
      `https://${host}/callback/`,
      `https://${host.toUpperCase()}/`,
      `https://${host}/`.replace('https://', 'HTTPS://'),
      `https://${host}`,
      `http://${host}/`,
      `https://${host}/?x=1`,
      `https://${host}.evil.example/`,
    ];
    for (const redirectUri of variants) {
      const url = authorizeUrl({ idpUrl: idp.url, clientId: CLIENT_ID, redirectUri, audience: DEFAULT_API_AUDIENCE, scope: SCOPE, state: 's', nonce: 'n', codeChallenge: pkcePair().challenge });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status, redirectUri).toBe(400);
      expect(res.headers.get('location'), redirectUri).toBeNull();
      expect(await res.text()).toMatch(/redirect_uri/);
    }
    // Omitting redirect_uri is refused too (no silent default).
    const q = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, scope: SCOPE, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' });
    const omitted = await fetch(`${idp.url}/authorize?${q}`, { redirect: 'manual' });
    expect(omitted.status).toBe(400);
    expect(omitted.headers.get('location')).toBeNull();
  });

  it('B3 echoes state exactly, on success and on errors', async () => {
    const state = 'B3 state/+=?&é%20~.';
    const first = await login();
    const ok = await authorize({ jar: first.cookies, state, extraParams: { prompt: 'none' } });
    expect(ok.step.kind).toBe('callback');
    if (ok.step.kind === 'callback') {
      expect(ok.step.url.searchParams.get('state')).toBe(state);
      expect(ok.step.url.searchParams.get('code')).toBeTruthy();
      expect(ok.step.url.searchParams.get('iss')).toBe(idp.issuer);
    }
    const err = await authorize({ state, extraParams: { prompt: 'none' } });
    expect(err.step.kind).toBe('callback');
    if (err.step.kind === 'callback') {
      expect(err.step.url.searchParams.get('state')).toBe(state);
      expect(err.step.url.searchParams.get('error')).toBe('login_required');
    }
  });
});

describe('identity emulator: silent renewal and sign-out', () => {
  it('prompt=none returns a code through redirects only while the IdP session exists, login_required without one', async () => {
    const first = await login();
    const { step, verifier } = await authorize({ jar: first.cookies, extraParams: { prompt: 'none' } });
    expect(step.kind).toBe('callback');
    if (step.kind !== 'callback') return;
    const code = step.url.searchParams.get('code');
    expect(code).toBeTruthy();
    const tokens = await exchangeCode({ idpUrl: idp.url, clientId: CLIENT_ID, redirectUri: REDIRECT, code: code!, verifier });
    const { payload } = await verifyAccessToken(tokens.access_token);
    expect(payload.sub).toBe(alice().sub);
    expect(payload.scope).toBe('openid profile email chat');

    const none = await authorize({ extraParams: { prompt: 'none' } });
    expect(none.step.kind).toBe('callback');
    if (none.step.kind !== 'callback') return;
    expect(none.step.url.searchParams.get('error')).toBe('login_required');
    expect(none.step.url.searchParams.get('code')).toBeNull();
  });

  it('/v2/logout rejects an unregistered returnTo (400) and leaves the session alone', async () => {
    const { cookies } = await login();
    for (const returnTo of ['https://evil.example/', `${REDIRECT}other`, 'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/']) {
      const res = await fetchWithJar(cookies, `${idp.url}/v2/logout?${new URLSearchParams({ client_id: CLIENT_ID, returnTo })}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toMatch(/Allowed Logout URLs/);
    }
    const unknownClient = await fetchWithJar(cookies, `${idp.url}/v2/logout?${new URLSearchParams({ client_id: 'nobody', returnTo: REDIRECT })}`);
    expect(unknownClient.status).toBe(400);
    const still = await authorize({ jar: cookies, extraParams: { prompt: 'none' } });
    expect(still.step.kind === 'callback' && still.step.url.searchParams.get('code')).toBeTruthy();
  });

  it('/v2/logout ends the IdP session at once and 302s to a registered returnTo (then prompt=none gives login_required)', async () => {
    for (const returnTo of [REDIRECT, `${REDIRECT}logout`]) {
      const { cookies } = await login();
      const logoutUrl = `${idp.url}/v2/logout?${new URLSearchParams({ client_id: CLIENT_ID, returnTo, auth0Client: Buffer.from(JSON.stringify({ name: 'test' })).toString('base64') })}`;
      const res = await fetchWithJar(cookies, logoutUrl);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(returnTo);
      const after = await authorize({ jar: cookies, extraParams: { prompt: 'none' } });
      expect(after.step.kind).toBe('callback');
      if (after.step.kind === 'callback') expect(after.step.url.searchParams.get('error')).toBe('login_required');
    }
    // Without a session it is still a plain redirect (what launchWebAuthFlow({interactive:false}) needs).
    const chain = await followRedirects(new CookieJar(), `${idp.url}/v2/logout?${new URLSearchParams({ client_id: CLIENT_ID, returnTo: REDIRECT })}`, REDIRECT);
    expect(chain.kind).toBe('callback');
  });

  it('/oidc/logout (OIDC RP-initiated logout) asks for confirmation with a session', async () => {
    const { cookies } = await login();
    const res = await fetchWithJar(cookies, `${idp.url}/oidc/logout?${new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: REDIRECT })}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/Sign out of Deputy\?/);
  });
});

describe('identity emulator: refresh tokens', () => {
  it('issues a refresh token for offline_access without prompt=consent and without a consent page', async () => {
    const tokens = await login({ scope: `${SCOPE} offline_access` });
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('openid profile email chat offline_access');
    const { payload } = await verifyAccessToken(tokens.access_token);
    expect(payload.aud).toEqual([DEFAULT_API_AUDIENCE, `${idp.issuer}userinfo`]);
  });

  it('B4 rotates the refresh token on every use; reusing a rotated one revokes the family (the newest stops working)', async () => {
    const tokens = await login({ scope: `${SCOPE} offline_access` });
    const rt1 = tokens.refresh_token!;

    const r1 = await refresh(rt1);
    expect(r1.status).toBe(200);
    const rt2 = r1.body.refresh_token!;
    expect(rt2).toBeTruthy();
    expect(rt2).not.toBe(rt1);
    const { payload } = await verifyAccessToken(r1.body.access_token!);
    expect(payload).toMatchObject({ sub: alice().sub, azp: CLIENT_ID, client_id: CLIENT_ID, scope: 'openid profile email chat offline_access' });
    expect(payload.aud).toEqual([DEFAULT_API_AUDIENCE, `${idp.issuer}userinfo`]);
    expect(r1.body.scope).toBe('openid profile email chat offline_access');
    expect(r1.body.id_token).toBeTruthy();

    const r2 = await refresh(rt2, 'json');
    expect(r2.status).toBe(200);
    const rt3 = r2.body.refresh_token!;
    expect(rt3).not.toBe(rt2);

    const reuse = await refresh(rt1);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    const newest = await refresh(rt3);
    expect(newest.status).toBe(400);
    expect(newest.body.error).toBe('invalid_grant');
  });

  it('revokes a refresh token at /oauth/revoke', async () => {
    const tokens = await login({ scope: `${SCOPE} offline_access` });
    const res = await fetch(`${idp.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: CLIENT_ID, token: tokens.refresh_token }),
    });
    expect(res.status).toBe(200);
    expect((await refresh(tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });
});

describe('identity emulator: login failures', () => {
  it('shows the login page again with a clear error on a wrong password, without telling whether the user exists', async () => {
    const { jar, step, state } = await authorize();
    expect(step.kind).toBe('page');
    if (step.kind !== 'page') return;
    const action = loginFormAction(step.html, step.url)!;
    const attempt = (email: string, password: string) =>
      followRedirects(jar, action, REDIRECT, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password }),
      });

    const wrongPassword = await attempt(alice().email, 'not-the-password');
    const unknownUser = await attempt('nobody@example.com', 'not-the-password');
    for (const r of [wrongPassword, unknownUser]) {
      expect(r.kind).toBe('page');
      if (r.kind !== 'page') continue;
      expect(r.status).toBe(400);
      expect(loginError(r.html)).toBe('Wrong email or password.');
      expect(loginFormAction(r.html, r.url)).toBe(action);
      expect(r.html).not.toContain('not-the-password');
    }

    const ok = await attempt(alice().email, alice().password);
    expect(ok.kind).toBe('callback');
    if (ok.kind === 'callback') {
      expect(ok.url.searchParams.get('state')).toBe(state);
      expect(ok.url.searchParams.get('code')).toBeTruthy();
    }

    await expect(login({ password: 'wrong' })).rejects.toThrow(/sign-in failed: Wrong email or password/);
  });

  it('returns access_denied to the client when the user cancels', async () => {
    const { jar, step, state } = await authorize();
    if (step.kind !== 'page') throw new Error('expected the login page');
    const cancel = /href="([^"]*\/abort)"/.exec(step.html)![1]!;
    const r = await followRedirects(jar, new URL(cancel, step.url).href, REDIRECT);
    expect(r.kind).toBe('callback');
    if (r.kind !== 'callback') return;
    expect(r.url.searchParams.get('error')).toBe('access_denied');
    expect(r.url.searchParams.get('state')).toBe(state);
  });
});

describe('identity emulator: CORS', () => {
  it('answers preflight and token requests for the extension origin, and refuses other origins', async () => {
    const pre = await fetch(`${idp.url}/oauth/token`, {
      method: 'OPTIONS',
      headers: { origin: EXTENSION_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,auth0-client' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/auth0-client/);

    const tokenRequest = (origin: string) =>
      fetch(`${idp.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT_ID, code: 'bogus', code_verifier: pkcePair().verifier, redirect_uri: REDIRECT }),
      });
    const fromExtension = await tokenRequest(EXTENSION_ORIGIN);
    expect(fromExtension.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    expect(((await fromExtension.json()) as { error: string }).error).toBe('invalid_grant');

    const fromElsewhere = await tokenRequest('https://evil.example');
    expect(fromElsewhere.status).toBe(400);
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();

    const disco = await fetch(`${idp.url}/.well-known/openid-configuration`, { headers: { origin: EXTENSION_ORIGIN } });
    expect(disco.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    const keys = await fetch(`${idp.url}/.well-known/jwks.json`, { headers: { origin: EXTENSION_ORIGIN } });
    expect(keys.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
  });
});

describe('identity emulator: restarts', () => {
  it('keeps signing keys, the backend secret and refresh tokens across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-idp-restart-'));
    try {
      const a = await startIdp({ port: 0, dataDir: dir, accessTokenTtlSeconds: TTL });
      const u = a.users[0]!;
      const tokens = await pkceLogin({ idpUrl: a.url, clientId: CLIENT_ID, redirectUri: REDIRECT, audience: DEFAULT_API_AUDIENCE, scope: `${SCOPE} offline_access`, email: u.email, password: u.password });
      const keysA = (await (await fetch(`${a.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      await a.close();

      const b = await startIdp({ port: 0, dataDir: dir, accessTokenTtlSeconds: TTL });
      try {
        const keysB = (await (await fetch(`${b.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
        expect(keysB).toEqual(keysA);
        expect(b.backendClientSecret).toBe(a.backendClientSecret);
        // a token from before the restart still verifies against the keys served after it
        await jwtVerify(tokens.access_token, createLocalJWKSet(keysB), { issuer: a.issuer, audience: DEFAULT_API_AUDIENCE });
        const res = await fetch(`${b.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.refresh_token! }),
        });
        expect(res.status).toBe(200);
      } finally {
        await b.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('identity emulator: logs', () => {
  it.skipIf(!!process.env.IDP_DEBUG)('stayed quiet: nothing was printed by any of the flows above', () => {
    for (const spy of consoleSpies) expect(spy.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });
});
