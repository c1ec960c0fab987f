import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { DEFAULT_BACKEND_URL } from '../../lib/defaults';
import { loadSettings, type SettingsLayer, watchSettings } from '../../lib/settings';

describe('settings layering', () => {
  beforeEach(() => {
    fakeBrowser.reset();
    vi.unstubAllEnvs();
  });
  afterEach(() => vi.unstubAllEnvs());

  it('falls back to the default backend URL', async () => {
    vi.stubEnv('WXT_BACKEND_URL', '');
    const r = await loadSettings();
    expect(r.settings.backendUrl).toBe(DEFAULT_BACKEND_URL);
    expect(r.sources.backendUrl).toBe('default');
  });

  it('uses the build-time WXT_BACKEND_URL over the default', async () => {
    vi.stubEnv('WXT_BACKEND_URL', 'https://deputy.example.com/');
    const r = await loadSettings();
    expect(r.settings.backendUrl).toBe('https://deputy.example.com');
    expect(r.sources.backendUrl).toBe('build');
  });

  it('uses storage.local settings.backendUrl over build and default', async () => {
    vi.stubEnv('WXT_BACKEND_URL', 'https://deputy.example.com');
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    const r = await loadSettings();
    expect(r.settings.backendUrl).toBe('http://localhost:4321');
    expect(r.sources.backendUrl).toBe('user');
  });

  it('ignores an invalid stored value, reports it, and uses the next layer', async () => {
    vi.stubEnv('WXT_BACKEND_URL', '');
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'javascript:alert(1)' } });
    const r = await loadSettings();
    expect(r.settings.backendUrl).toBe(DEFAULT_BACKEND_URL);
    expect(r.problems).toEqual([expect.objectContaining({ layer: 'user', key: 'backendUrl' })]);
  });

  it('ignores a stored settings value that is not an object', async () => {
    await fakeBrowser.storage.local.set({ settings: 'http://evil' });
    const r = await loadSettings();
    expect(r.sources.backendUrl).not.toBe('user');
  });

  it('lets a higher layer (e.g. managed policy, later) win, and survives a layer that throws', async () => {
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:4321' } });
    const managed: SettingsLayer = { name: 'managed', read: async () => ({ backendUrl: 'https://corp.example.com/deputy' }) };
    const broken: SettingsLayer = {
      name: 'managed',
      read: async () => {
        throw new Error('storage.managed is not available');
      },
    };
    const { userLayer, buildLayer, defaultLayer } = await import('../../lib/settings');
    const r = await loadSettings([managed, userLayer, buildLayer, defaultLayer]);
    expect(r.settings.backendUrl).toBe('https://corp.example.com/deputy');
    expect(r.sources.backendUrl).toBe('managed');
    const r2 = await loadSettings([broken, userLayer, buildLayer, defaultLayer]);
    expect(r2.settings.backendUrl).toBe('http://localhost:4321');
  });

  it('notifies when the stored settings change', async () => {
    const seen = vi.fn();
    const off = watchSettings(seen);
    await fakeBrowser.storage.local.set({ other: 1 });
    expect(seen).not.toHaveBeenCalled();
    await fakeBrowser.storage.local.set({ settings: { backendUrl: 'http://localhost:1' } });
    expect(seen).toHaveBeenCalledTimes(1);
    off();
  });
});
