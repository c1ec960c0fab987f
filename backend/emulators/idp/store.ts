/**
 * Storage for oidc-provider's models (sessions, grants, codes, refresh tokens, interactions, ...): a map in memory,
 * optionally mirrored to one JSON file in the data directory so that IdP sessions and refresh tokens survive a restart
 * of the emulator (like a real tenant). Writes are debounced and atomic (temporary file + rename); expired entries are
 * dropped on load and on write. Good for one local process; not a production adapter.
 */
import fs from 'node:fs';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { writeSecretFile } from './keys';

interface Entry {
  payload: AdapterPayload;
  /** Seconds since the epoch; undefined = no expiry. */
  expiresAt?: number;
}

const now = () => Math.floor(Date.now() / 1000);
const FILE_VERSION = 1;

export class ModelStore {
  private readonly models = new Map<string, Map<string, Entry>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `file` undefined: memory only. */
  constructor(private readonly file: string | undefined, private readonly onError: (message: string) => void = () => {}) {
    if (file) this.load(file);
  }

  private model(name: string): Map<string, Entry> {
    let m = this.models.get(name);
    if (!m) {
      m = new Map();
      this.models.set(name, m);
    }
    return m;
  }

  private load(file: string) {
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cannot read the session store (${(err as Error).message}); starting empty`);
      return;
    }
    try {
      const data = JSON.parse(raw) as { version?: number; models?: Record<string, Record<string, Entry>> };
      if (data.version !== FILE_VERSION || !data.models || typeof data.models !== 'object') return;
      const t = now();
      for (const [name, entries] of Object.entries(data.models)) {
        const m = this.model(name);
        for (const [id, entry] of Object.entries(entries ?? {})) {
          if (!entry || typeof entry !== 'object' || !entry.payload) continue;
          if (entry.expiresAt !== undefined && entry.expiresAt <= t) continue;
          m.set(id, entry);
        }
      }
    } catch {
      this.onError('the session store file is not valid JSON; starting empty');
    }
  }

  private scheduleWrite() {
    if (!this.file || this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, 100);
    this.timer.unref();
  }

  private writeNow() {
    if (!this.file) return;
    const t = now();
    const out: Record<string, Record<string, Entry>> = {};
    for (const [name, m] of this.models) {
      for (const [id, entry] of m) {
        if (entry.expiresAt !== undefined && entry.expiresAt <= t) {
          m.delete(id);
          continue;
        }
        (out[name] ??= {})[id] = entry;
      }
    }
    try {
      writeSecretFile(this.file, { version: FILE_VERSION, models: out });
    } catch (err) {
      this.onError(`cannot write the session store (${(err as Error).message})`);
    }
  }

  /** Writes pending changes at once and stops writing. */
  close() {
    if (this.closed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.writeNow();
    }
    this.closed = true;
  }

  get(name: string, id: string): AdapterPayload | undefined {
    const m = this.models.get(name);
    const entry = m?.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      m!.delete(id);
      return undefined;
    }
    return structuredClone(entry.payload);
  }

  set(name: string, id: string, payload: AdapterPayload, expiresIn?: number) {
    this.model(name).set(id, { payload: structuredClone(payload), expiresAt: expiresIn ? now() + expiresIn : undefined });
    this.scheduleWrite();
  }

  delete(name: string, id: string) {
    if (this.models.get(name)?.delete(id)) this.scheduleWrite();
  }

  findBy(name: string, predicate: (p: AdapterPayload) => boolean): AdapterPayload | undefined {
    const t = now();
    for (const entry of this.models.get(name)?.values() ?? []) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= t) continue;
      if (predicate(entry.payload)) return structuredClone(entry.payload);
    }
    return undefined;
  }

  consume(name: string, id: string) {
    const entry = this.models.get(name)?.get(id);
    if (!entry) return;
    entry.payload = { ...entry.payload, consumed: now() };
    this.scheduleWrite();
  }

  revokeByGrantId(name: string, grantId: string) {
    const m = this.models.get(name);
    if (!m) return;
    let changed = false;
    for (const [id, entry] of m) {
      if (entry.payload.grantId === grantId) {
        m.delete(id);
        changed = true;
      }
    }
    if (changed) this.scheduleWrite();
  }

  /** An oidc-provider adapter class over this store (one instance per model name). */
  adapterClass(): new (name: string) => Adapter {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    return class StoreAdapter implements Adapter {
      constructor(private readonly name: string) {}
      async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
        store.set(this.name, id, payload, expiresIn);
      }
      async find(id: string) {
        return store.get(this.name, id);
      }
      async findByUserCode(userCode: string) {
        return store.findBy(this.name, (p) => p.userCode === userCode);
      }
      async findByUid(uid: string) {
        return store.findBy(this.name, (p) => p.uid === uid);
      }
      async consume(id: string) {
        store.consume(this.name, id);
      }
      async destroy(id: string) {
        store.delete(this.name, id);
      }
      async revokeByGrantId(grantId: string) {
        store.revokeByGrantId(this.name, grantId);
      }
    };
  }
}
