/**
 * Calling a third-party API with the user's connected-account token: on a 401 the token is dropped and exchanged
 * again once (`getConnectionToken({ fresh: true })`); a second refusal means the account must be connected again.
 * Provider errors become tool results with a code and a human message, never the provider's own error text.
 */
import type { ToolContext, ToolResult } from '../agent/tool-declaration';

/** The provider as users know it, used in error messages and (lower-cased) in `<provider>_unreachable`. */
export type ProviderLabel = 'Google' | 'Slack' | 'GitHub';

export type ProviderErrorKind =
  | 'unauthorized'
  | 'insufficient_scope'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unreachable'
  | 'invalid'
  | 'failed';

/**
 * What a connector throws when the provider refused or could not be reached. `reason` may carry a provider's
 * machine-readable error code (Slack's `is_archived`), never free text.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    readonly reason?: string,
  ) {
    super(reason ? `${kind}: ${reason}` : kind);
    this.name = 'ProviderError';
  }
}

/** The kind of an HTTP error status; `undefined` means no answer arrived. */
export function kindOfStatus(status: number | undefined): ProviderErrorKind {
  if (status === undefined || status === 0) return 'unreachable';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 400 || status === 422) return 'invalid';
  return 'failed';
}

/**
 * Runs `call` with the connection token and wraps its value as the tool's data. Only `ProviderError`s become error
 * results; anything else (the runtime's own authorization errors from `getConnectionToken`) is rethrown.
 */
export async function withConnection<T>(ctx: ToolContext, provider: ProviderLabel, call: (token: string) => Promise<T>): Promise<ToolResult> {
  try {
    try {
      return { ok: true, data: await call(await ctx.getConnectionToken()) };
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'unauthorized')) throw err;
      // A refused request changed nothing at the provider, so repeating it (even a send) is safe.
      return { ok: true, data: await call(await ctx.getConnectionToken({ fresh: true })) };
    }
  } catch (err) {
    if (err instanceof ProviderError) return { ok: false, error: providerErrorResult(err, provider) };
    throw err;
  }
}

function providerErrorResult(err: ProviderError, provider: ProviderLabel): { code: string; message: string } {
  const reconnect = `Reconnect ${provider} in Connected accounts`;
  switch (err.kind) {
    case 'unauthorized':
      return { code: 'connection_rejected', message: `${provider} did not accept Deputy's access. ${reconnect}.` };
    case 'insufficient_scope':
      return { code: 'insufficient_provider_scope', message: `${provider} did not allow this with the access you granted Deputy. ${reconnect} and allow what it asks for.` };
    case 'forbidden':
      return { code: 'forbidden', message: `${provider} refused: your account is not allowed to do that.` };
    case 'not_found':
      return { code: 'not_found', message: `${provider} found no such item, or your account cannot see it.` };
    case 'conflict':
      return { code: 'conflict', message: `${provider} refused because the item already exists.` };
    case 'rate_limited':
      return { code: 'rate_limited', message: `${provider} is limiting requests right now. Try again in a minute.` };
    case 'unreachable':
      return { code: `${provider.toLowerCase()}_unreachable`, message: `${provider} could not be reached.` };
    case 'invalid': {
      const reason = err.reason && /^[a-z0-9_]{1,64}$/.test(err.reason) ? ` (${err.reason})` : '';
      return { code: 'invalid_request', message: `${provider} refused the request as invalid${reason}.` };
    }
    default:
      return { code: 'provider_error', message: `${provider} answered with an error. Try again later.` };
  }
}
