/**
 * Tools over the user's connected accounts (Google Calendar and Gmail, Slack, GitHub). Each reaches its provider only
 * with the Token Vault token the runtime obtains for the user (`ctx.getConnectionToken()`); the model sees data only.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PROVIDER_SCOPES } from '../../../../lib/connections';
import { GitHubConnector } from '../../connectors/github';
import { GoogleConnector, rfc2822 } from '../../connectors/google';
import { withConnection } from '../../connectors/provider-call';
import { SlackConnector } from '../../connectors/slack';
import { defineTool, toBindingMessage } from '../tool-declaration';

export interface ProviderUrls {
  googleApiUrl: string;
  slackApiUrl: string;
  githubApiUrl: string;
}

const google = (scope: string) => ({ requiredScopes: ['chat'], connection: { name: 'google-oauth2', scopes: [scope] } });
const slack = (scope: string) => ({ requiredScopes: ['chat'], connection: { name: 'sign-in-with-slack', scopes: [scope] } });
const gh = () => ({ requiredScopes: ['chat'], connection: { name: 'github', scopes: [PROVIDER_SCOPES.github.repo] } });

/** An e-mail address with nothing that could end a mail header. */
const Email = z.email().max(254).refine((s) => !/[\r\n,;<>]/.test(s), 'a plain e-mail address');
const Day = z.iso.date();
const Repo = z.string().regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, 'owner/name').describe('The repository as owner/name (from list_github_repos).');
const ChannelId = z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'a Slack channel id like C01ABC').describe('The channel id, e.g. C01SECURITY (from list_slack_channels).');

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const todayUtc = () => new Date().toISOString().slice(0, 10);
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000);

/** Calendar event ids: base32hex (a–v, 0–9); derived from the idempotency key so a replay cannot create twice. */
const eventIdFor = (key: string) => {
  const hex = createHash('sha256').update(key).digest('hex');
  return [...hex].map((c) => '0123456789abcdefghijklmnopqrstuv'[parseInt(c, 16)]).join('').slice(0, 40);
};

