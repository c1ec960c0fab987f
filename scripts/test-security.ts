/**
 * `npm run test:security`: every test named after an id of the security list (`../shared/docs/security-tests.md`,
 * or the copy in `test/security/ids.ts` on a clean clone) plus the `security` project (fuzzing), across the Vitest
 * projects, with Vitest's JSON reporter. Prints a table (id, test, result) and exits non-zero when a listed id has
 * no test, when any test of those files fails, or when nothing ran. Ids that do not apply to this configuration are
 * reported as "not applicable" with the reason, never silently skipped.
 *
 *   npm run test:security                 # everything (builds the extension for the browser tests)
 *   npm run test:security -- --no-e2e     # without the browser tests (ids only they cover are listed as not run)
 *   npm run test:security -- --no-build   # reuse .output/ (the extension already built)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../backend/src/config';
import { idsInTestName, idsOfTest, parseSecurityTestIds, SECURITY_TEST_IDS } from '../test/security/ids';

const root = path.resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({ options: { 'no-e2e': { type: 'boolean', default: false }, 'no-build': { type: 'boolean', default: false } } });

// --- the list --------------------------------------------------------------------------------------------------
const docPath = path.resolve(root, '../shared/docs/security-tests.md');
const fromDoc = fs.existsSync(docPath) ? parseSecurityTestIds(fs.readFileSync(docPath, 'utf8')) : undefined;
const ids = fromDoc && Object.keys(fromDoc).length ? fromDoc : { ...SECURITY_TEST_IDS };
const idList = Object.keys(ids);
console.log(`Security ids: ${idList.length} from ${fromDoc ? path.relative(root, docPath) : 'test/security/ids.ts'}`);

/** Ids that do not apply to the running configuration, with why (checked against the real configuration). */
function notApplicable(): Map<string, string> {
  const na = new Map<string, string>();
  const auth = loadConfig({}).auth as { dpop?: unknown };
  if (auth.dpop !== true) na.set('A10', 'not applicable: DPoP is off (bearer tokens; no DPoP in the backend or the IdP configuration)');
  return na;
}
const na = notApplicable();

