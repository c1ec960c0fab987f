/** The enterprise policy layer: seeded managed storage, rejection, late answers, forced keys, capture block-list. */
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  applyManagedAuth,
  isConnectionAllowed,
  isToolAllowed,
  MANAGED_FIELDS,
  MANAGED_KEYS,
  type ManagedArea,
  type ManagedPolicy,
  ManagedPolicyError,
  parseManagedPolicy,
  readManagedPolicy,
  watchManagedPolicy,
} from '../../lib/managed-policy';
import { loadSettings } from '../../lib/settings';
import { captureDecision, isCaptureBlocked, matchesSiteFilters } from '../../lib/site-policy';
import type { PublicConfig } from '../../lib/protocol';
import { FIREFOX_EXTENSION_ID } from '../../lib/defaults';

const schema = JSON.parse(fs.readFileSync(path.resolve('public/managed_schema.json'), 'utf8'));

const rejecting: ManagedArea = { get: () => Promise.reject(new Error('Managed storage manifest not found')) };
function lateArea(afterMs: number, values: Record<string, unknown>): ManagedArea {
  return { get: () => new Promise((resolve) => setTimeout(() => resolve(values), afterMs)) };
}
const config: PublicConfig = {
  auth: { domain: 'http://localhost:8788', clientId: 'deputy-extension', audience: 'https://api.deputy.local/', scope: 'openid chat' },
  model: { name: 'deputy-offline-1', offline: true },
};

beforeEach(() => {
  fakeBrowser.reset();
  vi.unstubAllEnvs();
});

describe('managed_schema.json', () => {
  it('declares exactly the keys the layer validates, with the same types', () => {
    expect(Object.keys(schema.properties).sort()).toEqual([...MANAGED_KEYS].sort());
    for (const key of MANAGED_KEYS) {
      const isArray = MANAGED_FIELDS[key].safeParse([]).success;
      expect(schema.properties[key].type, key).toBe(isArray ? 'array' : 'string');
      if (isArray) expect(schema.properties[key].items.type, key).toBe('string');
    }
  });
});

