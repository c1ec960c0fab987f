/**
 * Calling a third-party API with the user's connected-account token: on a 401 the token is dropped and exchanged
 * again once (`getConnectionToken({ fresh: true })`); a second refusal means the connection must be made again.
 * Provider errors become tool results with a code and a human message, never the provider's raw error text.
 */
import type { ToolContext, ToolResult } from '../agent/tool-declaration';

export type ProviderErrorKind = 'unauthorized' | 'insufficient_scope' | 'not_found' | 'rate_limited' | 'unreachable' | 'invalid' | 'failed';

export class ProviderError extends Error {
  constructor(readonly kind: ProviderErrorKind, message: string = kind) {
    super(message);
  }
}

/** An HTTP status (from an SDK error) as a provider error kind. */
export function kindOfStatus(status: number | undefined): ProviderErrorKind {
  if (status === undefined || status === 0) return 'unreachable';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'insufficient_scope';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 400 || status === 422) return 'invalid';
  return 'failed';
}

export async function withConnection<T>(ctx: ToolContext, provider: string, call: (token: string) => Promise<T>): Promise<ToolResult> {
  const attempt = async (fresh: boolean) => call(await ctx.getConnectionToken(fresh ? { fresh: true } : undefined));
  try {
    try {
      return { ok: true, data: await attempt(false) };
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind !== 'unauthorized') throw err;
      return { ok: true, data: await attempt(true) };
    }
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return { ok: false, error: describe(err, provider) };
  }
}

function describe(err: ProviderError, provider: string): { code: string; message: string } {
  switch (err.kind) {
    case 'unauthorized':
      return { code: 'connection_rejected', message: `${provider} did not accept Deputy's access. Reconnect ${provider} in Connected accounts.` };
    case 'insufficient_scope':
      return { code: 'insufficient_provider_scope', message: `${provider} says the connection does not allow this. Reconnect ${provider} and grant the access asked for.` };
    case 'not_found':
      return { code: 'not_found', message: `${provider} found no such item (or you cannot see it).` };
    case 'rate_limited':
      return { code: 'rate_limited', message: `${provider} is rate-limiting requests. Try again in a moment.` };
    case 'unreachable':
      return { code: `${provider.toLowerCase()}_unreachable`, message: `${provider} could not be reached.` };
    case 'invalid':
      return { code: 'invalid_request', message: `${provider} refused the request as invalid${err.message && err.message !== 'invalid' ? `: ${err.message}` : ''}.` };
    default:
      return { code: 'provider_error', message: `${provider} answered with an error.` };
  }
}
