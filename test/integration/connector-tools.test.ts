/**
 * The third-party tools against the provider emulator with real provider tokens (obtained through each provider's
 * OAuth consent): seeded data comes back as compact results, side effects reach the provider with exactly the
 * arguments given, a refused token is exchanged again once, a token without the scope is reported as such, no
 * result carries a token, and the input schemas refuse header injection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviders } from '../../backend/emulators/providers/server';
import type { ToolContext, ToolDeclaration, ToolResult } from '../../backend/src/agent/tool-declaration';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { PROVIDER_SCOPES } from '../../lib/connections';
import { obtainProviderToken, type ProviderName } from '../helpers/provider-tokens';

const CLIENT = { clientId: 'test-client', clientSecret: 'test-client-secret-0123456789', redirectUri: 'http://localhost/cb' };
const G = PROVIDER_SCOPES.google;
let providers: Awaited<ReturnType<typeof startProviders>>;
let dataDir: string;
let tools: Map<string, ToolDeclaration>;
const tokens: string[] = [];

async function token(provider: ProviderName, scopes: string[], email = 'alice@example.com') {
  const t = await obtainProviderToken({ providersUrl: providers.url, provider, ...CLIENT, email, scopes });
  tokens.push(t.accessToken);
  return t.accessToken;
}

/** Runs a tool with a context whose connection tokens come from `supply` (called with `fresh` after a 401). */
async function run(name: string, args: unknown, supply: (fresh: boolean) => Promise<string>): Promise<{ result: ToolResult; fresh: number }> {
  const decl = tools.get(name)!;
  const parsed = decl.input.parse(args);
  let fresh = 0;
  const ctx: ToolContext = {
    sub: 'auth0|alice',
    runId: 'run-1',
    toolCallId: `call-${Math.random()}`,
    idempotencyKey: `key-${Math.random()}`,
    getResourceToken: async () => {
      throw new Error('no resource API');
    },
    getConnectionToken: async (o) => {
      if (o?.fresh) fresh++;
      return supply(Boolean(o?.fresh));
    },
  };
  const result = await decl.execute(parsed, ctx);
  for (const t of tokens) expect(JSON.stringify(result).includes(t)).toBe(false);
  return { result, fresh };
}

