/**
 * Connected accounts from the side panel, through Auth0's My Account API (both steps from this same extension page):
 *   1. POST /me/v1/connected-accounts/connect with a fresh PKCE challenge and state → connect_uri + ticket;
 *   2. the provider's consent in a browser-managed window (`identity.launchWebAuthFlow`), which ends at our redirect
 *      URI with `connect_code` and `state`;
 *   3. POST /me/v1/connected-accounts/complete with the code verifier.
 * The callback is checked before anything is completed (C5): it must come back to our redirect URI, with the state
 * of this very flow, and (when the IdP names itself) from the expected issuer. The connect URL is never built
 * elsewhere or handed around (C4). The provider's tokens stay at Auth0; this page only ever sees the account's id.
 */
import type { z } from 'zod';
import type { IdentityApi } from './auth';
import { connectionLabel } from './connections';
import {
  type AvailableConnection,
  AvailableConnectionList,
  type ConnectedAccount,
  ConnectedAccountList,
  ConnectedAccount as ConnectedAccountSchema,
  ConnectResponse,
  MyAccountProblem,
} from './my-account';

export type ConnectErrorCode = 'connect_cancelled' | 'connect_failed' | 'connect_callback_mismatch' | 'my_account_error';

export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(readonly code: ConnectErrorCode, message: string, readonly status?: number) {
    super(message);
  }
}

export interface ConnectedAccountsDeps {
  /** `https://tenant.auth0.com` or `http://localhost:8788` (no trailing slash). */
  domain: string;
  /** An access token for the My Account API (`${domain}/me/`); `rejected` = the one that just got a 401. */
  getToken(options?: { rejected?: string }): Promise<string>;
  identity: IdentityApi;
  fetch?: typeof fetch;
  crypto?: Crypto;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export class ConnectedAccountsClient {
  private readonly api: string;
  private readonly fetchImpl: typeof fetch;
  private readonly crypto: Crypto;

  constructor(private readonly deps: ConnectedAccountsDeps) {
    this.api = `${deps.domain.replace(/\/+$/, '')}/me/v1/connected-accounts`;
    this.fetchImpl = deps.fetch ?? ((...a) => fetch(...a));
    this.crypto = deps.crypto ?? globalThis.crypto;
  }

  async list(): Promise<ConnectedAccount[]> {
    return (await this.call('GET', '/accounts', ConnectedAccountList)).accounts;
  }

  async connections(): Promise<AvailableConnection[]> {
    return (await this.call('GET', '/connections', AvailableConnectionList)).connections;
  }

  async disconnect(id: string): Promise<void> {
    await this.call('DELETE', `/accounts/${encodeURIComponent(id)}`);
  }

  /** Runs the whole connect flow in a browser window; resolves with the connected account. */
  async connect(connection: string, scopes: string[]): Promise<ConnectedAccount> {
    const redirectUri = this.deps.identity.getRedirectURL();
    const verifier = base64url(this.crypto.getRandomValues(new Uint8Array(32)));
    const state = base64url(this.crypto.getRandomValues(new Uint8Array(24)));
    const challenge = base64url(new Uint8Array(await this.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    const started = await this.call('POST', '/connect', ConnectResponse, {
      connection,
      redirect_uri: redirectUri,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scopes,
    });
    const url = new URL(started.connect_uri);
    url.searchParams.set('ticket', started.connect_params.ticket);

    const label = connectionLabel(connection);
    let result: string | undefined;
    try {
      result = await this.deps.identity.launchWebAuthFlow({ url: url.toString(), interactive: true });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/did not approve|cancel|closed/i.test(msg)) throw new ConnectError('connect_cancelled', `Connecting ${label} was cancelled.`);
      throw new ConnectError('connect_failed', `The ${label} connection page could not be completed (${msg}).`);
    }
    const code = this.checkCallback(result, redirectUri, state, label);
    return this.call('POST', '/complete', ConnectedAccountSchema, {
      auth_session: started.auth_session,
      connect_code: code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
  }

  /** The connect code of a callback that belongs to this flow; anything else aborts the flow (C5). */
  private checkCallback(result: string | undefined, redirectUri: string, state: string, label: string): string {
    let cb: URL;
    try {
      cb = new URL(result ?? '');
    } catch {
      throw new ConnectError('connect_failed', `Connecting ${label} returned no result.`);
    }
    const expected = new URL(redirectUri);
    if (cb.origin !== expected.origin || cb.pathname !== expected.pathname) {
      throw new ConnectError('connect_callback_mismatch', `Connecting ${label} was aborted: the answer came back to an unexpected address.`);
    }
    const params = cb.searchParams;
    if (params.get('state') !== state) {
      throw new ConnectError('connect_callback_mismatch', `Connecting ${label} was aborted: the answer does not belong to this connection request.`);
    }
    const iss = params.get('iss');
    if (iss !== null && iss.replace(/\/+$/, '') !== this.deps.domain.replace(/\/+$/, '')) {
      throw new ConnectError('connect_callback_mismatch', `Connecting ${label} was aborted: the answer came from another sign-in server.`);
    }
    const error = params.get('error');
    if (error === 'access_denied') throw new ConnectError('connect_cancelled', `You did not allow Deputy to use your ${label} account.`);
    if (error) throw new ConnectError('connect_failed', `${label} did not complete the connection (${params.get('error_description') ?? error}).`);
    const code = params.get('connect_code');
    if (!code) throw new ConnectError('connect_failed', `Connecting ${label} returned no connect code.`);
    return code;
  }

  private async call(method: string, path: string): Promise<void>;
  private async call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
  private async call<S extends z.ZodType>(method: string, path: string, schema?: S, body?: unknown): Promise<z.infer<S> | void> {
    const send = async (token: string) => {
      try {
        return await this.fetchImpl(`${this.api}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch {
        throw new ConnectError('my_account_error', 'The sign-in server could not be reached to manage connected accounts.');
      }
    };
    let token = await this.deps.getToken();
    let res = await send(token);
    if (res.status === 401) {
      token = await this.deps.getToken({ rejected: token });
      res = await send(token);
    }
    if (!res.ok) {
      const problem = MyAccountProblem.safeParse(await res.json().catch(() => ({})));
      const detail = problem.success ? (problem.data.detail ?? problem.data.title) : undefined;
      throw new ConnectError('my_account_error', `Managing connected accounts failed (${res.status}${detail ? `: ${detail}` : ''}).`, res.status);
    }
    if (!schema) return;
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new ConnectError('my_account_error', 'The sign-in server sent an unexpected answer about connected accounts.');
    return parsed.data;
  }
}
