/**
 * Sign-in for extension pages: auth0-spa-js (Authorization Code + PKCE) with the redirect handled by
 * `identity.launchWebAuthFlow`, tokens in `storage.session` (see session-cache.ts).
 *
 * - The extension holds access tokens (and the ID token, for the profile) only. No refresh token is requested
 *   (no `offline_access`, no `useRefreshTokens`).
 * - Renewal is a silent `prompt=none` authorization through `launchWebAuthFlow({ interactive: false })` that rides
 *   the IdP session, one renewal at a time across all extension pages (Web Lock). If the IdP session is gone the user
 *   is signed out with "Your session ended — sign in again".
 * - Step-up (`stepUp`) is an interactive `prompt=login` authorization with `acr_values`/`max_age` for our API; its
 *   tokens replace the cached ones for our API, so later API calls carry the fresh multi-factor token.
 * - Sign-out clears the local session, then ends the IdP session through `/v2/logout` (failure tolerated, reported).
 *
 * Runs in extension pages only (spa-js needs `window`/`document`; not in the MV3 service worker, never in a content
 * script).
 */
import { Auth0Client, CacheKey, GenericError, type WrappedCacheEntry } from '@auth0/auth0-spa-js';
import { browser } from 'wxt/browser';
import { MY_ACCOUNT_SCOPES } from '../defaults';
import { SESSION_CACHE_PREFIX, StorageSessionCache, type SessionArea } from './session-cache';

export interface AuthConfig {
  /** Auth0 domain (`tenant.eu.auth0.com`) or a URL with scheme (`http://localhost:8788`) for the emulator. */
  domain: string;
  clientId: string;
  audience: string;
  scope: string;
}

export interface UserProfile {
  sub: string;
  name?: string;
  email?: string;
  picture?: string;
}

/** A message for the signed-out view (why the user is signed out, or what went wrong on the way out). */
export interface AuthNotice {
  code: 'session_ended' | 'idp_logout_failed';
  message: string;
}

export type AuthStatus = { kind: 'signed-out'; notice?: AuthNotice } | { kind: 'signed-in'; user: UserProfile };

export type AuthErrorCode =
  | 'sign_in_cancelled'
  | 'sign_in_failed'
  | 'session_ended'
  | 'renewal_failed'
  | 'not_signed_in'
  | 'step_up_cancelled'
  | 'step_up_failed'
  | 'step_up_wrong_user';

export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const SESSION_ENDED_MESSAGE = 'Your session ended — sign in again.';

/** The parts of `browser.identity` this module uses (stubbed in unit tests). */
export interface IdentityApi {
  getRedirectURL(path?: string): string;
  launchWebAuthFlow(details: {
    url: string;
    interactive?: boolean;
    abortOnLoadForNonInteractive?: boolean;
    timeoutMsForNonInteractive?: number;
  }): Promise<string | undefined>;
}