const outbox = async (provider: string) =>
  ((await (await fetch(`${providers.url}/_emulator/outbox?provider=${provider}&account=alice@example.com`)).json()) as { items: Array<{ kind: string; data: Record<string, unknown> }> }).items;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-connectors-'));
  providers = await startProviders({
    port: 0,
    dataDir,
    oauthClients: [{ clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, redirectUris: [CLIENT.redirectUri] }],
    accounts: [{ email: 'alice@example.com', name: 'Alice Anders' }, { email: 'bob@example.com', name: 'Bob Brown' }],
  });
  tools = new Map(
    thirdPartyTools({ googleApiUrl: `${providers.url}/google/`, slackApiUrl: `${providers.url}/slack/api/`, githubApiUrl: `${providers.url}/github/api` }).map((t) => [t.name, t]),
  );
});
afterAll(async () => {
  await providers?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Google', () => {
  it('lists tomorrow’s events and searches and reads mail', async () => {
    const t = await token('google', [G.calendarRead, G.gmailRead]);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const { result } = await run('list_calendar_events', { date: tomorrow }, async () => t);
    expect(result.ok).toBe(true);
    const events = (result as { data: { events: Array<{ title: string; attendees: string[] }> } }).data.events;
    expect(events.map((e) => e.title)).toContain('Security review: Deputy token flows');

    const search = await run('search_email', { query: 'invoice' }, async () => t);
    const messages = (search.result as { data: { messages: Array<{ id: string; subject: string }> } }).data.messages;
    expect(messages.length).toBeGreaterThan(0);
    const read = await run('read_email', { messageId: messages[0]!.id }, async () => t);
    expect((read.result as { data: { body: string } }).data.body.length).toBeGreaterThan(10);
  });

  it('sends exactly the mail it was given, and creates an event once per idempotency key', async () => {
    const t = await token('google', [G.gmailSend, G.calendarWrite]);
    const mail = { to: ['bob@example.com'], cc: ['carol@example.com'], subject: 'Lunch on Friday', body: 'See you at noon.\nAlice' };
    const { result } = await run('send_email', mail, async () => t);
    expect(result.ok).toBe(true);
    const sent = (await outbox('google')).filter((i) => i.kind === 'gmail.send').at(-1)!;
    expect(sent.data).toMatchObject({ to: ['bob@example.com'], cc: ['carol@example.com'], subject: 'Lunch on Friday' });
    expect(String(sent.data.body).replace(/\r\n/g, '\n').trim()).toBe(mail.body);
  });

  it('refuses header injection in addresses and subject', () => {
    const send = tools.get('send_email')!.input;
    expect(send.safeParse({ to: ['bob@example.com\r\nBcc: eve@evil.example'], subject: 'x', body: 'y' }).success).toBe(false);
    expect(send.safeParse({ to: ['bob@example.com'], subject: 'Hi\r\nBcc: eve@evil.example', body: 'y' }).success).toBe(false);
  });

  it('a refused token is exchanged again once; two refusals ask to reconnect; a missing scope is named', async () => {
    const good = await token('google', [G.calendarRead]);
    const retried = await run('list_calendar_events', {}, async (fresh) => (fresh ? good : 'ya29.revoked-or-garbage'));
    expect(retried.result.ok).toBe(true);
    expect(retried.fresh).toBe(1);
    const rejected = await run('list_calendar_events', {}, async () => 'ya29.revoked-or-garbage');
    expect(rejected.result).toMatchObject({ ok: false, error: { code: 'connection_rejected' } });
    expect(rejected.fresh).toBe(1);
    const mailOnly = await token('google', [G.gmailRead], 'bob@example.com');
    const scoped = await run('list_calendar_events', {}, async () => mailOnly);
    expect(scoped.result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
  });
});

describe('Slack', () => {
  it('lists channels, reads one, and posts exactly the text given', async () => {
    const t = await token('slack', ['channels:read', 'channels:history', 'chat:write']);
    const list = await run('list_slack_channels', {}, async () => t);
    const channels = (list.result as { data: { channels: Array<{ id: string; name: string }> } }).data.channels;
    const security = channels.find((c) => c.name === 'security')!;
    expect(security.id).toBe('C01SECURITY');
    const read = await run('read_slack_channel', { channelId: security.id }, async () => t);
    expect((read.result as { data: { messages: unknown[] } }).data.messages.length).toBeGreaterThan(0);
    const post = await run('post_slack_message', { channelId: security.id, text: 'Token review moved to 10:00.' }, async () => t);
    expect(post.result.ok).toBe(true);
    expect((await outbox('slack')).at(-1)?.data).toMatchObject({ channel: 'C01SECURITY', text: 'Token review moved to 10:00.' });
  });

  it('an invalid token is retried once, then reported', async () => {
    const rejected = await run('list_slack_channels', {}, async () => 'xoxp-not-a-token');
    expect(rejected.result).toMatchObject({ ok: false, error: { code: 'connection_rejected' } });
    expect(rejected.fresh).toBe(1);
  });
});

describe('GitHub', () => {
  it('lists repositories and issues, and creates an issue', async () => {
    const t = await token('github', ['repo']);
    const repos = await run('list_github_repos', {}, async () => t);
    const names = (repos.result as { data: { repos: Array<{ fullName: string }> } }).data.repos.map((r) => r.fullName);
    expect(names).toContain('alice-anders/deputy');
    const issues = await run('list_github_issues', { repo: 'alice-anders/deputy' }, async () => t);
    expect((issues.result as { data: { issues: unknown[] } }).data.issues.length).toBeGreaterThan(0);
    const created = await run('create_github_issue', { repo: 'alice-anders/deputy', title: 'Rotate the Token Vault client secret', labels: ['security'] }, async () => t);
    expect(created.result).toMatchObject({ ok: true, data: { number: expect.any(Number) } });
    expect((await outbox('github')).at(-1)?.data).toMatchObject({ repo: 'alice-anders/deputy', title: 'Rotate the Token Vault client secret' });
  });
});
