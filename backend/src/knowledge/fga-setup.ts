/**
 * Makes FGA ready for the knowledge base: finds (or creates) the store and writes the authorization model when the
 * latest one differs from `authorization-model.fga`. Idempotent; `npm run fga:bootstrap` and the stack both call it.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OpenFgaClient } from '@openfga/sdk';
import { transformer } from '@openfga/syntax-transformer';
import type { FgaSettings } from '../config';
import { credentialsFor, FgaClient, fgaUser } from './fga-client';

export const DEFAULT_STORE_NAME = 'deputy';
const MODEL_FILE = fileURLToPath(new URL('./authorization-model.fga', import.meta.url));

/** The authorization model as the API takes it (JSON), from the DSL file. */
export function authorizationModel(): ReturnType<typeof transformer.transformDSLToJSONObject> {
  return transformer.transformDSLToJSONObject(fs.readFileSync(MODEL_FILE, 'utf8'));
}

export interface FgaStoreInfo {
  storeId: string;
  modelId: string;
  createdStore: boolean;
  wroteModel: boolean;
}

/** The OpenFGA SDK for these settings (an API token, or client credentials for Auth0 FGA). */
export function openFgaSdk(settings: FgaSettings & { apiUrl: string }, storeId?: string): OpenFgaClient {
  return new OpenFgaClient({
    apiUrl: settings.apiUrl,
    storeId,
    credentials: credentialsFor(settings),
  });
}

type StoredModel = { id: string; schema_version: string; type_definitions: unknown; conditions?: unknown };

/** The store's latest model, or undefined when it has none yet. */
export async function latestModel(inStore: OpenFgaClient): Promise<StoredModel | undefined> {
  try {
    return (await inStore.readLatestAuthorizationModel()).authorization_model;
  } catch {
    return undefined;
  }
}

export async function ensureFgaStore(settings: FgaSettings & { apiUrl: string; storeName?: string }): Promise<FgaStoreInfo> {
  const sdk = openFgaSdk(settings);
  let storeId = settings.storeId;
  let createdStore = false;
  if (!storeId) {
    const name = settings.storeName ?? DEFAULT_STORE_NAME;
    storeId = await findStore(sdk, name);
    if (!storeId) {
      storeId = (await sdk.createStore({ name })).id;
      createdStore = true;
    }
  }
  if (settings.modelId) return { storeId, modelId: settings.modelId, createdStore, wroteModel: false };
  const model = authorizationModel();
  const inStore = openFgaSdk(settings, storeId);
  const latest = await latestModel(inStore);
  if (latest && sameModel(latest, model)) return { storeId, modelId: latest.id, createdStore, wroteModel: false };
  const written = await inStore.writeAuthorizationModel(model);
  return { storeId, modelId: written.authorization_model_id, createdStore, wroteModel: true };
}

/** The id of the first store with this name, across all pages. */
export async function findStore(sdk: OpenFgaClient, name: string): Promise<string | undefined> {
  let continuationToken: string | undefined;
  do {
    const page = await sdk.listStores({ pageSize: 100, continuationToken });
    const hit = page.stores?.find((s) => s.name === name);
    if (hit) return hit.id;
    continuationToken = page.continuation_token || undefined;
  } while (continuationToken);
  return undefined;
}

/** Do two models say the same thing (ids and echoed metadata aside)? */
export function sameModel(a: { schema_version: string; type_definitions: unknown; conditions?: unknown }, b: { schema_version: string; type_definitions: unknown; conditions?: unknown }) {
  return canonical({ s: a.schema_version, t: a.type_definitions, c: a.conditions ?? {} }) === canonical({ s: b.schema_version, t: b.type_definitions, c: b.conditions ?? {} });
}

/** JSON with sorted keys, nulls and empty objects dropped (servers differ in how they echo absent metadata). */
function canonical(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const val = norm((x as Record<string, unknown>)[k]);
        if (val === null || val === undefined || (typeof val === 'object' && !Array.isArray(val) && Object.keys(val as object).length === 0)) continue;
        out[k] = val;
      }
      return out;
    }
    return x;
  };
  return JSON.stringify(norm(v));
}

/** An `FgaClient` for the store and model `ensureFgaStore` settled on. */
export async function connectFga(settings: FgaSettings & { apiUrl: string; storeName?: string }): Promise<{ fga: FgaClient; info: FgaStoreInfo }> {
  const info = await ensureFgaStore(settings);
  return { fga: new FgaClient({ ...settings, apiUrl: settings.apiUrl, storeId: info.storeId, modelId: info.modelId }), info };
}

/**
 * Demo data, not product logic: everyone is in `organization:deputy`; alice and bob are in `group:engineering`.
 */
export async function seedDemoOrganisation(fga: FgaClient, users: Array<{ sub: string; username: string }>): Promise<void> {
  const writes = users.map((u) => ({ user: fgaUser(u.sub), relation: 'member', object: 'organization:deputy' }));
  for (const u of users.filter((x) => x.username === 'alice' || x.username === 'bob')) {
    writes.push({ user: fgaUser(u.sub), relation: 'member', object: 'group:engineering' });
  }
  await fga.write(writes);
}
