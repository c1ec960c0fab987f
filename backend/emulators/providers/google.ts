/**
 * The emulated Google under /google: OAuth 2.0 (authorize, token, revoke, userinfo) and, with `{url}/google/` as
 * the googleapis rootUrl, Calendar v3 and Gmail v1. The official @googleapis/* clients work against it unchanged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { mountAuthorization } from './authorize-routes';
import { Calendars, calendarRoutes } from './calendar';
import { Mailboxes, gmailRoutes } from './gmail';
import { GOOGLE_SCOPE_LABELS, GOOGLE_SCOPES, type GoogleEnv, NEEDS, requireGoogleScopes } from './google-api';
import type { IssuedTokens, OAuthServer, ProviderProfile } from './oauth';
import { allParams, clientCredentials, type Params, splitScopes } from './params';
import type { World } from './seed';
import type { ProviderState } from './state';

export const googleProfile: ProviderProfile = {
  id: 'google',
  scopes: GOOGLE_SCOPE_LABELS,
  newAccessToken: () => `ya29.a0${randomBytes(96).toString('base64url')}`,
  newRefreshToken: () => `1//0${randomBytes(72).toString('base64url')}`,
  rotateRefreshToken: false,
  incrementalConsent: true,
  codeRedirectParams: (scopes) => ({ scope: scopes.join(' ') }),
};

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

const tokenResponse = (c: Context, t: IssuedTokens) =>
  c.json(
    {
      access_token: t.accessToken,
      expires_in: t.expiresIn,
      ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
      scope: t.scopes.join(' '),
      token_type: 'Bearer',
    },
    200,
    NO_STORE,
  );

const oauthError = (c: Context, status: 400 | 401, error: string, description: string) => c.json({ error, error_description: description }, status, NO_STORE);

/** Google's `sub`: a stable 21-digit number per account. */
const subjectOf = (email: string) => (BigInt(`0x${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16)}`) % 10n ** 20n + 10n ** 20n).toString();

/**
 * The OAuth endpoints (for /google) and the APIs (for /google and the server root: googleapis-common resolves
 * request paths against the origin of a client's rootUrl and drops its path, so `{url}/google/` as rootUrl ends up
 * at /calendar/v3/..., which is where www.googleapis.com serves them too).
 */
export function googleApps(oauth: OAuthServer, state: ProviderState, world: World): { accounts: Hono; apis: Hono } {
  const app = new Hono();

  mountAuthorization(app, {
    oauth,
    profile: googleProfile,
    path: '/o/oauth2/v2/auth',
    publicPath: '/google/o/oauth2/v2/auth',
    parse: (q: Params) => ({
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      responseType: q.response_type ?? null,
      scopes: splitScopes(q.scope, /\s+/),
      state: q.state,
      loginHint: q.login_hint,
      codeChallenge: q.code_challenge,
      codeChallengeMethod: q.code_challenge_method,
      includeGrantedScopes: q.include_granted_scopes !== 'false',
      prompt: q.prompt,
    }),
  });

  app.post('/token', async (c) => {
    let p: Params;
    try {
      p = await allParams(c);
    } catch {
      return oauthError(c, 400, 'invalid_request', 'Invalid request body.');
    }
    const { clientId, clientSecret } = clientCredentials(c, p);
    const auth = oauth.authenticateClient(clientId, clientSecret);
    if ('error' in auth) return oauthError(c, 401, 'invalid_client', auth.error === 'unknown_client' ? 'The OAuth client was not found.' : 'Unauthorized');
    if (p.grant_type === 'authorization_code') {
      const r = oauth.redeemCode(googleProfile, auth.client, { code: p.code, redirectUri: p.redirect_uri, codeVerifier: p.code_verifier, redirectUriRequired: true });
      if ('error' in r) return oauthError(c, 400, r.error === 'redirect_uri_mismatch' ? 'redirect_uri_mismatch' : 'invalid_grant', 'Bad Request');
      return tokenResponse(c, r);
    }
    if (p.grant_type === 'refresh_token') {
      const r = oauth.refresh(googleProfile, auth.client, p.refresh_token);
      if ('error' in r) return oauthError(c, 400, 'invalid_grant', 'Token has been expired or revoked.');
      return tokenResponse(c, r);
    }
    return oauthError(c, 400, 'unsupported_grant_type', `Invalid grant_type: ${p.grant_type ?? ''}`);
  });

  app.post('/revoke', async (c) => {
    let p: Params;
    try {
      p = await allParams(c);
    } catch {
      return oauthError(c, 400, 'invalid_request', 'Invalid request body.');
    }
    if (!p.token || !oauth.revoke('google', p.token, { forgetConsent: true })) return oauthError(c, 400, 'invalid_token', 'Token expired or revoked');
    return c.json({}, 200, NO_STORE);
  });

  const apis = new Hono();
  const userinfo = new Hono<GoogleEnv>();
  userinfo.get('/', requireGoogleScopes(oauth, NEEDS.userinfo), (c) => {
    const { account, scopes } = c.get('grant');
    const a = oauth.account(account) ?? { email: account, name: account };
    const [given, ...family] = a.name.split(' ');
    const email = scopes.includes('email') || scopes.includes(GOOGLE_SCOPES.userinfoEmail);
    const profile = scopes.includes('profile') || scopes.includes(GOOGLE_SCOPES.userinfoProfile);
    return c.json({
      sub: subjectOf(a.email),
      ...(profile ? { name: a.name, given_name: given, ...(family.length ? { family_name: family.join(' ') } : {}) } : {}),
      ...(email ? { email: a.email, email_verified: true } : {}),
    });
  });
  apis.route('/oauth2/v3/userinfo', userinfo);
  apis.route('/calendar/v3', calendarRoutes(oauth, new Calendars(world.events, state), state));
  apis.route('/gmail/v1', gmailRoutes(oauth, new Mailboxes(world.mails, state), state));
  return { accounts: app, apis };
}
