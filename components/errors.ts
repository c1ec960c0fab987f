import { ApiError } from '@/lib/api-client';
import { AuthError } from '@/lib/auth';
import { ConnectError } from '@/lib/connected-accounts';

export interface UiError {
  title: string;
  message: string;
  code?: string;
  /** The user can retry the same action. */
  retryable: boolean;
}

/** Turns anything thrown into a message that says what happened and what to do. */
export function describeError(e: unknown, action = 'That'): UiError {
  if (e instanceof AuthError) {
    const title =
      e.code === 'session_ended' ? 'Session ended' : e.code === 'sign_in_cancelled' ? 'Sign-in cancelled' : 'Sign-in problem';
    return { title, message: e.message, code: e.code, retryable: e.code !== 'session_ended' && e.code !== 'not_signed_in' };
  }
  if (e instanceof ConnectError) {
    const title = e.code === 'connect_cancelled' ? 'Connection cancelled' : e.code === 'connect_callback_mismatch' ? 'Connection aborted' : 'Connection problem';
    return { title, message: e.message, code: e.code, retryable: true };
  }
  if (e instanceof ApiError) {
    const title =
      e.code === 'network_error'
        ? 'Server unreachable'
        : e.status === 429
          ? 'Too many requests'
          : e.status >= 500
            ? 'Server error'
            : e.status === 401 || e.status === 403
              ? 'Not allowed'
              : `${action} did not work`;
    const hint = e.status === 429 ? ' Wait a moment, then try again.' : '';
    return { title, message: e.message + hint, code: e.code, retryable: e.status !== 403 };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { title: `${action} did not work`, message: `${message}. Try again.`, retryable: true };
}
