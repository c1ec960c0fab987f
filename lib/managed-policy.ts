/**
 * Enterprise policy: the values an administrator sets for Deputy through the browser's managed storage
 * (Chrome: `3rdparty.extensions.<id>` in a JSON policy / GPO; Firefox: `3rdparty.Extensions.<id>` in `policies.json`).
 * The shape is declared twice, on purpose: here for validation (zod) and in `public/managed_schema.json`, which the
 * browser uses to accept or drop values before we ever see them. `test/unit/managed-policy.test.ts` keeps them equal.
 *
 * Rules, read by the background and by every extension page:
 *   - A key that is present is forced, even when empty (`allowedTools: []` allows no tool; `backendUrl: ""` is an
 *     error, never "fall back to the user's value"). Managed values win over user settings.
 *   - A present key with an invalid value fails closed: allow-lists become empty, the capture block-list becomes
 *     "every site", approval tiers become "every tier"; a string key (URL, tenant, client) is reported as an error.
 *   - `storage.managed` may reject (Firefox without a policy, a browser without managed storage): no policy.
 *   - It may answer late at browser start: after `timeoutMs` the read returns `status: 'pending'` and
 *     `watchManagedPolicy` keeps waiting for the original answer and for `storage.onChanged` area `managed`.
 */
import { browser } from 'wxt/browser';
import { z } from 'zod';
import { type PublicConfig, RiskTier } from './protocol';

const RISK_TIERS = RiskTier.options;

/** An http(s) URL without a trailing slash, path kept (a backend may live under a prefix). Also the user's setting (lib/settings.ts). */
export const HttpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }))
  .transform((u) => u.replace(/\/+$/, ''));

const NonEmpty = z.string().trim().min(1, 'must not be empty').max(512);

/** Auth0 domain (`acme.eu.auth0.com`, a custom domain) or an http(s) URL (a local IdP). */
const Auth0Domain = NonEmpty.refine((d) => /^https?:\/\/[^\s/]+\/?$/.test(d) || /^[a-z0-9.-]+(:\d+)?$/i.test(d), {
  message: 'must be a domain like tenant.eu.auth0.com or an http(s) origin',
});

/** Every key an administrator can set, with its validator. */
export const MANAGED_FIELDS = {
  backendUrl: HttpUrl,
  auth0Domain: Auth0Domain,
  auth0ClientId: NonEmpty,
  auth0Audience: NonEmpty,
  allowedTools: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a tool name like send_email')).max(200),
  allowedConnections: z.array(NonEmpty).max(50),
  captureBlockedSites: z.array(z.string().trim().min(1).max(2048)).max(1000),
  approvalTiers: z.array(RiskTier).max(RISK_TIERS.length),
} as const;

export type ManagedKey = keyof typeof MANAGED_FIELDS;
export const MANAGED_KEYS = Object.keys(MANAGED_FIELDS) as ManagedKey[];
export type ManagedValues = { [K in ManagedKey]: z.infer<(typeof MANAGED_FIELDS)[K]> };

/** What an invalid value of a list key becomes: the most restrictive reading of the administrator's intent. */
const FAIL_CLOSED: Partial<ManagedValues> = {
  allowedTools: [],
  allowedConnections: [],
  captureBlockedSites: ['*'],
  approvalTiers: [...RISK_TIERS],
};

export const MANAGED_LABELS: Record<ManagedKey, string> = {
  backendUrl: 'Backend URL',
  auth0Domain: 'Auth0 domain',
  auth0ClientId: 'Auth0 client id',
  auth0Audience: 'API audience',
  allowedTools: 'Allowed tools',
  allowedConnections: 'Allowed connections',
  captureBlockedSites: 'Sites never captured',
  approvalTiers: 'Approval required for tiers',
};

export interface ManagedPolicy {
  /**
   * applied: the browser answered (possibly with no keys); none: managed storage rejected or does not exist;
   * pending: it has not answered within the timeout (browser start), values are unknown yet.
   */
  status: 'applied' | 'none' | 'pending';
  /** Values in force: every present key, with fail-closed values for invalid lists. */
  values: Partial<ManagedValues>;
  /** Keys present in the policy (forced), valid or not. */
  forced: ManagedKey[];
  /** Present keys whose value did not validate, with why. */
  problems: Array<{ key: ManagedKey; message: string }>;
  /** The raw values of the present keys, for layers that validate on their own (lib/settings.ts). */
  raw: Partial<Record<ManagedKey, unknown>>;
}

export const NO_POLICY: ManagedPolicy = { status: 'none', values: {}, forced: [], problems: [], raw: {} };

/** Validates what `storage.managed.get()` answered. Unknown keys are ignored. */
export function parseManagedPolicy(stored: Record<string, unknown> | undefined | null): ManagedPolicy {
  const policy: ManagedPolicy = { status: 'applied', values: {}, forced: [], problems: [], raw: {} };
  if (!stored || typeof stored !== 'object') return policy;
  for (const key of MANAGED_KEYS) {
    if (!Object.hasOwn(stored, key) || stored[key] === undefined) continue;
    const raw = stored[key];
    policy.forced.push(key);
    policy.raw[key] = raw;
    const parsed = MANAGED_FIELDS[key].safeParse(raw);
    if (parsed.success) {
      (policy.values as Record<string, unknown>)[key] = parsed.data;
    } else {
      policy.problems.push({ key, message: parsed.error.issues[0]?.message ?? 'invalid value' });
      if (key in FAIL_CLOSED) (policy.values as Record<string, unknown>)[key] = FAIL_CLOSED[key];
    }
  }
  return policy;
}

