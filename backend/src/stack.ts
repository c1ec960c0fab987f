/**
 * The whole local system in one process: the Auth0-compatible IdP emulator, the offline model, and the backend
 * on embedded Postgres. Environment variables that point at real services replace the matching emulator.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { startIdp, type DemoUser } from '../emulators/idp/index';
import { writeSecretFile } from '../emulators/idp/keys';
import { emulatedUpstreams, type UpstreamProvider } from '../emulators/idp/upstream';
import { startProviders } from '../emulators/providers/server';
import { startModelServer } from '../emulators/model/server';
import { startProjectsApi } from '../emulators/projects/server';
import { type BackendConfig, loadConfig } from './config';
import { startFgaServer } from '../emulators/fga/server';
import { connectFga, seedDemoOrganisation } from './knowledge/fga-setup';
import { startBackend } from './server';

export interface StackOptions {
  dataDir: string;
  /** 0 = a free port. Defaults: the well-known local ports. */
  ports?: { backend?: number; idp?: number; model?: number; projects?: number; providers?: number; fga?: number };
  /** Lifetime of the provider emulator's access tokens (default 3600 s). */
  providerTokenTtlSeconds?: number;
  accessTokenTtlSeconds?: number;
  /** The IdP's CIBA polling interval (default 5 s, as Auth0's). */
  cibaIntervalSeconds?: number;
  modelChunkDelayMs?: number;
  /** Environment for the backend's configuration; tests pass {} so that they always run on the emulators. */
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
}

export interface RunningStack {
  backendUrl: string;
  idpUrl: string | undefined;
  modelUrl: string | undefined;
  projectsUrl: string | undefined;
  /** The Google/Slack/GitHub emulator (with the IdP emulator only). */
  providersUrl: string | undefined;
  /** The FGA the backend uses (the emulator unless FGA_API_URL is set) and its store. */
  fgaUrl: string;
  fgaStoreId: string;
  users: DemoUser[];
  /** The IdP emulator's confidential backend client secret (Token Vault, CIBA). */
  backendClientSecret?: string;
  /** The demo users' TOTP secrets by sub (the emulator shows them on its demo users page). */
  totpSecrets: Map<string, string>;
  close(): Promise<void>;
}

