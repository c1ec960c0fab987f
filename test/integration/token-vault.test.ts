/**
 * Token Vault and connected accounts at the IdP emulator, over HTTP as a real tenant is used: the My Account API
 * connect flow through the provider's consent (C4, C5 at the tenant), the federated-connection grant (C1), the
 * backend's Token Vault client and its cache (C2), refresh behind the exchange, and disconnecting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVaultClient } from '../../backend/src/agent/token-vault';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { EXTENSION_ORIGIN, EXTENSION_REDIRECT_URI, FEDERATED_CONNECTION_GRANT, FEDERATED_TOKEN_TYPE } from '../../lib/defaults';
import { type Harness, startHarness } from '../helpers/agent-harness';
import { completeConnect, connectAccount, consentInBrowser, myAccount, myAccountToken, startConnect } from '../helpers/connect-account';
import { pkceLogin } from '../helpers/pkce-login';

const CAL_READ = PROVIDER_SCOPES.google.calendarRead;
const GMAIL_READ = PROVIDER_SCOPES.google.gmailRead;

let h: Harness;
let alice: Awaited<ReturnType<Harness['login']>>;
let bob: Awaited<ReturnType<Harness['login']>>;

function vaultRequest(subjectToken: string, connection: string, client: { id: string; secret?: string } = { id: 'deputy-backend', secret: h.idp.backendClientSecret }, json = false) {
  const fields: Record<string, string> = {
    grant_type: FEDERATED_CONNECTION_GRANT,
    client_id: client.id,
    ...(client.secret ? { client_secret: client.secret } : {}),
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: FEDERATED_TOKEN_TYPE,
    connection,
  };
  return fetch(`${h.idp.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json ? JSON.stringify(fields) : new URLSearchParams(fields),
  });
}

const calendarStatus = (token: string) =>
  fetch(`${h.providersUrl}/google/calendar/v3/calendars/primary/events?maxResults=1`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

beforeAll(async () => {
  h = await startHarness();
  alice = await h.login('alice');
  bob = await h.login('bob');
  await connectAccount(h.idp.url, h.credentials('alice'), 'google-oauth2', [CAL_READ]);
});
afterAll(async () => h?.close());

describe('connected accounts (My Account API)', () => {
  it('lists the connected account with its granted scopes and never its tokens', async () => {
    const token = await myAccountToken(h.idp.url, h.credentials('alice'));
    const res = await myAccount(h.idp.url, token, 'GET', '/accounts');
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { accounts: Array<{ id: string; connection: string; scopes: string[]; access_type: string; created_at: string }> };
    expect(body.accounts).toHaveLength(1);
    expect(body.accounts[0]).toMatchObject({ connection: 'google-oauth2', access_type: 'offline' });
    expect(body.accounts[0]!.id).toMatch(/^cac_/);
    expect(body.accounts[0]!.scopes).toContain(CAL_READ);
    expect(text).not.toMatch(/ya29\.|1\/\/|access_token|refresh_token/);

    const connections = (await (await myAccount(h.idp.url, token, 'GET', '/connections')).json()) as { connections: Array<{ name: string }> };
    expect(connections.connections.map((c) => c.name).sort()).toEqual(['github', 'google-oauth2', 'sign-in-with-slack']);
  });

  it('needs the right audience and scope: our API token is refused, problem JSON explains', async () => {
    const res = await myAccount(h.idp.url, alice.token, 'GET', '/accounts');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toMatch(/invalid or expired/);
  });

  it('answers CORS only for the extension origin', async () => {
    const pre = (origin: string) =>
      fetch(`${h.idp.url}/me/v1/connected-accounts/accounts`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    const ok = await pre(EXTENSION_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
    const other = await pre('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a redirect_uri that is not one of the application callback URLs', async () => {
    const token = await myAccountToken(h.idp.url, h.credentials('alice'));
    const res = await myAccount(h.idp.url, token, 'POST', '/connect', {
      connection: 'github', redirect_uri: 'https://evil.example/cb', state: 'state-state-1', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256',
    });
    expect(res.status).toBe(400);
  });

  it('the provider consent can be cancelled: the callback says access_denied with the flow state', async () => {
    const token = await myAccountToken(h.idp.url, h.credentials('alice'));
    const started = await startConnect(h.idp.url, token, 'github', ['repo']);
    const step = await consentInBrowser(started.connectUrl, 'Cancel');
    expect(step.kind).toBe('callback');
    if (step.kind !== 'callback') return;
    expect(step.url.searchParams.get('error')).toBe('access_denied');
    expect(step.url.searchParams.get('state')).toBe(started.state);
    expect(step.url.searchParams.get('connect_code')).toBeNull();
  });

  it('C4 a connect flow started by one user cannot be completed into another user account', async () => {
    const aliceToken = await myAccountToken(h.idp.url, h.credentials('alice'));
    const bobToken = await myAccountToken(h.idp.url, h.credentials('bob'));
    const started = await startConnect(h.idp.url, aliceToken, 'sign-in-with-slack', ['channels:read']);
    const step = await consentInBrowser(started.connectUrl);
    if (step.kind !== 'callback') throw new Error('expected a callback');
    const code = step.url.searchParams.get('connect_code')!;
    const stolen = await completeConnect(h.idp.url, bobToken, started, code);
    expect(stolen.status).toBe(403);
    // The attempt burned the flow: nobody completes it now, and Bob has no Slack account.
    expect((await completeConnect(h.idp.url, aliceToken, started, code)).status).toBe(400);
    const bobAccounts = (await (await myAccount(h.idp.url, bobToken, 'GET', '/accounts')).json()) as { accounts: unknown[] };
    expect(bobAccounts.accounts).toEqual([]);
    expect((await vaultRequest(bob.token, 'sign-in-with-slack')).status).toBe(401);
  });

  it('C5 completing needs this flow’s code verifier, redirect URI and connect code, once', async () => {
    const token = await myAccountToken(h.idp.url, h.credentials('alice'));
    const tampered: Array<Record<string, string>> = [{ code_verifier: 'x'.repeat(43) }, { redirect_uri: `${EXTENSION_REDIRECT_URI}other` }, { connect_code: 'forged-code' }];
    for (const overrides of tampered) {
      const started = await startConnect(h.idp.url, token, 'github', ['repo']);
      const step = await consentInBrowser(started.connectUrl);
      if (step.kind !== 'callback') throw new Error('expected a callback');
      const res = await completeConnect(h.idp.url, token, started, step.url.searchParams.get('connect_code')!, overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
    }
    const started = await startConnect(h.idp.url, token, 'github', ['repo']);
    const step = await consentInBrowser(started.connectUrl);
    if (step.kind !== 'callback') throw new Error('expected a callback');
    const code = step.url.searchParams.get('connect_code')!;
    expect((await completeConnect(h.idp.url, token, started, code)).status).toBe(201);
    expect((await completeConnect(h.idp.url, token, started, code)).status).toBe(400);
  });
});

describe('the Token Vault grant', () => {
  it('gives the backend the connected account’s provider token, for form and JSON bodies', async () => {
    for (const json of [false, true]) {
      const res = await vaultRequest(alice.token, 'google-oauth2', undefined, json);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ issued_token_type: FEDERATED_TOKEN_TYPE, token_type: 'Bearer' });
      expect(body.refresh_token).toBeUndefined();
      expect(String(body.scope).split(' ')).toContain(CAL_READ);
      expect(await calendarStatus(String(body.access_token))).toBe(200);
    }
  });

  it('C1 refuses a subject token for another audience, an ID token, the extension client and a wrong secret', async () => {
    const meToken = await myAccountToken(h.idp.url, h.credentials('alice'));
    expect((await vaultRequest(meToken, 'google-oauth2')).status).toBe(401);
    const login = await pkceLogin({
      idpUrl: h.idp.url, clientId: 'deputy-extension', redirectUri: EXTENSION_REDIRECT_URI, audience: 'https://api.deputy.local/', scope: 'openid chat',
      email: h.credentials('alice').email, password: h.credentials('alice').password,
    });
    expect((await vaultRequest(login.id_token!, 'google-oauth2')).status).toBe(401);
    const asExtension = await vaultRequest(alice.token, 'google-oauth2', { id: 'deputy-extension' });
    expect(asExtension.status).toBe(403);
    expect(((await asExtension.json()) as { error: string }).error).toBe('unauthorized_client');
    expect((await vaultRequest(alice.token, 'google-oauth2', { id: 'deputy-backend', secret: 'not-the-secret' })).status).toBe(401);
  });

  it('says federated_connection_refresh_token_not_found for a user without that connection', async () => {
    const res = await vaultRequest(bob.token, 'google-oauth2');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('federated_connection_refresh_token_not_found');
  });

  it('C2 the client caches per user, connection and scopes: Alice’s token never serves Bob', async () => {
    const exchanges: string[] = [];
    const vault = new TokenVaultClient({ tokenUrl: `${h.idp.issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: h.idp.backendClientSecret, onExchange: (c) => exchanges.push(c) });
    const a1 = await vault.get(alice.token, alice.user.sub, 'google-oauth2', [CAL_READ]);
    const a2 = await vault.get(alice.token, alice.user.sub, 'google-oauth2', [CAL_READ]);
    expect(a1.status).toBe('connected');
    expect(a2).toEqual(a1);
    expect(exchanges).toHaveLength(1);
    // Same connection and scopes, another user: never the cached token, a fresh exchange that finds nothing.
    expect(await vault.get(bob.token, bob.user.sub, 'google-oauth2', [CAL_READ])).toEqual({ status: 'not_connected', reason: 'no_account' });
    expect(exchanges).toHaveLength(2);
    // Other scopes are another cache entry; invalidation drops the user's entries only.
    await vault.get(alice.token, alice.user.sub, 'google-oauth2', [GMAIL_READ]);
    expect(exchanges).toHaveLength(3);
    vault.invalidate(alice.user.sub, 'google-oauth2');
    await vault.get(alice.token, alice.user.sub, 'google-oauth2', [CAL_READ]);
    expect(exchanges).toHaveLength(4);
  });

  it('refreshes the provider token behind the exchange when the tenant asks (the old one stops working)', async () => {
    const before = (await (await vaultRequest(alice.token, 'google-oauth2')).json()) as { access_token: string };
    const hook = await fetch(`${h.idp.url}/_emulator/connected-accounts/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sub: alice.user.sub, connection: 'google-oauth2' }),
    });
    expect(hook.status).toBe(204);
    const after = (await (await vaultRequest(alice.token, 'google-oauth2')).json()) as { access_token: string };
    expect(after.access_token).not.toBe(before.access_token);
    expect(await calendarStatus(before.access_token)).toBe(401);
    expect(await calendarStatus(after.access_token)).toBe(200);
  });

  it('disconnecting removes the account: the exchange then finds nothing; another user cannot delete it', async () => {
    const { token, account } = await connectAccount(h.idp.url, h.credentials('alice'), 'github', ['repo']);
    expect((await vaultRequest(alice.token, 'github')).status).toBe(200);
    const bobToken = await myAccountToken(h.idp.url, h.credentials('bob'));
    expect((await myAccount(h.idp.url, bobToken, 'DELETE', `/accounts/${account.id}`)).status).toBe(404);
    expect((await myAccount(h.idp.url, token, 'DELETE', `/accounts/${account.id}`)).status).toBe(204);
    const res = await vaultRequest(alice.token, 'github');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('federated_connection_refresh_token_not_found');
  });
});

describe('refresh behind the exchange when the provider token expires', () => {
  let short: Harness;
  beforeAll(async () => {
    // Provider tokens living 30 s are always inside the 60 s refresh margin: every exchange refreshes.
    short = await startHarness({ providerTokenTtlSeconds: 30 });
    await connectAccount(short.idp.url, short.credentials('alice'), 'google-oauth2', [CAL_READ]);
  });
  afterAll(async () => short?.close());

  it('an expiring provider token is refreshed with the refresh token the tenant keeps', async () => {
    const a = await short.login('alice');
    const get = async () => {
      const res = await fetch(`${short.idp.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: FEDERATED_CONNECTION_GRANT, client_id: 'deputy-backend', client_secret: short.idp.backendClientSecret, subject_token: a.token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', requested_token_type: FEDERATED_TOKEN_TYPE, connection: 'google-oauth2',
        }),
      });
      return (await res.json()) as { access_token: string; expires_in: number };
    };
    const first = await get();
    const second = await get();
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.expires_in).toBeLessThanOrEqual(30);
  });
});