export function thirdPartyTools(urls: ProviderUrls) {
  const g = new GoogleConnector(urls.googleApiUrl);
  const s = new SlackConnector(urls.slackApiUrl);
  const h = new GitHubConnector(urls.githubApiUrl);
  return [
    defineTool({
      name: 'list_calendar_events',
      description: "List events on the user's Google Calendar (meetings, schedule, agenda) for a day or a few days.",
      input: z.strictObject({
        date: Day.optional().describe('The first day, YYYY-MM-DD (default today, UTC).'),
        days: z.int().min(1).max(14).optional().describe('How many days from that date (default 1).'),
      }),
      tier: 'read',
      ...google(PROVIDER_SCOPES.google.calendarRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: ({ date, days }) => {
        const from = date ?? 'today';
        const summary = `List your calendar events${days && days > 1 ? ` for ${days} days from ${from}` : ` on ${from}`}`;
        return { summary, bindingMessage: toBindingMessage(summary), authorizationDetails: [{ type: 'calendar_event_read', date: from, days: days ?? 1 }] };
      },
      outcome: (data) => count((data as { events?: unknown[] }).events?.length ?? 0, 'event'),
      execute: ({ date, days }, ctx) => {
        const day = date ?? todayUtc();
        const from = addDays(day, 0);
        const to = addDays(day, days ?? 1);
        return withConnection(ctx, 'Google', async (token) => ({ from: from.toISOString(), to: to.toISOString(), events: await g.listEvents(token, from, to) }));
      },
    }),
    defineTool({
      name: 'create_calendar_event',
      description: "Create an event (meeting) on the user's Google Calendar; attendees get an invitation.",
      input: z.strictObject({
        title: z.string().trim().min(1).max(200).describe('The event title.'),
        date: Day.describe('The day, YYYY-MM-DD.'),
        start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM').describe('Start time HH:MM (24 h, UTC).'),
        durationMinutes: z.int().min(5).max(480).optional().describe('Length in minutes (default 30).'),
        attendees: z.array(Email).max(20).optional().describe('E-mail addresses to invite.'),
        location: z.string().max(200).optional(),
        description: z.string().max(2000).optional(),
      }),
      tier: 'write',
      ...google(PROVIDER_SCOPES.google.calendarWrite),
      sideEffect: true,
      describe: (a) => ({
        summary: `Create “${a.title}” on ${a.date} at ${a.start}${a.attendees?.length ? ` with ${a.attendees.join(', ')}` : ''}`,
        bindingMessage: toBindingMessage(`Create event ${a.date} ${a.start}: ${a.title}`),
        authorizationDetails: [{ type: 'calendar_event_create', ...a }],
      }),
      outcome: () => 'Event created',
      execute: (a, ctx) => {
        const start = new Date(`${a.date}T${a.start}:00Z`);
        const end = new Date(start.getTime() + (a.durationMinutes ?? 30) * 60_000);
        return withConnection(ctx, 'Google', (token) =>
          g.createEvent(token, { id: eventIdFor(ctx.idempotencyKey), title: a.title, start, end, attendees: a.attendees, location: a.location, description: a.description }),
        );
      },
    }),
    defineTool({
      name: 'search_email',
      description: "Search the user's Gmail mail (inbox, messages) with Gmail search syntax, e.g. from:alice newer_than:7d.",
      input: z.strictObject({
        query: z.string().trim().min(1).max(200).describe('Gmail search, e.g. "from:carol", "is:unread", "invoice".'),
        maxResults: z.int().min(1).max(20).optional().describe('At most this many messages (default 10).'),
      }),
      tier: 'read',
      ...google(PROVIDER_SCOPES.google.gmailRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: ({ query }) => ({ summary: `Search your mail for ${query}`, bindingMessage: toBindingMessage(`Search mail: ${query}`), authorizationDetails: [{ type: 'email_read', query }] }),
      outcome: (data) => count((data as { messages?: unknown[] }).messages?.length ?? 0, 'message'),
      execute: ({ query, maxResults }, ctx) => withConnection(ctx, 'Google', async (token) => ({ messages: await g.searchMail(token, query, maxResults ?? 10) })),
    }),
    defineTool({
      name: 'read_email',
      description: 'Read one Gmail message (its full text) by id.',
      input: z.strictObject({ messageId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).describe('The message id (from search_email).') }),
      tier: 'read',
      ...google(PROVIDER_SCOPES.google.gmailRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: ({ messageId }) => ({ summary: 'Read an e-mail', bindingMessage: toBindingMessage(`Read mail ${messageId}`), authorizationDetails: [{ type: 'email_read', messageId }] }),
      outcome: (data) => `“${(data as { subject?: string }).subject ?? ''}”`,
      execute: ({ messageId }, ctx) => withConnection(ctx, 'Google', (token) => g.readMail(token, messageId)),
    }),
    defineTool({
      name: 'send_email',
      description: 'Send an e-mail from the user’s Gmail.',
      input: z.strictObject({
        to: z.array(Email).min(1).max(20).describe('Recipients.'),
        cc: z.array(Email).max(20).optional(),
        subject: z.string().min(1).max(200).refine((t) => !/[\r\n]/.test(t), 'one line').describe('The subject.'),
        body: z.string().min(1).max(20_000).describe('The text of the mail.'),
      }),
      tier: 'high',
      ...google(PROVIDER_SCOPES.google.gmailSend),
      sideEffect: true,
      describe: (a) => ({
        summary: `Send “${a.subject}” to ${a.to.join(', ')}${a.cc?.length ? ` (cc ${a.cc.join(', ')})` : ''}`,
        bindingMessage: toBindingMessage(`Send mail to ${a.to[0]}${a.to.length > 1 ? ` +${a.to.length - 1}` : ''}: ${a.subject}`),
        authorizationDetails: [{ type: 'email_send', ...a }],
      }),
      outcome: () => 'Sent',
      execute: (a, ctx) => withConnection(ctx, 'Google', (token) => g.sendMail(token, rfc2822(a))),
    }),
    defineTool({
      name: 'list_slack_channels',
      description: "List the Slack channels of the user's workspace.",
      input: z.strictObject({}),
      tier: 'read',
      ...slack(PROVIDER_SCOPES.slack.channelsRead),
      sideEffect: false,
      describe: () => ({ summary: 'List your Slack channels', bindingMessage: 'List Slack channels', authorizationDetails: [{ type: 'slack_channel_read' }] }),
      outcome: (data) => count((data as { channels?: unknown[] }).channels?.length ?? 0, 'channel'),
      execute: (_a, ctx) => withConnection(ctx, 'Slack', async (token) => ({ channels: await s.listChannels(token) })),
    }),
    defineTool({
      name: 'read_slack_channel',
      description: 'Read the latest messages of a Slack channel.',
      input: z.strictObject({ channelId: ChannelId, limit: z.int().min(1).max(50).optional().describe('How many messages (default 20).') }),
      tier: 'read',
      ...slack(PROVIDER_SCOPES.slack.channelsHistory),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: ({ channelId }) => ({ summary: `Read Slack channel ${channelId}`, bindingMessage: toBindingMessage(`Read Slack ${channelId}`), authorizationDetails: [{ type: 'slack_channel_read', channelId }] }),
      outcome: (data) => count((data as { messages?: unknown[] }).messages?.length ?? 0, 'message'),
      execute: ({ channelId, limit }, ctx) => withConnection(ctx, 'Slack', (token) => s.readChannel(token, channelId, limit ?? 20)),
    }),
    defineTool({
      name: 'post_slack_message',
      description: 'Post a message to a Slack channel as the user.',
      input: z.strictObject({ channelId: ChannelId, text: z.string().min(1).max(4000).describe('The message.') }),
      tier: 'high',
      ...slack(PROVIDER_SCOPES.slack.chatWrite),
      sideEffect: true,
      describe: ({ channelId, text }) => ({
        summary: `Post to ${channelId}: “${text.length > 80 ? `${text.slice(0, 77)}…` : text}”`,
        bindingMessage: toBindingMessage(`Post to Slack ${channelId}: ${text}`),
        authorizationDetails: [{ type: 'slack_message_post', channelId, text }],
      }),
      outcome: (data) => `Posted to ${(data as { channel?: string }).channel ?? 'the channel'}`,
      execute: ({ channelId, text }, ctx) => withConnection(ctx, 'Slack', (token) => s.post(token, channelId, text)),
    }),
    defineTool({
      name: 'list_github_repos',
      description: 'List the GitHub repositories (repos) the user can access.',
      input: z.strictObject({}),
      tier: 'read',
      ...gh(),
      sideEffect: false,
      describe: () => ({ summary: 'List your GitHub repositories', bindingMessage: 'List GitHub repositories', authorizationDetails: [{ type: 'github_repo_read' }] }),
      outcome: (data) => count((data as { repos?: unknown[] }).repos?.length ?? 0, 'repository', 'repositories'),
      execute: (_a, ctx) => withConnection(ctx, 'GitHub', async (token) => ({ repos: await h.listRepos(token) })),
    }),
    defineTool({
      name: 'list_github_issues',
      description: 'List the issues of a GitHub repository.',
      input: z.strictObject({ repo: Repo, state: z.enum(['open', 'closed', 'all']).optional().describe('Default open.') }),
      tier: 'read',
      ...gh(),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: ({ repo, state }) => ({ summary: `List ${state ?? 'open'} issues in ${repo}`, bindingMessage: toBindingMessage(`List issues in ${repo}`), authorizationDetails: [{ type: 'github_repo_read', repo, state: state ?? 'open' }] }),
      outcome: (data) => count((data as { issues?: unknown[] }).issues?.length ?? 0, 'issue'),
      execute: ({ repo, state }, ctx) => withConnection(ctx, 'GitHub', async (token) => ({ repo, issues: await h.listIssues(token, repo, state ?? 'open') })),
    }),
    defineTool({
      name: 'create_github_issue',
      description: 'Create an issue in a GitHub repository.',
      input: z.strictObject({
        repo: Repo,
        title: z.string().trim().min(1).max(256).describe('The issue title.'),
        body: z.string().max(20_000).optional().describe('The issue text.'),
        labels: z.array(z.string().min(1).max(50)).max(10).optional(),
      }),
      tier: 'write',
      ...gh(),
      sideEffect: true,
      describe: (a) => ({ summary: `Create issue “${a.title}” in ${a.repo}`, bindingMessage: toBindingMessage(`Create issue in ${a.repo}: ${a.title}`), authorizationDetails: [{ type: 'github_issue_create', ...a }] }),
      outcome: (data) => `Created issue #${(data as { number?: number }).number ?? '?'}`,
      execute: ({ repo, title, body, labels }, ctx) => withConnection(ctx, 'GitHub', (token) => h.createIssue(token, repo, { title, ...(body ? { body } : {}), ...(labels ? { labels } : {}) })),
    }),
  ];
}