/** Every server on a free port (tests, demos, benchmarks). */
export const FREE_PORTS = { backend: 0, idp: 0, model: 0, projects: 0, providers: 0, fga: 0 } as const;

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const env = opts.env ?? {};
  const log = opts.log ?? (() => {});
  const closers: Array<() => Promise<void>> = [];
  try {
    const config = loadConfig({ ...env, DATA_DIR: env.DATA_DIR ?? opts.dataDir, PORT: String(opts.ports?.backend ?? env.PORT ?? 8787) });

    let modelUrl: string | undefined;
    if (config.model.offline) {
      const model = await startModelServer({ port: opts.ports?.model ?? 8789, chunkDelayMs: opts.modelChunkDelayMs });
      closers.push(model.close);
      config.model.baseURL = model.url;
      modelUrl = model.url;
    }

    let idpUrl: string | undefined;
    let providersUrl: string | undefined;
    let users: DemoUser[] = [];
    let backendClientSecret: string | undefined;
    let totpSecrets = new Map<string, string>();
    if (!env.AUTH0_DOMAIN) {
      const tenant = await startEmulatedTenant({
        dataDir: config.dataDir,
        ports: { idp: opts.ports?.idp ?? 8788, providers: opts.ports?.providers ?? 8791 },
        audience: config.auth.audience,
        extensionClientId: config.auth.extensionClientId,
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds,
        providerTokenTtlSeconds: opts.providerTokenTtlSeconds,
        cibaIntervalSeconds: opts.cibaIntervalSeconds,
      });
      closers.push(tenant.close);
      const { idp, providers } = tenant;
      config.auth.domain = idp.url;
      config.auth.issuer = idp.issuer;
      idpUrl = idp.url;
      users = idp.users;
      backendClientSecret = idp.backendClientSecret;
      totpSecrets = idp.totpSecrets;
      config.auth.backendClientSecret = idp.backendClientSecret;
      providersUrl = providers.url;
      config.providers = {
        googleApiUrl: env.GOOGLE_API_URL ?? tenant.apiUrls.googleApiUrl,
        slackApiUrl: env.SLACK_API_URL ?? tenant.apiUrls.slackApiUrl,
        githubApiUrl: env.GITHUB_API_URL ?? tenant.apiUrls.githubApiUrl,
      };
    }

    let projectsUrl: string | undefined;
    if (!env.PROJECTS_API_URL) {
      const bySub = (name: string) => users.find((u) => u.username === name)?.sub;
      const projects = await startProjectsApi({
        port: opts.ports?.projects ?? 8790,
        issuer: config.auth.issuer,
        dataDir: path.join(config.dataDir, 'projects'),
        members: { alice: bySub('alice'), bob: bySub('bob') },
      });
      closers.push(projects.close);
      config.projectsApiUrl = projects.url;
      projectsUrl = projects.url;
    }

    const fga = await startKnowledgeAuthorization(config, users, opts.ports?.fga ?? (opts.ports ? 0 : DEFAULT_FGA_PORT), closers);

    const backend = await startBackend(config, log);
    closers.push(backend.close);
    return {
      backendUrl: backend.url,
      idpUrl,
      modelUrl,
      projectsUrl,
      providersUrl,
      fgaUrl: fga.url,
      fgaStoreId: fga.storeId,
      users,
      backendClientSecret,
      totpSecrets,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

/** `npm start`'s FGA emulator (any caller that picks ports itself gets a free one unless it names this one). */
const DEFAULT_FGA_PORT = 8792;

/**
 * FGA for the knowledge base: the OpenFGA-compatible emulator (data in `${dataDir}/fga`) unless FGA_API_URL points
 * at OpenFGA or Auth0 FGA; then the store and model (`ensureFgaStore`), and - with the IdP emulator's demo users -
 * the demo organisation (demo data, not product logic).
 */
async function startKnowledgeAuthorization(config: BackendConfig, users: DemoUser[], port: number, closers: Array<() => Promise<void>>) {
  if (!config.fga.apiUrl) {
    const server = await startFgaServer({ port, dataDir: path.join(config.dataDir, 'fga') });
    closers.push(server.close);
    config.fga.apiUrl = server.url;
  }
  const { fga, info } = await connectFga({ ...config.fga, apiUrl: config.fga.apiUrl });
  config.fga.storeId = info.storeId;
  config.fga.modelId = info.modelId;
  if (users.length) await seedDemoOrganisation(fga, users);
  return { url: config.fga.apiUrl, storeId: info.storeId };
}

async function closeAll(closers: Array<() => Promise<void>>) {
  for (const close of closers.reverse()) await close().catch(() => {});
}

export interface EmulatedTenantOptions {
  dataDir: string;
  ports: { idp: number; providers: number };
  audience?: string;
  extensionClientId?: string;
  accessTokenTtlSeconds?: number;
  providerTokenTtlSeconds?: number;
  cibaIntervalSeconds?: number;
}

/**
 * The offline stand-in for an Auth0 tenant with its social connections: the IdP emulator, and the Google / Slack /
 * GitHub emulator it is an OAuth client of (for connected accounts and Token Vault).
 */
export async function startEmulatedTenant(opts: EmulatedTenantOptions) {
  const upstreams: UpstreamProvider[] = [];
  const idp = await startIdp({
    upstreams,
    port: opts.ports.idp,
    dataDir: path.join(opts.dataDir, 'idp'),
    audience: opts.audience,
    extensionClientId: opts.extensionClientId,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds,
    cibaIntervalSeconds: opts.cibaIntervalSeconds,
  });
  try {
    const upstreamClient = loadOrCreateUpstreamClient(path.join(opts.dataDir, 'providers'));
    const providers = await startProviders({
      port: opts.ports.providers,
      dataDir: path.join(opts.dataDir, 'providers'),
      oauthClients: [{ ...upstreamClient, redirectUris: [`${idp.issuer}connected-accounts/callback`] }],
      accessTokenTtlSeconds: opts.providerTokenTtlSeconds,
      accounts: idp.users.map((u) => ({ email: u.email, name: u.name })),
    });
    // The IdP looks its upstreams up on each use: they exist from here on.
    upstreams.push(...emulatedUpstreams(providers.url, upstreamClient));
    return {
      idp,
      providers,
      apiUrls: { googleApiUrl: `${providers.url}/google/`, slackApiUrl: `${providers.url}/slack/api/`, githubApiUrl: `${providers.url}/github/api` },
      close: async () => {
        await providers.close();
        await idp.close();
      },
    };
  } catch (err) {
    await idp.close();
    throw err;
  }
}

/** The IdP emulator's OAuth client at the provider emulator: generated once, kept in the data dir (mode 0600). */
function loadOrCreateUpstreamClient(dir: string): { clientId: string; clientSecret: string } {
  const file = path.join(dir, 'oauth-client.json');
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { clientId?: unknown; clientSecret?: unknown };
    if (typeof stored.clientId === 'string' && typeof stored.clientSecret === 'string') return { clientId: stored.clientId, clientSecret: stored.clientSecret };
  } catch {
    // missing or unreadable: create a new one
  }
  const client = { clientId: 'auth0-token-vault', clientSecret: randomBytes(32).toString('base64url') };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecretFile(file, client);
  return client;
}