// --- which files carry id-named tests ----------------------------------------------------------------------------
const PROJECT_DIRS: Array<[string, string]> = [['test/unit', 'unit'], ['test/integration', 'integration'], ['test/e2e', 'e2e'], ['test/security', 'security']];
const TITLE = /\b(?:it|test|describe)(?:\.\w+)*\(\s*(['"`])((?:(?!\1).)*)\1/g;

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}
const files = new Set<string>();
/** Ids named in the browser tests, when those are not run (--no-e2e): reported as not run instead of missing. */
const skippedE2eIds = new Set<string>();
for (const [dir, project] of PROJECT_DIRS) {
  for (const file of walk(path.join(root, dir))) {
    const src = fs.readFileSync(file, 'utf8');
    const named = [...src.matchAll(TITLE)].flatMap((m) => idsInTestName(m[2]!, idList));
    if (flags['no-e2e'] && project === 'e2e') {
      for (const id of named) skippedE2eIds.add(id);
      continue;
    }
    if (project === 'security' || named.length) files.add(path.relative(root, file));
  }
}
const fileList = [...files].sort();
const hasE2e = fileList.some((f) => f.startsWith('test/e2e/'));
console.log(`Test files: ${fileList.length}${hasE2e ? ' (including browser tests)' : ''}`);

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const run = (args: string[]) => spawnSync(npx, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1;
if (hasE2e && !flags['no-build'] && run(['wxt', 'build']) !== 0) {
  console.error('Extension build failed.');
  process.exit(1);
}

// --- run ---------------------------------------------------------------------------------------------------------
const outDir = path.join(root, 'test-output');
fs.mkdirSync(outDir, { recursive: true });
const jsonFile = path.join(outDir, 'security.json');
fs.rmSync(jsonFile, { force: true });
const status = run(['vitest', 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${jsonFile}`, ...fileList]);

interface AssertionResult { fullName: string; title: string; ancestorTitles: string[]; status: string }
interface Report { testResults: Array<{ name: string; status: string; message?: string; assertionResults: AssertionResult[] }> }
let report: Report;
try {
  report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as Report;
} catch {
  console.error('No JSON report from Vitest.');
  process.exit(1);
}

// --- table -------------------------------------------------------------------------------------------------------
type Row = { id: string; name: string; result: string };
const rows: Row[] = [];
const byId = new Map<string, Row[]>(idList.map((id) => [id, []]));
const fuzz: Row[] = [];
let otherFailures = 0;
const failedSuites: string[] = [];
for (const file of report.testResults) {
  const rel = path.relative(root, file.name);
  if (file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed')) failedSuites.push(`${rel}: ${(file.message ?? '').split('\n')[0]}`);
  for (const a of file.assertionResults) {
    const name = [...a.ancestorTitles, a.title].join(' › ');
    const result = a.status === 'passed' ? 'pass' : a.status === 'failed' ? 'FAIL' : a.status;
    const found = idsOfTest(a.title, a.ancestorTitles, idList);
    for (const id of found) {
      const row = { id, name: `${name}  [${rel}]`, result };
      rows.push(row);
      byId.get(id)!.push(row);
    }
    if (!found.length && rel.startsWith('test/security/')) fuzz.push({ id: 'suite', name: `${name}  [${rel}]`, result });
    else if (!found.length && a.status === 'failed') otherFailures++;
  }
}

const order = (id: string) => idList.indexOf(id);
rows.sort((a, b) => order(a.id) - order(b.id));
const missing: string[] = [];
const failing = new Set<string>();
const table: Row[] = [];
for (const id of idList) {
  const list = byId.get(id)!;
  if (na.has(id)) {
    table.push({ id, name: na.get(id)!, result: list.length ? `n/a (${list.length} tests ran)` : 'n/a' });
    for (const r of list) if (r.result === 'FAIL') failing.add(id);
    continue;
  }
  if (!list.length && skippedE2eIds.has(id)) {
    table.push({ id, name: 'browser tests not run (--no-e2e)', result: 'not run' });
    continue;
  }
  if (!list.length) {
    missing.push(id);
    table.push({ id, name: `NO TEST — ${ids[id]}`, result: 'MISSING' });
    continue;
  }
  for (const r of list) {
    table.push(r);
    if (r.result !== 'pass') failing.add(id);
  }
}
table.push(...fuzz);
for (const r of fuzz) if (r.result !== 'pass') failing.add('suite');

const width = Math.min(150, Math.max(...table.map((r) => r.name.length)));
const line = (a: string, b: string, c: string) => console.log(`${a.padEnd(5)} | ${b.length > width ? `${b.slice(0, width - 1)}…` : b.padEnd(width)} | ${c}`);
console.log('');
line('id', 'test', 'result');
console.log(`${'-'.repeat(5)}-+-${'-'.repeat(width)}-+-------`);
for (const r of table) line(r.id, r.name, r.result);

const covered = idList.filter((id) => !na.has(id) && byId.get(id)!.length > 0);
const summary = {
  ids: idList.length,
  covered: covered.length,
  passing: covered.filter((id) => !failing.has(id)).length,
  notApplicable: [...na.keys()],
  notRun: idList.filter((id) => !byId.get(id)!.length && skippedE2eIds.has(id)),
  missing,
  failing: [...failing],
  idTests: rows.length,
  fuzzTests: fuzz.length,
  otherFailuresInTheseFiles: otherFailures,
  suitesThatFailedToRun: failedSuites,
};
console.log(`\n${JSON.stringify(summary)}`);
const ok = status === 0 && missing.length === 0 && failing.size === 0 && otherFailures === 0 && failedSuites.length === 0 && rows.length > 0;
console.log(ok ? 'test:security passed' : 'test:security FAILED');
process.exit(ok ? 0 : 1);
