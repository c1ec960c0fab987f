/**
 * B5: signing out ends what the session issued. After the extension's sign-out (`/v2/logout`, what it calls), the
 * old access token no longer gets anything from the tenant: no Token Vault exchange (third-party tokens), no token
 * exchange for first-party APIs (Projects), no /userinfo, and no silent renewal (prompt=none). Another session of the
 * same user (another device) keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceTokenClient, ResourceTokenError } from '../../backend/src/agent/resource-tokens';
import { TokenVaultClient } from '../../backend/src/agent/token-vault';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_AUDIENCE, PROJECTS_SCOPES } from '../../lib/defaults';
import { type Harness, startHarness } from '../helpers/agent-harness';
import { connectAccount } from '../helpers/connect-account';
import { authorizeUrl, fetchWithJar, followRedirects, pkceLogin, pkcePair, randomState } from '../helpers/pkce-login';

let h: Harness;
const CAL_READ = PROVIDER_SCOPES.google.calendarRead;

const signIn = () => {
  const { email, password } = h.credentials('alice');
  return pkceLogin({
    idpUrl: h.idp.url, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
    scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, email, password,
  });
};

beforeAll(async () => {
  h = await startHarness();
  await connectAccount(h.idp.url, h.credentials('alice'), 'google-oauth2', [CAL_READ]);
});
afterAll(async () => h?.close());

describe('B5 sign-out', () => {
  it('B5 after logout the old access token gets no Token Vault exchange, no Projects token, no userinfo, no silent renewal; other sessions keep working', async () => {
    const session = await signIn();
    const otherDevice = await signIn();
    const sub = h.idp.users.find((u) => u.username === 'alice')!.sub;
    const vault = () => new TokenVaultClient({ tokenUrl: `${h.idp.issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: h.idp.backendClientSecret });
    const exchange = () => new ResourceTokenClient({ tokenUrl: `${h.idp.issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: h.idp.backendClientSecret });
    const userinfo = (token: string) => fetch(`${h.idp.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    const vaultWorks = (token: string) => vault().get(token, sub, 'google-oauth2', [CAL_READ]).then(() => true, () => false);
    const exchangeWorks = (token: string) => exchange().get(token, sub, PROJECTS_AUDIENCE, ['read:projects']).then(() => true, (e) => (e instanceof ResourceTokenError ? false : Promise.reject(e)));

    // Before: everything works with the session's token.
    expect(await vaultWorks(session.access_token)).toBe(true);
    expect(await exchangeWorks(session.access_token)).toBe(true);
    expect(await userinfo(session.access_token)).toBe(200);

    // The extension signs out (Auth0's /v2/logout with its registered returnTo).
    const out = await fetchWithJar(session.cookies, `${h.idp.url}/v2/logout?${new URLSearchParams({ client_id: DEFAULT_EXTENSION_CLIENT_ID, returnTo: EXTENSION_REDIRECT_URI })}`);
    expect(out.status).toBe(302);

    // After: the old token gets nothing from the tenant, through fresh clients (no cache to hide behind).
    expect(await vaultWorks(session.access_token)).toBe(false);
    expect(await exchangeWorks(session.access_token)).toBe(false);
    expect(await userinfo(session.access_token)).toBe(401);
    const { challenge } = pkcePair();
    const renewal = await followRedirects(
      session.cookies,
      authorizeUrl({ idpUrl: h.idp.url, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE, scope: 'openid chat', state: randomState(), codeChallenge: challenge, extraParams: { prompt: 'none' } }),
      EXTENSION_REDIRECT_URI,
    );
    expect(renewal.kind === 'callback' && renewal.url.searchParams.get('error')).toBe('login_required');

    // The same user's other session is not signed out.
    expect(await vaultWorks(otherDevice.access_token)).toBe(true);
    expect(await exchangeWorks(otherDevice.access_token)).toBe(true);
    expect(await userinfo(otherDevice.access_token)).toBe(200);
  });
});
