/**
 * auth0-spa-js token cache backed by `browser.storage.session`.
 *
 * storage.session lives in memory only (cleared when the browser closes), is shared by every extension page (all
 * side panels see one sign-in) and, at its default access level (TRUSTED_CONTEXTS), is not readable by content
 * scripts. Tokens are never written to localStorage, storage.local or IndexedDB, and never sent with runtime messages.
 */
import type { Cacheable, ICache } from '@auth0/auth0-spa-js';
import { browser } from 'wxt/browser';

/** Minimal slice of a `StorageArea` this cache needs (lets tests pass a fake). */
export interface SessionArea {
  get(keys?: string | string[] | null): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

export const SESSION_CACHE_PREFIX = 'deputy.auth.';

export class StorageSessionCache implements ICache {
  constructor(
    private readonly area: SessionArea = browser.storage.session as unknown as SessionArea,
    private readonly prefix: string = SESSION_CACHE_PREFIX,
  ) {}

  /** The storage key an spa-js cache key is stored under. */
  storageKey(key: string): string {
    return this.prefix + key;
  }

  async set<T = Cacheable>(key: string, entry: T): Promise<void> {
    await this.area.set({ [this.storageKey(key)]: entry });
  }

  async get<T = Cacheable>(key: string): Promise<T | undefined> {
    const k = this.storageKey(key);
    const got = await this.area.get(k);
    return (got[k] as T | undefined) ?? undefined;
  }

  async remove(key: string): Promise<void> {
    await this.area.remove(this.storageKey(key));
  }

  async allKeys(): Promise<string[]> {
    const all = await this.area.get(null);
    return Object.keys(all)
      .filter((k) => k.startsWith(this.prefix))
      .map((k) => k.slice(this.prefix.length));
  }

  /** Removes every entry of this cache (sign-out, session ended). */
  async clear(): Promise<void> {
    const keys = (await this.allKeys()).map((k) => this.storageKey(k));
    if (keys.length) await this.area.remove(keys);
  }
}
