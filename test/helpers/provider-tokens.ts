/**
 * Tokens from the provider emulator (Google, Slack, GitHub) obtained the way a real OAuth client gets them, over
 * HTTP: GET the authorize URL with login_hint and a PKCE challenge, read the consent page's form, press "Allow"
 * (or "Cancel"), take the code from the redirect, and redeem it at the provider's token endpoint.
 */
import { pkcePair, randomState } from './pkce-login';

export type ProviderName = 'google' | 'slack' | 'github';

export interface ProviderClient {
  providersUrl: string;
  provider: ProviderName;
  clientId: string;
  clientSecret: string;
}

export interface ProviderTokenRequest extends ProviderClient {
  redirectUri: string;
  email: string;
  scopes: string[];
  /** More authorize parameters, e.g. `{ include_granted_scopes: 'false' }` at Google. */
  authorizationParams?: Record<string, string>;
}

export interface ProviderTokens {
  accessToken: string;
  refreshToken: string;
  scopes: string[];
  expiresIn: number;
}

/** The provider's authorize URL for these scopes (Slack takes user scopes as `user_scope`, comma-separated). */
export function providerAuthorizeUrl(r: Omit<ProviderTokenRequest, 'clientSecret'> & { state: string; codeChallenge?: string; loginHint?: string | null }): string {
  const paths = { google: '/google/o/oauth2/v2/auth', slack: '/slack/oauth/v2/authorize', github: '/github/login/oauth/authorize' };
  const url = new URL(`${r.providersUrl}${paths[r.provider]}`);
  const params: Record<string, string | undefined> = {
    ...r.authorizationParams,
    client_id: r.clientId,
    redirect_uri: r.redirectUri,
    state: r.state,
    login_hint: r.loginHint === null ? undefined : (r.loginHint ?? r.email),
    ...(r.provider === 'slack' ? { user_scope: r.scopes.join(',') } : { scope: r.scopes.join(' ') }),
    ...(r.provider === 'google' ? { response_type: 'code', access_type: 'offline', prompt: 'consent' } : {}),
    ...(r.codeChallenge ? { code_challenge: r.codeChallenge, code_challenge_method: 'S256' } : {}),
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => {
  const v = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
  return v === undefined ? undefined : decode(v);
};

/** The form on `html` that has a button labelled `button`, as the browser would submit it by clicking that button. */
export function formSubmission(html: string, pageUrl: string, button: string): { action: string; body: URLSearchParams } {
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const clicked = [...form[2]!.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].find((b) => decode(b[2]!.replace(/<[^>]+>/g, '')).trim() === button);
    if (!clicked) continue;
    const body = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name) body.append(name, attr(input[0], 'value') ?? '');
    }
    const name = attr(clicked[1]!, 'name');
    if (name) body.append(name, attr(clicked[1]!, 'value') ?? '');
    return { action: new URL(attr(form[1]!, 'action') ?? pageUrl, pageUrl).toString(), body };
  }
  throw new Error(`no form with a "${button}" button on ${pageUrl}`);
}

/** Clicks `button` on the page and returns the redirect the provider answers with. */
export async function clickButton(html: string, pageUrl: string, button: string): Promise<URL> {
  const { action, body } = formSubmission(html, pageUrl, button);
  const res = await fetch(action, { method: 'POST', body, redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`${button} on ${pageUrl}: expected a redirect, got ${res.status} ${await res.text()}`);
  return new URL(location);
}

/** From the authorize URL to the redirect back to the client, pressing `button` on the consent page. */
export async function authorizeInBrowser(authorizeUrl: string, button: 'Allow' | 'Cancel' = 'Allow'): Promise<URL> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  if (res.status !== 200) throw new Error(`authorize: expected the consent page, got ${res.status} ${res.headers.get('location') ?? ''}`);
  return clickButton(await res.text(), authorizeUrl, button);
}

const TOKEN_PATHS = { google: '/google/token', slack: '/slack/api/oauth.v2.access', github: '/github/login/oauth/access_token' };

/** POSTs to the provider's token endpoint (form-encoded, asking for JSON) and returns the status and JSON body. */
export async function providerTokenRequest(c: ProviderClient, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${c.providersUrl}${TOKEN_PATHS[c.provider]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: c.clientId, client_secret: c.clientSecret, ...fields }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The tokens of a successful token response, whatever the provider's shape; throws with the provider's error. */
export function tokensFrom(provider: ProviderName, r: { status: number; body: Record<string, unknown> }): ProviderTokens {
  const fields = (provider === 'slack' ? r.body.authed_user : r.body) as Record<string, unknown> | undefined;
  if (r.status !== 200 || r.body.error || r.body.ok === false || typeof fields?.access_token !== 'string') {
    throw new Error(`${provider} token endpoint: ${r.status} ${JSON.stringify(r.body.error ?? r.body)}`);
  }
  return {
    accessToken: fields.access_token,
    refreshToken: String(fields.refresh_token ?? ''),
    scopes: String(fields.scope ?? '').split(/[ ,]+/).filter(Boolean),
    expiresIn: Number(fields.expires_in),
  };
}

/** The full authorization-code flow (with PKCE) for one account; returns the provider's tokens. */
export async function obtainProviderToken(r: ProviderTokenRequest): Promise<ProviderTokens> {
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  const back = await authorizeInBrowser(providerAuthorizeUrl({ ...r, state, codeChallenge: challenge }));
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) throw new Error(`${r.provider} authorize: unexpected redirect ${back.search}`);
  const grant: Record<string, string> = r.provider === 'slack' ? {} : { grant_type: 'authorization_code' };
  return tokensFrom(r.provider, await providerTokenRequest(r, { ...grant, code, redirect_uri: r.redirectUri, code_verifier: verifier }));
}

/** A refresh at the provider's token endpoint; Slack and GitHub answer with a new refresh token, Google keeps its own. */
export async function refreshProviderToken(c: ProviderClient & { refreshToken: string }): Promise<ProviderTokens> {
  const tokens = tokensFrom(c.provider, await providerTokenRequest(c, { grant_type: 'refresh_token', refresh_token: c.refreshToken }));
  return { ...tokens, refreshToken: tokens.refreshToken || c.refreshToken };
}
