/** Tools over the user's Gmail, through the `google-oauth2` connection. */
import { z } from 'zod';
import { type ConnectionName, PROVIDER_SCOPES } from '../../../../lib/connections';
import { Gmail } from '../../connectors/google';
import { withConnection } from '../../connectors/provider-call';
import { defineTool, toBindingMessage, type ToolDeclaration } from '../tool-declaration';

const needs = (scope: string) => ({ requiredScopes: ['chat'], connection: { name: 'google-oauth2' satisfies ConnectionName, scopes: [scope] } });

/** An e-mail address with nothing that could end a mail header or start another address. */
export const Email = z.email().max(254).refine((s) => !/[\r\n,;<>]/.test(s), 'a plain e-mail address');

/** One line of printable text: a CR or LF would let a subject start a header of its own. */
const Subject = z.string().trim().min(1).max(200).regex(/^[^\x00-\x1F\x7F]*$/, 'one line without control characters');

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function recipients(to: string[]): string {
  return to.length > 2 ? `${to.slice(0, 2).join(', ')} and ${to.length - 2} more` : to.join(', ');
}

export function gmailTools(googleApiUrl: string): ToolDeclaration[] {
  const gmail = new Gmail(googleApiUrl);
  return [
    defineTool({
      name: 'search_email',
      description: "Search the user's Gmail mail (inbox, messages) with Gmail search syntax, e.g. from:alice newer_than:7d.",
      input: z.strictObject({
        query: z.string().trim().min(1).max(200).describe('Gmail search, e.g. "from:carol", "is:unread", "invoice".'),
        maxResults: z.int().min(1).max(20).optional().describe('At most this many messages (default 10).'),
      }),
      tier: 'read',
      ...needs(PROVIDER_SCOPES.google.gmailRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `Search your mail for ${args.query}`,
        bindingMessage: toBindingMessage(`Search mail: ${args.query}`),
        authorizationDetails: [{ type: 'email_read', ...args }],
      }),
      outcome: (data) => count((data as { messages?: unknown[] }).messages?.length ?? 0, 'message'),
      execute: ({ query, maxResults }, ctx) => withConnection(ctx, 'Google', async (token) => ({ messages: await gmail.search(token, query, maxResults ?? 10) })),
    }),
    defineTool({
      name: 'read_email',
      description: 'Read one Gmail message (its full text) by id.',
      input: z.strictObject({ messageId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).describe('The message id (from search_email).') }),
      tier: 'read',
      ...needs(PROVIDER_SCOPES.google.gmailRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `Read the e-mail ${args.messageId}`,
        bindingMessage: toBindingMessage(`Read mail ${args.messageId}`),
        authorizationDetails: [{ type: 'email_read', ...args }],
      }),
      outcome: (data) => `Read an e-mail from ${(data as { from?: string }).from || 'an unknown sender'}`,
      execute: ({ messageId }, ctx) => withConnection(ctx, 'Google', (token) => gmail.read(token, messageId)),
    }),
    defineTool({
      name: 'send_email',
      description: 'Send an e-mail from the user’s Gmail.',
      input: z.strictObject({
        to: z.array(Email).min(1).max(20).describe('Recipients.'),
        cc: z.array(Email).max(20).optional(),
        subject: Subject.describe('The subject.'),
        body: z.string().min(1).max(20_000).describe('The text of the mail.'),
      }),
      tier: 'high',
      ...needs(PROVIDER_SCOPES.google.gmailSend),
      sideEffect: true,
      describe: (args) => ({
        summary: `Send “${args.subject}” to ${args.to.join(', ')}${args.cc?.length ? ` (cc ${args.cc.join(', ')})` : ''}`,
        bindingMessage: toBindingMessage(`Send mail to ${args.to[0]}${args.to.length > 1 ? ` +${args.to.length - 1}` : ''}: ${args.subject}`),
        authorizationDetails: [{ type: 'email_send', ...args }],
      }),
      destinations: (args) => [...args.to, ...(args.cc ?? [])].map((value) => ({ kind: 'email', value })),
      outcome: (data) => `Sent to ${recipients((data as { to?: string[] }).to ?? [])}`,
      // Gmail has no idempotency key; the send is attempted once (a refused token sends nothing before the retry).
      execute: (args, ctx) => withConnection(ctx, 'Google', async (token) => ({ ...(await gmail.send(token, args)), to: args.to })),
    }),
  ];
}
