/**
 * Backend configuration from the environment. With nothing set, every value points at the local emulators
 * (the offline default); set the variables to run against a real Auth0 tenant, OpenAI (or any compatible
 * server) and Postgres.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseToolPolicy, type ToolPolicy } from './agent/tool-policy';
import {
  DEFAULT_API_AUDIENCE,
  DEFAULT_API_SCOPES,
  DEFAULT_EXTENSION_CLIENT_ID,
  DEFAULT_PORTS,
  EXTENSION_ORIGIN,
  OFFLINE_MODEL_NAME,
  PROJECTS_SCOPES,
} from '../../lib/defaults';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.backend),
  HOST: z.string().default('localhost'),
  DATA_DIR: z.string().default('.deputy'),
  /** Auth0 domain (`tenant.eu.auth0.com`) or a full URL for the emulator (`http://localhost:8788`). */
  AUTH0_DOMAIN: z.string().default(`http://localhost:${DEFAULT_PORTS.idp}`),
  AUTH0_AUDIENCE: z.string().default(DEFAULT_API_AUDIENCE),
  /** The extension's (public) client id: the only client whose tokens our API accepts. */
  AUTH0_EXTENSION_CLIENT_ID: z.string().default(DEFAULT_EXTENSION_CLIENT_ID),
  AUTH0_SCOPE: z.string().default(`openid profile email ${[...DEFAULT_API_SCOPES, ...PROJECTS_SCOPES].join(' ')}`),
  /** Require RFC 9068 `typ: at+jwt` (Auth0 APIs with the RFC 9068 token profile). */
  AUTH0_REQUIRE_AT_JWT: z.enum(['true', 'false']).default('true'),
  /** The backend's confidential client (token exchange now; Token Vault and CIBA later). */
  AUTH0_BACKEND_CLIENT_ID: z.string().default('deputy-backend'),
  AUTH0_BACKEND_CLIENT_SECRET: z.string().optional(),
  PROJECTS_API_URL: z.string().url().default(`http://localhost:${DEFAULT_PORTS.projects}`),
  /** Third-party API base URLs (the offline stack points them at its provider emulator). */
  GOOGLE_API_URL: z.string().url().default('https://www.googleapis.com/'),
  SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  /** How long the user has to answer an approval on their device (CIBA requested_expiry), 10..300 s. */
  APPROVAL_EXPIRY_SECONDS: z.coerce.number().int().min(10).max(300).default(300),
  /** Comma-separated extra origins allowed by CORS (the pinned extension origin is always allowed). */
  ALLOWED_ORIGINS: z.string().default(''),
  /** The organization's tool policy (agent/tool-policy.ts); the same values as the extension's managed policy. */
  DEPUTY_ALLOWED_TOOLS: z.string().optional(),
  DEPUTY_ALLOWED_CONNECTIONS: z.string().optional(),
  DEPUTY_APPROVAL_TIERS: z.string().optional(),
  /** OpenFGA or Auth0 FGA (unset: the stack starts the FGA emulator). */
  FGA_API_URL: z.string().url().optional(),
  FGA_STORE_ID: z.string().optional(),
  FGA_MODEL_ID: z.string().optional(),
  FGA_API_TOKEN: z.string().optional(),
  FGA_CLIENT_ID: z.string().optional(),
  FGA_CLIENT_SECRET: z.string().optional(),
  FGA_API_TOKEN_ISSUER: z.string().optional(),
  FGA_API_AUDIENCE: z.string().optional(),
  /** Retrieval fails closed when FGA has not answered within this time. */
  FGA_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2_000),
  /** OpenAI embeddings model (with OPENAI_API_KEY); unset: the deterministic offline embedder. */
  EMBEDDINGS_MODEL: z.string().optional(),
});

export interface BackendConfig {
  port: number;
  host: string;
  dataDir: string;
  auth: {
    domain: string;
    issuer: string;
    audience: string;
    extensionClientId: string;
    scope: string;
    requireAtJwtTyp: boolean;
    backendClientId: string;
    backendClientSecret?: string;
  };
  projectsApiUrl: string;
  providers: { googleApiUrl: string; slackApiUrl: string; githubApiUrl: string };
  model: { baseURL: string; apiKey: string; name: string; offline: boolean };
  /** Postgres connection string, or undefined for embedded PGlite in `${dataDir}/pglite`. */
  databaseUrl?: string;
  allowedOrigins: string[];
  approvals: { requestedExpirySeconds: number };
  toolPolicy: ToolPolicy;
  /** Authorization for the knowledge base; `apiUrl` undefined until the stack starts the emulator. */
  fga: FgaSettings;
  /** `model` undefined: the offline embedder. */
  embeddings: { model?: string; apiKey?: string; baseURL?: string };
}

