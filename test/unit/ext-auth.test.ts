/**
 * DeputyAuth over the real auth0-spa-js, with `identity.launchWebAuthFlow` and the IdP's /oauth/token stubbed:
 * sign-in, tokens only in storage.session, no refresh token, silent renewal under one lock, session ended,
 * sign-out with IdP logout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { AuthError, DeputyAuth, type IdentityApi, type LockApi, SESSION_ENDED_MESSAGE } from '../../lib/auth';

const DOMAIN = 'http://localhost:8788';
const ISSUER = `${DOMAIN}/`;
const CLIENT_ID = 'deputy-extension';
const AUDIENCE = 'https://api.deputy.local/';
const REDIRECT = 'https://gpojcpckenaidmecijbacgbidpgallhb.chromiumapp.org/';
const TTL = 20;

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

let now = Date.UTC(2025, 0, 1) ;
let idpSession: { sub: string; name: string; email: string } | null = null;
let issued = 0;
const tokenRequests: Record<string, unknown>[] = [];
/** nonce per authorization code */
const codes = new Map<string, { nonce: string; sub: string; name: string; email: string }>();

function idToken(nonce: string, user: { sub: string; name: string; email: string }) {
  const iat = Math.floor(now / 1000);
  return [
    b64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' }),
    b64url({ iss: ISSUER, aud: CLIENT_ID, iat, exp: iat + 3600, nonce, ...user }),
    'c2lnbmF0dXJl',
  ].join('.');
}

function makeIdentity(): IdentityApi & {
  calls: { url: URL; interactive?: boolean }[];
  failLogout?: boolean;
  /** The next interactive window is closed by the user. */
  closeNext?: boolean;
  /** The next `prompt=login` signs in this user instead. */
  loginAs?: { sub: string; name: string; email: string };
} {
  const calls: { url: URL; interactive?: boolean }[] = [];
  const identity = {
    calls,
    failLogout: false,
    closeNext: false,
    loginAs: undefined as { sub: string; name: string; email: string } | undefined,
    getRedirectURL: () => REDIRECT,
    async launchWebAuthFlow({ url, interactive }: { url: string; interactive?: boolean }) {
      const u = new URL(url);
      calls.push({ url: u, interactive });
      await new Promise((r) => setTimeout(r, 5));
      if (u.pathname === '/v2/logout') {
        if (identity.failLogout) throw new Error('Authorization page could not be loaded.');
        idpSession = null;
        return u.searchParams.get('returnTo')!;
      }
      if (interactive && identity.closeNext) {
        identity.closeNext = false;
        throw new Error('The user did not approve access.');
      }
      if (u.searchParams.get('prompt') === 'login' && identity.loginAs) idpSession = identity.loginAs;
      const state = u.searchParams.get('state')!;
      const redirect = new URL(u.searchParams.get('redirect_uri')!);
      if (!idpSession) {
        if (u.searchParams.get('prompt') === 'none' || !interactive) {
          redirect.search = new URLSearchParams({ error: 'login_required', error_description: 'End-User authentication is required', state }).toString();
          return redirect.href;
        }
        idpSession = { sub: 'auth0|alice', name: 'Alice Anders', email: 'alice@example.com' };
      }
      const code = `code-${codes.size + 1}`;
      codes.set(code, { nonce: u.searchParams.get('nonce')!, ...idpSession });
      redirect.search = new URLSearchParams({ code, state }).toString();
      return redirect.href;
    },
  };
  return identity;
}

/** A Web Locks stand-in: exclusive, FIFO; records the most holders seen at once. */
function makeLocks(): LockApi & { maxConcurrent: number } {
  let tail: Promise<unknown> = Promise.resolve();
  let holders = 0;
  const locks = {
    maxConcurrent: 0,
    request<T>(_name: string, cb: () => Promise<T>): Promise<T> {
      const run = tail.then(async () => {
        holders++;
        locks.maxConcurrent = Math.max(locks.maxConcurrent, holders);
        try {
          return await cb();
        } finally {
          holders--;
        }
      });
      tail = run.catch(() => {});
      return run;
    },
  };
  return locks;
}

function installBrowserGlobals() {
  const store = new Map<string, string>();
  const sessionStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  vi.stubGlobal('sessionStorage', sessionStorage);
  vi.stubGlobal('window', {
    crypto: globalThis.crypto,
    btoa: globalThis.btoa,
    atob: globalThis.atob,
    fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
    location: { protocol: 'chrome-extension:', href: 'chrome-extension://id/sidepanel.html', search: '' },
    sessionStorage,
  });
  vi.stubGlobal('document', { cookie: '' });
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      expect(url).toBe(`${DOMAIN}/oauth/token`);
      const body =
        typeof init.body === 'string' && init.body.startsWith('{')
          ? JSON.parse(init.body)
          : Object.fromEntries(new URLSearchParams(String(init.body)));
      tokenRequests.push(body);
      const grant = codes.get(body.code);
      if (!grant) return new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'bad code' }), { status: 400 });
      codes.delete(body.code);
      issued++;
      return new Response(
        JSON.stringify({
          access_token: `at-${issued}`,
          id_token: idToken(grant.nonce, grant),
          token_type: 'Bearer',
          expires_in: TTL,
          scope: 'openid profile email chat',
        }),
        { headers: { 'Content-Type': 'application/json' } },
      );
    }),
  );
}

