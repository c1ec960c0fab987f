/**
 * Google Calendar API v3, the part Deputy uses: events of the primary calendar (list with time range, text search,
 * ordering and paging; get; insert). An account sees the events it organizes or is invited to; times are kept in
 * UTC, the calendar's time zone.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { type GoogleEnv, googleError, NEEDS, requireGoogleScopes } from './google-api';
import type { Account, OAuthServer } from './oauth';
import type { ProviderState } from './state';

export type EventTime = { dateTime: string; timeZone: string } | { date: string };

export interface Attendee {
  email: string;
  displayName?: string;
  responseStatus: 'needsAction' | 'declined' | 'tentative' | 'accepted';
}

export interface CalendarEvent {
  id: string;
  summary: string;
  description?: string;
  location?: string;
  organizer: { email: string; displayName?: string };
  creator: string;
  start: EventTime;
  end: EventTime;
  attendees: Attendee[];
  created: string;
  updated: string;
}

/** Event ids are base32hex, as Google's are. */
export function newEventId(bytes = randomBytes(16)): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

const instant = (t: EventTime) => Date.parse('date' in t ? `${t.date}T00:00:00Z` : t.dateTime);

export class Calendars {
  private readonly events: CalendarEvent[];

  constructor(seed: CalendarEvent[], private readonly state: ProviderState) {
    this.events = [...seed, ...(state.added.events as CalendarEvent[])];
  }

  visibleTo(email: string): CalendarEvent[] {
    const e = email.toLowerCase();
    return this.events.filter((ev) => ev.organizer.email.toLowerCase() === e || ev.attendees.some((a) => a.email.toLowerCase() === e));
  }

  get(email: string, id: string): CalendarEvent | undefined {
    return this.visibleTo(email).find((ev) => ev.id === id);
  }

  insert(event: CalendarEvent) {
    this.events.push(event);
    this.state.added.events.push(event);
  }
}

/** The event as the viewer's calendar shows it. */
function eventResource(ev: CalendarEvent, viewer: string) {
  const self = (email: string) => (email.toLowerCase() === viewer.toLowerCase() ? { self: true } : {});
  return {
    kind: 'calendar#event',
    etag: `"${Date.parse(ev.updated) * 1000}"`,
    id: ev.id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${ev.id} ${viewer}`).toString('base64url')}`,
    created: ev.created,
    updated: ev.updated,
    summary: ev.summary,
    ...(ev.description ? { description: ev.description } : {}),
    ...(ev.location ? { location: ev.location } : {}),
    creator: { email: ev.creator, ...self(ev.creator) },
    organizer: { ...ev.organizer, ...self(ev.organizer.email) },
    start: ev.start,
    end: ev.end,
    iCalUID: `${ev.id}@google.com`,
    sequence: 0,
    ...(ev.attendees.length
      ? {
          attendees: ev.attendees.map((a) => ({
            email: a.email,
            ...(a.displayName ? { displayName: a.displayName } : {}),
            ...(a.email.toLowerCase() === ev.organizer.email.toLowerCase() ? { organizer: true } : {}),
            ...self(a.email),
            responseStatus: a.responseStatus,
          })),
        }
      : {}),
    reminders: { useDefault: true },
    eventType: 'default',
  };
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(at / 1000) * 1000;
}

const utcString = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A requested start or end as stored: UTC date-time (a wall time without offset is read in `timeZone`) or a date. */
function parseEventTime(input: { dateTime?: string; date?: string; timeZone?: string }, which: 'start' | 'end'): EventTime | string {
  if (input.date !== undefined && input.dateTime === undefined) return DATE.test(input.date) && !Number.isNaN(Date.parse(input.date)) ? { date: input.date } : `Invalid ${which} time.`;
  const m = LOCAL_DATE_TIME.exec(input.dateTime ?? '');
  if (!m) return `Invalid ${which} time.`;
  const timeZone = input.timeZone ?? 'UTC';
  try {
    zoneOffsetMs(0, timeZone);
  } catch {
    return `Invalid time zone definition for ${which} time.`;
  }
  const [, y, mo, d, h, mi, s = '0', offset] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  let ms: number;
  if (offset) {
    const sign = offset.toUpperCase() === 'Z' ? 0 : offset.startsWith('-') ? -1 : 1;
    ms = wall - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
  } else {
    if (!input.timeZone) return `Missing time zone definition for ${which} time.`;
    ms = wall - zoneOffsetMs(wall, timeZone);
    ms = wall - zoneOffsetMs(ms, timeZone);
  }
  return Number.isNaN(ms) ? `Invalid ${which} time.` : { dateTime: utcString(ms), timeZone };
}

