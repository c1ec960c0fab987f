/** `npm run fga:bootstrap` against the OpenFGA-compatible emulator (a real HTTP server speaking OpenFGA's API). */
import { OpenFgaClient } from '@openfga/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFgaServer, type FgaServer } from '../../backend/emulators/fga/server';
import { authorizationModel } from '../../backend/src/knowledge/fga-setup';
import { runFgaBootstrap } from '../../scripts/fga-bootstrap';

let fga: FgaServer;
beforeAll(async () => {
  fga = await startFgaServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await fga.close();
});

const storeNamed = async (name: string) => (await new OpenFgaClient({ apiUrl: fga.url }).listStores()).stores?.filter((s) => s.name === name) ?? [];

describe('fga:bootstrap', () => {
  it('shows the plan and changes nothing without --apply', async () => {
    const lines: string[] = [];
    const r = await runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_NAME: 'deputy-plan-only' }, { apply: false, print: (l) => lines.push(l) });
    expect(r.plan).toMatchObject({ store: { create: true }, writeModel: true });
    expect(r.info).toBeUndefined();
    expect(lines.join('\n')).toMatch(/\+ create store "deputy-plan-only"[\s\S]*Run again with --apply/);
    expect(await storeNamed('deputy-plan-only')).toEqual([]);
  });

  it('creates the store and writes the model with --apply, and changes nothing on the second run', async () => {
    const lines: string[] = [];
    const env = { FGA_API_URL: fga.url, FGA_STORE_NAME: 'deputy-bootstrap-test' };
    const first = (await runFgaBootstrap(env, { apply: true, print: (l) => lines.push(l) })).info!;
    expect(first).toMatchObject({ createdStore: true, wroteModel: true });
    expect(lines).toContain(`  FGA_STORE_ID=${first.storeId}`);

    const sdk = new OpenFgaClient({ apiUrl: fga.url, storeId: first.storeId });
    const latest = (await sdk.readLatestAuthorizationModel()).authorization_model!;
    expect(latest.id).toBe(first.modelId);
    expect(latest.type_definitions.map((t) => t.type).sort()).toEqual(authorizationModel().type_definitions.map((t) => t.type).sort());

    const again: string[] = [];
    const second = await runFgaBootstrap(env, { apply: true, print: (l) => again.push(l) });
    expect(second.plan).toMatchObject({ store: { id: first.storeId, create: false }, writeModel: false, latestModelId: first.modelId });
    expect(second.info).toEqual({ storeId: first.storeId, modelId: first.modelId, createdStore: false, wroteModel: false });
    expect(again.join('\n')).toMatch(/Nothing to change/);
    expect((await sdk.readAuthorizationModels()).authorization_models).toHaveLength(1);
    expect(await storeNamed('deputy-bootstrap-test')).toHaveLength(1);
  });

  it('writes the model into a given store (Auth0 FGA: the store is created in its dashboard), and refuses an unknown one', async () => {
    const { id } = await new OpenFgaClient({ apiUrl: fga.url }).createStore({ name: 'made-elsewhere' });
    const { info } = await runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_ID: id, FGA_MODEL_ID: 'ignored-here' }, { apply: true, print: () => {} });
    expect(info).toMatchObject({ storeId: id, createdStore: false, wroteModel: true });
    await expect(runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_ID: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }, { apply: true, print: () => {} })).rejects.toThrow();
  });

  it('says what is missing instead of failing obscurely', async () => {
    await expect(runFgaBootstrap({}, { apply: true, print: () => {} })).rejects.toThrow(/Set FGA_API_URL/);
  });
});
