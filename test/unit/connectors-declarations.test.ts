/**
 * The eleven third-party tool declarations: names, connections and scopes from lib/connections, risk tiers, strict
 * inputs, and what a human is shown (binding message within Auth0's limits, RAR details with the exact arguments).
 */
import { describe, expect, it } from 'vitest';
import type { ToolDeclaration } from '../../backend/src/agent/tool-declaration';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { CONNECTION_NAMES, PROVIDER_SCOPES } from '../../lib/connections';

const tools = new Map(thirdPartyTools({ googleApiUrl: 'https://www.googleapis.com/', slackApiUrl: 'https://slack.com/api/', githubApiUrl: 'https://api.github.com' }).map((t) => [t.name, t]));
const G = PROVIDER_SCOPES.google;
const S = PROVIDER_SCOPES.slack;

const contract: Record<string, { connection: string; scope: string; tier: string; sideEffect: boolean; untrusted: boolean; type: string; args: Record<string, unknown> }> = {
  list_calendar_events: { connection: 'google-oauth2', scope: G.calendarRead, tier: 'read', sideEffect: false, untrusted: true, type: 'calendar_event_read', args: { date: '2026-03-02', days: 3 } },
  create_calendar_event: {
    connection: 'google-oauth2',
    scope: G.calendarWrite,
    tier: 'write',
    sideEffect: true,
    untrusted: false,
    type: 'calendar_event_create',
    args: { title: 'Retro', date: '2026-03-02', start: '14:30', durationMinutes: 45, attendees: ['bob@example.com'], location: 'Room 1', description: 'Notes' },
  },
  search_email: { connection: 'google-oauth2', scope: G.gmailRead, tier: 'read', sideEffect: false, untrusted: true, type: 'email_read', args: { query: 'from:carol newer_than:7d', maxResults: 5 } },
  read_email: { connection: 'google-oauth2', scope: G.gmailRead, tier: 'read', sideEffect: false, untrusted: true, type: 'email_read', args: { messageId: '18c2f0a1b2c3d4e5' } },
  send_email: {
    connection: 'google-oauth2',
    scope: G.gmailSend,
    tier: 'high',
    sideEffect: true,
    untrusted: false,
    type: 'email_send',
    args: { to: ['bob@example.com', 'carol@example.com'], cc: ['dana@example.org'], subject: 'Friday', body: 'See you.' },
  },
  list_slack_channels: { connection: 'sign-in-with-slack', scope: S.channelsRead, tier: 'read', sideEffect: false, untrusted: false, type: 'slack_channel_read', args: {} },
  read_slack_channel: { connection: 'sign-in-with-slack', scope: S.channelsHistory, tier: 'read', sideEffect: false, untrusted: true, type: 'slack_channel_read', args: { channelId: 'C01SECURITY', limit: 10 } },
  post_slack_message: { connection: 'sign-in-with-slack', scope: S.chatWrite, tier: 'high', sideEffect: true, untrusted: false, type: 'slack_message_post', args: { channelId: 'C01SECURITY', text: 'Moved to 10:00.' } },
  list_github_repos: { connection: 'github', scope: 'repo', tier: 'read', sideEffect: false, untrusted: false, type: 'github_repo_read', args: {} },
  list_github_issues: { connection: 'github', scope: 'repo', tier: 'read', sideEffect: false, untrusted: true, type: 'github_repo_read', args: { repo: 'alice-anders/deputy', state: 'all' } },
  read_github_issue: { connection: 'github', scope: 'repo', tier: 'read', sideEffect: false, untrusted: true, type: 'github_repo_read', args: { repo: 'acme/website', number: 12 } },
  create_github_issue: {
    connection: 'github',
    scope: 'repo',
    tier: 'write',
    sideEffect: true,
    untrusted: false,
    type: 'github_issue_create',
    args: { repo: 'alice-anders/deputy', title: 'Rotate the secret', body: 'Soon.', labels: ['security'] },
  },
};

const tool = (name: string) => tools.get(name) as ToolDeclaration;