const TimeInput = z.object({ dateTime: z.string().optional(), date: z.string().optional(), timeZone: z.string().optional() });
const NewEvent = z.object({
  summary: z.string().max(1024).optional(),
  description: z.string().max(8192).optional(),
  location: z.string().max(1024).optional(),
  start: TimeInput.optional(),
  end: TimeInput.optional(),
  attendees: z.array(z.object({ email: z.string(), displayName: z.string().optional(), responseStatus: z.string().optional() })).max(100).optional(),
});

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

const pageTokenOf = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
const offsetOf = (token: string | undefined): number | undefined => {
  if (!token) return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
};

export function calendarRoutes(oauth: OAuthServer, calendars: Calendars, state: ProviderState): Hono<GoogleEnv> {
  const app = new Hono<GoogleEnv>();
  const read = requireGoogleScopes(oauth, NEEDS.calendarRead);
  const write = requireGoogleScopes(oauth, NEEDS.calendarWrite);
  const accountOf = (email: string): Account => oauth.account(email) ?? { email, name: email };

  /** 'primary' or the account's own address; other calendars are not shared with anyone here. */
  const ownCalendar = (calendarId: string, email: string) => calendarId === 'primary' || calendarId.toLowerCase() === email.toLowerCase();

  app.get('/calendars/:calendarId/events', read, (c) => {
    const viewer = c.get('grant').account;
    if (!ownCalendar(c.req.param('calendarId'), viewer)) return googleError(c, 404, 'Not Found', { reason: 'notFound' });
    const q = c.req.query();
    const bound = (name: 'timeMin' | 'timeMax') => {
      const v = q[name];
      if (v === undefined) return undefined;
      return LOCAL_DATE_TIME.test(v) && /(Z|[+-]\d{2}:\d{2})$/i.test(v) ? Date.parse(v) : Number.NaN;
    };
    const timeMin = bound('timeMin');
    const timeMax = bound('timeMax');
    if (Number.isNaN(timeMin) || Number.isNaN(timeMax)) return googleError(c, 400, 'Bad Request', { reason: 'badRequest' });
    if (timeMin !== undefined && timeMax !== undefined && timeMin >= timeMax) return googleError(c, 400, 'The specified time range is empty.', { reason: 'timeRangeEmpty' });
    const maxResults = q.maxResults === undefined ? 250 : Number(q.maxResults);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 2500) {
      return googleError(c, 400, `Invalid value '${q.maxResults}'. Values must be within the range: [1, 2500]`, { reason: 'invalidParameter' });
    }
    if (q.orderBy !== undefined && q.orderBy !== 'startTime' && q.orderBy !== 'updated') return googleError(c, 400, `Invalid value for: ${q.orderBy} is not a valid value`);
    if (q.orderBy === 'startTime' && q.singleEvents !== 'true') {
      return googleError(c, 400, 'The requested ordering is not available for the particular query.', { reason: 'badRequest' });
    }
    const offset = offsetOf(q.pageToken);
    if (offset === undefined) return googleError(c, 400, 'Invalid page token value.', { reason: 'invalid' });

    const text = q.q?.trim().toLowerCase();
    const matches = calendars
      .visibleTo(viewer)
      .filter((ev) => timeMin === undefined || instant(ev.end) > timeMin)
      .filter((ev) => timeMax === undefined || instant(ev.start) < timeMax)
      .filter((ev) => {
        if (!text) return true;
        const haystack = [ev.summary, ev.description, ev.location, ev.organizer.email, ev.organizer.displayName, ...ev.attendees.flatMap((a) => [a.email, a.displayName])];
        return text.split(/\s+/).every((word) => haystack.some((h) => h?.toLowerCase().includes(word)));
      })
      .sort((a, b) => (q.orderBy === 'updated' ? Date.parse(a.updated) - Date.parse(b.updated) : instant(a.start) - instant(b.start)));
    const page = matches.slice(offset, offset + maxResults);
    const next = offset + maxResults < matches.length ? pageTokenOf(offset + maxResults) : undefined;
    const updated = matches.reduce((latest, ev) => (ev.updated > latest ? ev.updated : latest), '1970-01-01T00:00:00.000Z');
    const account = accountOf(viewer);
    return c.json({
      kind: 'calendar#events',
      etag: `"${Date.parse(updated) * 1000}"`,
      summary: account.email,
      description: '',
      updated,
      timeZone: 'UTC',
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      ...(next ? { nextPageToken: next } : {}),
      items: page.map((ev) => eventResource(ev, viewer)),
    });
  });

  app.get('/calendars/:calendarId/events/:eventId', read, (c) => {
    const viewer = c.get('grant').account;
    const ev = ownCalendar(c.req.param('calendarId'), viewer) ? calendars.get(viewer, c.req.param('eventId')) : undefined;
    if (!ev) return googleError(c, 404, 'Not Found', { reason: 'notFound' });
    return c.json(eventResource(ev, viewer));
  });

  app.post('/calendars/:calendarId/events', write, async (c) => {
    const viewer = c.get('grant').account;
    if (!ownCalendar(c.req.param('calendarId'), viewer)) return googleError(c, 404, 'Not Found', { reason: 'notFound' });
    let raw: unknown;
    try {
      raw = JSON.parse((await c.req.text()) || '{}');
    } catch {
      return googleError(c, 400, 'Parse Error', { reason: 'parseError' });
    }
    const body = NewEvent.safeParse(raw);
    if (!body.success) return googleError(c, 400, 'Invalid value for an event field.', { reason: 'invalid' });
    const input = body.data;
    if (!input.start) return googleError(c, 400, 'Missing start time.', { reason: 'required' });
    if (!input.end) return googleError(c, 400, 'Missing end time.', { reason: 'required' });
    const start = parseEventTime(input.start, 'start');
    const end = parseEventTime(input.end, 'end');
    if (typeof start === 'string') return googleError(c, 400, start);
    if (typeof end === 'string') return googleError(c, 400, end);
    if ('date' in start !== 'date' in end) return googleError(c, 400, 'Start and end times must either both be date or both be dateTime.');
    if (instant(end) <= instant(start)) {
      return googleError(c, 400, 'The specified time range is empty.', { reason: 'timeRangeEmpty' });
    }
    const attendees = input.attendees ?? [];
    if (attendees.some((a) => !EMAIL.test(a.email.trim()))) return googleError(c, 400, 'Invalid attendee email.');

    const organizer = accountOf(viewer);
    const now = new Date().toISOString();
    const event: CalendarEvent = {
      id: newEventId(),
      summary: input.summary ?? '',
      description: input.description,
      location: input.location,
      organizer: { email: organizer.email, displayName: organizer.name },
      creator: organizer.email,
      start,
      end,
      attendees: attendees.map((a) => ({
        email: a.email.trim(),
        ...(a.displayName ? { displayName: a.displayName } : {}),
        responseStatus: a.email.trim().toLowerCase() === viewer.toLowerCase() ? 'accepted' : 'needsAction',
      })),
      created: now,
      updated: now,
    };
    calendars.insert(event);
    const resource = eventResource(event, viewer);
    state.record({ provider: 'google', kind: 'calendar.insert', account: viewer, data: resource });
    state.save();
    return c.json(resource);
  });

  return app;
}
