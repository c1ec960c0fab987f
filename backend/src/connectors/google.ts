/** Google Calendar and Gmail through the official `@googleapis/*` clients, with a per-request bearer token. */
import { calendar as calendarApi } from '@googleapis/calendar';
import { gmail as gmailApi } from '@googleapis/gmail';
import { kindOfStatus, ProviderError } from './provider-call';

const TIMEOUT_MS = 15_000;

const options = (token: string) => ({ headers: { Authorization: `Bearer ${token}` }, retry: false, timeout: TIMEOUT_MS });

async function google<T>(call: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await call()).data;
  } catch (err) {
    const e = err as { status?: number; response?: { status?: number }; code?: string | number };
    const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
    throw new ProviderError(kindOfStatus(status));
  }
}

export interface CalendarEvent {
  id: string;
  title: string;
  start: string;
  end: string;
  allDay: boolean;
  location?: string;
  organizer?: string;
  attendees: string[];
  link?: string;
}

type RawEvent = {
  id?: string | null;
  summary?: string | null;
  location?: string | null;
  htmlLink?: string | null;
  start?: { dateTime?: string | null; date?: string | null } | null;
  end?: { dateTime?: string | null; date?: string | null } | null;
  organizer?: { email?: string | null } | null;
  attendees?: Array<{ email?: string | null }> | null;
};

const toEvent = (e: RawEvent): CalendarEvent => ({
  id: e.id ?? '',
  title: e.summary ?? '(no title)',
  start: e.start?.dateTime ?? e.start?.date ?? '',
  end: e.end?.dateTime ?? e.end?.date ?? '',
  allDay: !e.start?.dateTime,
  ...(e.location ? { location: e.location } : {}),
  ...(e.organizer?.email ? { organizer: e.organizer.email } : {}),
  attendees: (e.attendees ?? []).flatMap((a) => (a.email ? [a.email] : [])),
  ...(e.htmlLink ? { link: e.htmlLink } : {}),
});

export class GoogleConnector {
  constructor(private readonly rootUrl: string) {}

  async listEvents(token: string, from: Date, to: Date): Promise<CalendarEvent[]> {
    const cal = calendarApi({ version: 'v3', rootUrl: this.rootUrl });
    const data = await google(() =>
      cal.events.list({ calendarId: 'primary', timeMin: from.toISOString(), timeMax: to.toISOString(), singleEvents: true, orderBy: 'startTime', maxResults: 50 }, options(token)),
    );
    return (data.items ?? []).map(toEvent);
  }

  /** `id` makes a replay answer 409 instead of creating the event twice. */
  async createEvent(token: string, event: { id: string; title: string; start: Date; end: Date; attendees?: string[]; location?: string; description?: string }): Promise<CalendarEvent> {
    const cal = calendarApi({ version: 'v3', rootUrl: this.rootUrl });
    const requestBody = {
      id: event.id,
      summary: event.title,
      start: { dateTime: event.start.toISOString(), timeZone: 'UTC' },
      end: { dateTime: event.end.toISOString(), timeZone: 'UTC' },
      ...(event.attendees?.length ? { attendees: event.attendees.map((email) => ({ email })) } : {}),
      ...(event.location ? { location: event.location } : {}),
      ...(event.description ? { description: event.description } : {}),
    };
    try {
      return toEvent(await google(() => cal.events.insert({ calendarId: 'primary', requestBody }, options(token))));
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind !== 'failed') throw err;
      // 409: created by an earlier attempt of this same call.
      return toEvent(await google(() => cal.events.get({ calendarId: 'primary', eventId: event.id }, options(token))));
    }
  }

  async searchMail(token: string, query: string, max: number) {
    const gm = gmailApi({ version: 'v1', rootUrl: this.rootUrl });
    const list = await google(() => gm.users.messages.list({ userId: 'me', q: query, maxResults: max }, options(token)));
    const ids = (list.messages ?? []).slice(0, max).flatMap((m) => (m.id ? [m.id] : []));
    return Promise.all(
      ids.map(async (id) => {
        const m = await google(() => gm.users.messages.get({ userId: 'me', id, format: 'metadata', metadataHeaders: ['From', 'To', 'Subject', 'Date'] }, options(token)));
        const h = headerMap(m.payload?.headers);
        return { id, threadId: m.threadId ?? id, from: h.from ?? '', to: h.to ?? '', subject: h.subject ?? '', date: h.date ?? '', snippet: m.snippet ?? '', unread: (m.labelIds ?? []).includes('UNREAD') };
      }),
    );
  }

  async readMail(token: string, id: string) {
    const gm = gmailApi({ version: 'v1', rootUrl: this.rootUrl });
    const m = await google(() => gm.users.messages.get({ userId: 'me', id, format: 'full' }, options(token)));
    const h = headerMap(m.payload?.headers);
    const body = textOf(m.payload as MimePart | undefined);
    const limit = 8000;
    return {
      id,
      threadId: m.threadId ?? id,
      from: h.from ?? '',
      to: h.to ?? '',
      ...(h.cc ? { cc: h.cc } : {}),
      subject: h.subject ?? '',
      date: h.date ?? '',
      body: body.length > limit ? `${body.slice(0, limit)}\n[… truncated]` : body,
    };
  }

  async sendMail(token: string, raw: string) {
    const gm = gmailApi({ version: 'v1', rootUrl: this.rootUrl });
    const sent = await google(() => gm.users.messages.send({ userId: 'me', requestBody: { raw } }, options(token)));
    return { id: sent.id ?? '', threadId: sent.threadId ?? '' };
  }
}

type MimePart = { mimeType?: string | null; body?: { data?: string | null } | null; parts?: MimePart[] | null };

function headerMap(headers: Array<{ name?: string | null; value?: string | null }> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of headers ?? []) if (h.name && h.value) out[h.name.toLowerCase()] = h.value;
  return out;
}

/** The text of a message: its text/plain part, else its HTML with the tags removed. */
function textOf(part: MimePart | undefined): string {
  if (!part) return '';
  const decode = (d?: string | null) => (d ? Buffer.from(d, 'base64url').toString('utf8') : '');
  if (part.mimeType === 'text/plain') return decode(part.body?.data);
  for (const p of part.parts ?? []) {
    const t = textOf(p);
    if (t && p.mimeType !== 'text/html') return t;
  }
  const html = part.mimeType === 'text/html' ? decode(part.body?.data) : (part.parts ?? []).map((p) => (p.mimeType === 'text/html' ? decode(p.body?.data) : '')).join('');
  return html.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** An RFC 2822 message as Gmail's base64url `raw`. Addresses and subject were validated (no CR/LF). */
export function rfc2822(msg: { to: string[]; cc?: string[]; subject: string; body: string }): string {
  const subject = /^[\x20-\x7E]*$/.test(msg.subject) ? msg.subject : `=?UTF-8?B?${Buffer.from(msg.subject, 'utf8').toString('base64')}?=`;
  const lines = [
    `To: ${msg.to.join(', ')}`,
    ...(msg.cc?.length ? [`Cc: ${msg.cc.join(', ')}`] : []),
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(msg.body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'),
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8').toString('base64url');
}
