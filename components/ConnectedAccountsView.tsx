import { useCallback, useEffect, useState } from 'react';
import type { ConnectedAccountsClient } from '@/lib/connected-accounts';
import { CONNECTION_NAMES, connectionLabel, CONNECTIONS, PROVIDER_SCOPES, scopeLabel } from '@/lib/connections';
import type { AvailableConnection, ConnectedAccount } from '@/lib/my-account';
import { isConnectionAllowed, type ManagedPolicy, NO_POLICY, readManagedPolicy } from '@/lib/managed-policy';
import { ErrorNotice } from './ErrorNotice';
import { describeError, type UiError } from './errors';

/** Everything Deputy's tools can use of a provider: what "Connect" here asks for. */
const allScopesOf = (connection: string): string[] => {
  const provider = (CONNECTIONS as Record<string, { provider: keyof typeof PROVIDER_SCOPES }>)[connection]?.provider;
  return provider ? Object.values(PROVIDER_SCOPES[provider]) : [];
};

const since = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
};

/** The user's connected accounts (list, scopes, connected since, disconnect) and the connections not yet made. */
export function ConnectedAccountsView({ client, onChanged }: { client: ConnectedAccountsClient; onChanged: () => Promise<void> }) {
  const [accounts, setAccounts] = useState<ConnectedAccount[] | undefined>(undefined);
  const [available, setAvailable] = useState<AvailableConnection[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  // The organization's allowed connections (UI only: the backend refuses tools of other connections itself).
  const [policy, setPolicy] = useState<ManagedPolicy>(NO_POLICY);

  const load = useCallback(async () => {
    void readManagedPolicy().then(setPolicy);
    try {
      const [list, connections] = await Promise.all([client.list(), client.connections()]);
      setAccounts(list);
      setAvailable(connections);
      setError(null);
    } catch (e) {
      setError(describeError(e, 'Loading connected accounts'));
      setAccounts((a) => a ?? []);
    }
  }, [client]);

  useEffect(() => void load(), [load]);

  const act = async (key: string, what: string, action: () => Promise<unknown>) => {
    setBusy(key);
    setError(null);
    try {
      await action();
      await onChanged().catch(() => {});
    } catch (e) {
      setError(describeError(e, what));
    } finally {
      setBusy(null);
      await load();
    }
  };

  const connected = new Set((accounts ?? []).map((a) => a.connection));
  const notConnected = (available.length ? available.map((c) => c.name) : CONNECTION_NAMES).filter(
    (n) => !connected.has(n) && isConnectionAllowed(policy, n),
  );

  return (
    <section className="accounts" data-testid="connected-accounts" aria-labelledby="accounts-title">
      <h2 className="accounts-title" id="accounts-title">
        Connected accounts
      </h2>
      <p className="accounts-lead">Deputy acts in these accounts only through tokens kept by the sign-in service and Deputy’s server.</p>
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {accounts === undefined ? (
        <p className="accounts-empty">Loading…</p>
      ) : (
        <ul className="accounts-list">
          {accounts.map((a) => (
            <li key={a.id} className="account" data-testid="connected-account" data-connection={a.connection}>
              <div className="account-head">
                <span className="account-name">{connectionLabel(a.connection)}</span>
                <span className="account-since">Connected since {since(a.created_at)}</span>
              </div>
              <ul className="account-scopes" data-testid="account-scopes">
                {a.scopes.map((s) => (
                  <li key={s} title={s}>
                    {scopeLabel(s)}
                  </li>
                ))}
              </ul>
              <button
                type="button"
                className="btn btn-small"
                disabled={busy !== null}
                onClick={() => void act(a.id, `Disconnecting ${connectionLabel(a.connection)}`, () => client.disconnect(a.id))}
                data-testid="disconnect-account"
              >
                {busy === a.id ? 'Disconnecting…' : 'Disconnect'}
              </button>
            </li>
          ))}
          {notConnected.map((name) => (
            <li key={name} className="account account-missing" data-testid="available-connection" data-connection={name}>
              <div className="account-head">
                <span className="account-name">{connectionLabel(name)}</span>
                <span className="account-since">Not connected</span>
              </div>
              <button
                type="button"
                className="btn btn-small btn-primary"
                disabled={busy !== null}
                onClick={() => void act(name, `Connecting ${connectionLabel(name)}`, () => client.connect(name, allScopesOf(name)))}
                data-testid="connect-account"
              >
                {busy === name ? 'Connecting…' : `Connect ${connectionLabel(name)}`}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
