/**
 * One local HTTP server that stands in for Google (Calendar, Gmail), Slack and GitHub: their OAuth authorization
 * servers and the API calls Deputy makes, under /google, /slack and /github, with the real providers' paths and wire
 * formats. /_emulator/* are test hooks (the outbox of side effects and the API request log); they never show tokens.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { GithubData } from './github-data';
import { githubApp } from './github';
import { googleApps } from './google';
import { googleError } from './google-api';
import { type Account, OAuthServer } from './oauth';
import { seedWorld } from './seed';
import { slackApp } from './slack';
import { SlackWorkspace } from './slack-workspace';
import { type ProviderId, ProviderState } from './state';

export interface ProvidersOptions {
  /** 0 = a free port. */
  port: number;
  /** Default 'localhost'. */
  host?: string;
  /** When given, grants, tokens (hashed), created data and the outbox are kept in `state.json` there across restarts. */
  dataDir?: string;
  /** Registered at all three providers (the Auth0 emulator is the client). `name` is shown on consent pages. */
  oauthClients: Array<{ clientId: string; clientSecret: string; redirectUris: string[]; name?: string }>;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  accounts: Array<{ email: string; name: string }>;
}

export interface RunningProviders {
  /** http://host:port, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ApiRequest {
  provider: ProviderId;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  at: string;
}

const DEFAULT_CLIENT_NAME = 'Deputy (via Auth0)';
const REQUEST_LOG_LIMIT = 5000;

/** Which provider's API a path belongs to; undefined for OAuth endpoints, pages and hooks. */
function apiOf(p: string): ProviderId | undefined {
  if (/^(\/google)?\/(calendar|gmail|oauth2\/v3\/userinfo)(\/|$)/.test(p)) return 'google';
  if (p.startsWith('/slack/api/') && p !== '/slack/api/oauth.v2.access') return 'slack';
  if (p.startsWith('/github/api/') || p === '/github/api') return 'github';
  return undefined;
}

/** A 413 in the shape of the provider whose path it is. */
function tooLarge(c: Context): Response {
  const message = 'The request body is larger than 10 MB.';
  const provider = apiOf(c.req.path);
  if (provider === 'google') return googleError(c, 413, message, { reason: 'uploadTooLarge' });
  if (provider === 'slack' || c.req.path.startsWith('/slack/api/')) return c.json({ ok: false, error: 'request_too_large' }, 413);
  if (provider === 'github') return c.json({ message, documentation_url: 'https://docs.github.com/rest' }, 413);
  return c.json({ error: 'invalid_request', error_description: message }, 413);
}

function createProvidersApp(opts: ProvidersOptions, state: ProviderState) {
  const accounts: Account[] = opts.accounts.map((a) => ({ email: a.email, name: a.name }));
  const clients = opts.oauthClients.map((c) => ({ ...c, name: c.name ?? DEFAULT_CLIENT_NAME }));
  const oauth = new OAuthServer(state, clients, accounts, opts.accessTokenTtlSeconds ?? 3600);
  const world = seedWorld(accounts);
  const requests: ApiRequest[] = [];

  const app = new Hono();
  app.onError((_err, c) => c.json({ error: 'internal_error', message: 'The emulator could not process this request.' }, 500));
  app.notFound((c) => c.text('Not Found', 404));
  // Too large is the caller's mistake (413), not the emulator's (the default would throw into onError: 500).
  app.use('*', bodyLimit({ maxSize: 10 * 1024 * 1024, onError: tooLarge }));
  app.use('*', async (c, next) => {
    await next();
    const provider = apiOf(c.req.path);
    if (!provider) return;
    requests.push({ provider, method: c.req.method, path: c.req.path, status: c.res.status, at: new Date().toISOString() });
    if (requests.length > REQUEST_LOG_LIMIT) requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
  });

  const google = googleApps(oauth, state, world);
  app.route('/google', google.accounts);
  app.route('/google', google.apis);
  app.route('/', google.apis);
  app.route('/slack', slackApp(oauth, state, new SlackWorkspace(world.slack.users, world.slack.channels, world.slack.messages, state)));
  app.route('/github', githubApp(oauth, state, new GithubData(world.github.users, world.github.repos, world.github.issues, state)));

  app.get('/_emulator/outbox', (c) => {
    const provider = c.req.query('provider');
    const account = c.req.query('account')?.toLowerCase();
    const items = state.outbox.filter((i) => (!provider || i.provider === provider) && (!account || i.account.toLowerCase() === account));
    return c.json({ items });
  });
  app.get('/_emulator/requests', (c) => c.json(requests));

  return app;
}

export async function startProviders(opts: ProvidersOptions): Promise<RunningProviders> {
  if (opts.dataDir) fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const state = new ProviderState(opts.dataDir ? path.join(opts.dataDir, 'state.json') : undefined);
  const app = createProvidersApp(opts, state);
  const host = opts.host ?? 'localhost';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
