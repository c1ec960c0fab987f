/**
 * The shape of `deploy/auth0.tenant.ts`: what Deputy needs in an Auth0 tenant, declared once. Field names are the
 * Management API v2's own, so what the file says is what is sent. Only declared fields are compared and changed;
 * anything else on the tenant (set by hand in the dashboard) is left alone.
 */

/** A value taken from the environment when the bootstrap runs (provider OAuth apps' credentials), never stored here. */
export interface FromEnv {
  env: string;
  /** Used when the variable is unset; without one, an unset variable stops the run with a clear message. */
  default?: string;
}

export interface ApiSpec {
  /** How other entries refer to this API (`audienceOf: 'deputy'`). */
  key: string;
  /** Sent to POST/PATCH /api/v2/resource-servers. `identifier` cannot change once created. */
  body: {
    name: string;
    identifier: string;
    signing_alg?: 'RS256' | 'PS256';
    scopes?: Array<{ value: string; description: string }>;
    token_dialect?: 'access_token' | 'access_token_authz' | 'rfc9068_profile' | 'rfc9068_profile_authz';
    token_lifetime?: number;
    allow_offline_access?: boolean;
    skip_consent_for_verifiable_first_party_clients?: boolean;
    authorization_details?: Array<{ type: string }>;
    [field: string]: unknown;
  };
}

export interface ClientSpec {
  key: string;
  /** Sent to POST/PATCH /api/v2/clients; clients are found by `name`. */
  body: {
    name: string;
    app_type: 'spa' | 'regular_web' | 'non_interactive' | 'native' | 'resource_server';
    [field: string]: unknown;
  };
  /** Env variables the bootstrap prints for this client's id (and secret, for confidential clients). */
  env: { clientId: string; clientSecret?: string };
}

export interface ClientGrantSpec {
  /** A ClientSpec key. */
  client: string;
  audience: string;
  scope: string[];
  /** `user`: access in user flows (e.g. the My Account API); `client`: client credentials. */
  subject_type?: 'user' | 'client';
}

export interface ConnectionSpec {
  /** Found by name. */
  name: string;
  strategy: string;
  /** Compared key by key; values may come from the environment. Secret values are only sent on create (see `secretOptions`). */
  options: Record<string, unknown | FromEnv>;
  /** Option keys holding secrets: set on create, not compared afterwards (the API may not return them). */
  secretOptions?: string[];
  /** Connected Accounts for Token Vault. */
  connected_accounts?: { active: boolean };
  /** ClientSpec keys of the applications that may use the connection. */
  enabledClients: string[];
}

export interface TenantSpec {
  apis: ApiSpec[];
  clients: ClientSpec[];
  clientGrants: ClientGrantSpec[];
  connections: ConnectionSpec[];
  /** Env lines printed as they are (e.g. AUTH0_AUDIENCE), after the ones derived from created clients. */
  env: Record<string, string>;
  /** What the bootstrap cannot do through the Management API and leaves to a person, printed at the end. */
  manualSteps: string[];
}

export interface TenantContext {
  /** `acme.eu.auth0.com` (or a URL for a local fake). */
  domain: string;
  /** `https://acme.eu.auth0.com` (no trailing slash). */
  baseUrl: string;
  env: Record<string, string | undefined>;
}

export type TenantDefinition = (ctx: TenantContext) => TenantSpec;

export const isFromEnv = (v: unknown): v is FromEnv => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as FromEnv).env === 'string' && Object.keys(v).every((k) => k === 'env' || k === 'default');
