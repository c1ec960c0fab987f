/**
 * `npm run fga:bootstrap`: writes Deputy's authorization model (`backend/src/knowledge/authorization-model.fga`) to an
 * OpenFGA or Auth0 FGA store, through the same `ensureFgaStore()` the backend uses. Idempotent: it finds the store by
 * name (or uses FGA_STORE_ID), and writes a new model version only when the latest one differs from the file (FGA
 * models are immutable versions, so nothing already there is changed or lost). Prints the backend's FGA_* variables.
 *
 *   OpenFGA:    FGA_API_URL=http://openfga:8080 [FGA_API_TOKEN=...] [FGA_STORE_NAME=deputy]
 *   Auth0 FGA:  FGA_API_URL=https://api.us1.fga.dev FGA_STORE_ID=... FGA_CLIENT_ID=... FGA_CLIENT_SECRET=...
 *               FGA_API_TOKEN_ISSUER=auth.fga.dev FGA_API_AUDIENCE=https://api.us1.fga.dev/
 */
import { loadConfig } from '../backend/src/config';
import { DEFAULT_STORE_NAME, ensureFgaStore, type FgaStoreInfo } from '../backend/src/knowledge/fga-setup';

export async function runFgaBootstrap(env: Record<string, string | undefined>, print: (line: string) => void = console.log): Promise<FgaStoreInfo> {
  const { fga } = loadConfig({ ...env, FGA_MODEL_ID: undefined });
  if (!fga.apiUrl) throw new Error('Set FGA_API_URL (your OpenFGA server, or https://api.<region>.fga.dev for Auth0 FGA).');
  const storeName = env.FGA_STORE_NAME ?? DEFAULT_STORE_NAME;
  const info = await ensureFgaStore({ ...fga, apiUrl: fga.apiUrl, modelId: undefined, storeName });
  print(info.createdStore ? `Created store "${storeName}" (${info.storeId}).` : `Store ${info.storeId} is there.`);
  print(info.wroteModel ? `Wrote the authorization model: ${info.modelId}.` : `The latest model already matches authorization-model.fga: ${info.modelId}.`);
  print('');
  print('Backend environment:');
  print(`  FGA_API_URL=${fga.apiUrl}`);
  print(`  FGA_STORE_ID=${info.storeId}`);
  print(`  FGA_MODEL_ID=${info.modelId}`);
  return info;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runFgaBootstrap(process.env).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
