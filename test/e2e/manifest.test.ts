/** X1 and X6 on the built extension (`npm test` builds it first): least privilege, locked messaging, default CSP. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSION_PATH } from '../helpers/browser';

const manifest = JSON.parse(fs.readFileSync(path.join(DEFAULT_EXTENSION_PATH, 'manifest.json'), 'utf8'));

describe('built manifest', () => {
  it('X1 asks for no host permissions and only the permissions it uses', () => {
    expect(manifest.host_permissions ?? []).toEqual([]);
    expect(manifest.optional_host_permissions ?? []).toEqual([]);
    expect(JSON.stringify(manifest)).not.toContain('<all_urls>');
    // Each one is justified in docs/permissions.md (checked for both browsers by release-manifests.test.ts).
    expect([...manifest.permissions].sort()).toEqual(['activeTab', 'contextMenus', 'identity', 'scripting', 'sidePanel', 'storage']);
  });

  it('X1 reads pages only through activeTab: no content script, no tabs or host permission, one keyboard command', () => {
    expect(manifest.content_scripts).toBeUndefined();
    expect(manifest.permissions).not.toContain('tabs');
    expect(manifest.permissions).not.toContain('webNavigation');
    expect(Object.keys(manifest.commands ?? {})).toEqual(['open-deputy']);
    expect(manifest.commands['open-deputy'].suggested_key.default).toBe('Alt+Shift+D');
    // The capture script is packaged but never declared: it runs only through scripting.executeScript.
    expect(fs.existsSync(path.join(DEFAULT_EXTENSION_PATH, 'page-capture.js'))).toBe(true);
    expect(JSON.stringify(manifest)).not.toContain('page-capture');
  });

  it('X1 locks externally_connectable and exposes no web-accessible resources', () => {
    expect(manifest.externally_connectable).toEqual({ ids: [], matches: [] });
    expect(manifest.web_accessible_resources).toBeUndefined();
    expect(manifest.content_scripts).toBeUndefined();
  });

  it('X6 keeps the default MV3 CSP and loads no remote or inline script', () => {
    expect(manifest.content_security_policy).toBeUndefined();
    for (const file of fs.readdirSync(DEFAULT_EXTENSION_PATH).filter((f) => f.endsWith('.html'))) {
      const html = fs.readFileSync(path.join(DEFAULT_EXTENSION_PATH, file), 'utf8');
      for (const [, src] of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) expect(src).not.toMatch(/^(https?:)?\/\//);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
    }
  });
});
