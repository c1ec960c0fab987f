/**
 * The third-party tools against the provider emulator with real provider tokens (obtained through each provider's
 * OAuth consent): seeded data comes back as compact results, side effects reach the provider with exactly the
 * arguments given, a refused token is exchanged again exactly once, a token without the scope is reported as such,
 * an unreachable provider is named, no result carries a token, and the input schemas refuse header injection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviders } from '../../backend/emulators/providers/server';
import type { ToolContext, ToolDeclaration, ToolResult } from '../../backend/src/agent/tool-declaration';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { obtainProviderToken, type ProviderName, type ProviderTokens, refreshProviderToken } from '../helpers/provider-tokens';

const CLIENT = { clientId: 'test-client', clientSecret: 'test-client-secret-0123456789', redirectUri: 'http://localhost/cb' };
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const G = PROVIDER_SCOPES.google;
const S = PROVIDER_SCOPES.slack;
const GH = PROVIDER_SCOPES.github;

let providers: Awaited<ReturnType<typeof startProviders>>;
let dataDir: string;
let tools: Map<string, ToolDeclaration>;
/** Every access and refresh token handed out in this file: no tool result, outcome or description may contain one. */
const secrets = new Set<string>();

function remember(t: ProviderTokens): ProviderTokens {
  secrets.add(t.accessToken);
  if (t.refreshToken) secrets.add(t.refreshToken);
  return t;
}

const grant = async (provider: ProviderName, scopes: string[], email = ALICE) =>
  remember(
    await obtainProviderToken({
      providersUrl: providers.url,
      provider,
      ...CLIENT,
      email,
      scopes,
      // Google grants are incremental by default; a scope test needs exactly the scopes asked for.
      ...(provider === 'google' ? { authorizationParams: { include_granted_scopes: 'false' } } : {}),
    }),
  );

const token = async (provider: ProviderName, scopes: string[], email = ALICE) => (await grant(provider, scopes, email)).accessToken;

/** An access token the provider has revoked (a refresh revokes the previous one) and the one that replaced it. */
async function revokedAndCurrent(provider: ProviderName, scopes: string[]) {
  const first = await grant(provider, scopes);
  const next = remember(await refreshProviderToken({ providersUrl: providers.url, provider, ...CLIENT, refreshToken: first.refreshToken }));
  return { revoked: first.accessToken, current: next.accessToken };
}

interface Run {
  result: ToolResult;
  /** How often the tool asked for a fresh token. */
  fresh: number;
  outcome?: string;
}

/**
 * Runs a tool as the runtime would after its checks: validated arguments, a context whose connection token comes
 * from `supply` (told whether a fresh one was asked for).
 */
async function run(name: string, args: unknown, supply: (fresh: boolean) => Promise<string> | string, opts: { idempotencyKey?: string; tools?: Map<string, ToolDeclaration> } = {}): Promise<Run> {
  const decl = (opts.tools ?? tools).get(name)!;
  const parsed = decl.input.parse(args);
  let fresh = 0;
  const ctx: ToolContext = {
    sub: 'auth0|alice',
    runId: 'run-1',
    toolCallId: `call-${crypto.randomUUID()}`,
    idempotencyKey: opts.idempotencyKey ?? crypto.randomUUID(),
    getResourceToken: async () => {
      throw new Error('no resource API');
    },
    getConnectionToken: async (o) => {
      if (o?.fresh) fresh++;
      return supply(Boolean(o?.fresh));
    },
  };
  const result = await decl.execute(parsed, ctx);
  const outcome = result.ok ? decl.outcome?.(result.data) : undefined;
  const shown = JSON.stringify({ result, outcome, described: decl.describe(parsed) });
  for (const secret of secrets) expect(shown.includes(secret), `${name} shows a token`).toBe(false);
  return { result, fresh, outcome };
}

const always = (t: string) => () => t;

function dataOf<T>(r: Run): T {
  if (!r.result.ok) throw new Error(`tool failed: ${JSON.stringify(r.result.error)}`);
  return r.result.data as T;
}

