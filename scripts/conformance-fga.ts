/**
 * Runs OpenFGA's own conformance suite (consolidated_1_1_tests.yaml) against Deputy's OpenFGA-compatible server,
 * entirely through `@openfga/sdk`, and prints pass/fail counts as JSON.
 *
 *   npm run conformance:fga                      # reads ../shared/conformance/openfga/consolidated_1_1_tests.yaml
 *   FGA_CONFORMANCE_FILE=/path/to/tests.yaml npm run conformance:fga
 *   npm run conformance:fga -- --verbose         # also prints every failing assertion
 *
 * Per test: a fresh store; per stage: the stage's model (DSL converted with @openfga/syntax-transformer) and tuples
 * are written, then its check / list-objects / list-users assertions run. Single-stage tests run a second time as
 * `<name>_ctxTuples`, with the stage's tuples sent as contextual tuples instead of being written (as OpenFGA's own
 * harness does). Exits non-zero when the suite file is missing or check / list-objects conformance is below 99%.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenFgaClient, type TupleKey } from '@openfga/sdk';
import { transformer } from '@openfga/syntax-transformer';
import { parse } from 'yaml';
import { startFgaServer } from '../backend/emulators/fga/server';

interface YamlTuple {
  object: string;
  relation: string;
  user: string;
  condition?: { name: string; context?: Record<string, unknown> };
}

interface CheckAssertion {
  tuple: YamlTuple;
  contextualTuples?: YamlTuple[];
  context?: Record<string, unknown>;
  expectation?: boolean;
  errorCode?: number;
}

interface ListObjectsAssertion {
  request: { user: string; type: string; relation: string };
  contextualTuples?: YamlTuple[];
  context?: Record<string, unknown>;
  expectation?: string[] | null;
  errorCode?: number;
}

interface ListUsersAssertion {
  request: { filters: string[]; object: string; relation: string };
  contextualTuples?: YamlTuple[];
  context?: Record<string, unknown>;
  expectation?: string[] | null;
  errorCode?: number;
}

interface Stage {
  name?: string;
  model: string;
  tuples?: YamlTuple[] | null;
  checkAssertions?: CheckAssertion[] | null;
  listObjectsAssertions?: ListObjectsAssertion[] | null;
  listUsersAssertions?: ListUsersAssertion[] | null;
}

interface TestCase {
  name: string;
  stages: Stage[];
}

/** OpenFGA's numeric error codes (openfga/api errors.proto) for the ones the suite expects. */
const ERROR_CODES: Record<number, string> = {
  2000: 'validation_error',
  2001: 'authorization_model_not_found',
  2002: 'authorization_model_resolution_too_complex',
  2003: 'invalid_write_input',
  2004: 'cannot_allow_duplicate_tuples_in_one_request',
  2005: 'cannot_allow_duplicate_types_in_one_request',
  2006: 'cannot_allow_multiple_references_to_one_relation',
  2007: 'invalid_continuation_token',
  2008: 'invalid_tuple_set',
  2009: 'invalid_check_input',
  2010: 'invalid_expand_input',
  2011: 'unsupported_user_set',
  2012: 'invalid_object_format',
  2017: 'write_failed_due_to_invalid_input',
  2018: 'authorization_model_assertions_not_found',
  2020: 'latest_authorization_model_not_found',
  2021: 'type_not_found',
  2022: 'relation_not_found',
  2023: 'empty_relation_definition',
  2025: 'invalid_user',
  2027: 'invalid_tuple',
  2028: 'unknown_relation',
  2030: 'store_id_invalid_length',
};

type Kind = 'check' | 'list_objects' | 'list_users';
const KINDS: Kind[] = ['check', 'list_objects', 'list_users'];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const suitePath = process.env.FGA_CONFORMANCE_FILE || path.resolve(repoRoot, '../shared/conformance/openfga/consolidated_1_1_tests.yaml');
const verbose = process.argv.includes('--verbose');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

if (!fs.existsSync(suitePath)) {
  console.error(
    `OpenFGA conformance suite not found at ${suitePath}.\n` +
      'Put consolidated_1_1_tests.yaml (from github.com/openfga/openfga, tests/consolidated_1_1_tests.yaml) there, ' +
      'or point FGA_CONFORMANCE_FILE at it.',
  );
  process.exit(2);
}