export interface ManagedArea {
  get(keys?: string | string[] | null): Promise<Record<string, unknown>>;
}

export interface ReadOptions {
  /** Defaults to `browser.storage.managed` (undefined where the browser has none). */
  area?: ManagedArea;
  /** How long to wait for the browser before answering `pending`. */
  timeoutMs?: number;
}

export const DEFAULT_MANAGED_TIMEOUT_MS = 1500;

/**
 * Pages that need the policy before they can start (which backend, which tenant) wait longer: Chromium was measured
 * answering `storage.managed.get` 2.7 s after a cold start with a policy file present.
 */
export const BOOT_MANAGED_TIMEOUT_MS = 10_000;

function defaultArea(): ManagedArea | undefined {
  return (browser.storage as unknown as { managed?: ManagedArea } | undefined)?.managed;
}

/** One read of the managed policy; never throws. `late` settles with the real answer when the read timed out. */
export function readManagedPolicyWithLate(options: ReadOptions = {}): { first: Promise<ManagedPolicy>; late: Promise<ManagedPolicy> } {
  const area = options.area ?? defaultArea();
  if (!area?.get) {
    const none = Promise.resolve(NO_POLICY);
    return { first: none, late: none };
  }
  let answer: Promise<ManagedPolicy>;
  try {
    answer = Promise.resolve(area.get(null)).then(parseManagedPolicy, () => NO_POLICY);
  } catch {
    answer = Promise.resolve(NO_POLICY);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_MANAGED_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<ManagedPolicy>((resolve) => {
    timer = setTimeout(() => resolve({ ...NO_POLICY, status: 'pending' }), timeoutMs);
  });
  const first = Promise.race([answer, pending]).finally(() => clearTimeout(timer));
  return { first, late: answer };
}

export async function readManagedPolicy(options: ReadOptions = {}): Promise<ManagedPolicy> {
  return readManagedPolicyWithLate(options).first;
}

/**
 * Calls `onChange` with the policy now, again when a late first answer arrives, and on every change of the
 * `managed` storage area. Returns an unsubscribe function.
 */
export function watchManagedPolicy(onChange: (policy: ManagedPolicy) => void, options: ReadOptions = {}): () => void {
  let stopped = false;
  let generation = 0;
  const deliver = (gen: number) => (p: ManagedPolicy) => {
    if (!stopped && gen === generation) onChange(p);
  };
  const read = () => {
    const gen = ++generation;
    const { first, late } = readManagedPolicyWithLate(options);
    void first.then((p) => {
      deliver(gen)(p);
      if (p.status === 'pending') void late.then(deliver(gen));
    });
  };
  const listener = (_changes: unknown, area: string) => {
    if (area === 'managed') read();
  };
  browser.storage.onChanged.addListener(listener);
  read();
  return () => {
    stopped = true;
    browser.storage.onChanged.removeListener(listener);
  };
}

/** Thrown when the organization forced a value the extension cannot use: it never falls back to a user value. */
export class ManagedPolicyError extends Error {
  constructor(
    readonly key: ManagedKey,
    detail: string,
  ) {
    super(`Your organization's policy sets "${MANAGED_LABELS[key]}" to a value Deputy cannot use (${detail}). Ask your administrator.`);
    this.name = 'ManagedPolicyError';
  }
}

/**
 * Thrown where the organization's policy decides something (which backend, which tenant) and the browser has not
 * answered yet: an unknown policy may force other values, so nothing falls back to the user's or the backend's.
 */
export class ManagedPolicyPendingError extends Error {
  override name = 'ManagedPolicyPendingError';
  constructor() {
    super("Your organization's policy has not loaded yet. Try again in a moment.");
  }
}

/** The backend's public sign-in configuration with the organization's forced tenant, client and audience. */
export function applyManagedAuth(config: PublicConfig, policy: ManagedPolicy): PublicConfig {
  if (policy.status === 'pending') throw new ManagedPolicyPendingError();
  const auth = { ...config.auth };
  const map = { auth0Domain: 'domain', auth0ClientId: 'clientId', auth0Audience: 'audience' } as const;
  for (const [key, field] of Object.entries(map) as Array<[keyof typeof map, (typeof map)[keyof typeof map]]>) {
    if (!policy.forced.includes(key)) continue;
    const value = policy.values[key];
    if (value === undefined) throw new ManagedPolicyError(key, policy.problems.find((p) => p.key === key)?.message ?? 'invalid');
    auth[field] = value;
  }
  return { ...config, auth };
}

/** Is a connection allowed by the policy? (No `allowedConnections` key: every connection.) UI only; the backend enforces. */
export function isConnectionAllowed(policy: ManagedPolicy, connection: string): boolean {
  return !policy.forced.includes('allowedConnections') || (policy.values.allowedConnections ?? []).includes(connection);
}

/** Is a tool allowed by the policy? (No `allowedTools` key: every tool.) UI only; the backend enforces. */
export function isToolAllowed(policy: ManagedPolicy, tool: string): boolean {
  return !policy.forced.includes('allowedTools') || (policy.values.allowedTools ?? []).includes(tool);
}