export interface FgaSettings {
  apiUrl?: string;
  storeId?: string;
  modelId?: string;
  apiToken?: string;
  clientCredentials?: { clientId: string; clientSecret: string; apiTokenIssuer: string; apiAudience: string };
  timeoutMs: number;
}

/** `tenant.auth0.com` → `https://tenant.auth0.com`; a URL with a scheme is kept as it is (minus trailing slashes). */
export function domainToBaseUrl(domain: string): string {
  const withScheme = /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
  return withScheme.replace(/\/+$/, '');
}

export function loadConfig(env: Record<string, string | undefined> = process.env): BackendConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid backend configuration:\n${lines}`);
  }
  const e = parsed.data;
  const authBase = domainToBaseUrl(e.AUTH0_DOMAIN);
  const offline = !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    auth: {
      domain: e.AUTH0_DOMAIN,
      issuer: `${authBase}/`,
      audience: e.AUTH0_AUDIENCE,
      extensionClientId: e.AUTH0_EXTENSION_CLIENT_ID,
      scope: e.AUTH0_SCOPE,
      requireAtJwtTyp: e.AUTH0_REQUIRE_AT_JWT === 'true',
      backendClientId: e.AUTH0_BACKEND_CLIENT_ID,
      backendClientSecret: e.AUTH0_BACKEND_CLIENT_SECRET,
    },
    projectsApiUrl: e.PROJECTS_API_URL.replace(/\/+$/, ''),
    providers: {
      googleApiUrl: withTrailingSlash(e.GOOGLE_API_URL),
      slackApiUrl: withTrailingSlash(e.SLACK_API_URL),
      githubApiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
    },
    model: {
      baseURL: e.OPENAI_BASE_URL ?? (offline ? `http://localhost:${DEFAULT_PORTS.model}/v1` : 'https://api.openai.com/v1'),
      // The offline model ignores the key; the SDK insists on one.
      apiKey: e.OPENAI_API_KEY ?? 'offline',
      name: e.OPENAI_MODEL ?? (offline ? OFFLINE_MODEL_NAME : 'gpt-4o-mini'),
      offline,
    },
    databaseUrl: e.DATABASE_URL,
    approvals: { requestedExpirySeconds: e.APPROVAL_EXPIRY_SECONDS },
    toolPolicy: parseToolPolicy(e),
    allowedOrigins: [EXTENSION_ORIGIN, ...e.ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean)],
    fga: {
      apiUrl: e.FGA_API_URL?.replace(/\/+$/, ''),
      storeId: e.FGA_STORE_ID,
      modelId: e.FGA_MODEL_ID,
      apiToken: e.FGA_API_TOKEN,
      clientCredentials:
        e.FGA_CLIENT_ID && e.FGA_CLIENT_SECRET && e.FGA_API_TOKEN_ISSUER && e.FGA_API_AUDIENCE
          ? { clientId: e.FGA_CLIENT_ID, clientSecret: e.FGA_CLIENT_SECRET, apiTokenIssuer: e.FGA_API_TOKEN_ISSUER, apiAudience: e.FGA_API_AUDIENCE }
          : undefined,
      timeoutMs: e.FGA_TIMEOUT_MS,
    },
    // Real OpenAI (a key, no other server) or an explicitly named model; otherwise the offline embedder.
    embeddings:
      e.EMBEDDINGS_MODEL || (e.OPENAI_API_KEY && !e.OPENAI_BASE_URL)
        ? { model: e.EMBEDDINGS_MODEL ?? 'text-embedding-3-small', apiKey: e.OPENAI_API_KEY ?? 'offline', baseURL: e.OPENAI_BASE_URL }
        : {},
  };
}

const withTrailingSlash = (url: string) => url.replace(/\/*$/, '/');
