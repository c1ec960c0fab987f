/**
 * The OpenFGA-compatible server as an `@openfga/sdk` caller meets it: stores, models, writes with OpenFGA's
 * conflict options and all-or-nothing semantics, Check / BatchCheck / ListObjects / ListUsers over groups, folders,
 * wildcards, exclusions, contextual tuples and conditions, OpenFGA's error codes for bad input, and a restart that
 * keeps everything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type FgaApiError,
  OpenFgaClient,
  WriteRequestDeletesOnMissing,
  WriteRequestWritesOnDuplicate,
} from '@openfga/sdk';
import { transformer } from '@openfga/syntax-transformer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FgaServer, startFgaServer } from '../../backend/emulators/fga/server';

const MODEL = `model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define owner: [user]
    define viewer: [user, user:*, group#member] or owner
type document
  relations
    define parent: [folder]
    define blocked: [user]
    define owner: [user]
    define viewer: ([user, group#member, user with office_hours] or owner or viewer from parent) but not blocked
condition office_hours(hour: int, start: int, end: int) {
  hour >= start && hour < end
}
`;

const model = () => transformer.transformDSLToJSONObject(MODEL) as never;

/** The API error code of a rejected SDK call (fails the test if the call succeeded). */
async function errorOf(p: Promise<unknown>): Promise<{ status?: number; code?: string; message?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as FgaApiError & { apiErrorCode?: string; apiErrorMessage?: string };
    return { status: e.statusCode, code: e.apiErrorCode, message: e.apiErrorMessage };
  }
  throw new Error('expected the call to fail');
}