describe('third-party tool declarations', () => {
  it('declares exactly the contracted tools', () => {
    expect([...tools.keys()].sort()).toEqual(Object.keys(contract).sort());
  });

  for (const [name, c] of Object.entries(contract)) {
    describe(name, () => {
      it('needs its connection and provider scope, the chat scope, and no resource API', () => {
        const t = tool(name);
        expect(CONNECTION_NAMES).toContain(t.connection?.name);
        expect(t.connection).toEqual({ name: c.connection, scopes: [c.scope] });
        expect(t.requiredScopes).toEqual(['chat']);
        expect(t.resource).toBeUndefined();
        expect(t.tier).toBe(c.tier);
        expect(t.sideEffect).toBe(c.sideEffect);
        expect(t.resultTrust === 'untrusted').toBe(c.untrusted);
        expect(t.description.length).toBeGreaterThan(10);
      });

      it('accepts the contracted arguments and refuses unknown ones', () => {
        const t = tool(name);
        expect(t.input.safeParse(c.args).success).toBe(true);
        expect(t.input.safeParse({ ...c.args, extra: 1 }).success).toBe(false);
      });

      it('describes a call for a human: a binding message within Auth0’s rules and RAR details with the exact arguments', () => {
        const t = tool(name);
        const d = t.describe(t.input.parse(c.args));
        expect(d.summary.length).toBeGreaterThan(5);
        expect(d.bindingMessage.length).toBeLessThanOrEqual(64);
        expect(d.bindingMessage).toMatch(/^[A-Za-z0-9 +\-_.,:#]+$/);
        expect(d.authorizationDetails).toEqual([{ type: c.type, ...c.args }]);
      });
    });
  }

  it('keeps binding messages within 64 characters for the longest arguments', () => {
    const t = tool('post_slack_message');
    const d = t.describe(t.input.parse({ channelId: 'C01SECURITY', text: 'x'.repeat(4000) }));
    expect(d.bindingMessage.length).toBeLessThanOrEqual(64);
  });

  it('validates dates, times, ranges and ids', () => {
    const list = tool('list_calendar_events').input;
    expect(list.safeParse({}).success).toBe(true);
    expect(list.safeParse({ date: '2026-02-30' }).success).toBe(false);
    expect(list.safeParse({ days: 15 }).success).toBe(false);
    expect(list.safeParse({ days: 1.5 }).success).toBe(false);
    const create = tool('create_calendar_event').input;
    const event = { title: 'x', date: '2026-03-02', start: '09:00' };
    expect(create.safeParse(event).success).toBe(true);
    expect(create.safeParse({ ...event, start: '24:00' }).success).toBe(false);
    expect(create.safeParse({ ...event, start: '9:00' }).success).toBe(false);
    expect(create.safeParse({ ...event, durationMinutes: 481 }).success).toBe(false);
    expect(create.safeParse({ ...event, attendees: Array.from({ length: 21 }, (_, i) => `p${i}@example.com`) }).success).toBe(false);
    expect(tool('read_slack_channel').input.safeParse({ channelId: '#security' }).success).toBe(false);
    expect(tool('list_github_issues').input.safeParse({ repo: 'alice-anders' }).success).toBe(false);
    expect(tool('list_github_issues').input.safeParse({ repo: '../../user' }).success).toBe(false);
    expect(tool('read_email').input.safeParse({ messageId: '../drafts' }).success).toBe(false);
    expect(tool('send_email').input.safeParse({ to: [], subject: 'x', body: 'y' }).success).toBe(false);
  });

  it('says what happened in one short line', () => {
    expect(tool('list_calendar_events').outcome!({ events: [{}, {}, {}] })).toBe('3 events');
    expect(tool('list_calendar_events').outcome!({ events: [{}] })).toBe('1 event');
    expect(tool('create_calendar_event').outcome!({ title: 'Retro' })).toBe('Created “Retro”');
    expect(tool('search_email').outcome!({ messages: [] })).toBe('0 messages');
    expect(tool('send_email').outcome!({ id: 'm', threadId: 't', to: ['a@b.c'] })).toBe('Sent to a@b.c');
    expect(tool('send_email').outcome!({ id: 'm', threadId: 't', to: ['a@b.c', 'd@e.f', 'g@h.i', 'j@k.l'] })).toBe('Sent to a@b.c, d@e.f and 2 more');
    expect(tool('list_slack_channels').outcome!({ channels: [{}, {}] })).toBe('2 channels');
    expect(tool('post_slack_message').outcome!({ channel: 'C01SECURITY', ts: '1.2' })).toBe('Posted to C01SECURITY');
    expect(tool('list_github_repos').outcome!({ repos: [{}] })).toBe('1 repository');
    expect(tool('create_github_issue').outcome!({ number: 12, url: 'u' })).toBe('Created issue #12');
  });
});
