/**
 * Extension settings, resolved from layers (first layer that has a valid value wins):
 *
 *   1. managed  — the organization's policy (`storage.managed`, lib/managed-policy.ts); a present key is forced
 *   2. user     — `browser.storage.local` key `settings` (the demo and e2e set it from the service worker)
 *   3. build    — `import.meta.env.WXT_BACKEND_URL` baked in at build time
 *   4. default  — lib/defaults.ts
 *
 * `sources` tells the UI which values are locked (source `managed`).
 */
import { browser } from 'wxt/browser';
import { z } from 'zod';
import { DEFAULT_BACKEND_URL } from './defaults';
import { BOOT_MANAGED_TIMEOUT_MS, HttpUrl, ManagedPolicyError, ManagedPolicyPendingError, readManagedPolicy } from './managed-policy';

export const Settings = z.object({
  backendUrl: HttpUrl,
});
export type Settings = z.infer<typeof Settings>;
export type SettingKey = keyof Settings;

export type LayerName = 'managed' | 'user' | 'build' | 'default';

export interface SettingsLayer {
  name: LayerName;
  /** A present key is forced (even empty): it never falls through to a lower layer; an invalid value is an error. */
  forced?: boolean;
  /** Raw, unvalidated values; fields that do not validate are ignored (and reported), never fatal. */
  read(): Promise<Record<string, unknown> | undefined>;
}

export interface ResolvedSettings {
  settings: Settings;
  /** Which layer each value came from. */
  sources: Record<SettingKey, LayerName>;
  /** Values a layer set but that failed validation (shown to the user; the next layer's value is used). */
  problems: { layer: LayerName; key: string; message: string }[];
}

/** The storage.local key the user layer lives under. */
export const SETTINGS_STORAGE_KEY = 'settings';

/** The organization's policy (lib/managed-policy.ts): wins over everything, present keys are forced. */
export const managedLayer: SettingsLayer = {
  name: 'managed',
  forced: true,
  async read() {
    const policy = await readManagedPolicy({ timeoutMs: BOOT_MANAGED_TIMEOUT_MS });
    // Not answered yet: it may force a backend, so the user's must not be used meanwhile (fail closed, retryable).
    if (policy.status === 'pending') throw new ManagedPolicyPendingError();
    return 'backendUrl' in policy.raw ? { backendUrl: policy.raw.backendUrl } : undefined;
  },
};

export const userLayer: SettingsLayer = {
  name: 'user',
  async read() {
    const got = await browser.storage.local.get(SETTINGS_STORAGE_KEY);
    const value = got[SETTINGS_STORAGE_KEY];
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  },
};

export const buildLayer: SettingsLayer = {
  name: 'build',
  async read() {
    const url = import.meta.env.WXT_BACKEND_URL as string | undefined;
    return url ? { backendUrl: url } : undefined;
  },
};

export const defaultLayer: SettingsLayer = {
  name: 'default',
  async read() {
    return { backendUrl: DEFAULT_BACKEND_URL };
  },
};

export function defaultLayers(): SettingsLayer[] {
  return [managedLayer, userLayer, buildLayer, defaultLayer];
}

const fieldSchemas = Settings.shape;

export async function loadSettings(layers: SettingsLayer[] = defaultLayers()): Promise<ResolvedSettings> {
  const values = await Promise.all(
    layers.map(async (layer) => {
      try {
        return await layer.read();
      } catch (e) {
        if (e instanceof ManagedPolicyPendingError) throw e;
        // e.g. storage.managed.get rejects on Firefox without a policy: a layer that cannot be read is empty.
        return undefined;
      }
    }),
  );
  const settings: Partial<Settings> = {};
  const sources: Partial<Record<SettingKey, LayerName>> = {};
  const problems: ResolvedSettings['problems'] = [];

  for (const key of Object.keys(fieldSchemas) as SettingKey[]) {
    for (let i = 0; i < layers.length; i++) {
      const raw = values[i]?.[key];
      if (layers[i].forced && raw !== undefined) {
        const forced = fieldSchemas[key].safeParse(raw);
        if (!forced.success) throw new ManagedPolicyError(key, forced.error.issues[0]?.message ?? 'invalid value');
      }
      if (raw === undefined || raw === null || raw === '') continue;
      const parsed = fieldSchemas[key].safeParse(raw);
      if (!parsed.success) {
        problems.push({ layer: layers[i].name, key, message: parsed.error.issues[0]?.message ?? 'invalid value' });
        continue;
      }
      settings[key] = parsed.data;
      sources[key] = layers[i].name;
      break;
    }
  }

  const complete = Settings.safeParse(settings);
  if (!complete.success) throw new Error(`No valid value for: ${complete.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return { settings: complete.data, sources: sources as Record<SettingKey, LayerName>, problems };
}

/** Calls `onChange` when the stored (user) settings or the organization's policy change. Returns an unsubscribe function. */
export function watchSettings(onChange: () => void): () => void {
  const listener = (changes: Record<string, unknown>, area: string) => {
    if ((area === 'local' && SETTINGS_STORAGE_KEY in changes) || area === 'managed') onChange();
  };
  browser.storage.onChanged.addListener(listener);
  return () => browser.storage.onChanged.removeListener(listener);
}