export interface LockApi {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface AuthDeps {
  identity?: IdentityApi;
  session?: SessionArea;
  locks?: LockApi;
  now?: () => number;
}

export const RENEWAL_LOCK = 'deputy-token-renewal';
const NOTICE_KEY = 'deputy.notice.auth';
const SPA_PREFIX = '@@auth0spajs@@';
const SPA_USER_SUFFIX = '@@user@@';
/** Errors of a `prompt=none` authorization that mean "interactive sign-in needed" (the IdP session is gone). */
const INTERACTION_ERRORS = new Set(['login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/** Renew when less than this is left (spa-js uses the same 60 s). */
const RENEW_MARGIN_SECONDS = 60;

/**
 * Seconds before expiry at which a token counts as expired: 60 s, or a quarter of the token's lifetime for tokens that
 * live under 4 minutes (test setups), so a 20 s token is used for 15 s instead of being renewed on every call.
 */
export function renewalMargin(lifetimeSeconds: number | undefined): number {
  if (!lifetimeSeconds || lifetimeSeconds <= 0) return RENEW_MARGIN_SECONDS;
  return Math.min(RENEW_MARGIN_SECONDS, Math.floor(lifetimeSeconds / 4));
}

/** Strips trailing slashes: spa-js builds the expected ID-token issuer as `${domainUrl}/`. */
export function normalizeDomain(domain: string): string {
  return domain.trim().replace(/\/+$/, '');
}

function errorMessage(e: unknown): string {
  if (e instanceof GenericError) return e.error_description || e.error;
  if (e instanceof Error) return e.message;
  return String(e);
}

export class DeputyAuth {
  readonly redirectUri: string;
  private readonly client: Auth0Client;
  private readonly cache: StorageSessionCache;
  private readonly identity: IdentityApi;
  private readonly session: SessionArea;
  private readonly locks: LockApi;
  private readonly now: () => number;

  constructor(
    readonly config: AuthConfig,
    deps: AuthDeps = {},
  ) {
    this.identity = deps.identity ?? (browser.identity as unknown as IdentityApi);
    this.session = deps.session ?? (browser.storage.session as unknown as SessionArea);
    this.locks = deps.locks ?? (navigator.locks as unknown as LockApi);
    this.now = deps.now ?? Date.now;
    // One namespace per IdP: tokens of another tenant/emulator (a changed backend URL) are never picked up.
    this.cache = new StorageSessionCache(this.session, `${SESSION_CACHE_PREFIX}${normalizeDomain(config.domain)}|`);
    this.redirectUri = this.identity.getRedirectURL();
    // `new Auth0Client` rather than `createAuth0Client`: the latter runs `checkSession()`, which falls back to a
    // hidden-iframe `prompt=none` when the cached token is near expiry; that cannot work from an extension page
    // (third-party cookies) and would hang until its timeout. Our renewal goes through launchWebAuthFlow instead.
    this.client = new Auth0Client({
      domain: normalizeDomain(config.domain),
      clientId: config.clientId,
      cache: this.cache,
      useRefreshTokens: false,
      anonymousSessionsCacheMode: 'memory',
      nowProvider: this.now,
      authorizationParams: {
        redirect_uri: this.redirectUri,
        audience: config.audience,
        // No offline_access: the extension never holds a refresh token.
        scope: config.scope
          .split(/\s+/)
          .filter((s) => s && s !== 'offline_access')
          .join(' '),
      },
    });
  }

  // ---- state -------------------------------------------------------------------------------------------------------

  /** The signed-in user from the ID token in the shared session cache, or the signed-out state with its notice. */
  async getStatus(): Promise<AuthStatus> {
    const user = await this.readUser();
    if (user) return { kind: 'signed-in', user };
    const got = await this.session.get(NOTICE_KEY);
    const notice = got[NOTICE_KEY] as AuthNotice | undefined;
    return notice ? { kind: 'signed-out', notice } : { kind: 'signed-out' };
  }

  /** Calls `listener` whenever the sign-in state may have changed (in this or any other extension page). */
  subscribe(listener: (status: AuthStatus) => void): () => void {
    const onChanged = (changes: Record<string, unknown>, area: string) => {
      if (area !== 'session') return;
      if (Object.keys(changes).some((k) => k.startsWith(this.cache.storageKey('')) || k === NOTICE_KEY)) {
        void this.getStatus().then(listener);
      }
    };
    browser.storage.onChanged.addListener(onChanged);
    return () => browser.storage.onChanged.removeListener(onChanged);
  }

  private async readUser(): Promise<UserProfile | undefined> {
    const key = new CacheKey({ clientId: this.config.clientId }, SPA_PREFIX, SPA_USER_SUFFIX).toKey();
    const entry = await this.cache.get<{ decodedToken?: { user?: Record<string, unknown> } }>(key);
    const user = entry?.decodedToken?.user;
    if (!user || typeof user.sub !== 'string') return undefined;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return { sub: user.sub, name: str(user.name), email: str(user.email), picture: str(user.picture) };
  }

  /** The cached access token for an audience (default: our API's) if it is not about to expire. */
  private async readAccessToken(audience = this.config.audience): Promise<string | undefined> {
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const key of await this.cache.allKeys()) {
      const k = CacheKey.fromKey(key);
      if (k.prefix !== SPA_PREFIX || k.clientId !== this.config.clientId || k.audience !== audience) continue;
      const entry = await this.cache.get<WrappedCacheEntry>(key);
      const token = entry?.body?.access_token;
      if (!token || typeof entry.expiresAt !== 'number') continue;
      if (entry.expiresAt - renewalMargin(entry.body.expires_in) > nowSeconds) return token;
    }
    return undefined;
  }

  private async setNotice(notice: AuthNotice | undefined): Promise<void> {
    if (notice) await this.session.set({ [NOTICE_KEY]: notice });
    else await this.session.remove(NOTICE_KEY);
  }

  // ---- sign in -----------------------------------------------------------------------------------------------------

  /** Interactive sign-in in a browser-managed window. Login and callback run in this same document. */
  async signIn(): Promise<UserProfile> {
    try {
      await this.client.loginWithRedirect({
        openUrl: async (url) => {
          let result: string | undefined;
          try {
            result = await this.identity.launchWebAuthFlow({ url, interactive: true });
          } catch (e) {
            const msg = errorMessage(e);
            if (/did not approve|cancel|closed/i.test(msg)) {
              throw new AuthError('sign_in_cancelled', 'Sign-in was cancelled. Select "Sign in" to try again.', { cause: e });
            }
            throw new AuthError(
              'sign_in_failed',
              `The sign-in page could not be completed (${msg}). Check that the sign-in server is reachable and try again.`,
              { cause: e },
            );
          }
          if (!result) throw new AuthError('sign_in_failed', 'Sign-in returned no result. Try again.');
          await this.client.handleRedirectCallback(result);
        },
      });
    } catch (e) {
      if (e instanceof AuthError) throw e;
      throw new AuthError('sign_in_failed', `Sign-in failed: ${errorMessage(e)}. Try again.`, { cause: e });
    }
    const user = await this.readUser();
    if (!user) throw new AuthError('sign_in_failed', 'Sign-in finished without a user profile. Try again.');
    await this.setNotice(undefined);
    return user;
  }

  // ---- step-up -----------------------------------------------------------------------------------------------------

  /**
   * Signs the same user in again interactively, asking the IdP for `acrValues` (e.g. multi-factor) and a sign-in no
   * older than `maxAgeSeconds` (RFC 9470). The new tokens replace those cached for our API (a refresh token of the
   * old sign-in, if any, too), so `getAccessToken()` returns the stepped-up token afterwards. Another account
   * signing in is refused and the previous session is kept.
   */
  async stepUp(options: { acrValues?: string; maxAgeSeconds?: number } = {}): Promise<void> {
    const before = await this.readUser();
    if (!before) throw new AuthError('not_signed_in', 'You are not signed in. Sign in to continue.');
    const snapshot = await this.snapshotCache();
    const oldApiTokens = new Set(
      Object.values(snapshot).flatMap((e) => {
        const body = (e as Partial<WrappedCacheEntry> | undefined)?.body;
        return body?.access_token ? [body.access_token] : [];
      }),
    );
    try {
      await this.client.loginWithRedirect({
        authorizationParams: {
          prompt: 'login',
          audience: this.config.audience,
          ...(options.acrValues ? { acr_values: options.acrValues } : {}),
          ...(options.maxAgeSeconds !== undefined ? { max_age: options.maxAgeSeconds } : {}),
          ...(before.email ? { login_hint: before.email } : {}),
        },
        openUrl: async (url) => {
          let result: string | undefined;
          try {
            result = await this.identity.launchWebAuthFlow({ url, interactive: true });
          } catch (e) {
            if (/did not approve|cancel|closed/i.test(errorMessage(e))) {
              throw new AuthError('step_up_cancelled', 'The verification was cancelled.', { cause: e });
            }
            throw new AuthError('step_up_failed', `The verification page could not be completed (${errorMessage(e)}).`, { cause: e });
          }
          if (!result) throw new AuthError('step_up_failed', 'The verification returned no result.');
          await this.client.handleRedirectCallback(result);
        },
      });
    } catch (e) {
      if (e instanceof AuthError) throw e;
      if (e instanceof GenericError && e.error === 'access_denied') {
        throw new AuthError('step_up_cancelled', `The verification was not completed (${errorMessage(e)}).`, { cause: e });
      }
      throw new AuthError('step_up_failed', `The verification failed: ${errorMessage(e)}.`, { cause: e });
    }
    const after = await this.readUser();
    if (after?.sub !== before.sub) {
      await this.restoreCache(snapshot);
      throw new AuthError('step_up_wrong_user', 'You verified with a different account. Verify with the account you are signed in with.');
    }
    // Entries of our API the step-up did not overwrite (another scope) still hold tokens of the old sign-in.
    for (const key of await this.cache.allKeys()) {
      const k = CacheKey.fromKey(key);
      if (k.prefix !== SPA_PREFIX || k.clientId !== this.config.clientId || k.audience !== this.config.audience) continue;
      const token = (await this.cache.get<WrappedCacheEntry>(key))?.body?.access_token;
      if (!token || oldApiTokens.has(token)) await this.cache.remove(key);
    }
  }

  private async snapshotCache(): Promise<Record<string, unknown>> {
    const keys = await this.cache.allKeys();
    return Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await this.cache.get(k)] as const)));
  }

  private async restoreCache(snapshot: Record<string, unknown>): Promise<void> {
    await this.cache.clear();
    for (const [k, v] of Object.entries(snapshot)) await this.cache.set(k, v);
  }

  // ---- tokens ------------------------------------------------------------------------------------------------------

  /**
   * An access token for our API: the cached one if it has enough time left, else a silent renewal (one at a time
   * across all extension pages). `rejected`: a token the API just refused (401); it is not handed out again.
   */
  async getAccessToken(options: { rejected?: string; audience?: string; scope?: string } = {}): Promise<string> {
    const usable = (t: string | undefined) => (t && t !== options.rejected ? t : undefined);
    const audience = options.audience ?? this.config.audience;
    const cached = usable(await this.readAccessToken(audience));
    if (cached) return cached;
    if (!(await this.readUser())) throw new AuthError('not_signed_in', 'You are not signed in. Sign in to continue.');

    return this.locks.request(RENEWAL_LOCK, async () => {
      // Another page may have renewed while we waited for the lock.
      const again = usable(await this.readAccessToken(audience));
      if (again) return again;
      if (!(await this.readUser())) throw new AuthError('not_signed_in', 'You are not signed in. Sign in to continue.');
      await this.renewSilently(options.audience ? { audience, scope: options.scope } : undefined);
      const fresh = usable(await this.readAccessToken(audience));
      if (!fresh) throw new AuthError('renewal_failed', 'Renewing your sign-in returned no usable access token. Sign in again.');
      return fresh;
    });
  }

  /**
   * A token for Auth0's My Account API (`https://{domain}/me/`), to manage the user's connected accounts. Obtained
   * the same silent way as our API's, riding the IdP session.
   */
  getMyAccountToken(options: { rejected?: string } = {}): Promise<string> {
    return this.getAccessToken({ ...options, audience: this.myAccountAudience, scope: `openid ${MY_ACCOUNT_SCOPES.join(' ')}` });
  }

  get myAccountAudience(): string {
    const base = normalizeDomain(this.config.domain);
    return `${/^https?:\/\//.test(base) ? base : `https://${base}`}/me/`;
  }

  private async renewSilently(other?: { audience: string; scope?: string }): Promise<void> {
    try {
      await this.client.loginWithRedirect({
        authorizationParams: { prompt: 'none', ...(other ? { audience: other.audience, ...(other.scope ? { scope: other.scope } : {}) } : {}) },
        openUrl: async (url) => {
          const result = await this.identity.launchWebAuthFlow({ url, interactive: false });
          if (!result) throw new Error('the silent authorization returned no result');
          await this.client.handleRedirectCallback(result);
        },
      });
    } catch (e) {
      const sessionGone =
        (e instanceof GenericError && INTERACTION_ERRORS.has(e.error)) ||
        // launchWebAuthFlow's own error when the IdP shows a page instead of redirecting at once.
        /user interaction required/i.test(errorMessage(e));
      if (sessionGone) {
        await this.cache.clear();
        await this.setNotice({ code: 'session_ended', message: SESSION_ENDED_MESSAGE });
        throw new AuthError('session_ended', SESSION_ENDED_MESSAGE, { cause: e });
      }
      throw new AuthError(
        'renewal_failed',
        `Could not renew your sign-in (${errorMessage(e)}). Check that the sign-in server is reachable, then try again.`,
        { cause: e },
      );
    }
  }

  // ---- sign out ----------------------------------------------------------------------------------------------------

  /**
   * Clears the local session (every extension page is signed out at once), then ends the IdP session. A failure of
   * the second step is tolerated and reported in the returned notice (also shown by the signed-out view).
   */
  async signOut(): Promise<{ idpSessionEnded: boolean; notice?: AuthNotice }> {
    let idpError: string | undefined;
    await this.client.logout({
      logoutParams: { returnTo: this.redirectUri },
      openUrl: async (url) => {
        try {
          await this.identity.launchWebAuthFlow({ url, interactive: false });
        } catch (e) {
          idpError = errorMessage(e);
        }
      },
    });
    await this.cache.clear();
    const notice: AuthNotice | undefined = idpError
      ? {
          code: 'idp_logout_failed',
          message: `You are signed out of Deputy, but the sign-in server could not end its session (${idpError}). The next sign-in may not ask for your password.`,
        }
      : undefined;
    await this.setNotice(notice);
    return { idpSessionEnded: !idpError, notice };
  }
}
