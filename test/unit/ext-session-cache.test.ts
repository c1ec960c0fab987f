import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { renewalMargin, normalizeDomain } from '../../lib/auth/auth';
import { SESSION_CACHE_PREFIX, StorageSessionCache } from '../../lib/auth/session-cache';

const entry = { body: { access_token: 'at-123', expires_in: 3600, client_id: 'c', audience: 'a', scope: 'openid' }, expiresAt: 2e9 };

describe('StorageSessionCache (spa-js ICache on storage.session)', () => {
  beforeEach(() => fakeBrowser.reset());

  it('stores, reads and removes entries in storage.session only', async () => {
    const cache = new StorageSessionCache();
    const key = '@@auth0spajs@@::c::a::openid';
    await cache.set(key, entry);
    expect(await cache.get(key)).toEqual(entry);
    // Namespaced in storage.session …
    const session = await fakeBrowser.storage.session.get(null);
    expect(Object.keys(session)).toEqual([SESSION_CACHE_PREFIX + key]);
    // … and nowhere else.
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
    expect(await fakeBrowser.storage.sync.get(null)).toEqual({});

    await cache.remove(key);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('lists only its own keys and clears only them', async () => {
    const cache = new StorageSessionCache();
    await fakeBrowser.storage.session.set({ unrelated: 1 });
    await cache.set('k1', entry);
    await cache.set('k2', { id_token: 'x' });
    expect((await cache.allKeys()).sort()).toEqual(['k1', 'k2']);
    await cache.clear();
    expect(await cache.allKeys()).toEqual([]);
    expect(await fakeBrowser.storage.session.get(null)).toEqual({ unrelated: 1 });
  });

  it('is shared by every page (instances over the same area see the same entries)', async () => {
    await new StorageSessionCache().set('k', entry);
    expect(await new StorageSessionCache().get('k')).toEqual(entry);
  });

  it('returns undefined for a missing key', async () => {
    expect(await new StorageSessionCache().get('missing')).toBeUndefined();
  });
});

describe('token renewal margin and domain', () => {
  it('renews 60 s before expiry for normal tokens, a quarter of the lifetime for short ones', () => {
    expect(renewalMargin(86400)).toBe(60);
    expect(renewalMargin(240)).toBe(60);
    expect(renewalMargin(20)).toBe(5);
    expect(renewalMargin(undefined)).toBe(60);
  });

  it('strips trailing slashes so spa-js expects the issuer "<domain>/"', () => {
    expect(normalizeDomain('http://localhost:8788/')).toBe('http://localhost:8788');
    expect(normalizeDomain('tenant.eu.auth0.com')).toBe('tenant.eu.auth0.com');
  });
});
