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
import { ThreadStore } from './store/threads';

export interface RunningBackend {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startBackend(config: BackendConfig, log: (line: string) => void = () => {}): Promise<RunningBackend> {
  const store = await openStore({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
  const threads = new ThreadStore(store.db);
  const verify = createAccessTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    requireAtJwtTyp: config.auth.requireAtJwtTyp,
    allowedClientIds: [config.auth.extensionClientId],
  });
  const runs = new RunManager(threads, createModelClient(config.model), config.model.name);
  const app = createApp({ config, verify, threads, runs, log });

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
      await runs.drain();
      await store.close();
    },
  };
}
