/**
 * Drives a real authorization-code + PKCE sign-in against the IdP emulator (or any Auth0-shaped IdP with the
 * emulator's login form) over plain HTTP with fetch: GET /authorize with an S256 challenge, follow the redirects to
 * the login page, POST the form, follow redirects by hand until the redirect_uri, check `state`, exchange the code at
 * /oauth/token. Cookies are kept in a small jar so that the IdP session can be reused (prompt=none) afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI } from '../../lib/defaults';

/** A minimal cookie jar: name=value pairs per host (enough for one local IdP; ignores Path/Expires/Secure). */
export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** Stores the Set-Cookie headers of a response from `url`. */
  store(url: string | URL, res: Response): void {
    const host = new URL(url).host;
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired =
        value === '' ||
        attrs.some((a) => {
          const [k, v] = a.split('=').map((s) => s.trim());
          if (k?.toLowerCase() === 'max-age') return Number(v) <= 0;
          if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') <= Date.now();
          return false;
        });
      let forHost = this.cookies.get(host);
      if (!forHost) this.cookies.set(host, (forHost = new Map()));
      if (expired) forHost.delete(name);
      else forHost.set(name, value);
    }
  }

  /** The Cookie header for a request to `url` (undefined when there is nothing to send). */
  header(url: string | URL): string | undefined {
    const forHost = this.cookies.get(new URL(url).host);
    if (!forHost || forHost.size === 0) return undefined;
    return [...forHost].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  names(url: string | URL): string[] {
    return [...(this.cookies.get(new URL(url).host)?.keys() ?? [])];
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [host, m] of this.cookies) copy.cookies.set(host, new Map(m));
    return copy;
  }
}

export const base64url = (buf: Buffer) => buf.toString('base64url');

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

export const randomState = () => base64url(randomBytes(16));

/** fetch without following redirects, with the jar's cookies; stores the response's cookies. */
export async function fetchWithJar(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

/** Does `location` point at `redirectUri` (same origin and path; query may differ)? */
export function isRedirectTo(location: string, redirectUri: string): boolean {
  const a = new URL(location);
  const b = new URL(redirectUri);
  return a.origin === b.origin && a.pathname === b.pathname;
}

export type FlowStep =
  /** Reached the client's redirect URI (the URL with code/state or error). */
  | { kind: 'callback'; url: URL; hops: string[] }
  /** Stopped at an HTML page (login page, error page, ...). */
  | { kind: 'page'; url: string; status: number; html: string; hops: string[] };

/**
 * Follows redirects by hand from `url` until the redirect URI is reached or a page is answered. `hops` lists every
 * URL visited (so tests can assert a "redirects only" chain, as launchWebAuthFlow({interactive:false}) needs).
 */
export async function followRedirects(jar: CookieJar, url: string, redirectUri: string, init: RequestInit = {}, maxHops = 15): Promise<FlowStep> {
  const hops: string[] = [];
  let current = url;
  let reqInit: RequestInit = init;
  for (let i = 0; i < maxHops; i++) {
    if (isRedirectTo(current, redirectUri)) return { kind: 'callback', url: new URL(current), hops };
    hops.push(current);
    const res = await fetchWithJar(jar, current, reqInit);
    reqInit = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      current = new URL(location, current).href;
      continue;
    }
    return { kind: 'page', url: current, status: res.status, html: await res.text(), hops };
  }
  throw new Error(`too many redirects starting at ${url}`);
}

export interface AuthorizeRequest {
  idpUrl: string;
  clientId: string;
  redirectUri: string;
  audience?: string;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  extraParams?: Record<string, string>;
}

export function authorizeUrl(r: AuthorizeRequest): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, scope: r.scope });
  if (r.audience) q.set('audience', r.audience);
  if (r.state !== undefined) q.set('state', r.state);
  if (r.nonce !== undefined) q.set('nonce', r.nonce);
  if (r.codeChallenge !== undefined) {
    q.set('code_challenge', r.codeChallenge);
    q.set('code_challenge_method', 'S256');
  }
  for (const [k, v] of Object.entries(r.extraParams ?? {})) q.set(k, v);
  return `${r.idpUrl.replace(/\/+$/, '')}/authorize?${q}`;
}

/** The login form's action URL, or undefined when `html` is not the emulator's login page. */
export function loginFormAction(html: string, pageUrl: string): string | undefined {
  if (!/name="email"/.test(html) || !/name="password"/.test(html)) return undefined;
  const m = /<form[^>]*\saction="([^"]+)"/.exec(html);
  return m ? new URL(m[1]!.replace(/&amp;/g, '&'), pageUrl).href : undefined;
}

