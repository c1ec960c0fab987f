/** Starts the backend HTTP server: store, token verifier, model client, run manager, API. */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { createAccessTokenVerifier } from './auth/verify-access-token';
import { createModelClient } from './chat/model-client';
import { RunManager } from './chat/run-manager';
import type { BackendConfig } from './config';
import { openStore } from './store/database';
import { RunStore } from './store/runs';
import { ThreadStore } from './store/threads';
import { ResourceTokenClient } from './agent/resource-tokens';
import { projectTools } from './agent/tools/projects';
import { thirdPartyTools } from './agent/tools/third-party';
import { TokenVaultClient } from './agent/token-vault';
import { ApprovalService } from './agent/approvals';
import { CibaClient } from './agent/ciba-client';
import { ApprovalStore, AuditLog } from './store/approvals';
import { startKnowledge } from './knowledge';
import { applyToolPolicy } from './agent/tool-policy';
import { DEFAULT_LIMITS } from './agent/policy-gate';

export interface RunningBackend {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startBackend(config: BackendConfig, log: (line: string) => void = () => {}): Promise<RunningBackend> {
  const store = await openStore({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
  const threads = new ThreadStore(store.db);
  const runStore = new RunStore(store.db);
  const verify = createAccessTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    requireAtJwtTyp: config.auth.requireAtJwtTyp,
    allowedClientIds: [config.auth.extensionClientId],
  });
  const resourceTokens = config.auth.backendClientSecret
    ? new ResourceTokenClient({ tokenUrl: `${config.auth.issuer}oauth/token`, clientId: config.auth.backendClientId, clientSecret: config.auth.backendClientSecret })
    : undefined;
  const tokenVault = config.auth.backendClientSecret
    ? new TokenVaultClient({ tokenUrl: `${config.auth.issuer}oauth/token`, clientId: config.auth.backendClientId, clientSecret: config.auth.backendClientSecret })
    : undefined;
  const knowledge = config.fga.apiUrl ? await startKnowledge(store.db, config, log) : undefined;
  const approvalStore = new ApprovalStore(store.db);
  const audit = new AuditLog(store.db);
  const approvals = config.auth.backendClientSecret
    ? new ApprovalService({
        ciba: new CibaClient({ issuer: config.auth.issuer, clientId: config.auth.backendClientId, clientSecret: config.auth.backendClientSecret }),
        store: approvalStore,
        audit,
        requestedExpirySeconds: config.approvals.requestedExpirySeconds,
        log,
      })
    : undefined;
  const runs = new RunManager({
    threads,
    runs: runStore,
    model: createModelClient(config.model),
    modelName: config.model.name,
    tools: allowedTools([...projectTools(config.projectsApiUrl), ...thirdPartyTools(config.providers), ...(knowledge?.tools ?? [])], config, log),
    limits: { ...DEFAULT_LIMITS, approvalTiers: config.toolPolicy.approvalTiers },
    resourceTokens,
    tokenVault,
    approvals,
    audit,
    apiAudience: config.auth.audience,
    log,
  });
  approvals?.start();
  const app = createApp({ config, verify, threads, runStore, runs, tokenVault, approvals: approvalStore, audit, knowledge: knowledge?.kb, log });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${config.host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      });
      await approvals?.stop();
      await runs.drain();
      await store.close();
    },
  };
}

/** The organization's tool policy (DEPUTY_ALLOWED_TOOLS / DEPUTY_ALLOWED_CONNECTIONS) applied to the declared tools. */
function allowedTools<T extends { name: string; connection?: { name: string } }>(all: T[], config: BackendConfig, log: (line: string) => void): T[] {
  const { tools, unknownNames } = applyToolPolicy(all, config.toolPolicy);
  if (unknownNames.length) log(`DEPUTY_ALLOWED_TOOLS names tools that do not exist: ${unknownNames.join(', ')}`);
  return tools;
}
