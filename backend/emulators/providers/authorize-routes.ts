/**
 * The browser side of a provider's authorization endpoint, the same for all three: GET {path} (→ account picker,
 * consent page, error page or a redirect back), POST {path}/account (picked an account) and POST {path}/consent
 * (Allow or Cancel). Each provider only says how its query parameters map onto an authorization request.
 */
import type { Context, Env, Hono } from 'hono';
import { accountPickerPage, authorizationErrorPage, consentPage, pageHeaders } from './consent-page';
import type { AuthorizeOutcome, AuthorizeParams, OAuthServer, ProviderProfile } from './oauth';
import { bodyParams, type Params } from './params';

export interface AuthorizationRoutes {
  oauth: OAuthServer;
  profile: ProviderProfile;
  /** The authorize path inside the provider's app, and the same path as the browser sees it. */
  path: string;
  publicPath: string;
  parse(query: Params): AuthorizeParams;
}

export function mountAuthorization<E extends Env>(app: Hono<E>, r: AuthorizationRoutes) {
  const provider = r.profile.id;
  const render = (c: Context<E>, outcome: AuthorizeOutcome): Response => {
    switch (outcome.kind) {
      case 'refuse':
        return c.body(authorizationErrorPage(provider, outcome.error, outcome.description), outcome.status, pageHeaders(provider));
      case 'redirect':
        return c.body(null, 302, { location: outcome.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      case 'choose-account':
        return c.body(accountPickerPage(provider, { action: `${r.publicPath}/account`, ...outcome }), 200, pageHeaders(provider));
      case 'consent':
        return c.body(consentPage(provider, { action: `${r.publicPath}/consent`, ...outcome }), 200, pageHeaders(provider));
    }
  };

  app.get(r.path, (c) => render(c, r.oauth.authorize(r.profile, r.parse(c.req.query()))));

  app.post(`${r.path}/account`, async (c) => {
    const form = await bodyParams(c);
    return render(c, r.oauth.chooseAccount(r.profile, form.request ?? '', form.email ?? ''));
  });

  app.post(`${r.path}/consent`, async (c) => {
    const form = await bodyParams(c);
    return render(c, r.oauth.decide(r.profile, form.consent ?? '', form.action === 'allow'));
  });
}
