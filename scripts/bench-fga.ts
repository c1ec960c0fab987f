/**
 * Load and latency of the OpenFGA-compatible server at the RAG benchmark's scale: ~100k tuples (10k documents,
 * 1k users, 100 groups with some nesting, a folder tree, org-wide sharing) with the knowledge base's model.
 * Prints JSON with percentiles for ListObjects (one user, all documents), BatchCheck (50 documents) and Check.
 *
 *   npx tsx scripts/bench-fga.ts [--users 1000 --documents 10000 --samples 200]
 */
import fs from 'node:fs';
import { transformer } from '@openfga/syntax-transformer';
import { Evaluation } from '../backend/emulators/fga/evaluator';
import { startFgaServer } from '../backend/emulators/fga/server';
import { FgaState } from '../backend/emulators/fga/state';
import { parseSubject } from '../backend/emulators/fga/tuples';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const USERS = arg('users', 1000);
const DOCS = arg('documents', 10_000);
const GROUPS = arg('groups', 100);
const FOLDERS = arg('folders', 500);
const SAMPLES = arg('samples', 200);

// A fixed-seed PRNG so every run measures the same data.
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = (n: number) => Math.floor(rand() * n);

const modelDsl = fs.readFileSync(new URL('../backend/src/knowledge/authorization-model.fga', import.meta.url), 'utf8');

type Key = { user: string; relation: string; object: string };
const tuples: Key[] = [];
const add = (user: string, relation: string, object: string) => tuples.push({ user, relation, object });

add('user:u0', 'member', 'organization:acme');
for (let u = 1; u < USERS; u++) if (rand() < 0.9) add(`user:u${u}`, 'member', 'organization:acme');
for (let u = 0; u < USERS; u++) {
  const groups = new Set([pick(GROUPS), pick(GROUPS), pick(GROUPS)]);
  for (const g of groups) add(`user:u${u}`, 'member', `group:g${g}`);
}
for (let g = 0; g < GROUPS; g += 5) add(`group:g${g + 1}#member`, 'member', `group:g${g}`); // nesting
for (let f = 0; f < FOLDERS; f++) {
  if (f >= 20) add(`folder:f${pick(20)}`, 'parent', `folder:f${f}`); // a two-level tree under 20 roots
  add(`user:u${pick(USERS)}`, 'owner', `folder:f${f}`);
  add(`group:g${pick(GROUPS)}#member`, 'viewer', `folder:f${f}`);
}
for (let d = 0; d < DOCS; d++) {
  const doc = `document:d${d}`;
  add(`folder:f${pick(FOLDERS)}`, 'parent', doc);
  add(`user:u${pick(USERS)}`, 'owner', doc);
  add(`user:u${pick(USERS)}`, 'editor', doc);
  const viewers = new Set([pick(USERS), pick(USERS), pick(USERS), pick(USERS)]);
  for (const v of viewers) add(`user:u${v}`, 'viewer', doc);
  add(`group:g${pick(GROUPS)}#member`, 'viewer', doc);
  if (d % 10 === 0) add('organization:acme#member', 'viewer', doc);
}

const percentiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
  return { p50: at(50), p95: at(95), p99: at(99), max: at(100), mean: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 100) / 100 };
};

/** The evaluator alone (no HTTP, no JSON): what one request costs the server. */
function inProcess() {
  const state = new FgaState(undefined, { maxTuplesPerWrite: Number.MAX_SAFE_INTEGER });
  const { id } = state.createStore('bench');
  state.writeModel(id, transformer.transformDSLToJSONObject(modelDsl));
  state.write(id, { writes: tuples, deletes: [], onDuplicate: 'ignore', onMissing: 'error' });
  const store = state.store(id);
  const model = store.model();
  const list: number[] = [];
  const batch: number[] = [];
  for (let i = 0; i < SAMPLES + 20; i++) {
    const subject = parseSubject(`user:u${pick(USERS)}`)!;
    let t = performance.now();
    new Evaluation(model, store.tuples).listObjectIds('document', 'viewer', subject);
    const listMs = performance.now() - t;
    t = performance.now();
    const ev = new Evaluation(model, store.tuples);
    for (let j = 0; j < 50; j++) ev.check('document', `d${pick(DOCS)}`, 'viewer', subject);
    const batchMs = performance.now() - t;
    if (i >= 20) {
      list.push(listMs); // the first runs warm the JIT up
      batch.push(batchMs);
    }
  }
  return { list_objects_ms: percentiles(list), batch_check_50_ms: percentiles(batch) };
}

const evaluation = inProcess();
const server = await startFgaServer({ port: 0, listObjectsMaxResults: 100_000 });
try {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { id: store } = (await post('/stores', { name: 'bench' })) as { id: string };
  await post(`/stores/${store}/authorization-models`, transformer.transformDSLToJSONObject(modelDsl));
  const loadStart = performance.now();
  for (let i = 0; i < tuples.length; i += 100) await post(`/stores/${store}/write`, { writes: { tuple_keys: tuples.slice(i, i + 100), on_duplicate: 'ignore' } });
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const listTimes: number[] = [];
  const listSizes: number[] = [];
  const batchTimes: number[] = [];
  const checkTimes: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const user = `user:u${pick(USERS)}`;
    let t = performance.now();
    const lo = (await post(`/stores/${store}/list-objects`, { user, relation: 'viewer', type: 'document' })) as { objects: string[] };
    listTimes.push(performance.now() - t);
    listSizes.push(lo.objects.length);
    const checks = Array.from({ length: 50 }, (_, j) => ({ tuple_key: { user, relation: 'viewer', object: `document:d${pick(DOCS)}` }, correlation_id: `c${j}` }));
    t = performance.now();
    await post(`/stores/${store}/batch-check`, { checks });
    batchTimes.push(performance.now() - t);
    t = performance.now();
    await post(`/stores/${store}/check`, { tuple_key: { user, relation: 'viewer', object: `document:d${pick(DOCS)}` } });
    checkTimes.push(performance.now() - t);
  }
  console.log(
    JSON.stringify(
      {
        dataset: { tuples: tuples.length, users: USERS, documents: DOCS, groups: GROUPS, folders: FOLDERS, samples: SAMPLES },
        load: { seconds: Math.round(loadSeconds * 100) / 100, tuples_per_second: Math.round(tuples.length / loadSeconds) },
        list_objects_ms: percentiles(listTimes),
        list_objects_result_size: percentiles(listSizes),
        batch_check_50_ms: percentiles(batchTimes),
        check_ms: percentiles(checkTimes),
        note: 'milliseconds per HTTP round trip on loopback, JSON encoding included',
        evaluation_only: evaluation,
      },
      null,
      2,
    ),
  );
} finally {
  await server.close();
}
