/**
 * `npm run zip`: store-ready archives of both builds, in `.output/release/`:
 *
 *   deputy-<version>-chrome.zip    Chrome Web Store (MV3, side panel; no `key`: the store assigns the id)
 *   deputy-<version>-firefox.zip   addons.mozilla.org (MV3, sidebar_action, gecko id, data collection declared)
 *   deputy-<version>-sources.zip   the extension's sources, for AMO's review (rebuild: see docs/permissions.md)
 *
 * Builds run in WXT mode "store" into `.output/release/*-store/`, so the unpacked development build in
 * `.output/chrome-mv3` (pinned id, used by the tests and `npm start`) is left alone. Set WXT_BACKEND_URL to bake a
 * default backend into the packages (an administrator can override it by policy either way).
 * Each archive is checked (and the Firefox build linted with web-ext) before the script says it is done; prints a
 * JSON summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { zip } from 'wxt';
import { lintFirefox } from './lint-firefox';
import { readZipEntries, readZipText } from './release/zip-file';

const root = path.resolve(import.meta.dirname, '..');
export const RELEASE_DIR = path.join(root, '.output/release');

/** The sources AMO needs to rebuild the Firefox package: the extension's code and build configuration only. */
const SOURCES = [
  'entrypoints/**',
  'components/**',
  'background/**',
  'lib/**',
  'public/**',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'wxt.config.ts',
  'README.md',
  'docs/permissions.md',
];

async function zipFor(browser: 'chrome' | 'firefox'): Promise<string[]> {
  return zip({
    root,
    browser,
    manifestVersion: 3,
    mode: 'store',
    outDir: '.output/release',
    zip: {
      artifactTemplate: '{{name}}-{{version}}-{{browser}}.zip',
      sourcesTemplate: '{{name}}-{{version}}-sources.zip',
      includeSources: SOURCES,
      excludeSources: ['**/*.test.*'],
    },
  });
}

export interface ArchiveReport {
  file: string;
  bytes: number;
  entries: number;
  manifest?: Record<string, unknown>;
}

function check(file: string, browser: 'chrome' | 'firefox' | 'sources'): ArchiveReport {
  const { entries } = readZipEntries(file);
  const names = entries.map((e) => e.name);
  const report: ArchiveReport = { file: path.relative(root, file), bytes: fs.statSync(file).size, entries: names.length };
  const fail = (why: string) => {
    throw new Error(`${report.file}: ${why}`);
  };
  if (names.some((n) => n.startsWith('/') || n.includes('..'))) fail('has an absolute or parent path');
  if (names.some((n) => /(^|\/)\.env|\.pem$|node_modules\//.test(n))) fail('contains a secret-looking or dependency file');
  if (browser === 'sources') {
    for (const must of ['package.json', 'wxt.config.ts', 'entrypoints/background.ts']) if (!names.includes(must)) fail(`lacks ${must}`);
    if (names.some((n) => n.startsWith('backend/') || n.startsWith('test/'))) fail('contains the backend or tests');
    return report;
  }
  if (!names.includes('manifest.json')) fail('has no manifest.json at its root');
  const manifest = JSON.parse(readZipText(file, 'manifest.json')) as Record<string, unknown>;
  report.manifest = manifest;
  if (manifest.manifest_version !== 3) fail('is not MV3');
  if ('key' in manifest) fail('has a "key" (the Chrome Web Store refuses it)');
  if (browser === 'chrome' && !manifest.side_panel) fail('has no side_panel');
  if (browser === 'firefox') {
    const gecko = (manifest.browser_specific_settings as { gecko?: { id?: string; data_collection_permissions?: unknown } } | undefined)?.gecko;
    if (!gecko?.id) fail('has no gecko id');
    if (!gecko?.data_collection_permissions) fail('declares no data_collection_permissions');
    if (!manifest.sidebar_action) fail('has no sidebar_action');
  }
  for (const n of names.filter((x) => x.endsWith('.html'))) {
    if (/<script[^>]+src="(https?:)?\/\//.test(readZipText(file, n))) fail(`${n} loads remote script`);
  }
  return report;
}

async function main() {
  // A mode other than "production" would otherwise ship React's development build.
  process.env.NODE_ENV = 'production';
  fs.rmSync(RELEASE_DIR, { recursive: true, force: true });
  const chrome = await zipFor('chrome');
  const firefox = await zipFor('firefox');
  const byName = (files: string[], re: RegExp) => {
    const f = files.find((x) => re.test(path.basename(x)));
    if (!f) throw new Error(`WXT produced no archive matching ${re}`);
    return f;
  };
  const reports = {
    chrome: check(byName(chrome, /-chrome\.zip$/), 'chrome'),
    firefox: check(byName(firefox, /-firefox\.zip$/), 'firefox'),
    sources: check(byName(firefox, /-sources\.zip$/), 'sources'),
  };
  const lint = lintFirefox(path.join(RELEASE_DIR, 'firefox-mv3-store'));
  if (lint.errors.length || lint.unreviewed.length) {
    throw new Error(`web-ext lint: ${[...lint.errors, ...lint.unreviewed].map((m) => `${m.code} ${m.file ?? ''} ${m.message}`).join('; ')}`);
  }
  console.log(
    JSON.stringify({
      ok: true,
      webExtLint: { errors: 0, reviewedWarnings: lint.reviewed.length },
      archives: Object.fromEntries(Object.entries(reports).map(([k, r]) => [k, { file: r.file, bytes: r.bytes, entries: r.entries }])),
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    console.log(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
    process.exit(1);
  });
}
