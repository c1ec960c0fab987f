/**
 * `npm test`: builds the extension (the e2e tests load the real build), type-checks, then runs every Vitest project
 * (unit, integration, e2e) and ends with one line `N passed, N failed, N skipped`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'test-output');
fs.mkdirSync(outDir, { recursive: true });
const extraArgs = process.argv.slice(2);

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status ?? 1;
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
// Both browsers: the e2e manifest checks and web-ext lint read the Firefox build too.
if (run(npx, ['wxt', 'build']) !== 0 || run(npx, ['wxt', 'build', '-b', 'firefox', '--mv3']) !== 0) {
  console.error('Extension build failed.');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (run(npx, ['tsc', '--noEmit', '-p', '.']) !== 0) {
  console.error('Type check failed.');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const jsonFile = path.join(outDir, 'vitest.json');
fs.rmSync(jsonFile, { force: true });
const status = run(npx, ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...extraArgs]);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    numFailedTestSuites: number;
  };
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numFailedTests === 0 && status !== 0 ? Math.max(1, report.numFailedTestSuites) : 0);
  skipped = report.numPendingTests + report.numTodoTests;
} catch {
  failed = 1;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
