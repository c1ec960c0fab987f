/**
 * `npm run fga:bootstrap [-- --apply]`: writes Deputy's authorization model
 * (`backend/src/knowledge/authorization-model.fga`) to an OpenFGA or Auth0 FGA store, through the same
 * `ensureFgaStore()` the backend uses. It reads first and prints the plan (create the store? write a new model
 * version?); only `--apply` changes anything. Idempotent: a model is written only when the latest one differs from the
 * file, and FGA models are immutable versions, so nothing already there is changed or lost. Prints the backend's FGA_*.
 *
 *   OpenFGA:    FGA_API_URL=http://openfga:8080 [FGA_API_TOKEN=...] [FGA_STORE_NAME=deputy]
 *   Auth0 FGA:  FGA_API_URL=https://api.us1.fga.dev FGA_STORE_ID=... FGA_CLIENT_ID=... FGA_CLIENT_SECRET=...
 *               FGA_API_TOKEN_ISSUER=auth.fga.dev FGA_API_AUDIENCE=https://api.us1.fga.dev/
 */
import { type FgaSettings, loadConfig } from '../backend/src/config';
import { authorizationModel, DEFAULT_STORE_NAME, ensureFgaStore, findStore, type FgaStoreInfo, latestModel, openFgaSdk, sameModel } from '../backend/src/knowledge/fga-setup';

export interface FgaPlan {
  store: { id?: string; name: string; create: boolean };
  /** The latest model's id, when there is one. */
  latestModelId?: string;
  writeModel: boolean;
}

export async function planFga(fga: FgaSettings & { apiUrl: string }, storeName: string): Promise<FgaPlan> {
  let storeId = fga.storeId;
  if (storeId) {
    await openFgaSdk(fga, storeId).getStore(); // a wrong FGA_STORE_ID stops here, before anything is written
  } else {
    storeId = await findStore(openFgaSdk(fga), storeName);
  }
  if (!storeId) return { store: { name: storeName, create: true }, writeModel: true };
  const latest = await latestModel(openFgaSdk(fga, storeId));
  const same = latest !== undefined && sameModel(latest, authorizationModel());
  return { store: { id: storeId, name: storeName, create: false }, latestModelId: latest?.id, writeModel: !same };
}

export async function runFgaBootstrap(
  env: Record<string, string | undefined>,
  opts: { apply: boolean; print?: (line: string) => void } = { apply: false },
): Promise<{ plan: FgaPlan; info?: FgaStoreInfo }> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const { fga } = loadConfig({ ...env, FGA_MODEL_ID: undefined });
  if (!fga.apiUrl) throw new Error('Set FGA_API_URL (your OpenFGA server, or https://api.<region>.fga.dev for Auth0 FGA).');
  const settings = { ...fga, apiUrl: fga.apiUrl, modelId: undefined };
  const storeName = env.FGA_STORE_NAME ?? DEFAULT_STORE_NAME;

  const plan = await planFga(settings, storeName);
  print(`Plan for ${fga.apiUrl}:`);
  if (plan.store.create) print(`  + create store "${storeName}"`);
  print(plan.writeModel ? '  + write authorization-model.fga as a new model version' : `  Nothing to change: the latest model (${plan.latestModelId}) matches authorization-model.fga.`);
  const changes = plan.store.create || plan.writeModel;
  if (changes && !opts.apply) {
    print('Nothing was changed. Run again with --apply to make these changes.');
    if (plan.store.id) print(`  FGA_STORE_ID=${plan.store.id}`);
    return { plan };
  }
  const info = await ensureFgaStore({ ...settings, storeId: plan.store.id, storeName });
  if (info.createdStore) print(`Created store "${storeName}" (${info.storeId}).`);
  if (info.wroteModel) print(`Wrote the authorization model: ${info.modelId}.`);
  print('');
  print('Backend environment:');
  print(`  FGA_API_URL=${fga.apiUrl}`);
  print(`  FGA_STORE_ID=${info.storeId}`);
  print(`  FGA_MODEL_ID=${info.modelId}`);
  return { plan, info };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runFgaBootstrap(process.env, { apply: process.argv.includes('--apply') }).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
