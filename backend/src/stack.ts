/**
 * The whole local system in one process: the Auth0-compatible IdP emulator, the offline model, and the backend
 * on embedded Postgres. Environment variables that point at real services replace the matching emulator.
 */
import path from 'node:path';
import { startIdp, type DemoUser } from '../emulators/idp/index';
import { startModelServer } from '../emulators/model/server';
import { startProjectsApi } from '../emulators/projects/server';
import { loadConfig } from './config';
import { startBackend } from './server';

export interface StackOptions {
  dataDir: string;
  /** 0 = a free port. Defaults: the well-known local ports. */
  ports?: { backend?: number; idp?: number; model?: number; projects?: number };
  accessTokenTtlSeconds?: number;
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
  users: DemoUser[];
  /** The IdP emulator's confidential backend client secret (later: Token Vault and CIBA). */
  backendClientSecret?: string;
  close(): Promise<void>;
}

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
    let users: DemoUser[] = [];
    let backendClientSecret: string | undefined;
    if (!env.AUTH0_DOMAIN) {
      const idp = await startIdp({
        port: opts.ports?.idp ?? 8788,
        dataDir: path.join(config.dataDir, 'idp'),
        audience: config.auth.audience,
        extensionClientId: config.auth.extensionClientId,
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds,
      });
      closers.push(idp.close);
      config.auth.domain = idp.url;
      config.auth.issuer = idp.issuer;
      idpUrl = idp.url;
      users = idp.users;
      backendClientSecret = idp.backendClientSecret;
      config.auth.backendClientSecret = idp.backendClientSecret;
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

    const backend = await startBackend(config, log);
    closers.push(backend.close);
    return {
      backendUrl: backend.url,
      idpUrl,
      modelUrl,
      projectsUrl,
      users,
      backendClientSecret,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: Array<() => Promise<void>>) {
  for (const close of closers.reverse()) await close().catch(() => {});
}
