/**
 * `npm run dev:stack`: only the local stack (IdP, model, Projects API, backend), for working on the extension with
 * `wxt dev`, and for tests that kill and restart the backend process. Prints one JSON line when ready.
 */
import path from 'node:path';
import { startStack } from '../backend/src/stack';

const port = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const dataDir = path.resolve(process.env.DATA_DIR ?? '.deputy');
const stack = await startStack({
  dataDir,
  env: process.env,
  ports: { backend: port('PORT'), idp: port('IDP_PORT'), model: port('MODEL_PORT'), projects: port('PROJECTS_PORT') },
  modelChunkDelayMs: port('MODEL_CHUNK_DELAY_MS'),
  accessTokenTtlSeconds: port('ACCESS_TOKEN_TTL_SECONDS'),
  log: (l) => console.error(l),
});
console.log(JSON.stringify({ backendUrl: stack.backendUrl, idpUrl: stack.idpUrl, modelUrl: stack.modelUrl, projectsUrl: stack.projectsUrl }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.close().then(() => process.exit(0)));
