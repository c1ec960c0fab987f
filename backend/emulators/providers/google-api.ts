/** What the Google APIs here share: scopes, Google's JSON error format, and the bearer check in front of every API. */
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { OAuthServer } from './oauth';
import { bearerToken } from './params';
import type { Grant } from './state';

const AUTH = 'https://www.googleapis.com/auth/';

export const GOOGLE_SCOPES = {
  calendar: `${AUTH}calendar`,
  calendarReadonly: `${AUTH}calendar.readonly`,
  calendarEvents: `${AUTH}calendar.events`,
  calendarEventsReadonly: `${AUTH}calendar.events.readonly`,
  gmailReadonly: `${AUTH}gmail.readonly`,
  gmailSend: `${AUTH}gmail.send`,
  gmailCompose: `${AUTH}gmail.compose`,
  gmailModify: `${AUTH}gmail.modify`,
  mail: 'https://mail.google.com/',
  userinfoEmail: `${AUTH}userinfo.email`,
  userinfoProfile: `${AUTH}userinfo.profile`,
} as const;

const S = GOOGLE_SCOPES;

/** Every scope the emulated Google knows, with the words of Google's consent screen. */
export const GOOGLE_SCOPE_LABELS: Record<string, string> = {
  openid: 'Associate you with your personal info on Google',
  email: 'See your primary Google Account email address',
  profile: "See your personal info, including any personal info you've made publicly available",
  [S.userinfoEmail]: 'See your primary Google Account email address',
  [S.userinfoProfile]: "See your personal info, including any personal info you've made publicly available",
  [S.calendar]: 'See, edit, share, and permanently delete all the calendars you can access using Google Calendar',
  [S.calendarReadonly]: 'See and download any calendar you can access using your Google Calendar',
  [S.calendarEvents]: 'View and edit events on all your calendars',
  [S.calendarEventsReadonly]: 'View events on all your calendars',
  [S.gmailReadonly]: 'View your email messages and settings',
  [S.gmailSend]: 'Send email on your behalf',
  [S.gmailCompose]: 'Manage drafts and send emails',
  [S.gmailModify]: 'Read, compose, and send emails from your Gmail account',
  [S.mail]: 'Read, compose, send, and permanently delete all your email from Gmail',
};

/** Which granted scopes let a call through (any one of them). */
export const NEEDS = {
  calendarRead: [S.calendarReadonly, S.calendarEvents, S.calendarEventsReadonly, S.calendar],
  calendarWrite: [S.calendarEvents, S.calendar],
  gmailRead: [S.gmailReadonly, S.gmailModify, S.mail],
  gmailSend: [S.gmailSend, S.gmailCompose, S.gmailModify, S.mail],
  userinfo: ['openid', 'email', 'profile', S.userinfoEmail, S.userinfoProfile],
} as const;

export type GoogleEnv = { Variables: { grant: Grant } };

const REALM = 'Bearer realm="https://accounts.google.com/"';

export function googleError(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  opts: { reason?: string; status?: string; details?: unknown[]; headers?: Record<string, string> } = {},
): Response {
  const statusText = opts.status ?? STATUS_TEXT[status] ?? 'UNKNOWN';
  const body = {
    error: {
      code: status,
      message,
      errors: [{ message, domain: 'global', reason: opts.reason ?? 'invalid' }],
      status: statusText,
      ...(opts.details ? { details: opts.details } : {}),
    },
  };
  return c.json(body, status, opts.headers);
}

const STATUS_TEXT: Partial<Record<number, string>> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS' };

/** The bearer token must be a live Google access token carrying one of `anyOf`. */
export function requireGoogleScopes(oauth: OAuthServer, anyOf: readonly string[]): MiddlewareHandler<GoogleEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    const verified = token ? oauth.verify('google', token) : undefined;
    if (!verified?.ok) {
      return googleError(c, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', {
        reason: 'authError',
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      });
    }
    if (!verified.grant.scopes.some((s) => anyOf.includes(s))) {
      return googleError(c, 403, 'Request had insufficient authentication scopes.', {
        reason: 'insufficientPermissions',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' }],
        headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${anyOf.join(' ')}"` },
      });
    }
    c.set('grant', verified.grant);
    await next();
  };
}
