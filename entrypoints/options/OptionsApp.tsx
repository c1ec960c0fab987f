/**
 * The options page: the user's own settings, and what the organization's policy forces, read-only and labelled
 * "Set by your organization". Managed values are never editable here, and a user value never replaces one.
 */
import { useCallback, useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { BlockedSitesSettings } from '@/components/BlockedSitesSettings';
import { Logo } from '@/components/Logo';
import { MANAGED_KEYS, MANAGED_LABELS, type ManagedKey, type ManagedPolicy, watchManagedPolicy } from '@/lib/managed-policy';
import { loadSettings, type ResolvedSettings, Settings, SETTINGS_STORAGE_KEY, watchSettings } from '@/lib/settings';

type Loaded = { ok: true; resolved: ResolvedSettings } | { ok: false; message: string };

export function OptionsApp() {
  const [policy, setPolicy] = useState<ManagedPolicy | undefined>();
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [draft, setDraft] = useState('');
  const [status, setStatus] = useState<{ kind: 'saved' | 'error'; text: string } | undefined>();

  const reload = useCallback(() => {
    loadSettings().then(
      (resolved) => {
        setLoaded({ ok: true, resolved });
        setDraft(resolved.settings.backendUrl);
      },
      (e: unknown) => setLoaded({ ok: false, message: e instanceof Error ? e.message : String(e) }),
    );
  }, []);

  useEffect(() => watchManagedPolicy(setPolicy), []);
  useEffect(() => {
    reload();
    return watchSettings(reload);
  }, [reload]);

  const backendForced = policy?.forced.includes('backendUrl') ?? false;

  const save = async () => {
    const parsed = Settings.shape.backendUrl.safeParse(draft);
    if (!parsed.success) {
      setStatus({ kind: 'error', text: `Backend URL ${parsed.error.issues[0]?.message ?? 'is invalid'}.` });
      return;
    }
    const got = await browser.storage.local.get(SETTINGS_STORAGE_KEY);
    const current = (got[SETTINGS_STORAGE_KEY] as Record<string, unknown> | undefined) ?? {};
    await browser.storage.local.set({ [SETTINGS_STORAGE_KEY]: { ...current, backendUrl: parsed.data } });
    setStatus({ kind: 'saved', text: 'Saved. Open panels reconnect to the new server.' });
  };

  const reset = async () => {
    const got = await browser.storage.local.get(SETTINGS_STORAGE_KEY);
    const { backendUrl: _drop, ...rest } = (got[SETTINGS_STORAGE_KEY] as Record<string, unknown> | undefined) ?? {};
    await browser.storage.local.set({ [SETTINGS_STORAGE_KEY]: rest });
    setStatus({ kind: 'saved', text: 'Back to the default server.' });
  };

  return (
    <main className="options" data-testid="options">
      <header className="options-header">
        <Logo size={28} />
        <h1>Deputy settings</h1>
      </header>

      <section className="options-card" aria-labelledby="connection-title">
        <h2 id="connection-title">Server</h2>
        <label className="options-field">
          <span className="options-label">
            Backend URL
            {backendForced && <ManagedBadge />}
          </span>
          <input
            data-testid="backend-url"
            type="url"
            value={backendForced ? String(policy?.raw.backendUrl ?? '') : draft}
            disabled={backendForced}
            onChange={(e) => {
              setDraft(e.target.value);
              setStatus(undefined);
            }}
            spellCheck={false}
          />
        </label>
        {loaded && !loaded.ok && (
          <p className="notice notice-error" role="alert" data-testid="settings-error">
            {loaded.message}
          </p>
        )}
        {!backendForced && (
          <div className="options-actions">
            <button type="button" className="btn btn-primary" onClick={() => void save()} data-testid="save">
              Save
            </button>
            {loaded?.ok && loaded.resolved.sources.backendUrl === 'user' && (
              <button type="button" className="btn btn-ghost" onClick={() => void reset()}>
                Use the default
              </button>
            )}
          </div>
        )}
        {status && (
          <p className={status.kind === 'error' ? 'options-status is-error' : 'options-status'} role="status" data-testid="save-status">
            {status.text}
          </p>
        )}
      </section>

      <section className="options-card" aria-labelledby="sites-title">
        <h2 id="sites-title">Pages Deputy may read</h2>
        <BlockedSitesSettings />
      </section>

      <section className="options-card" aria-labelledby="policy-title" data-testid="policy">
        <h2 id="policy-title">Your organization's policy</h2>
        <PolicyView policy={policy} />
      </section>
    </main>
  );
}

function ManagedBadge() {
  return (
    <span className="managed-badge" title="Set by your organization's administrator; you cannot change it here">
      Set by your organization
    </span>
  );
}

function PolicyView({ policy }: { policy: ManagedPolicy | undefined }) {
  if (!policy) return <p className="options-muted">Reading the policy…</p>;
  if (policy.status === 'pending') return <p className="options-muted">The browser has not delivered the policy yet; this page updates when it does.</p>;
  if (policy.forced.length === 0) return <p className="options-muted" data-testid="no-policy">No settings are managed by your organization.</p>;
  return (
    <dl className="policy-list">
      {MANAGED_KEYS.filter((k) => policy.forced.includes(k)).map((key) => {
        const problem = policy.problems.find((p) => p.key === key);
        return (
          <div className="policy-row" key={key} data-testid={`policy-${key}`}>
            <dt>
              {MANAGED_LABELS[key]} <ManagedBadge />
            </dt>
            <dd>
              {describeValue(key, policy)}
              {problem && <span className="options-status is-error"> The policy's value is invalid ({problem.message}); the strictest reading applies.</span>}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function describeValue(key: ManagedKey, policy: ManagedPolicy): string {
  const value = policy.values[key];
  if (Array.isArray(value)) {
    if (value.length === 0) return key === 'captureBlockedSites' || key === 'approvalTiers' ? 'None' : 'None allowed';
    return value.join(', ');
  }
  if (value === undefined) return `Invalid: ${JSON.stringify(policy.raw[key])}`;
  return String(value);
}