describe('OpenFGA-compatible server through @openfga/sdk', () => {
  let dataDir: string;
  let server: FgaServer;
  let fga: OpenFgaClient;
  let modelId: string;
  /** Requests the server could only answer through its catch-all (a validation gap): there must be none. */
  const unexpected: string[] = [];
  const log = (line: string) => {
    if (line.includes('unexpected error')) unexpected.push(line);
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-fga-'));
    server = await startFgaServer({ port: 0, dataDir, log });
    fga = new OpenFgaClient({ apiUrl: server.url });
    const store = await fga.createStore({ name: 'deputy-test' });
    fga.storeId = store.id;
    modelId = (await fga.writeAuthorizationModel(model())).authorization_model_id;
    await fga.write({
      writes: [
        { user: 'user:anne', relation: 'member', object: 'group:eng' },
        { user: 'group:eng#member', relation: 'member', object: 'group:staff' },
        { user: 'group:staff#member', relation: 'viewer', object: 'folder:handbook' },
        { user: 'user:*', relation: 'viewer', object: 'folder:public' },
        { user: 'user:carol', relation: 'owner', object: 'folder:private' },
        { user: 'folder:handbook', relation: 'parent', object: 'document:onboarding' },
        { user: 'folder:public', relation: 'parent', object: 'document:press' },
        { user: 'folder:private', relation: 'parent', object: 'document:salaries' },
        { user: 'folder:handbook', relation: 'parent', object: 'document:secret-plan' },
        { user: 'user:anne', relation: 'blocked', object: 'document:secret-plan' },
        { user: 'user:bob', relation: 'viewer', object: 'document:rota', condition: { name: 'office_hours', context: { start: 9, end: 17 } } },
      ],
    });
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates, lists with pagination, reads and deletes stores', async () => {
    const admin = new OpenFgaClient({ apiUrl: server.url });
    const a = await admin.createStore({ name: 'store-a' });
    const b = await admin.createStore({ name: 'store-b' });
    expect(a.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const first = await admin.listStores({ pageSize: 2 });
    expect(first.stores).toHaveLength(2);
    expect(first.continuation_token).not.toBe('');
    const rest = await admin.listStores({ pageSize: 2, continuationToken: first.continuation_token });
    const names = [...first.stores, ...rest.stores].map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['deputy-test', 'store-a', 'store-b']));
    expect((await admin.getStore({ storeId: b.id })).name).toBe('store-b');
    await admin.deleteStore({ storeId: b.id });
    expect(await errorOf(admin.getStore({ storeId: b.id }))).toMatchObject({ status: 404, code: 'store_id_not_found' });
  });

  it('keeps models, serves the latest by default and rejects invalid ones like OpenFGA', async () => {
    const listed = await fga.readAuthorizationModels();
    expect(listed.authorization_models[0].id).toBe(modelId);
    expect((await fga.readLatestAuthorizationModel()).authorization_model?.id).toBe(modelId);
    const read = await fga.readAuthorizationModel({ authorizationModelId: modelId });
    expect(read.authorization_model?.type_definitions.map((t) => t.type)).toEqual(['user', 'group', 'folder', 'document']);
    const bad = { schema_version: '1.1', type_definitions: [{ type: 'document', relations: { viewer: { computedUserset: { relation: 'editor' } } } }] };
    expect(await errorOf(fga.writeAuthorizationModel(bad as never))).toMatchObject({ status: 400, code: 'invalid_authorization_model' });
    const undefinedType = {
      schema_version: '1.1',
      type_definitions: [{ type: 'document', relations: { viewer: { this: {} } }, metadata: { relations: { viewer: { directly_related_user_types: [{ type: 'user' }] } } } }],
    };
    expect(await errorOf(fga.writeAuthorizationModel(undefinedType as never))).toMatchObject({ code: 'invalid_authorization_model' });
    await fga.writeAssertions([{ user: 'user:anne', relation: 'viewer', object: 'document:onboarding', expectation: true }], { authorizationModelId: modelId });
    const assertions = await fga.readAssertions({ authorizationModelId: modelId });
    expect(assertions.assertions?.[0]).toMatchObject({ tuple_key: { object: 'document:onboarding' }, expectation: true });
    expect(await errorOf(fga.check({ user: 'user:anne', relation: 'viewer', object: 'document:press' }, { authorizationModelId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }))).toMatchObject({
      status: 400,
      code: 'authorization_model_not_found',
    });
  });

  it('answers checks through nested groups, folders, wildcards and exclusions', async () => {
    const allowed = async (user: string, object: string) => (await fga.check({ user, relation: 'viewer', object })).allowed;
    expect(await allowed('user:anne', 'document:onboarding')).toBe(true); // anne -> eng -> staff -> handbook folder
    expect(await allowed('user:zed', 'document:press')).toBe(true); // public folder: user:*
    expect(await allowed('user:anne', 'document:salaries')).toBe(false);
    expect(await allowed('user:carol', 'document:salaries')).toBe(true); // owner of the folder
    expect(await allowed('user:anne', 'document:secret-plan')).toBe(false); // blocked wins over the folder
    expect(await allowed('group:eng#member', 'document:onboarding')).toBe(true); // a userset as the subject
  });

  it('lists objects and users', async () => {
    const { objects } = await fga.listObjects({ user: 'user:anne', relation: 'viewer', type: 'document' });
    expect(objects.sort()).toEqual(['document:onboarding', 'document:press']);
    const users = await fga.listUsers({ object: { type: 'folder', id: 'handbook' }, relation: 'viewer', user_filters: [{ type: 'user' }] });
    expect(users.users).toEqual([{ object: { type: 'user', id: 'anne' } }]);
    const usersets = await fga.listUsers({ object: { type: 'folder', id: 'handbook' }, relation: 'viewer', user_filters: [{ type: 'group', relation: 'member' }] });
    expect(usersets.users.map((u) => u.userset?.id).sort()).toEqual(['eng', 'staff']);
    const pub = await fga.listUsers({ object: { type: 'folder', id: 'public' }, relation: 'viewer', user_filters: [{ type: 'user' }] });
    expect(pub.users).toEqual([{ wildcard: { type: 'user' } }]);
  });

  it('caps ListObjects at 1000 like OpenFGA and streams every object with StreamedListObjects', async () => {
    const shared = Array.from({ length: 1100 }, (_, i) => ({ user: 'folder:public', relation: 'parent', object: `document:bulk-${i}` }));
    for (let i = 0; i < shared.length; i += 100) await fga.write({ writes: shared.slice(i, i + 100) });
    expect(await errorOf(fga.write({ writes: shared.slice(0, 101).map((t) => ({ ...t, object: `${t.object}-x` })) }))).toMatchObject({ code: 'exceeded_entity_limit' });
    const capped = await fga.listObjects({ user: 'user:zed', relation: 'viewer', type: 'document' });
    expect(capped.objects).toHaveLength(1000);
    const streamed: string[] = [];
    for await (const o of fga.streamedListObjects({ user: 'user:zed', relation: 'viewer', type: 'document' })) streamed.push(o.object);
    expect(streamed).toHaveLength(1101); // the bulk documents and document:press
    expect(new Set(streamed).size).toBe(1101);
    for (let i = 0; i < shared.length; i += 100) await fga.write({ deletes: shared.slice(i, i + 100) });
    expect((await fga.check({ user: 'user:zed', relation: 'viewer', object: 'document:bulk-0' })).allowed).toBe(false);
    expect((await fga.listObjects({ user: 'user:zed', relation: 'viewer', type: 'document' })).objects).toEqual(['document:press']);
  });

  it('batch-checks with correlation ids', async () => {
    const { result } = await fga.batchCheck({
      checks: [
        { user: 'user:anne', relation: 'viewer', object: 'document:onboarding', correlationId: 'a' },
        { user: 'user:anne', relation: 'viewer', object: 'document:salaries', correlationId: 'b' },
        { user: 'user:anne', relation: 'nope', object: 'document:salaries', correlationId: 'c' },
      ],
    });
    const byId = Object.fromEntries(result.map((r) => [r.correlationId, r]));
    expect(byId.a.allowed).toBe(true);
    expect(byId.b.allowed).toBe(false);
    expect(byId.c.error?.input_error).toBe('validation_error');
  });

  it('uses contextual tuples for one request only', async () => {
    const contextualTuples = [{ user: 'user:dave', relation: 'member', object: 'group:eng' }];
    expect((await fga.check({ user: 'user:dave', relation: 'viewer', object: 'document:onboarding', contextualTuples })).allowed).toBe(true);
    expect((await fga.check({ user: 'user:dave', relation: 'viewer', object: 'document:onboarding' })).allowed).toBe(false);
    const listed = await fga.listObjects({ user: 'user:dave', relation: 'viewer', type: 'document', contextualTuples });
    expect(listed.objects.sort()).toEqual(['document:onboarding', 'document:press', 'document:secret-plan']); // only anne is blocked
    const invalid = [{ user: 'user:dave', relation: 'member', object: 'team:eng' }];
    expect(await errorOf(fga.check({ user: 'user:dave', relation: 'viewer', object: 'document:x', contextualTuples: invalid }))).toMatchObject({ code: 'invalid_tuple' });
  });

  it('evaluates a condition with the tuple context and the request context', async () => {
    const at = (hour: number) => fga.check({ user: 'user:bob', relation: 'viewer', object: 'document:rota', context: { hour } });
    expect((await at(10)).allowed).toBe(true);
    expect((await at(20)).allowed).toBe(false);
    const missing = await errorOf(fga.check({ user: 'user:bob', relation: 'viewer', object: 'document:rota' }));
    expect(missing).toMatchObject({ status: 400, code: 'validation_error' });
    expect(missing.message).toContain('hour');
    expect((await fga.listObjects({ user: 'user:bob', relation: 'viewer', type: 'document', context: { hour: 10 } })).objects).toContain('document:rota');
    expect((await fga.listObjects({ user: 'user:bob', relation: 'viewer', type: 'document', context: { hour: 3 } })).objects).not.toContain('document:rota');
  });

  it('honours on_duplicate / on_missing and writes all or nothing', async () => {
    const dup = [{ user: 'user:anne', relation: 'member', object: 'group:eng' }];
    expect(await errorOf(fga.write({ writes: dup }))).toMatchObject({ status: 400, code: 'write_failed_due_to_invalid_input' });
    await fga.write({ writes: dup }, { conflict: { onDuplicateWrites: WriteRequestWritesOnDuplicate.Ignore } });
    const gone = [{ user: 'user:nobody', relation: 'member', object: 'group:eng' }];
    expect(await errorOf(fga.write({ deletes: gone }))).toMatchObject({ code: 'write_failed_due_to_invalid_input' });
    await fga.write({ deletes: gone }, { conflict: { onMissingDeletes: WriteRequestDeletesOnMissing.Ignore } });

    const mixed = [
      { user: 'user:erin', relation: 'member', object: 'group:eng' },
      { user: 'user:erin', relation: 'member', object: 'group:eng' },
    ];
    expect(await errorOf(fga.write({ writes: mixed }))).toMatchObject({ code: 'cannot_allow_duplicate_tuples_in_one_request' });
    const halfBad = [
      { user: 'user:erin', relation: 'member', object: 'group:eng' },
      { user: 'user:erin', relation: 'owner', object: 'group:eng' },
    ];
    expect(await errorOf(fga.write({ writes: halfBad }))).toMatchObject({ status: 400, code: 'validation_error' });
    expect((await fga.read({ object: 'group:eng', relation: 'member', user: 'user:erin' })).tuples).toHaveLength(0);
  });

  it('rejects bad input with OpenFGA error codes, never a 5xx', async () => {
    const unknownStore = new OpenFgaClient({ apiUrl: server.url, storeId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(await errorOf(unknownStore.check({ user: 'user:anne', relation: 'viewer', object: 'document:press' }))).toMatchObject({ status: 404, code: 'store_id_not_found' });
    expect(await errorOf(fga.write({ writes: [{ user: 'user:anne', relation: 'viewer', object: 'robot:x' }] }))).toMatchObject({ code: 'validation_error' });
    expect(await errorOf(fga.write({ writes: [{ user: 'group:eng', relation: 'viewer', object: 'document:x' }] }))).toMatchObject({ code: 'validation_error' });
    expect(await errorOf(fga.listObjects({ user: 'user:anne', relation: 'viewer', type: 'robot' }))).toMatchObject({ code: 'type_not_found' });
    expect(await errorOf(fga.listObjects({ user: 'user:anne', relation: 'editor', type: 'document' }))).toMatchObject({ code: 'relation_not_found' });
    expect(await errorOf(fga.check({ user: 'a:b:c', relation: 'viewer', object: 'document:press' }))).toMatchObject({ code: 'validation_error' });

    const raw = (p: string, body: string) => fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await raw(`/stores/${fga.storeId}/check`, '{"tuple_key": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'validation_error' });
    const notObject = await raw(`/stores/${fga.storeId}/write`, '[1,2]');
    expect(notObject.status).toBe(400);
    const wrongShape = await raw(`/stores/${fga.storeId}/list-users`, JSON.stringify({ object: 'document:1', relation: 'viewer', user_filters: 'user' }));
    expect(wrongShape.status).toBe(400);
    const unknownRoute = await fetch(`${server.url}/nope`);
    expect(unknownRoute.status).toBe(404);
  });

  it('answers random and mutated bodies on every route with an OpenFGA error or a result, never a 5xx', async () => {
    const store = fga.storeId!;
    const routes: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/stores', { name: 'fuzzed' }],
      ['POST', `/stores/${store}/authorization-models`, model() as Record<string, unknown>],
      ['POST', `/stores/${store}/write`, { writes: { tuple_keys: [{ user: 'user:x', relation: 'member', object: 'group:fuzz' }], on_duplicate: 'ignore' } }],
      ['POST', `/stores/${store}/read`, { tuple_key: { object: 'group:eng' }, page_size: 5 }],
      ['POST', `/stores/${store}/changes`, { type: 'group', page_size: 5 }],
      ['POST', `/stores/${store}/check`, { tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, context: { hour: 3 } }],
      ['POST', `/stores/${store}/batch-check`, { checks: [{ tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, correlation_id: 'x' }] }],
      ['POST', `/stores/${store}/list-objects`, { user: 'user:anne', relation: 'viewer', type: 'document' }],
      ['POST', `/stores/${store}/list-users`, { object: { type: 'document', id: 'press' }, relation: 'viewer', user_filters: [{ type: 'user' }] }],
      ['POST', `/stores/${store}/expand`, { tuple_key: { relation: 'viewer', object: 'document:press' } }],
      ['PUT', `/stores/${store}/assertions/${modelId}`, { assertions: [{ tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, expectation: true }] }],
    ];
    // Values that break naive coercion (`${x}`, Number(x)) or prototype lookups, besides random JSON.
    const nasty = fc.constantFrom<unknown>({ toString: 1 }, { valueOf: {} }, JSON.parse('{"__proto__": {"x": 1}}'), [[]], '', ' ', '\u0000', -1, 1e21, 0.5);
    const value = fc.oneof(fc.jsonValue(), nasty);
    const mutate = (sample: Record<string, unknown>) =>
      fc.oneof(
        value,
        fc.record({ key: fc.constantFrom(...Object.keys(sample)), value }).map(({ key, value: v }) => ({ ...sample, [key]: v })),
        fc.constantFrom(...Object.keys(sample)).map((key) => Object.fromEntries(Object.entries(sample).filter(([k]) => k !== key))),
      );
    for (const [method, p, sample] of routes) {
      await fc.assert(
        fc.asyncProperty(mutate(sample), async (body) => {
          const res = await fetch(`${server.url}${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          expect(res.status, `${method} ${p} ${JSON.stringify(body)}`).toBeLessThan(500);
          if (res.status >= 400) expect(await res.json()).toMatchObject({ code: expect.any(String), message: expect.any(String) });
          else await res.arrayBuffer();
        }),
        { numRuns: Number(process.env.FGA_FUZZ_RUNS ?? 40) },
      );
    }
    expect(unexpected).toEqual([]);
  });

  it('reports too-deep resolution like OpenFGA', async () => {
    const chain = Array.from({ length: 30 }, (_, i) => ({ user: `group:g${i + 1}#member`, relation: 'member', object: `group:g${i}` }));
    await fga.write({ writes: [...chain, { user: 'user:deep', relation: 'member', object: 'group:g30' }] });
    expect(await errorOf(fga.check({ user: 'user:deep', relation: 'member', object: 'group:g0' }))).toMatchObject({
      status: 400,
      code: 'authorization_model_resolution_too_complex',
    });
    expect((await fga.check({ user: 'user:deep', relation: 'member', object: 'group:g10' })).allowed).toBe(true);
  });

  it('reads tuples page by page and keeps everything across a restart', async () => {
    const page1 = await fga.read({ object: 'document:', user: 'folder:handbook' }, { pageSize: 1 });
    expect(page1.tuples).toHaveLength(1);
    const page2 = await fga.read({ object: 'document:', user: 'folder:handbook' }, { pageSize: 1, continuationToken: page1.continuation_token });
    expect([page1.tuples[0].key.object, page2.tuples[0].key.object].sort()).toEqual(['document:onboarding', 'document:secret-plan']);

    await server.close();
    server = await startFgaServer({ port: 0, dataDir });
    const again = new OpenFgaClient({ apiUrl: server.url, storeId: fga.storeId });
    expect((await again.readLatestAuthorizationModel()).authorization_model?.id).toBe(modelId);
    expect((await again.check({ user: 'user:anne', relation: 'viewer', object: 'document:onboarding' })).allowed).toBe(true);
    expect((await again.check({ user: 'user:bob', relation: 'viewer', object: 'document:rota', context: { hour: 10 } })).allowed).toBe(true);
    const changes = await again.readChanges({ type: 'group' });
    expect(changes.changes.length).toBeGreaterThan(0);
    expect(changes.changes.every((c) => c.tuple_key.object.startsWith('group:'))).toBe(true);
  });
});
