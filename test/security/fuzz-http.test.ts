/**
 * Property-based fuzzing of every HTTP endpoint in routes.ts (the backend and every emulator) with fast-check:
 * malformed JSON, wrong types, missing and extra fields, huge bodies, deep nesting, odd Unicode, wrong content
 * types and methods, with and without valid tokens. Every answer must be below 500, in the service's own error shape
 * when it is an error, without a stack trace, a server path or a secret; every service must still answer afterwards,
 * and Bob's data (as Bob sees it) must be exactly what it was. FUZZ_RUNS scales the number of cases per route.
 */
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuzzWorld, type FuzzWorld } from './fuzz-world';
import { fuzzCase, send, toRequest, violation } from './fuzz-requests';
import { ROUTES, type RouteSpec } from './routes';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const HEALTH: Record<string, string> = {
  backend: '/healthz',
  idp: '/.well-known/openid-configuration',
  model: '/v1/models',
  projects: '/projects',
  providers: '/_emulator/requests',
  fga: '/stores',
};

let world: FuzzWorld;
let bobBefore: unknown;

beforeAll(async () => {
  world = await startFuzzWorld();
  bobBefore = await world.snapshotBob();
}, 180_000);
afterAll(async () => {
  await world?.close();
});

const services = [...new Set(ROUTES.map((r) => r.service))];
const label = (r: RouteSpec) => `${r.method} ${r.path}${r.body ? ` (${r.body.type}: ${Object.keys(r.body.sample).join(', ')})` : ''}${r.auth !== 'none' ? ` [${r.auth}]` : ''}`;

describe.each(services)('fuzzing the %s', (service) => {
  it.each(ROUTES.filter((r) => r.service === service).map((r) => [label(r), r] as const))('%s: never a 5xx, a stack trace or a leaked secret; errors in its own shape', async (_name, route) => {
    await fc.assert(
      fc.asyncProperty(fuzzCase(route), async (c) => {
        const { url, init } = toRequest(world, route, c);
        const out = await send(url, init, route.stream ?? false);
        // A method the route does not have gets the router's own 404/405: only the shape of our own API is checked then.
        const shape = c.method === route.method || route.errors === 'problem' ? route.errors : 'any';
        const why = violation(out, shape, world.secrets(), REPO_ROOT);
        if (why) throw new Error(`${init.method} ${url.slice(0, 200)} → ${why}`);
      }),
      { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    );
  });

  it(`the ${service} still answers afterwards, and Bob's data everywhere is unchanged`, async () => {
    const res = await fetch(world.urls[service]! + HEALTH[service]!, {
      headers: service === 'projects' ? { authorization: `Bearer ${world.credential('projects')}` } : {},
    });
    expect(res.status).toBe(200);
    const after = (await world.snapshotBob()) as Record<string, unknown>;
    const before = bobBefore as Record<string, unknown>;
    const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (changed.length) throw new Error(`Bob’s data changed:\n${changed.map((k) => `${k}: ${JSON.stringify(before[k]).slice(0, 600)}\n → ${JSON.stringify(after[k]).slice(0, 600)}`).join("\n")}`);
  });
});
