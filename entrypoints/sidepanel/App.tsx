import { useCallback, useEffect, useState } from 'react';
import { ErrorNotice } from '@/components/ErrorNotice';
import { describeError, type UiError } from '@/components/errors';
import { Logo } from '@/components/Logo';
import { SignedOutView } from '@/components/SignedOutView';
import { Workspace } from '@/components/Workspace';
import { type ApiClient, createApiClient, fetchPublicConfig } from '@/lib/api-client';
import { type AuthStatus, DeputyAuth, type IdentityApi } from '@/lib/auth';
import { ConnectedAccountsClient } from '@/lib/connected-accounts';
import { browser } from 'wxt/browser';
import type { PublicConfig } from '@/lib/protocol';
import { loadSettings, watchSettings } from '@/lib/settings';
import { applyManagedAuth, BOOT_MANAGED_TIMEOUT_MS, readManagedPolicy } from '@/lib/managed-policy';

interface Ready {
  backendUrl: string;
  config: PublicConfig;
  auth: DeputyAuth;
  api: ApiClient;
  accounts: ConnectedAccountsClient;
}

type Boot = { phase: 'loading' } | { phase: 'error'; backendUrl?: string; error: UiError } | { phase: 'ready'; ready: Ready };

async function boot(): Promise<Ready> {
  const { settings } = await loadSettings();
  // The organization's forced tenant, client and audience win over what the backend announces.
  const config = applyManagedAuth(await fetchPublicConfig(settings.backendUrl), await readManagedPolicy({ timeoutMs: BOOT_MANAGED_TIMEOUT_MS }));
  const auth = new DeputyAuth(config.auth);
  const api = createApiClient({ baseUrl: settings.backendUrl, getAccessToken: (o) => auth.getAccessToken(o) });
  const accounts = new ConnectedAccountsClient({
    domain: config.auth.domain,
    getToken: (o) => auth.getMyAccountToken(o),
    identity: browser.identity as unknown as IdentityApi,
  });
  return { backendUrl: settings.backendUrl, config, auth, api, accounts };
}

export function App() {
  const [state, setState] = useState<Boot>({ phase: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setState({ phase: 'loading' });
    boot().then(
      (ready) => !cancelled && setState({ phase: 'ready', ready }),
      async (e) => {
        if (cancelled) return;
        const backendUrl = await loadSettings().then((s) => s.settings.backendUrl, () => undefined);
        setState({ phase: 'error', backendUrl, error: describeError(e, 'Starting Deputy') });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  // A changed backend URL means a different server and IdP: start over.
  useEffect(() => watchSettings(() => setAttempt((a) => a + 1)), []);

  if (state.phase === 'loading') {
    return (
      <main className="splash" data-testid="loading">
        <Logo size={36} />
        <p>Connecting to Deputy…</p>
      </main>
    );
  }
  if (state.phase === 'error') {
    return (
      <main className="splash" data-testid="boot-error">
        <Logo size={36} />
        <ErrorNotice
          error={{
            ...state.error,
            message: `${state.error.message}${state.backendUrl ? ` (server: ${state.backendUrl})` : ''}`,
            retryable: true,
          }}
          onRetry={() => setAttempt((a) => a + 1)}
          retryLabel="Retry"
        />
      </main>
    );
  }
  return <AuthGate ready={state.ready} />;
}

function AuthGate({ ready }: { ready: Ready }) {
  const { auth, api, config, accounts } = ready;
  const [status, setStatus] = useState<AuthStatus | undefined>(undefined);
  const [signingIn, setSigningIn] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    let live = true;
    void auth.getStatus().then((s) => live && setStatus(s));
    const off = auth.subscribe((s) => live && setStatus(s));
    return () => {
      live = false;
      off();
    };
  }, [auth]);

  const signIn = useCallback(async () => {
    setError(null);
    setSigningIn(true);
    try {
      await auth.signIn();
      setStatus(await auth.getStatus());
    } catch (e) {
      setError(describeError(e, 'Sign-in'));
    } finally {
      setSigningIn(false);
    }
  }, [auth]);

  const signOut = useCallback(async () => {
    await auth.signOut();
    setStatus(await auth.getStatus());
  }, [auth]);

  if (!status) {
    return (
      <main className="splash" data-testid="loading">
        <Logo size={36} />
      </main>
    );
  }
  if (status.kind === 'signed-out') {
    return (
      <SignedOutView
        model={config.model}
        notice={status.notice}
        error={error}
        busy={signingIn}
        onSignIn={() => void signIn()}
        onDismissError={() => setError(null)}
      />
    );
  }
  // key: another user means a fresh workspace (and that user's own local history).
  return <Workspace key={status.user.sub} user={status.user} model={config.model} api={api} accounts={accounts} onStepUp={(o) => auth.stepUp(o)} onSignOut={signOut} />;
}
