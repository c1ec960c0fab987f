/**
 * Offline-default identifiers shared by the extension, the backend and the emulators.
 * Every value here can be overridden by configuration; nothing here is a secret.
 */

/** Public half of the extension's signing key; pins the extension id in unpacked builds. */
export const EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlnP2n5zBlmh57CUlJsth45kdzM0Fu/n69sfVWsBe4o+vP3sb/y7bKIGm1ZIyoiwlnxJYyN4RZYcsX836p36hAflUl3XrbO9e8HOuQkOmLlImI6pwx8mMGFYIX7bPevfGCssWRhGsuAcynQgeH41/3BRcvJvvVNrOwIyG/uPu9VNqWFYqSolaw/v5AovHDQupteoe4xS6IKATiUtHR8v3YMxxwwZhun0rsqIJtboVQGaFKiGuyMfbHcF5OAzDDFVotficNWUgh+ZreW2t4id3Eue3NR7gRapTcqID9z8793QAy3KbQ8hK4SZGcOC6ESR8KBJphXmYy9shihpU34XZxQIDAQAB';

/** Chrome extension id derived from EXTENSION_PUBLIC_KEY (sha256 of the DER key, first 32 hex digits mapped to a-p). */
export const EXTENSION_ID = 'gpojcpckenaidmecijbacgbidpgallhb';

export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;

/** Redirect URI Chrome's identity API intercepts for this extension. */
export const EXTENSION_REDIRECT_URI = `https://${EXTENSION_ID}.chromiumapp.org/`;

export const DEFAULT_PORTS = { backend: 8787, idp: 8788, model: 8789, projects: 8790, providers: 8791 } as const;

export const DEFAULT_BACKEND_URL = `http://localhost:${DEFAULT_PORTS.backend}`;

/** The extension's public (PKCE) client at the IdP. */
export const DEFAULT_EXTENSION_CLIENT_ID = 'deputy-extension';

/** Auth0 "audience" (resource identifier) of Deputy's own API. */
export const DEFAULT_API_AUDIENCE = 'https://api.deputy.local/';

/** API scopes the extension asks for at sign-in. */
export const DEFAULT_API_SCOPES = ['chat'] as const;

export const OFFLINE_MODEL_NAME = 'deputy-offline-1';

/** Audience of the demo first-party "Projects" API the agent acts on (its own resource server). */
export const PROJECTS_AUDIENCE = 'https://projects.deputy.local/';

export const PROJECTS_SCOPES = ['read:projects', 'write:projects', 'delete:projects'] as const;

/**
 * `subject_token_type` of the token exchange by which the backend gets a first-party resource token for the user
 * (Auth0 Custom Token Exchange requires a URI of our own here).
 */
export const TOKEN_EXCHANGE_SUBJECT_TYPE = 'urn:deputy:params:oauth:token-type:deputy-api-access-token';

/** Auth0 Token Vault: the grant the backend uses to obtain a connected account's provider token. */
export const FEDERATED_CONNECTION_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
export const FEDERATED_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';

/** Auth0's My Account API scopes for connected accounts (audience `https://{domain}/me/`). */
export const MY_ACCOUNT_SCOPES = ['create:me:connected_accounts', 'read:me:connected_accounts', 'delete:me:connected_accounts'] as const;

/** `acr` of a multi-factor login, and what step-up asks for in `acr_values` (RFC 9470; Auth0 uses this value). */
export const MFA_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/** OpenID CIBA's grant type, which the backend polls with. */
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** Firefox add-on id (`browser_specific_settings.gecko.id`); keeps Firefox's identity redirect URL stable. */
export const FIREFOX_EXTENSION_ID = 'deputy@deputy-extension.dev';

/** What Firefox's `identity.getRedirectURL()` answers for FIREFOX_EXTENSION_ID: `https://<sha1 hex of the id>.extensions.allizom.org/`. */
export const FIREFOX_REDIRECT_URI = 'https://2d4d8682fe36bac9dec821407bab053b61ba1c22.extensions.allizom.org/';
