/** Tools over the user's Slack workspace, through the `sign-in-with-slack` connection. */
import { z } from 'zod';
import { type ConnectionName, PROVIDER_SCOPES } from '../../../../lib/connections';
import { withConnection } from '../../connectors/provider-call';
import { SlackConnector } from '../../connectors/slack';
import { defineTool, toBindingMessage, type ToolDeclaration } from '../tool-declaration';

const needs = (scope: string) => ({ requiredScopes: ['chat'], connection: { name: 'sign-in-with-slack' satisfies ConnectionName, scopes: [scope] } });

const ChannelId = z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'a Slack channel id like C01ABC').describe('The channel id, e.g. C01SECURITY (from list_slack_channels).');

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const excerpt = (text: string, max = 80) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackTools(slackApiUrl: string): ToolDeclaration[] {
  const slack = new SlackConnector(slackApiUrl);
  return [
    defineTool({
      name: 'list_slack_channels',
      description: "List the Slack channels of the user's workspace.",
      input: z.strictObject({}),
      tier: 'read',
      ...needs(PROVIDER_SCOPES.slack.channelsRead),
      sideEffect: false,
      describe: () => ({ summary: 'List your Slack channels', bindingMessage: 'List Slack channels', authorizationDetails: [{ type: 'slack_channel_read' }] }),
      outcome: (data) => count((data as { channels?: unknown[] }).channels?.length ?? 0, 'channel'),
      // Only "#name" names a channel: anyone in the workspace can create a public channel called "notes" or
      // "summary", and a bare word in the user's sentence must not make that channel one they named.
      directory: (data) =>
        ((data as { channels?: Array<{ id?: string; name?: string }> }).channels ?? []).flatMap((c) =>
          c.id && c.name ? [{ kind: 'slack_channel' as const, value: c.id, names: [`#${c.name}`] }] : [],
        ),
      execute: (_args, ctx) => withConnection(ctx, 'Slack', async (token) => ({ channels: await slack.listChannels(token) })),
    }),
    defineTool({
      name: 'read_slack_channel',
      description: 'Read the latest messages of a Slack channel.',
      input: z.strictObject({ channelId: ChannelId, limit: z.int().min(1).max(50).optional().describe('How many messages (default 20).') }),
      tier: 'read',
      ...needs(PROVIDER_SCOPES.slack.channelsHistory),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `Read the latest messages in Slack channel ${args.channelId}`,
        bindingMessage: toBindingMessage(`Read Slack ${args.channelId}`),
        authorizationDetails: [{ type: 'slack_channel_read', ...args }],
      }),
      outcome: (data) => count((data as { messages?: unknown[] }).messages?.length ?? 0, 'message'),
      execute: ({ channelId, limit }, ctx) => withConnection(ctx, 'Slack', (token) => slack.readChannel(token, channelId, limit ?? 20)),
    }),
    defineTool({
      name: 'post_slack_message',
      description: 'Post a message to a Slack channel as the user.',
      input: z.strictObject({ channelId: ChannelId, text: z.string().min(1).max(4000).describe('The message.') }),
      tier: 'high',
      ...needs(PROVIDER_SCOPES.slack.chatWrite),
      sideEffect: true,
      describe: (args) => ({
        summary: `Post to Slack channel ${args.channelId}: “${excerpt(args.text)}”`,
        bindingMessage: toBindingMessage(`Post to Slack ${args.channelId}: ${args.text}`),
        authorizationDetails: [{ type: 'slack_message_post', ...args }],
      }),
      destinations: (args) => [{ kind: 'slack_channel', value: args.channelId }],
      // The post answers with the channel id only; its name would need another call and scope.
      outcome: (data) => `Posted to ${(data as { channel?: string }).channel ?? 'the channel'}`,
      execute: ({ channelId, text }, ctx) => withConnection(ctx, 'Slack', (token) => slack.post(token, channelId, text)),
    }),
  ];
}
