/** Tools over the user's Google Calendar, through the `google-oauth2` connection. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type ConnectionName, PROVIDER_SCOPES } from '../../../../lib/connections';
import { type CalendarEvent, GoogleCalendar } from '../../connectors/google';
import { withConnection } from '../../connectors/provider-call';
import { defineTool, toBindingMessage, type ToolDeclaration } from '../tool-declaration';
import { Email } from './gmail';

const needs = (scope: string) => ({ requiredScopes: ['chat'], connection: { name: 'google-oauth2' satisfies ConnectionName, scopes: [scope] } });

const Day = z.iso.date();

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const todayUtc = () => new Date().toISOString().slice(0, 10);
const dayStart = (day: string, plusDays = 0) => new Date(Date.parse(`${day}T00:00:00Z`) + plusDays * 86_400_000);

/**
 * A Calendar event id (base32hex: 0–9 and a–v) derived from the call's idempotency key, so a replayed call reuses
 * the id and Google refuses to create the event twice.
 */
export const eventIdFor = (idempotencyKey: string) =>
  BigInt(`0x${createHash('sha256').update(idempotencyKey).digest('hex')}`).toString(32).padStart(52, '0');

function listSummary(date: string | undefined, days: number): string {
  if (days > 1) return `List your calendar events for ${days} days from ${date ?? 'today'}`;
  return `List your calendar events for ${date ?? 'today'}`;
}

export function calendarTools(googleApiUrl: string): ToolDeclaration[] {
  const calendar = new GoogleCalendar(googleApiUrl);
  return [
    defineTool({
      name: 'list_calendar_events',
      description: "List events on the user's Google Calendar (meetings, schedule, agenda) for a day or a few days.",
      input: z.strictObject({
        date: Day.optional().describe('The first day, YYYY-MM-DD (default today, UTC).'),
        days: z.int().min(1).max(14).optional().describe('How many days from that date (default 1).'),
      }),
      tier: 'read',
      ...needs(PROVIDER_SCOPES.google.calendarRead),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => {
        const summary = listSummary(args.date, args.days ?? 1);
        return { summary, bindingMessage: toBindingMessage(summary), authorizationDetails: [{ type: 'calendar_event_read', ...args }] };
      },
      outcome: (data) => count((data as { events?: unknown[] }).events?.length ?? 0, 'event'),
      execute: ({ date, days }, ctx) => {
        const day = date ?? todayUtc();
        const from = dayStart(day);
        const to = dayStart(day, days ?? 1);
        return withConnection(ctx, 'Google', async (token) => ({ events: await calendar.listEvents(token, from, to), from: from.toISOString(), to: to.toISOString() }));
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
      ...needs(PROVIDER_SCOPES.google.calendarWrite),
      sideEffect: true,
      describe: (args) => ({
        summary: `Create “${args.title}” on ${args.date} at ${args.start} UTC for ${args.durationMinutes ?? 30} min${args.attendees?.length ? `, inviting ${args.attendees.join(', ')}` : ''}`,
        bindingMessage: toBindingMessage(`Create event ${args.date} ${args.start}: ${args.title}`),
        authorizationDetails: [{ type: 'calendar_event_create', ...args }],
      }),
      destinations: (args) => (args.attendees ?? []).map((value) => ({ kind: 'email', value })),
      outcome: (data) => `Created “${(data as CalendarEvent).title}”`,
      execute: (args, ctx) => {
        const start = new Date(`${args.date}T${args.start}:00Z`);
        const end = new Date(start.getTime() + (args.durationMinutes ?? 30) * 60_000);
        const event = { title: args.title, start, end, attendees: args.attendees, location: args.location, description: args.description };
        return withConnection(ctx, 'Google', (token) => calendar.createEvent(token, eventIdFor(ctx.idempotencyKey), event));
      },
    }),
  ];
}