type OutboxItem = { kind: string; data: Record<string, unknown> };
const outbox = async (provider: ProviderName, account = ALICE): Promise<OutboxItem[]> =>
  ((await (await fetch(`${providers.url}/_emulator/outbox?provider=${provider}&account=${account}`)).json()) as { items: OutboxItem[] }).items;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-connectors-'));
  providers = await startProviders({
    port: 0,
    dataDir,
    oauthClients: [{ clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, redirectUris: [CLIENT.redirectUri] }],
    accounts: [
      { email: ALICE, name: 'Alice Anders' },
      { email: BOB, name: 'Bob Brown' },
    ],
  });
  tools = new Map(
    thirdPartyTools({ googleApiUrl: `${providers.url}/google/`, slackApiUrl: `${providers.url}/slack/api/`, githubApiUrl: `${providers.url}/github/api` }).map((t) => [t.name, t]),
  );
});

afterAll(async () => {
  await providers?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Google Calendar', () => {
  it('lists tomorrow’s events in order, with place, organizer and attendees, over the configured root URL', async () => {
    const t = await token('google', [G.calendarRead]);
    const r = await run('list_calendar_events', { date: day(1) }, always(t));
    const data = dataOf<{ from: string; to: string; events: Array<{ id: string; title: string; start: string; end: string; allDay: boolean; location?: string; organizer?: string; attendees: string[]; link: string }> }>(r);
    expect(data.from).toBe(`${day(1)}T00:00:00.000Z`);
    expect(data.to).toBe(`${day(2)}T00:00:00.000Z`);
    const review = data.events.find((e) => e.title === 'Security review: Deputy token flows')!;
    expect(review).toMatchObject({ allDay: false, location: 'Room 4.2' });
    expect(Date.parse(review.start)).toBe(Date.parse(`${day(1)}T09:30:00Z`));
    expect(review.attendees).toEqual(expect.arrayContaining([BOB, 'carol@example.com']));
    expect(review.link).toMatch(/^https?:\/\//);
    expect(data.events.map((e) => e.title)).toContain('Lunch with Dana');
    const starts = data.events.map((e) => Date.parse(e.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(r.outcome).toBe(`${data.events.length} events`);

    const requests = (await (await fetch(`${providers.url}/_emulator/requests`)).json()) as Array<{ provider: string; path: string }>;
    const calendarPaths = requests.filter((q) => q.path.includes('/calendar/v3/')).map((q) => q.path);
    expect(calendarPaths.length).toBeGreaterThan(0);
    expect(calendarPaths.filter((p) => !p.startsWith('/google/calendar/v3/'))).toEqual([]);
  });

  it('lists several days', async () => {
    const t = await token('google', [G.calendarRead]);
    const one = dataOf<{ events: unknown[] }>(await run('list_calendar_events', { date: day(1) }, always(t)));
    const three = dataOf<{ events: Array<{ start: string }>; to: string }>(await run('list_calendar_events', { date: day(0), days: 3 }, always(t)));
    expect(three.to).toBe(`${day(3)}T00:00:00.000Z`);
    expect(three.events.length).toBeGreaterThan(one.events.length);
  });

  it('creates exactly the event it was given and finds it afterwards', async () => {
    const t = await token('google', [G.calendarWrite]);
    const args = { title: 'Token Vault retro', date: day(3), start: '14:30', durationMinutes: 45, attendees: [BOB], location: 'Room 4.2', description: 'What went well.' };
    const r = await run('create_calendar_event', args, always(t));
    const created = dataOf<{ id: string; title: string; start: string; end: string; attendees: string[] }>(r);
    expect(r.outcome).toBe('Created “Token Vault retro”');
    const inserted = (await outbox('google')).filter((i) => i.kind === 'calendar.insert').at(-1)!.data;
    expect(inserted).toMatchObject({ id: created.id, summary: args.title, location: args.location, description: args.description });
    expect(Date.parse((inserted.start as { dateTime: string }).dateTime)).toBe(Date.parse(`${day(3)}T14:30:00Z`));
    expect(Date.parse((inserted.end as { dateTime: string }).dateTime)).toBe(Date.parse(`${day(3)}T15:15:00Z`));
    expect((inserted.attendees as Array<{ email: string }>).map((a) => a.email)).toEqual([BOB]);

    const listed = dataOf<{ events: Array<{ id: string }> }>(await run('list_calendar_events', { date: day(3) }, always(await token('google', [G.calendarRead]))));
    expect(listed.events.map((e) => e.id)).toContain(created.id);
  });
});

describe('Gmail', () => {
  it('searches with Gmail syntax and reads a message’s text', async () => {
    const t = await token('google', [G.gmailRead]);
    const search = await run('search_email', { query: 'invoice' }, always(t));
    const messages = dataOf<{ messages: Array<{ id: string; threadId: string; from: string; to: string; subject: string; date: string; snippet: string; unread: boolean }> }>(search).messages;
    const invoice = messages.find((m) => m.subject === 'Your invoice INV-10482 is ready')!;
    expect(invoice).toMatchObject({ id: expect.any(String), threadId: expect.any(String), to: expect.stringContaining(ALICE), unread: expect.any(Boolean) });
    expect(invoice.from).not.toBe('');
    expect(invoice.date).not.toBe('');
    expect(search.outcome).toBe(`${messages.length} message${messages.length === 1 ? '' : 's'}`);

    const read = await run('read_email', { messageId: invoice.id }, always(t));
    const mail = dataOf<{ id: string; subject: string; from: string; body: string }>(read);
    expect(mail).toMatchObject({ id: invoice.id, subject: invoice.subject, from: invoice.from });
    expect(mail.body).toContain('INV-10482');
  });

  it('returns at most maxResults messages', async () => {
    const t = await token('google', [G.gmailRead]);
    const { messages } = dataOf<{ messages: unknown[] }>(await run('search_email', { query: 'in:anywhere', maxResults: 3 }, always(t)));
    expect(messages).toHaveLength(3);
  });

  it('sends exactly the mail it was given, non-ASCII subject included, and the recipient receives it', async () => {
    const t = await token('google', [G.gmailSend]);
    const mail = {
      to: [BOB],
      cc: ['carol@example.com'],
      subject: 'Grüße aus Köln – Übersicht der Token-Vault-Änderungen für Freitag',
      body: 'See you at noon.\nÄpfel included.\nAlice',
    };
    const r = await run('send_email', mail, always(t));
    expect(dataOf<{ id: string; threadId: string }>(r)).toMatchObject({ id: expect.any(String), threadId: expect.any(String) });
    expect(r.outcome).toBe(`Sent to ${BOB}`);
    const sent = (await outbox('google')).filter((i) => i.kind === 'gmail.send').at(-1)!.data;
    expect(sent).toMatchObject({ to: mail.to, cc: mail.cc, subject: mail.subject });
    expect(sent.bcc).toBeUndefined();
    expect(String(sent.body).replace(/\r\n/g, '\n').trim()).toBe(mail.body);

    const bobs = await token('google', [G.gmailRead], BOB);
    const inbox = dataOf<{ messages: Array<{ subject: string }> }>(await run('search_email', { query: 'from:alice@example.com Köln' }, always(bobs)));
    expect(inbox.messages.map((m) => m.subject)).toContain(mail.subject);
  });

  it('refuses header injection in addresses and subject', () => {
    const send = tools.get('send_email')!.input;
    const ok = { to: [BOB], subject: 'Hello', body: 'Hi' };
    expect(send.safeParse(ok).success).toBe(true);
    for (const bad of [
      { ...ok, to: [`${BOB}\r\nBcc: eve@evil.example`] },
      { ...ok, to: [`${BOB}\nBcc: eve@evil.example`] },
      { ...ok, to: [`${BOB}, eve@evil.example`] },
      { ...ok, to: ['Eve <eve@evil.example>'] },
      { ...ok, cc: [`carol@example.com\r\nBcc: eve@evil.example`] },
      { ...ok, subject: 'Hi\r\nBcc: eve@evil.example' },
      { ...ok, subject: 'Hi\nBcc: eve@evil.example' },
      { ...ok, subject: 'Hi\rBcc: eve@evil.example' },
      { ...ok, bcc: ['eve@evil.example'] },
    ]) {
      expect(send.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('reports a message that does not exist as not_found', async () => {
    const t = await token('google', [G.gmailRead]);
    const r = await run('read_email', { messageId: 'ffffffffffffffff' }, always(t));
    expect(r.result).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('Refused and insufficient tokens', () => {
  it('Google: a revoked token is exchanged again exactly once and the call succeeds', async () => {
    const { revoked, current } = await revokedAndCurrent('google', [G.calendarRead]);
    const r = await run('list_calendar_events', { date: day(1) }, (fresh) => (fresh ? current : revoked));
    expect(r.fresh).toBe(1);
    expect(dataOf<{ events: unknown[] }>(r).events.length).toBeGreaterThan(0);
  });

  it('Google: refused twice → connection_rejected, after one fresh exchange', async () => {
    const { revoked } = await revokedAndCurrent('google', [G.calendarRead]);
    const r = await run('list_calendar_events', {}, always(revoked));
    expect(r.fresh).toBe(1);
    expect(r.result).toEqual({
      ok: false,
      error: { code: 'connection_rejected', message: "Google did not accept Deputy's access. Reconnect Google in Connected accounts." },
    });
  });

  it('Google: a send refused once is sent exactly once after the fresh exchange', async () => {
    const { revoked, current } = await revokedAndCurrent('google', [G.gmailSend]);
    const before = (await outbox('google')).filter((i) => i.kind === 'gmail.send').length;
    const r = await run('send_email', { to: [BOB], subject: 'Retry once', body: 'Once.' }, (fresh) => (fresh ? current : revoked));
    expect(r.result.ok).toBe(true);
    expect(r.fresh).toBe(1);
    const sends = (await outbox('google')).filter((i) => i.kind === 'gmail.send');
    expect(sends.length).toBe(before + 1);
    expect(sends.at(-1)!.data).toMatchObject({ subject: 'Retry once' });
  });

  it('Google: a token without the scope → insufficient_provider_scope, without a fresh exchange', async () => {
    const mailOnly = await token('google', [G.gmailRead], BOB);
    const calendar = await run('list_calendar_events', {}, always(mailOnly));
    expect(calendar.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope', message: expect.stringContaining('Reconnect Google') } });
    expect(calendar.fresh).toBe(0);
    const send = await run('send_email', { to: [ALICE], subject: 'x', body: 'y' }, always(mailOnly));
    expect(send.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
  });

  it('Slack: a revoked token is exchanged again once; refused twice → connection_rejected', async () => {
    const { revoked, current } = await revokedAndCurrent('slack', [S.channelsRead]);
    const retried = await run('list_slack_channels', {}, (fresh) => (fresh ? current : revoked));
    expect(retried.fresh).toBe(1);
    expect(dataOf<{ channels: unknown[] }>(retried).channels.length).toBeGreaterThan(0);
    const rejected = await run('list_slack_channels', {}, always('xoxp-not-a-token'));
    expect(rejected.fresh).toBe(1);
    expect(rejected.result).toMatchObject({ ok: false, error: { code: 'connection_rejected', message: expect.stringContaining('Reconnect Slack') } });
  });

  it('Slack: a token without the scope → insufficient_provider_scope', async () => {
    const listOnly = await token('slack', [S.channelsRead]);
    const r = await run('read_slack_channel', { channelId: 'C01SECURITY' }, always(listOnly));
    expect(r.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
    const post = await run('post_slack_message', { channelId: 'C01SECURITY', text: 'x' }, always(listOnly));
    expect(post.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
  });

  it('GitHub: a revoked token is exchanged again once; refused twice → connection_rejected', async () => {
    const { revoked, current } = await revokedAndCurrent('github', [GH.repo]);
    const retried = await run('list_github_repos', {}, (fresh) => (fresh ? current : revoked));
    expect(retried.fresh).toBe(1);
    expect(retried.result.ok).toBe(true);
    const rejected = await run('list_github_repos', {}, always(revoked));
    expect(rejected.fresh).toBe(1);
    expect(rejected.result).toMatchObject({ ok: false, error: { code: 'connection_rejected', message: expect.stringContaining('Reconnect GitHub') } });
  });

  it('GitHub: a token without `repo` → insufficient_provider_scope (GitHub hides the private repository as 404)', async () => {
    const profileOnly = await token('github', ['read:user']);
    const r = await run('list_github_issues', { repo: 'alice-anders/deputy' }, always(profileOnly));
    expect(r.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
  });
});

describe('Slack', () => {
  it('lists the public channels with membership', async () => {
    const t = await token('slack', [S.channelsRead]);
    const r = await run('list_slack_channels', {}, always(t));
    const channels = dataOf<{ channels: Array<{ id: string; name: string; topic: string; purpose: string; isMember: boolean; members: number }> }>(r).channels;
    expect(channels.find((c) => c.name === 'security')).toEqual({
      id: 'C01SECURITY',
      name: 'security',
      topic: 'Report anything suspicious here',
      purpose: 'Security findings, reviews and incidents.',
      isMember: true,
      members: 2,
    });
    expect(channels.find((c) => c.name === 'random')?.isMember).toBe(false);
    expect(r.outcome).toBe(`${channels.length} channels`);
  });

  it('reads a channel oldest first, with authors and times', async () => {
    const t = await token('slack', [S.channelsHistory]);
    const r = await run('read_slack_channel', { channelId: 'C01SECURITY', limit: 50 }, always(t));
    const data = dataOf<{ channel: string; messages: Array<{ ts: string; user: string; userName?: string; text: string; time: string }> }>(r);
    expect(data.channel).toBe('C01SECURITY');
    const texts = data.messages.map((m) => m.text);
    expect(texts.findIndex((x) => x.startsWith('The pen test report'))).toBeLessThan(texts.findIndex((x) => x.startsWith('Reminder: never paste tokens')));
    const reminder = data.messages.find((m) => m.text.startsWith('Reminder: never paste tokens'))!;
    expect(reminder).toMatchObject({ user: 'U0CAROL', userName: 'Carol Chen' });
    expect(reminder.time).toBe(new Date(Number(reminder.ts) * 1000).toISOString());

    const two = dataOf<{ messages: Array<{ text: string }> }>(await run('read_slack_channel', { channelId: 'C01SECURITY', limit: 2 }, always(t)));
    expect(two.messages.map((m) => m.text)).toEqual(texts.slice(-2));
  });

  it('posts exactly the text given', async () => {
    const t = await token('slack', [S.chatWrite]);
    const text = 'Token review moved to 10:00. <!channel> *bold* & “quotes”';
    const r = await run('post_slack_message', { channelId: 'C01SECURITY', text }, always(t));
    const posted = dataOf<{ channel: string; ts: string }>(r);
    expect(posted.channel).toBe('C01SECURITY');
    expect(r.outcome).toBe('Posted to C01SECURITY');
    expect((await outbox('slack')).at(-1)).toMatchObject({ kind: 'slack.postMessage', data: { channel: 'C01SECURITY', text, ts: posted.ts } });
  });

  it('reports an unknown channel as not_found', async () => {
    const t = await token('slack', [S.channelsHistory]);
    const r = await run('read_slack_channel', { channelId: 'C0NOSUCHCHANNEL' }, always(t));
    expect(r.result).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('GitHub', () => {
  it('lists the repositories the user can reach, most recently updated first', async () => {
    const t = await token('github', [GH.repo]);
    const r = await run('list_github_repos', {}, always(t));
    const repos = dataOf<{ repos: Array<{ fullName: string; private: boolean; description: string; openIssues: number; updatedAt: string; url: string }> }>(r).repos;
    expect(repos.map((x) => x.fullName)).toEqual(expect.arrayContaining(['alice-anders/deputy', 'alice-anders/dotfiles', 'acme/website']));
    expect(repos.map((x) => x.fullName)).not.toContain('bob-brown/notes');
    expect(repos.find((x) => x.fullName === 'alice-anders/deputy')).toMatchObject({ private: true, description: expect.stringContaining('AI assistant') });
    const updated = repos.map((x) => Date.parse(x.updatedAt));
    expect(updated).toEqual([...updated].sort((a, b) => b - a));
    expect(r.outcome).toBe(`${repos.length} repositories`);
  });

  it('lists open issues by default, and closed ones when asked', async () => {
    const t = await token('github', [GH.repo]);
    const open = dataOf<{ repo: string; issues: Array<{ number: number; title: string; state: string; author: string; labels: string[] }> }>(
      await run('list_github_issues', { repo: 'alice-anders/deputy' }, always(t)),
    );
    expect(open.repo).toBe('alice-anders/deputy');
    expect(open.issues.every((i) => i.state === 'open')).toBe(true);
    expect(open.issues.find((i) => i.number === 2)).toMatchObject({ title: 'Slack refresh: persist the rotated refresh token', author: 'bob-brown', labels: ['bug', 'security'] });
    expect(open.issues.map((i) => i.number)).not.toContain(1);
    const closed = dataOf<{ issues: Array<{ number: number; state: string }> }>(await run('list_github_issues', { repo: 'alice-anders/deputy', state: 'closed' }, always(t)));
    expect(closed.issues.map((i) => i.number).sort()).toEqual([1, 4]);
  });

  it('creates exactly the issue it was given', async () => {
    const t = await token('github', [GH.repo]);
    const args = { repo: 'alice-anders/deputy', title: 'Rotate the Token Vault client secret', body: 'Quarterly, with an overlap window.', labels: ['security'] };
    const r = await run('create_github_issue', args, always(t));
    const created = dataOf<{ number: number; url: string }>(r);
    expect(r.outcome).toBe(`Created issue #${created.number}`);
    expect((await outbox('github')).at(-1)).toMatchObject({ kind: 'github.issue', data: { repo: args.repo, number: created.number, title: args.title, body: args.body } });
    const listed = dataOf<{ issues: Array<{ number: number; labels: string[]; url: string }> }>(await run('list_github_issues', { repo: args.repo }, always(t)));
    expect(listed.issues.find((i) => i.number === created.number)).toMatchObject({ labels: ['security'], url: created.url });
  });

  it('reports an unknown repository as not_found', async () => {
    const t = await token('github', [GH.repo]);
    const r = await run('list_github_issues', { repo: 'alice-anders/no-such-repo' }, always(t));
    expect(r.result).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('Unreachable providers', () => {
  it('names the provider that could not be reached', async () => {
    const nowhere = 'http://127.0.0.1:9';
    const offline = new Map(thirdPartyTools({ googleApiUrl: `${nowhere}/`, slackApiUrl: `${nowhere}/api/`, githubApiUrl: nowhere }).map((t) => [t.name, t]));
    const cases: Array<[string, unknown, string]> = [
      ['list_calendar_events', {}, 'google_unreachable'],
      ['list_slack_channels', {}, 'slack_unreachable'],
      ['list_github_repos', {}, 'github_unreachable'],
    ];
    for (const [name, args, code] of cases) {
      const r = await run(name, args, always('any-token'), { tools: offline });
      expect(r.result, name).toMatchObject({ ok: false, error: { code } });
      expect(r.fresh).toBe(0);
    }
  });
});
