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

describe('fga:bootstrap', () => {
  it('creates the store and writes the model on the first run, and changes nothing on the second', async () => {
    const lines: string[] = [];
    const first = await runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_NAME: 'deputy-bootstrap-test' }, (l) => lines.push(l));
    expect(first).toMatchObject({ createdStore: true, wroteModel: true });
    expect(lines).toContain(`  FGA_STORE_ID=${first.storeId}`);

    const sdk = new OpenFgaClient({ apiUrl: fga.url, storeId: first.storeId });
    const latest = (await sdk.readLatestAuthorizationModel()).authorization_model!;
    expect(latest.id).toBe(first.modelId);
    expect(latest.type_definitions.map((t) => t.type).sort()).toEqual(authorizationModel().type_definitions.map((t) => t.type).sort());

    const second = await runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_NAME: 'deputy-bootstrap-test' }, () => {});
    expect(second).toEqual({ storeId: first.storeId, modelId: first.modelId, createdStore: false, wroteModel: false });
    expect((await sdk.readAuthorizationModels()).authorization_models).toHaveLength(1);
  });

  it('writes the model into a given store (Auth0 FGA: the store is created in its dashboard)', async () => {
    const sdk = new OpenFgaClient({ apiUrl: fga.url });
    const { id } = await sdk.createStore({ name: 'made-elsewhere' });
    const info = await runFgaBootstrap({ FGA_API_URL: fga.url, FGA_STORE_ID: id, FGA_MODEL_ID: 'ignored-here' }, () => {});
    expect(info).toMatchObject({ storeId: id, createdStore: false, wroteModel: true });
  });

  it('says what is missing instead of failing obscurely', async () => {
    await expect(runFgaBootstrap({}, () => {})).rejects.toThrow(/Set FGA_API_URL/);
  });
});