const suite = parse(fs.readFileSync(suitePath, 'utf8')) as { tests: TestCase[] };
const tests = suite.tests.filter((t) => !only || t.name.includes(only));

const stats = Object.fromEntries(KINDS.map((k) => [k, { pass: 0, fail: 0 }])) as Record<Kind, { pass: number; fail: number }>;
const errorStats = { pass: 0, fail: 0 };
const failing = Object.fromEntries(KINDS.map((k) => [k, new Map<string, number>()])) as Record<Kind, Map<string, number>>;
const setupFailures: string[] = [];
const details: string[] = [];

const toKey = (t: YamlTuple): TupleKey => ({
  object: t.object,
  relation: t.relation,
  user: t.user,
  ...(t.condition ? { condition: { name: t.condition.name, context: t.condition.context ?? {} } } : {}),
});

function apiCode(err: unknown): string | undefined {
  const e = err as { apiErrorCode?: string; responseData?: { code?: string } };
  return e?.apiErrorCode ?? e?.responseData?.code;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...new Set(a)].length === new Set(b).size && a.every((x) => b.includes(x));

function userString(u: { object?: { type: string; id: string }; userset?: { type: string; id: string; relation: string }; wildcard?: { type: string } }): string {
  if (u.object) return `${u.object.type}:${u.object.id}`;
  if (u.userset) return `${u.userset.type}:${u.userset.id}#${u.userset.relation}`;
  if (u.wildcard) return `${u.wildcard.type}:*`;
  return JSON.stringify(u);
}

/** Runs one assertion: compares the outcome with the expectation or the expected error code. */
async function assertOne<T>(
  kind: Kind,
  testName: string,
  label: string,
  expectedError: number | undefined,
  run: () => Promise<T>,
  matches: (got: T) => boolean,
  show: (got: T) => string,
) {
  let ok: boolean;
  let what: string;
  try {
    const got = await run();
    ok = expectedError === undefined && matches(got);
    what = expectedError === undefined ? show(got) : `${show(got)} (expected error ${expectedError} ${ERROR_CODES[expectedError]})`;
  } catch (err) {
    const code = apiCode(err);
    ok = expectedError !== undefined && code === ERROR_CODES[expectedError];
    what = `error ${code ?? (err as Error).message}${expectedError !== undefined ? ` (expected ${ERROR_CODES[expectedError] ?? expectedError})` : ''}: ${(err as { apiErrorMessage?: string }).apiErrorMessage ?? ''}`;
  }
  if (expectedError !== undefined) errorStats[ok ? 'pass' : 'fail']++;
  stats[kind][ok ? 'pass' : 'fail']++;
  if (!ok) {
    failing[kind].set(testName, (failing[kind].get(testName) ?? 0) + 1);
    if (verbose) details.push(`${testName} ${kind} ${label}: got ${what}`);
  }
}

