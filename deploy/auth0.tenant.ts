/**
 * Deputy's Auth0 tenant, declared once. `npm run auth0:bootstrap` reads the tenant, shows what differs from this file,
 * and (with --apply) creates or patches exactly that. Field names are the Management API v2's.
 *
 * Inputs from the environment (none are stored here):
 *   AUTH0_AUDIENCE            identifier of Deputy's API (default https://api.deputy.local/)
 *   DEPUTY_EXTENSION_IDS      Chrome extension ids, comma-separated (default: the pinned development id; add the
 *                             Chrome Web Store id once it is assigned)
 *   GOOGLE_OAUTH_CLIENT_ID / _SECRET, SLACK_OAUTH_CLIENT_ID / _SECRET, GITHUB_OAUTH_CLIENT_ID / _SECRET
 *                             your own OAuth apps at the providers (needed only when a connection is created)
 */
import { DEFAULT_API_AUDIENCE, EXTENSION_ID, FIREFOX_REDIRECT_URI, MY_ACCOUNT_SCOPES, PROJECTS_AUDIENCE, PROJECTS_SCOPES, CIBA_GRANT, FEDERATED_CONNECTION_GRANT } from '../lib/defaults';
import { REGISTERED_DETAIL_TYPES } from '../lib/authorization-details';
import { PROVIDER_SCOPES } from '../lib/connections';
import type { TenantDefinition } from '../scripts/auth0/spec';

const rarTypes = (audience: string) => Object.keys(REGISTERED_DETAIL_TYPES[audience] ?? {}).map((type) => ({ type }));
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

const tenant: TenantDefinition = ({ domain, baseUrl, env }) => {
  const audience = env.AUTH0_AUDIENCE ?? DEFAULT_API_AUDIENCE;
  const extensionIds = (env.DEPUTY_EXTENSION_IDS ?? EXTENSION_ID).split(',').map((s) => s.trim()).filter(Boolean);
  const redirects = [...extensionIds.map((id) => `https://${id}.chromiumapp.org/`), FIREFOX_REDIRECT_URI];
  const origins = extensionIds.map((id) => `chrome-extension://${id}`);

  return {
    apis: [
      {
        key: 'deputy',
        body: {
          name: 'Deputy API',
          identifier: audience,
          signing_alg: 'RS256',
          // RFC 9068 access tokens (typ at+jwt); the backend requires them (AUTH0_REQUIRE_AT_JWT=true).
          token_dialect: 'rfc9068_profile',
          token_lifetime: 3600,
          allow_offline_access: false,
          skip_consent_for_verifiable_first_party_clients: true,
          scopes: [{ value: 'chat', description: 'Use the Deputy assistant' }],
          // One RAR type per approval type the backend asks the user's device to approve (CIBA).
          authorization_details: rarTypes(DEFAULT_API_AUDIENCE),
        },
      },
      {
        key: 'projects',
        body: {
          name: 'Deputy Projects API',
          identifier: PROJECTS_AUDIENCE,
          signing_alg: 'RS256',
          token_dialect: 'rfc9068_profile',
          token_lifetime: 900,
          allow_offline_access: false,
          skip_consent_for_verifiable_first_party_clients: true,
          scopes: PROJECTS_SCOPES.map((value) => ({ value, description: `Projects: ${value.split(':')[0]}` })),
          authorization_details: rarTypes(PROJECTS_AUDIENCE),
        },
      },
    ],
    clients: [
      {
        key: 'extension',
        env: { clientId: 'AUTH0_EXTENSION_CLIENT_ID' },
        body: {
          name: 'Deputy browser extension',
          app_type: 'spa',
          is_first_party: true,
          oidc_conformant: true,
          token_endpoint_auth_method: 'none',
          // Authorization Code + PKCE only: the extension never holds a refresh token.
          grant_types: ['authorization_code'],
          callbacks: redirects,
          allowed_logout_urls: redirects,
          web_origins: origins,
          allowed_origins: origins,
          jwt_configuration: { alg: 'RS256' },
        },
      },
      {
        key: 'backend',
        env: { clientId: 'AUTH0_BACKEND_CLIENT_ID', clientSecret: 'AUTH0_BACKEND_CLIENT_SECRET' },
        body: {
          name: 'Deputy backend',
          // A Custom API Client linked to Deputy's API: Token Vault's access-token exchange requires the link.
          app_type: 'resource_server',
          resource_server_identifier: audience,
          is_first_party: true,
          oidc_conformant: true,
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: [FEDERATED_CONNECTION_GRANT, CIBA_GRANT, TOKEN_EXCHANGE_GRANT],
          async_approval_notification_channels: ['guardian-push'],
          jwt_configuration: { alg: 'RS256' },
        },
      },
    ],
    clientGrants: [
      // The extension calls the My Account API (connected accounts) for the signed-in user.
      { client: 'extension', audience: `${baseUrl}/me/`, scope: [...MY_ACCOUNT_SCOPES], subject_type: 'user' },
    ],
    connections: [
      {
        name: 'google-oauth2',
        strategy: 'google-oauth2',
        // Provider scopes are asked per connect by the extension; these are the ones the connection may grant.
        options: {
          client_id: { env: 'GOOGLE_OAUTH_CLIENT_ID' },
          client_secret: { env: 'GOOGLE_OAUTH_CLIENT_SECRET' },
          scope: ['email', 'profile', ...Object.values(PROVIDER_SCOPES.google)],
        },
        secretOptions: ['client_secret'],
        connected_accounts: { active: true },
        enabledClients: ['extension', 'backend'],
      },
      {
        name: 'sign-in-with-slack',
        strategy: 'oauth2',
        options: {
          client_id: { env: 'SLACK_OAUTH_CLIENT_ID' },
          client_secret: { env: 'SLACK_OAUTH_CLIENT_SECRET' },
          scope: Object.values(PROVIDER_SCOPES.slack),
        },
        secretOptions: ['client_secret'],
        connected_accounts: { active: true },
        enabledClients: ['extension', 'backend'],
      },
      {
        name: 'github',
        strategy: 'github',
        options: {
          client_id: { env: 'GITHUB_OAUTH_CLIENT_ID' },
          client_secret: { env: 'GITHUB_OAUTH_CLIENT_SECRET' },
          scope: [PROVIDER_SCOPES.github.repo],
        },
        secretOptions: ['client_secret'],
        connected_accounts: { active: true },
        enabledClients: ['extension', 'backend'],
      },
    ],
    env: {
      AUTH0_DOMAIN: domain,
      AUTH0_AUDIENCE: audience,
      AUTH0_REQUIRE_AT_JWT: 'true',
    },
    manualSteps: [
      'Activate the My Account API (APIs → Auth0 My Account API) if the client grant for /me/ failed because it does not exist yet, then run again.',
      'Custom Token Exchange to the Projects API: create a token exchange profile for subject_token_type urn:deputy:params:oauth:token-type:deputy-api-access-token with its Action.',
      'Guardian: enable push (or e-mail) notifications for CIBA; enable MFA (e.g. one-time passwords) for step-up; add acr/amr/auth_time to access tokens with a post-login Action if absent.',
      "Firefox: each install has its own origin (moz-extension://<random uuid>), which cannot be listed ahead of time in the SPA client's Allowed Origins or the backend's ALLOWED_ORIGINS; add an installed browser's origin to both, or use the Chrome build.",
    ],
  };
};

export default tenant;