describe('reading the policy from managed storage', () => {
  it('applies seeded values and reports which keys are forced', async () => {
    await fakeBrowser.storage.managed.set({
      backendUrl: 'https://deputy.corp.example/',
      auth0Domain: 'corp.eu.auth0.com',
      allowedTools: ['list_projects', 'create_task'],
      captureBlockedSites: ['bank.example'],
      approvalTiers: ['write'],
      somethingElse: 'ignored',
    });
    const p = await readManagedPolicy();
    expect(p.status).toBe('applied');
    expect(p.values).toEqual({
      backendUrl: 'https://deputy.corp.example',
      auth0Domain: 'corp.eu.auth0.com',
      allowedTools: ['list_projects', 'create_task'],
      captureBlockedSites: ['bank.example'],
      approvalTiers: ['write'],
    });
    expect(p.forced.sort()).toEqual(['allowedTools', 'approvalTiers', 'auth0Domain', 'backendUrl', 'captureBlockedSites']);
    expect(isToolAllowed(p, 'create_task')).toBe(true);
    expect(isToolAllowed(p, 'send_email')).toBe(false);
    expect(isConnectionAllowed(p, 'github')).toBe(true);
  });

  it('forces a present key even when it is empty: [] allows no tool and no connection', async () => {
    await fakeBrowser.storage.managed.set({ allowedTools: [], allowedConnections: [] });
    const p = await readManagedPolicy();
    expect(p.forced.sort()).toEqual(['allowedConnections', 'allowedTools']);
    expect(isToolAllowed(p, 'list_projects')).toBe(false);
    expect(isConnectionAllowed(p, 'google-oauth2')).toBe(false);
  });

  it('fails closed on invalid values: lists become the most restrictive reading, and the problem is reported', async () => {
    await fakeBrowser.storage.managed.set({ allowedTools: 'send_email', captureBlockedSites: 42, approvalTiers: ['sometimes'] });
    const p = await readManagedPolicy();
    expect(p.values.allowedTools).toEqual([]);
    expect(p.values.captureBlockedSites).toEqual(['*']);
    expect(p.values.approvalTiers).toEqual(['read', 'write', 'high', 'critical']);
    expect(p.problems.map((x) => x.key).sort()).toEqual(['allowedTools', 'approvalTiers', 'captureBlockedSites']);
  });

  it('treats a rejecting storage.managed (Firefox without a policy) as no policy', async () => {
    const p = await readManagedPolicy({ area: rejecting });
    expect(p).toMatchObject({ status: 'none', values: {}, forced: [] });
  });

  it('treats a storage.managed whose get throws synchronously as no policy', async () => {
    const p = await readManagedPolicy({
      area: {
        get() {
          throw new Error('not available');
        },
      },
    });
    expect(p.status).toBe('none');
  });

  it('answers "pending" when managed storage is late, then delivers the late answer to watchers', async () => {
    const area = lateArea(80, { backendUrl: 'https://late.example' });
    expect((await readManagedPolicy({ area, timeoutMs: 10 })).status).toBe('pending');

    const seen: ManagedPolicy[] = [];
    const stop = watchManagedPolicy((p) => seen.push(p), { area, timeoutMs: 10 });
    await vi.waitFor(() => expect(seen.length).toBe(2), { timeout: 2000 });
    stop();
    expect(seen[0].status).toBe('pending');
    expect(seen[1]).toMatchObject({ status: 'applied', values: { backendUrl: 'https://late.example' } });
  });

  it('re-reads on storage.onChanged in the managed area (a policy pushed while the browser runs)', async () => {
    const seen: ManagedPolicy[] = [];
    const stop = watchManagedPolicy((p) => seen.push(p));
    await vi.waitFor(() => expect(seen.length).toBe(1));
    expect(seen[0].forced).toEqual([]);
    await fakeBrowser.storage.managed.set({ allowedConnections: ['github'] });
    await vi.waitFor(() => expect(seen.length).toBe(2));
    expect(seen[1].values.allowedConnections).toEqual(['github']);
    await fakeBrowser.storage.local.set({ unrelated: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBe(2);
    stop();
  });
});

describe('managed values win over user settings', () => {
  it('uses the managed backend URL over the user one, and says so', async () => {
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    await fakeBrowser.storage.managed.set({ backendUrl: 'https://deputy.corp.example' });
    const r = await loadSettings();
    expect(r.settings.backendUrl).toBe('https://deputy.corp.example');
    expect(r.sources.backendUrl).toBe('managed');
  });

  it('never falls back to the user value when the forced value is empty or invalid', async () => {
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    await fakeBrowser.storage.managed.set({ backendUrl: '' });
    await expect(loadSettings()).rejects.toBeInstanceOf(ManagedPolicyError);
    await fakeBrowser.storage.managed.set({ backendUrl: 'javascript:alert(1)' });
    await expect(loadSettings()).rejects.toThrow(/organization's policy sets "Backend URL"/);
  });

  it('uses the user value when there is no policy', async () => {
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    const r = await loadSettings();
    expect(r.sources.backendUrl).toBe('user');
  });

  it('a policy that has not answered yet (browser start) never lets the user\'s backend or the backend\'s own tenant in', async () => {
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    // Managed storage that does not answer within the boot timeout: the organization may force another backend.
    const never = vi.spyOn(fakeBrowser.storage.managed, 'get').mockImplementation(() => new Promise(() => {}));
    vi.useFakeTimers();
    try {
      const loading = expect(loadSettings()).rejects.toThrow(/organization's policy has not loaded yet/);
      await vi.advanceTimersByTimeAsync(10_000);
      await loading;
    } finally {
      vi.useRealTimers();
      never.mockRestore();
    }
    const pending: ManagedPolicy = { status: 'pending', values: {}, forced: [], problems: [], raw: {} };
    expect(() => applyManagedAuth(config, pending)).toThrow(/organization's policy has not loaded yet/);
  });

  it("overrides the backend's sign-in configuration with the forced tenant, client and audience", async () => {
    await fakeBrowser.storage.managed.set({ auth0Domain: 'corp.eu.auth0.com', auth0ClientId: 'corpSpa123' });
    const out = applyManagedAuth(config, await readManagedPolicy());
    expect(out.auth).toEqual({ ...config.auth, domain: 'corp.eu.auth0.com', clientId: 'corpSpa123' });
    await fakeBrowser.storage.managed.set({ auth0Audience: '' });
    const withEmpty = await readManagedPolicy();
    expect(() => applyManagedAuth(config, withEmpty)).toThrow(/"API audience"/);
  });
});

describe('sites never captured', () => {
  it('matches URLBlocklist-style filters', () => {
    const f = ['bank.example', '.exact.example', 'https://secure.example', 'wiki.example/private', 'intranet.example:8443'];
    expect(matchesSiteFilters('https://bank.example/login', f)).toBe(true);
    expect(matchesSiteFilters('https://www.bank.example/', f)).toBe(true);
    expect(matchesSiteFilters('https://notbank.example/', f)).toBe(false);
    expect(matchesSiteFilters('https://exact.example/a', f)).toBe(true);
    expect(matchesSiteFilters('https://sub.exact.example/a', f)).toBe(false);
    expect(matchesSiteFilters('https://secure.example/', f)).toBe(true);
    expect(matchesSiteFilters('http://secure.example/', f)).toBe(false);
    expect(matchesSiteFilters('https://wiki.example/private/x', f)).toBe(true);
    expect(matchesSiteFilters('https://wiki.example/public', f)).toBe(false);
    expect(matchesSiteFilters('https://intranet.example:8443/', f)).toBe(true);
    expect(matchesSiteFilters('https://intranet.example/', f)).toBe(false);
    expect(matchesSiteFilters('https://anything.example/', ['*'])).toBe(true);
  });

  it('a blocked path or an internationalized host cannot be reached by spelling the URL differently', () => {
    // %70 is "p": the server serves /private for /%70rivate, so the filter must match it too.
    expect(matchesSiteFilters('https://wiki.example/%70rivate/salaries', ['wiki.example/private'])).toBe(true);
    expect(matchesSiteFilters('https://wiki.example/%50RIVATE/salaries', ['wiki.example/private'])).toBe(true);
    expect(matchesSiteFilters('https://wiki.example/public/%70rivate', ['wiki.example/private'])).toBe(false);
    // Browsers report IDN hosts in punycode; an administrator writes them as they read them.
    expect(matchesSiteFilters('https://xn--bcher-kva.example/', ['bücher.example'])).toBe(true);
    expect(matchesSiteFilters('https://shop.xn--bcher-kva.example/', ['bücher.example'])).toBe(true);
    expect(matchesSiteFilters('https://buecher.example/', ['bücher.example'])).toBe(false);
  });

  it('blocks capture of a site the organization lists, from seeded managed storage', async () => {
    expect(await isCaptureBlocked('https://bank.example/accounts')).toBe(false);
    await fakeBrowser.storage.managed.set({ captureBlockedSites: ['bank.example'] });
    expect(await isCaptureBlocked('https://bank.example/accounts')).toBe(true);
    expect((await captureDecision('https://bank.example/')).reason).toMatch(/organization does not allow/);
    expect(await isCaptureBlocked('https://news.example/')).toBe(false);
  });

  it('forced empty list blocks nothing; an invalid list blocks everything', async () => {
    await fakeBrowser.storage.managed.set({ captureBlockedSites: [] });
    expect(await isCaptureBlocked('https://news.example/')).toBe(false);
    await fakeBrowser.storage.managed.set({ captureBlockedSites: 'bank.example' });
    expect(await isCaptureBlocked('https://news.example/')).toBe(true);
  });

  it('never captures non-web pages, and waits for a policy that has not answered yet', async () => {
    expect(await isCaptureBlocked('chrome://settings')).toBe(true);
    expect(await isCaptureBlocked('file:///etc/passwd')).toBe(true);
    expect(await isCaptureBlocked('not a url')).toBe(true);
    const d = await captureDecision('https://news.example/', { area: lateArea(200, {}), timeoutMs: 10 });
    expect(d).toEqual({ blocked: true, reason: expect.stringMatching(/not loaded yet/) });
    expect(await isCaptureBlocked('https://news.example/', { area: rejecting })).toBe(false);
  });
});

describe('the background worker', () => {
  it('reports policy values it reads fail-closed, now and when the administrator pushes new ones', async () => {
    const { watchOrganizationPolicy } = await import('../../background/managed-policy-watch');
    const lines: string[] = [];
    const stop = watchOrganizationPolicy((l) => lines.push(String(l)));
    await fakeBrowser.storage.managed.set({ allowedTools: 'send_email' });
    await vi.waitFor(() => expect(lines.some((l) => /allowedTools is invalid/.test(l))).toBe(true));
    stop();
  });
});

describe('the example policies in docs/policies', () => {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.resolve('docs/policies', f), 'utf8'));

  it('Chrome: every 3rdparty value validates, and the force-install entries name the same extension', () => {
    const chrome = read('chrome-deputy.json');
    const [id] = Object.keys(chrome['3rdparty'].extensions);
    const p = parseManagedPolicy(chrome['3rdparty'].extensions[id]);
    expect(p.problems).toEqual([]);
    expect(p.forced.sort()).toEqual([...MANAGED_KEYS].sort());
    expect(chrome.ExtensionInstallForcelist[0].split(';')[0]).toBe(id);
    expect(chrome.ExtensionSettings[id].installation_mode).toBe('force_installed');
  });

  it('Firefox: the same values under 3rdparty.Extensions for the gecko id, force-installed', () => {
    const firefox = read('firefox-policies.json').policies;
    const values = firefox['3rdparty'].Extensions[FIREFOX_EXTENSION_ID];
    expect(parseManagedPolicy(values).problems).toEqual([]);
    expect(values).toEqual(Object.values(read('chrome-deputy.json')['3rdparty'].extensions)[0]);
    expect(firefox.ExtensionSettings[FIREFOX_EXTENSION_ID].installation_mode).toBe('force_installed');
  });

  it('backend.env carries the same allow-lists and tiers for the backend to enforce', () => {
    const values = read('firefox-policies.json').policies['3rdparty'].Extensions[FIREFOX_EXTENSION_ID];
    const env = Object.fromEntries(
      fs.readFileSync(path.resolve('docs/policies/backend.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=') as [string, string]),
    );
    expect(env.DEPUTY_ALLOWED_TOOLS.split(',')).toEqual(values.allowedTools);
    expect(env.DEPUTY_ALLOWED_CONNECTIONS.split(',')).toEqual(values.allowedConnections);
    expect(env.DEPUTY_APPROVAL_TIERS.split(',')).toEqual(values.approvalTiers);
  });
});