async function runTest(client: OpenFgaClient, name: string, stages: Stage[], contextualStageTuples: boolean) {
  const { id } = await client.createStore({ name: `conformance ${name}`.slice(0, 64) });
  client.storeId = id;
  for (const [i, stage] of stages.entries()) {
    const stageName = `${name}${stages.length > 1 ? `[stage ${i + 1}]` : ''}`;
    let modelId: string;
    try {
      const model = transformer.transformDSLToJSONObject(stage.model);
      ({ authorization_model_id: modelId } = await client.writeAuthorizationModel(model as never));
    } catch (err) {
      setupFailures.push(`${stageName}: model: ${apiCode(err) ?? ''} ${(err as { apiErrorMessage?: string }).apiErrorMessage ?? (err as Error).message}`);
      return;
    }
    client.authorizationModelId = modelId;
    const tuples = (stage.tuples ?? []).map(toKey);
    if (!contextualStageTuples) {
      for (let j = 0; j < tuples.length; j += 100) {
        try {
          await client.write({ writes: tuples.slice(j, j + 100) });
        } catch (err) {
          setupFailures.push(`${stageName}: write: ${apiCode(err) ?? ''} ${(err as { apiErrorMessage?: string }).apiErrorMessage ?? (err as Error).message}`);
          return;
        }
      }
    }
    const ctx = (extra?: YamlTuple[]) => [...(contextualStageTuples ? tuples : []), ...(extra ?? []).map(toKey)];

    for (const a of stage.checkAssertions ?? []) {
      const t = a.tuple;
      await assertOne(
        'check',
        stageName,
        `${t.object}#${t.relation}@${t.user}`,
        a.errorCode,
        () => client.check({ ...toKey(t), contextualTuples: ctx(a.contextualTuples), context: a.context }),
        (got) => got.allowed === a.expectation,
        (got) => `allowed=${got.allowed} (expected ${a.expectation})`,
      );
    }
    for (const a of stage.listObjectsAssertions ?? []) {
      const expected = a.expectation ?? [];
      await assertOne(
        'list_objects',
        stageName,
        `${a.request.type}#${a.request.relation}@${a.request.user}`,
        a.errorCode,
        () => client.listObjects({ ...a.request, contextualTuples: ctx(a.contextualTuples), context: a.context }),
        (got) => sameSet(got.objects ?? [], expected),
        (got) => `[${(got.objects ?? []).join(', ')}] (expected [${expected.join(', ')}])`,
      );
    }
    for (const a of stage.listUsersAssertions ?? []) {
      const expected = a.expectation ?? [];
      const [type, ...idParts] = a.request.object.split(':');
      await assertOne(
        'list_users',
        stageName,
        `${a.request.object}#${a.request.relation} filters ${a.request.filters.join(',')}`,
        a.errorCode,
        () =>
          client.listUsers({
            object: { type, id: idParts.join(':') },
            relation: a.request.relation,
            user_filters: a.request.filters.map((f) => {
              const [ft, fr] = f.split('#');
              return fr ? { type: ft, relation: fr } : { type: ft };
            }),
            contextualTuples: ctx(a.contextualTuples),
            context: a.context,
          }),
        (got) => sameSet((got.users ?? []).map(userString), expected),
        (got) => `[${(got.users ?? []).map(userString).join(', ')}] (expected [${expected.join(', ')}])`,
      );
    }
  }
}

const server = await startFgaServer({ port: 0 });
const started = performance.now();
let contextualRuns = 0;
try {
  const client = new OpenFgaClient({ apiUrl: server.url });
  for (const test of tests) {
    await runTest(client, test.name, test.stages, false);
    const stage = test.stages[0];
    const contextualCount = (stage.tuples ?? []).length;
    if (test.stages.length === 1 && contextualCount > 0 && contextualCount <= 100) {
      await runTest(client, `${test.name}_ctxTuples`, test.stages, true);
      contextualRuns++;
    }
  }
} finally {
  await server.close();
}

const pct = (p: number, f: number) => (p + f === 0 ? null : Math.round((10000 * p) / (p + f)) / 100);
const grouped = (m: Map<string, number>, max = 40) => {
  const entries = [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    tests: entries.length,
    names: entries.slice(0, max).map(([n, c]) => `${n} (${c})`),
    ...(entries.length > max ? { more: entries.length - max } : {}),
  };
};
const totalPass = KINDS.reduce((s, k) => s + stats[k].pass, 0);
const totalFail = KINDS.reduce((s, k) => s + stats[k].fail, 0);
const checkAndListObjects = pct(stats.check.pass + stats.list_objects.pass, stats.check.fail + stats.list_objects.fail);
const report = {
  suite: path.relative(process.cwd(), suitePath) || suitePath,
  tests: tests.length,
  ctx_tuples_variants: contextualRuns,
  seconds: Math.round(performance.now() - started) / 1000,
  assertions: Object.fromEntries(KINDS.map((k) => [k, { ...stats[k], percent: pct(stats[k].pass, stats[k].fail) }])),
  errors_expected: { ...errorStats, percent: pct(errorStats.pass, errorStats.fail) },
  overall: { pass: totalPass, fail: totalFail, percent: pct(totalPass, totalFail), check_and_list_objects_percent: checkAndListObjects },
  failing: Object.fromEntries(KINDS.map((k) => [k, grouped(failing[k])])),
  setup_failures: setupFailures.slice(0, 40),
  ...(verbose ? { details } : {}),
};
console.log(JSON.stringify(report, null, 2));
process.exit(checkAndListObjects !== null && checkAndListObjects >= 99 ? 0 : 1);