/** The text of the login page's error message, if any. */
export function loginError(html: string): string | undefined {
  const m = /role="alert"[^>]*>([^<]*)</.exec(html);
  return m?.[1]?.trim();
}

export interface TokenResponse {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

export async function exchangeCode(opts: {
  idpUrl: string;
  clientId: string;
  redirectUri: string;
  code: string;
  verifier: string;
  body?: 'form' | 'json';
  origin?: string;
}): Promise<TokenResponse> {
  const params = { grant_type: 'authorization_code', client_id: opts.clientId, code: opts.code, code_verifier: opts.verifier, redirect_uri: opts.redirectUri };
  const json = opts.body === 'json';
  const res = await fetch(`${opts.idpUrl.replace(/\/+$/, '')}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded', ...(opts.origin ? { origin: opts.origin } : {}) },
    body: json ? JSON.stringify(params) : new URLSearchParams(params),
  });
  const body = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!res.ok) throw new Error(`token request failed (${res.status}): ${body.error}: ${body.error_description ?? ''}`);
  return body;
}

export interface PkceLoginOptions {
  idpUrl: string;
  clientId: string;
  redirectUri: string;
  audience: string;
  scope: string;
  email: string;
  password: string;
  extraParams?: Record<string, string>;
  /** Reuse an existing jar (IdP session); default a new one. */
  jar?: CookieJar;
  /** Body format of the token request; default 'form'. */
  tokenRequestBody?: 'form' | 'json';
  /** The authenticator code, when the IdP asks for a second factor (step-up). */
  totp?: () => string;
}

export interface PkceLoginResult extends TokenResponse {
  /** The IdP's cookies after the sign-in (its session), for prompt=none and /v2/logout requests. */
  cookies: CookieJar;
}

/** A complete interactive sign-in. Throws with the IdP's message when the login or the token request fails. */
export async function pkceLogin(opts: PkceLoginOptions): Promise<PkceLoginResult> {
  const jar = opts.jar ?? new CookieJar();
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  // A nonce only goes with openid (oidc-provider refuses it otherwise).
  const nonce = opts.scope.split(' ').includes('openid') ? randomState() : undefined;
  const start = authorizeUrl({ ...opts, state, nonce, codeChallenge: challenge });

  let step = await followRedirects(jar, start, opts.redirectUri);
  let submitted = false;
  let codeSent = false;
  while (step.kind === 'page') {
    const otp = /name="code"/.test(step.html) ? /<form[^>]*\saction="([^"]+)"/.exec(step.html)?.[1] : undefined;
    if (otp) {
      if (codeSent || !opts.totp) throw new Error(`second factor: ${loginError(step.html) ?? 'the IdP asks for an authenticator code'}`);
      codeSent = true;
      const pending = /name="pending" value="([^"]+)"/.exec(step.html)?.[1] ?? '';
      step = await followRedirects(jar, new URL(otp.replace(/&amp;/g, '&'), step.url).href, opts.redirectUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ pending, code: opts.totp() }),
      });
      continue;
    }
    const action = loginFormAction(step.html, step.url);
    if (!action) throw new Error(`sign-in stopped at ${step.url} (HTTP ${step.status}) without a login form`);
    if (submitted) throw new Error(`sign-in failed: ${loginError(step.html) ?? 'the login page was shown again'}`);
    submitted = true;
    step = await followRedirects(jar, action, opts.redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: opts.email, password: opts.password }),
    });
  }

  const params = step.url.searchParams;
  if (params.get('state') !== state) throw new Error('state mismatch in the authorization response');
  const error = params.get('error');
  if (error) throw new Error(`authorization failed: ${error}: ${params.get('error_description') ?? ''}`);
  const code = params.get('code');
  if (!code) throw new Error('the authorization response carries no code');

  const tokens = await exchangeCode({ ...opts, code, verifier, body: opts.tokenRequestBody });
  if (tokens.id_token) {
    const payload = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString('utf8')) as { nonce?: string };
    if (payload.nonce !== nonce) throw new Error('nonce mismatch in the ID token');
  }
  return { ...tokens, cookies: jar };
}

/** The extension's sign-in (its client, redirect URI and API audience) for `user`; returns the API access token. */
export async function extensionAccessToken(idpUrl: string, user: { email: string; password: string }, scope = 'openid profile email chat'): Promise<string> {
  const t = await pkceLogin({ idpUrl, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE, scope, email: user.email, password: user.password });
  return t.access_token;
}
