/**
 * The third-party connections Deputy can act through (Auth0 Token Vault connection names), and how the side panel
 * names them and their provider scopes. Shared by the backend (tool declarations) and the extension (cards, the
 * Connected accounts view).
 */
export const CONNECTIONS = {
  'google-oauth2': { label: 'Google', provider: 'google' },
  'sign-in-with-slack': { label: 'Slack', provider: 'slack' },
  github: { label: 'GitHub', provider: 'github' },
} as const;

export type ConnectionName = keyof typeof CONNECTIONS;

export const CONNECTION_NAMES = Object.keys(CONNECTIONS) as ConnectionName[];

export const isConnectionName = (name: string): name is ConnectionName => Object.hasOwn(CONNECTIONS, name);

/** Provider scopes the tools use, by connection. */
export const PROVIDER_SCOPES = {
  google: {
    calendarRead: 'https://www.googleapis.com/auth/calendar.readonly',
    calendarWrite: 'https://www.googleapis.com/auth/calendar.events',
    gmailRead: 'https://www.googleapis.com/auth/gmail.readonly',
    gmailSend: 'https://www.googleapis.com/auth/gmail.send',
  },
  slack: { channelsRead: 'channels:read', channelsHistory: 'channels:history', chatWrite: 'chat:write' },
  github: { repo: 'repo' },
} as const;

const SCOPE_LABELS: Record<string, string> = {
  [PROVIDER_SCOPES.google.calendarRead]: 'See your calendar',
  [PROVIDER_SCOPES.google.calendarWrite]: 'Create and edit calendar events',
  [PROVIDER_SCOPES.google.gmailRead]: 'Read your e-mail',
  [PROVIDER_SCOPES.google.gmailSend]: 'Send e-mail as you',
  'channels:read': 'See your channels',
  'channels:history': 'Read messages in your channels',
  'chat:write': 'Post messages as you',
  repo: 'Read and write your repositories and issues',
};

/** A human label for a provider scope ("See your calendar"); unknown scopes are shown as they are. */
export const scopeLabel = (scope: string) => SCOPE_LABELS[scope] ?? scope;

export const connectionLabel = (name: string) => (isConnectionName(name) ? CONNECTIONS[name].label : name);