function makeAuth(identity = makeIdentity(), locks = makeLocks()) {
  const auth = new DeputyAuth(
    { domain: `${DOMAIN}/`, clientId: CLIENT_ID, audience: AUDIENCE, scope: 'openid profile email chat offline_access' },
    { identity, locks, now: () => now },
  );
  return { auth, identity, locks };
}

describe('DeputyAuth', () => {
  beforeEach(() => {
    fakeBrowser.reset();
    installBrowserGlobals();
    now = Date.UTC(2025, 0, 1);
    idpSession = null;
    issued = 0;
    tokenRequests.length = 0;
    codes.clear();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('signs in with PKCE through launchWebAuthFlow, keeps tokens in storage.session only, never asks for a refresh token', async () => {
    const { auth, identity } = makeAuth();
    expect(await auth.getStatus()).toEqual({ kind: 'signed-out' });
    const user = await auth.signIn();
    expect(user).toMatchObject({ sub: 'auth0|alice', name: 'Alice Anders', email: 'alice@example.com' });

    const [{ url, interactive }] = identity.calls;
    expect(interactive).toBe(true);
    expect(url.origin + url.pathname).toBe(`${DOMAIN}/authorize`);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(url.searchParams.get('audience')).toBe(AUDIENCE);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')!.split(' ')).not.toContain('offline_access');
    expect(url.searchParams.get('prompt')).toBeNull();
    expect(tokenRequests[0]).toMatchObject({ grant_type: 'authorization_code', redirect_uri: REDIRECT });
    expect(tokenRequests[0].code_verifier).toBeTruthy();

    expect(await auth.getStatus()).toEqual({ kind: 'signed-in', user });
    expect(await auth.getAccessToken()).toBe('at-1');
    const session = JSON.stringify(await fakeBrowser.storage.session.get(null));
    expect(session).toContain('at-1');
    expect(session).not.toContain('refresh_token');
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });

  it('returns the cached token while it is fresh, then renews silently (prompt=none, not interactive)', async () => {
    const { auth, identity } = makeAuth();
    await auth.signIn();
    now += 10_000; // 10 s of a 20 s token: still fresh (margin 5 s)
    expect(await auth.getAccessToken()).toBe('at-1');
    expect(identity.calls).toHaveLength(1);

    now += 6_000; // 4 s left: renew
    expect(await auth.getAccessToken()).toBe('at-2');
    expect(identity.calls).toHaveLength(2);
    expect(identity.calls[1].interactive).toBe(false);
    expect(identity.calls[1].url.searchParams.get('prompt')).toBe('none');
  });

  it('renews once for concurrent callers (one lock holder at a time, cache re-checked inside the lock)', async () => {
    const { auth, identity, locks } = makeAuth();
    await auth.signIn();
    now += 60_000;
    const tokens = await Promise.all([auth.getAccessToken(), auth.getAccessToken(), auth.getAccessToken()]);
    expect(tokens).toEqual(['at-2', 'at-2', 'at-2']);
    expect(identity.calls.filter((c) => c.interactive === false)).toHaveLength(1);
    expect(locks.maxConcurrent).toBe(1);
  });

  it('does not hand out a token the API refused', async () => {
    const { auth } = makeAuth();
    await auth.signIn();
    expect(await auth.getAccessToken({ rejected: 'at-1' })).toBe('at-2');
  });

  it('signs out with "Your session ended" when the IdP session is gone (login_required)', async () => {
    const { auth } = makeAuth();
    await auth.signIn();
    idpSession = null;
    now += 60_000;
    const err = await auth.getAccessToken().catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ code: 'session_ended', message: SESSION_ENDED_MESSAGE });
    expect(await auth.getStatus()).toEqual({ kind: 'signed-out', notice: { code: 'session_ended', message: SESSION_ENDED_MESSAGE } });
    expect(JSON.stringify(await fakeBrowser.storage.session.get(null))).not.toContain('at-1');
  });

  it('signs out: clears the session cache, ends the IdP session through /v2/logout with returnTo = redirect URL', async () => {
    const { auth, identity } = makeAuth();
    await auth.signIn();
    const result = await auth.signOut();
    expect(result.idpSessionEnded).toBe(true);
    const logout = identity.calls.at(-1)!;
    expect(logout.url.pathname).toBe('/v2/logout');
    expect(logout.url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(logout.url.searchParams.get('returnTo')).toBe(REDIRECT);
    expect(logout.interactive).toBe(false);
    expect(await fakeBrowser.storage.session.get(null)).toEqual({});
    expect(await auth.getStatus()).toEqual({ kind: 'signed-out' });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'not_signed_in' });
  });

  it('tolerates a failed IdP logout but says so', async () => {
    const { auth, identity } = makeAuth();
    await auth.signIn();
    identity.failLogout = true;
    const result = await auth.signOut();
    expect(result.idpSessionEnded).toBe(false);
    const status = await auth.getStatus();
    expect(status).toMatchObject({ kind: 'signed-out', notice: { code: 'idp_logout_failed' } });
    expect(JSON.stringify(await fakeBrowser.storage.session.get(null))).not.toContain('at-1');
  });

  it('keeps each IdP in its own namespace (a changed backend/IdP never reuses old tokens)', async () => {
    const { auth, identity } = makeAuth();
    await auth.signIn();
    const elsewhere = new DeputyAuth(
      { domain: 'http://localhost:9999', clientId: CLIENT_ID, audience: AUDIENCE, scope: 'openid' },
      { identity, locks: makeLocks(), now: () => now },
    );
    expect(await elsewhere.getStatus()).toEqual({ kind: 'signed-out' });
    await expect(elsewhere.getAccessToken()).rejects.toMatchObject({ code: 'not_signed_in' });
    expect((await auth.getStatus()).kind).toBe('signed-in');
  });

  it('tells every page about sign-in changes through storage.session', async () => {
    const { auth } = makeAuth();
    const other = makeAuth().auth;
    const seen: string[] = [];
    const off = other.subscribe((s) => seen.push(s.kind));
    await auth.signIn();
    await auth.signOut();
    await new Promise((r) => setTimeout(r, 10));
    off();
    expect(seen).toContain('signed-in');
    expect(seen.at(-1)).toBe('signed-out');
  });

  describe('stepUp', () => {
    const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

    it('signs in again interactively for the API with acr_values, max_age and prompt=login; the new token replaces the old', async () => {
      const { auth, identity } = makeAuth();
      await auth.signIn();
      expect(await auth.getAccessToken()).toBe('at-1');
      await auth.stepUp({ acrValues: MFA, maxAgeSeconds: 300 });
      const call = identity.calls.at(-1)!;
      expect(call.interactive).toBe(true);
      expect(call.url.pathname).toBe('/authorize');
      expect(call.url.searchParams.get('prompt')).toBe('login');
      expect(call.url.searchParams.get('acr_values')).toBe(MFA);
      expect(call.url.searchParams.get('max_age')).toBe('300');
      expect(call.url.searchParams.get('audience')).toBe(AUDIENCE);
      expect(call.url.searchParams.get('login_hint')).toBe('alice@example.com');
      expect(call.url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(await auth.getAccessToken()).toBe('at-2');
      const session = JSON.stringify(await fakeBrowser.storage.session.get(null));
      expect(session).not.toContain('"at-1"');
      expect(session).not.toContain('refresh_token');
      expect((await auth.getStatus()).kind).toBe('signed-in');
    });

    it('drops API tokens of the old sign-in cached under another scope (and their refresh token)', async () => {
      const { auth } = makeAuth();
      await auth.signIn();
      const all = await fakeBrowser.storage.session.get(null);
      const [key, entry] = Object.entries(all).find(([k]) => k.includes(AUDIENCE))!;
      const stale = { ...(entry as { body: Record<string, unknown> }), body: { ...(entry as { body: Record<string, unknown> }).body, access_token: 'at-old', refresh_token: 'rt-old' } };
      await fakeBrowser.storage.session.set({ [key.replace(/::[^:]*$/, '::openid chat extra')]: stale });
      await auth.stepUp({ acrValues: MFA });
      const session = JSON.stringify(await fakeBrowser.storage.session.get(null));
      expect(session).not.toContain('at-old');
      expect(session).not.toContain('rt-old');
      expect(session).not.toContain('"at-1"');
      expect(await auth.getAccessToken()).toBe('at-2');
    });

    it('a closed window is step_up_cancelled and keeps the old token', async () => {
      const { auth, identity } = makeAuth();
      await auth.signIn();
      identity.closeNext = true;
      const err = await auth.stepUp({ acrValues: MFA, maxAgeSeconds: 300 }).catch((e) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect(err.code).toBe('step_up_cancelled');
      expect(err.message).toMatch(/cancelled/);
      expect(await auth.getAccessToken()).toBe('at-1');
    });

    it('another account signing in is refused and the previous session is kept', async () => {
      const { auth, identity } = makeAuth();
      await auth.signIn();
      identity.loginAs = { sub: 'auth0|mallory', name: 'Mallory', email: 'mallory@example.com' };
      await expect(auth.stepUp({ acrValues: MFA })).rejects.toMatchObject({ code: 'step_up_wrong_user' });
      expect(await auth.getStatus()).toMatchObject({ kind: 'signed-in', user: { sub: 'auth0|alice' } });
      expect(await auth.getAccessToken()).toBe('at-1');
      expect(JSON.stringify(await fakeBrowser.storage.session.get(null))).not.toContain('mallory');
    });

    it('needs a signed-in user', async () => {
      const { auth, identity } = makeAuth();
      await expect(auth.stepUp({ acrValues: MFA })).rejects.toMatchObject({ code: 'not_signed_in' });
      expect(identity.calls).toHaveLength(0);
    });
  });
});
