/**
 * Connects a third-party account the way the extension does, over plain HTTP: the user's My Account token, POST
 * /me/v1/connected-accounts/connect with PKCE, the browser's trip through the IdP to the provider's consent page,
 * a click on "Allow" (or "Cancel"), back to the redirect URI with the connect code, and POST .../complete.
 */
import { MY_ACCOUNT_SCOPES, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI } from '../../lib/defaults';
import { CookieJar, fetchWithJar, type FlowStep, followRedirects, pkceLogin, pkcePair, randomState } from './pkce-login';

export interface DemoCredentials {
  email: string;
  password: string;
}

/** An access token for the My Account API (`${idpUrl}/me/`) of this user. */
export async function myAccountToken(idpUrl: string, user: DemoCredentials): Promise<string> {
  const tokens = await pkceLogin({
    idpUrl,
    clientId: DEFAULT_EXTENSION_CLIENT_ID,
    redirectUri: EXTENSION_REDIRECT_URI,
    audience: `${idpUrl}/me/`,
    scope: `openid ${MY_ACCOUNT_SCOPES.join(' ')}`,
    email: user.email,
    password: user.password,
  });
  return tokens.access_token;
}

export const myAccount = (idpUrl: string, token: string, method: string, path: string, body?: unknown) =>
  fetch(`${idpUrl}/me/v1/connected-accounts${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });

export interface StartedConnect {
  authSession: string;
  verifier: string;
  state: string;
  connectUrl: string;
}

export async function startConnect(idpUrl: string, token: string, connection: string, scopes: string[]): Promise<StartedConnect> {
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  const res = await myAccount(idpUrl, token, 'POST', '/connect', {
    connection,
    redirect_uri: EXTENSION_REDIRECT_URI,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scopes,
  });
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { connect_uri: string; auth_session: string; connect_params: { ticket: string } };
  const url = new URL(body.connect_uri);
  url.searchParams.set('ticket', body.connect_params.ticket);
  return { authSession: body.auth_session, verifier, state, connectUrl: url.toString() };
}

/** Submits the provider consent page's form with the given button ("Allow" or "Cancel"). */
export async function answerConsent(jar: CookieJar, page: Extract<FlowStep, { kind: 'page' }>, button: 'Allow' | 'Cancel'): Promise<FlowStep> {
  const forms = [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const form = forms.find((f) => new RegExp(`<button\\b[^>]*>\\s*${button}\\s*</button>`, 'i').test(f[2]!));
  if (!form) throw new Error(`no form with a "${button}" button on ${page.url} (status ${page.status})`);
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
  const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name');
    if (name) fields.append(decode(name), decode(attr(input[0], 'value') ?? ''));
  }
  const clicked = new RegExp(`<button\\b([^>]*)>\\s*${button}\\s*</button>`, 'i').exec(form[2]!)![1]!;
  const btnName = attr(clicked, 'name');
  if (btnName) fields.append(decode(btnName), decode(attr(clicked, 'value') ?? ''));
  const action = new URL(decode(attr(form[1]!, 'action') ?? page.url), page.url).toString();
  const res = await fetchWithJar(jar, action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields });
  const location = res.headers.get('location');
  if (!location) return { kind: 'page', url: action, status: res.status, html: await res.text(), hops: [action] };
  return followRedirects(jar, new URL(location, action).toString(), EXTENSION_REDIRECT_URI);
}

/** The browser part: from the connect URL through the provider's consent to the callback (or a page). */
export async function consentInBrowser(connectUrl: string, button: 'Allow' | 'Cancel' = 'Allow', jar = new CookieJar()): Promise<FlowStep> {
  const step = await followRedirects(jar, connectUrl, EXTENSION_REDIRECT_URI);
  if (step.kind !== 'page') return step;
  return answerConsent(jar, step, button);
}

export const completeConnect = (idpUrl: string, token: string, started: StartedConnect, connectCode: string, overrides: Record<string, string> = {}) =>
  myAccount(idpUrl, token, 'POST', '/complete', {
    auth_session: started.authSession,
    connect_code: connectCode,
    redirect_uri: EXTENSION_REDIRECT_URI,
    code_verifier: started.verifier,
    ...overrides,
  });

/** The whole flow for one user and connection; returns the connected account. */
export async function connectAccount(idpUrl: string, user: DemoCredentials, connection: string, scopes: string[]) {
  const token = await myAccountToken(idpUrl, user);
  const started = await startConnect(idpUrl, token, connection, scopes);
  const step = await consentInBrowser(started.connectUrl);
  if (step.kind !== 'callback') throw new Error(`connect ${connection}: stopped at ${step.url} (${step.status})`);
  const code = step.url.searchParams.get('connect_code');
  if (!code || step.url.searchParams.get('state') !== started.state) throw new Error(`connect ${connection}: bad callback ${step.url.search}`);
  const res = await completeConnect(idpUrl, token, started, code);
  if (res.status !== 201) throw new Error(`complete ${connection}: ${res.status} ${await res.text()}`);
  return { token, account: (await res.json()) as { id: string; connection: string; scopes: string[]; created_at: string } };
}
