/** `npm run zip`: store-ready archives for both browsers and the sources archive for Mozilla's review. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIREFOX_EXTENSION_ID } from '../../lib/defaults';
import { readZipEntries, readZipText } from '../../scripts/release/zip-file';
import { REPO_ROOT } from '../helpers/browser';

describe('npm run zip', () => {
  it('writes checked Chrome, Firefox and sources archives (no key, gecko id, no backend or tests in the sources)', () => {
    const r = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/zip.ts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
    // WXT's progress spinner shares stdout; the summary is the last JSON object the script prints.
    const line = r.stdout.match(/\{"ok":.*\}/g)?.at(-1);
    expect(line, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBeDefined();
    const summary = JSON.parse(line!);
    expect(summary, r.stderr).toMatchObject({ ok: true, webExtLint: { errors: 0 } });
    expect(r.status).toBe(0);
    const file = (k: 'chrome' | 'firefox' | 'sources') => path.join(REPO_ROOT, summary.archives[k].file);

    const chrome = JSON.parse(readZipText(file('chrome'), 'manifest.json'));
    expect(chrome.key).toBeUndefined();
    expect(chrome.side_panel.default_path).toBe('sidepanel.html');
    expect(chrome.storage.managed_schema).toBe('managed_schema.json');

    const firefox = JSON.parse(readZipText(file('firefox'), 'manifest.json'));
    expect(firefox.browser_specific_settings.gecko.id).toBe(FIREFOX_EXTENSION_ID);
    expect(firefox.sidebar_action.default_panel).toBe('sidepanel.html');

    const sources = readZipEntries(file('sources')).entries.map((e) => e.name);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'wxt.config.ts', 'entrypoints/background.ts', 'lib/managed-policy.ts']));
    expect(sources.filter((n) => /^(backend|test|scripts)\/|(^|\/)\.env|node_modules/.test(n))).toEqual([]);
    // What the store build ships is what React's production build is: no development warnings.
    const js = readZipEntries(file('chrome')).entries.filter((e) => e.name.endsWith('.js')).map((e) => readZipText(file('chrome'), e.name)).join('\n');
    expect(js).not.toContain('dangerouslySetInnerHTML` must be in the form');
  }, 300_000);
});
