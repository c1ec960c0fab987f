/**
 * The agent runtime wired to real servers, in-process: the IdP emulator, the Projects API, the offline model,
 * and a RunManager over an in-memory PGlite. Tests drive runs directly (including what only a trusted device
 * may do, such as answering an approval) and read the Projects API's data file to see what really happened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningIdp } from '../../backend/emulators/idp/index';
import { startModelServer, type RunningModelServer } from '../../backend/emulators/model/server';
import { startProjectsApi } from '../../backend/emulators/projects/server';
import { ResourceTokenClient } from '../../backend/src/agent/resource-tokens';
import { projectTools } from '../../backend/src/agent/tools/projects';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { TokenVaultClient } from '../../backend/src/agent/token-vault';
import { ApprovalService } from '../../backend/src/agent/approvals';
import { CibaClient } from '../../backend/src/agent/ciba-client';
import { ApprovalStore, AuditLog } from '../../backend/src/store/approvals';
import { startEmulatedTenant } from '../../backend/src/stack';
import { createAccessTokenVerifier } from '../../backend/src/auth/verify-access-token';
import { createModelClient } from '../../backend/src/chat/model-client';
import { type AgentUser, RunManager, type SequencedEvent } from '../../backend/src/chat/run-manager';
import { openStore, type Store } from '../../backend/src/store/database';
import { RunStore } from '../../backend/src/store/runs';
import { ThreadStore } from '../../backend/src/store/threads';
import { currentTotp } from '../../backend/emulators/idp/totp';
import { DEFAULT_API_AUDIENCE, MFA_ACR, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, OFFLINE_MODEL_NAME, PROJECTS_SCOPES } from '../../lib/defaults';
import type { RunEvent } from '../../lib/protocol';
import { pkceLogin } from './pkce-login';

export interface Harness {
  idp: RunningIdp;
  /** The Google / Slack / GitHub emulator (`/_emulator/outbox`, `/_emulator/requests`). */
  providersUrl: string;
  tokenVault: TokenVaultClient;
  /** Token Vault exchanges sent so far, by connection. */
  exchanges: Map<string, number>;
  model: RunningModelServer;
  projects: Awaited<ReturnType<typeof startProjectsApi>>;
  store: Store;
  threads: ThreadStore;
  runStore: RunStore;
  approvalStore: ApprovalStore;
  audit: AuditLog;
  dataDir: string;
  /** A run manager as one backend instance has it, with its own approval poller (several may share the store). */
  manager(modelName?: string): RunManager;
  /** Stops every approval poller started so far (as if those instances stopped); their jobs stay in the store. */
  stopPollers(): Promise<void>;
  /** A PKCE sign-in; `mfa` adds step-up (acr_values multi-factor, prompt=login) with the user's authenticator code. */
  login(who: 'alice' | 'bob', opts?: { mfa?: boolean }): Promise<{ user: AgentUser; token: string }>;
  /** The authenticator code the user's app shows now. */
  totp(who: 'alice' | 'bob'): string;
  credentials(who: 'alice' | 'bob'): { email: string; password: string };
  projectsFile(): { projects: Array<{ id: string; tasks: Array<{ title: string }> }> };
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    modelChunkDelayMs?: number;
    onModelRequest?: (body: unknown) => void;
    log?: (line: string) => void;
    providerTokenTtlSeconds?: number;
    /** The IdP's CIBA interval (default 1 s here, to keep tests quick; the product default is 5 s). */
    cibaIntervalSeconds?: number;
    approvalExpirySeconds?: number;
  } = {},
): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-agent-'));
  const tenant = await startEmulatedTenant({ dataDir, ports: { idp: 0, providers: 0 }, providerTokenTtlSeconds: opts.providerTokenTtlSeconds, cibaIntervalSeconds: opts.cibaIntervalSeconds ?? 1 });
  const { idp } = tenant;
  const model = await startModelServer({ port: 0, chunkDelayMs: opts.modelChunkDelayMs ?? 0, onRequest: opts.onModelRequest });
  const sub = (n: string) => idp.users.find((u) => u.username === n)!.sub;
  const projects = await startProjectsApi({ port: 0, issuer: idp.issuer, dataDir: path.join(dataDir, 'projects'), members: { alice: sub('alice'), bob: sub('bob') } });
  const store = await openStore({ pgliteDir: 'memory://' });
  const threads = new ThreadStore(store.db);
  const runStore = new RunStore(store.db);
  const approvalStore = new ApprovalStore(store.db);
  const audit = new AuditLog(store.db);
  const verify = createAccessTokenVerifier({ issuer: idp.issuer, audience: DEFAULT_API_AUDIENCE, allowedClientIds: [DEFAULT_EXTENSION_CLIENT_ID] });
  const resourceTokens = new ResourceTokenClient({ tokenUrl: `${idp.issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: idp.backendClientSecret });
  const exchanges = new Map<string, number>();
  const tokenVault = new TokenVaultClient({
    tokenUrl: `${idp.issuer}oauth/token`,
    clientId: 'deputy-backend',
    clientSecret: idp.backendClientSecret,
    onExchange: (c) => exchanges.set(c, (exchanges.get(c) ?? 0) + 1),
  });
  const managers: RunManager[] = [];
  const pollers: ApprovalService[] = [];
  const credentials = (who: 'alice' | 'bob') => {
    const u = idp.users.find((x) => x.username === who)!;
    return { email: u.email, password: u.password };
  };
  return {
    idp, model, projects, store, threads, runStore, approvalStore, audit, dataDir, tokenVault, exchanges, credentials,
    providersUrl: tenant.providers.url,
    manager(modelName = OFFLINE_MODEL_NAME) {
      const approvals = new ApprovalService({
        ciba: new CibaClient({ issuer: idp.issuer, clientId: 'deputy-backend', clientSecret: idp.backendClientSecret }),
        store: approvalStore,
        audit,
        requestedExpirySeconds: opts.approvalExpirySeconds,
        tickMs: 50,
        log: opts.log,
      });
      pollers.push(approvals);
      const m = new RunManager({
        threads,
        runs: runStore,
        model: createModelClient({ baseURL: model.url, apiKey: 'offline', name: modelName, offline: true }),
        modelName,
        tools: [...projectTools(projects.url), ...thirdPartyTools(tenant.apiUrls)],
        resourceTokens,
        tokenVault,
        approvals,
        audit,
        apiAudience: DEFAULT_API_AUDIENCE,
        log: opts.log,
      });
      approvals.start();
      managers.push(m);
      return m;
    },
    async stopPollers() {
      for (const p of pollers.splice(0)) await p.stop();
    },
    totp: (who) => currentTotp(idp.totpSecrets.get(idp.users.find((x) => x.username === who)!.sub)!),
    async login(who, { mfa = false } = {}) {
      const u = idp.users.find((x) => x.username === who)!;
      const tokens = await pkceLogin({
        idpUrl: idp.url,
        clientId: DEFAULT_EXTENSION_CLIENT_ID,
        redirectUri: EXTENSION_REDIRECT_URI,
        audience: DEFAULT_API_AUDIENCE,
        scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`,
        email: u.email,
        password: u.password,
        ...(mfa ? { extraParams: { acr_values: MFA_ACR, prompt: 'login' }, totp: () => currentTotp(idp.totpSecrets.get(u.sub)!) } : {}),
      });
      const v = await verify(tokens.access_token);
      await threads.touchUser({ sub: v.sub });
      return { user: { sub: v.sub, scopes: v.scopes, acr: v.acr, amr: v.amr, authTime: v.authTime }, token: tokens.access_token };
    },
    projectsFile: () => JSON.parse(fs.readFileSync(path.join(dataDir, 'projects', 'projects.json'), 'utf8')),
    async close() {
      for (const p of pollers) await p.stop();
      for (const m of managers) await m.drain();
      await store.close();
      await projects.close();
      await model.close();
      await tenant.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function collect(gen: AsyncGenerator<SequencedEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of gen) out.push(e.event);
  return out;
}

export const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
