/**
 * Google Calendar and Gmail through the official `@googleapis/*` clients. The user's token goes in each request's
 * Authorization header; results are reduced to the compact shapes the model is shown.
 */
import { calendar as calendarClient, type calendar_v3 } from '@googleapis/calendar';
import { gmail as gmailClient, type gmail_v1 } from '@googleapis/gmail';
import { kindOfStatus, ProviderError, type ProviderErrorKind } from './provider-call';

const TIMEOUT_MS = 15_000;
const MAX_BODY_CHARS = 8000;

/**
 * Per request, not per client: googleapis-common keeps only the origin of a client-level `rootUrl`, which would
 * drop a base path such as an emulator's `/google/`.
 */
const requestOptions = (rootUrl: string, token: string) => ({
  rootUrl,
  headers: { Authorization: `Bearer ${token}` },
  retry: false,
  timeout: TIMEOUT_MS,
});

async function google<T>(call: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await call()).data;
  } catch (err) {
    throw new ProviderError(googleErrorKind(err));
  }
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'dailyLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
const SCOPE_REASONS = new Set(['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT']);

/** Google answers 403 for a missing scope and for rate limits alike; the error's `reason`s tell them apart. */
function googleErrorKind(err: unknown): ProviderErrorKind {
  const response = (err as { response?: { status?: number; data?: unknown; headers?: unknown } }).response;
  if (!response) return 'unreachable';
  const kind = kindOfStatus(response.status);
  if (kind !== 'forbidden') return kind;
  const reasons = googleErrorReasons(response.data);
  if (reasons.some((r) => RATE_LIMIT_REASONS.has(r))) return 'rate_limited';
  if (reasons.some((r) => SCOPE_REASONS.has(r)) || /insufficient_scope/.test(headerValue(response.headers, 'www-authenticate'))) return 'insufficient_scope';
  return 'forbidden';
}

function googleErrorReasons(data: unknown): string[] {
  const error = (data as { error?: { errors?: Array<{ reason?: unknown }>; details?: Array<{ reason?: unknown }> } } | undefined)?.error;
  return [...(error?.errors ?? []), ...(error?.details ?? [])].flatMap((e) => (typeof e.reason === 'string' ? [e.reason] : []));
}

function headerValue(headers: unknown, name: string): string {
  if (headers instanceof Headers) return headers.get(name) ?? '';
  const value = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

// ---- Calendar ----------------------------------------------------------------------------------------------------

export interface CalendarEvent {
  id: string;
  title: string;
  start: string;
  end: string;
  allDay: boolean;
  location?: string;
  /** Written by the organizer, who may be anyone: untrusted text (the tool's results are marked so). */
  description?: string;
  organizer?: string;
  attendees: string[];
  link: string;
}

export interface NewCalendarEvent {
  title: string;
  start: Date;
  end: Date;
  attendees?: string[];
  location?: string;
  description?: string;
}

export function toCalendarEvent(e: calendar_v3.Schema$Event): CalendarEvent {
  return {
    id: e.id ?? '',
    title: e.summary ?? '(no title)',
    start: e.start?.dateTime ?? e.start?.date ?? '',
    end: e.end?.dateTime ?? e.end?.date ?? '',
    allDay: !e.start?.dateTime,
    ...(e.location ? { location: e.location } : {}),
    ...(e.description ? { description: e.description.slice(0, 2000) } : {}),
    ...(e.organizer?.email ? { organizer: e.organizer.email } : {}),
    attendees: (e.attendees ?? []).flatMap((a) => (a.email ? [a.email] : [])),
    link: e.htmlLink ?? '',
  };
}

export class GoogleCalendar {
  private readonly api = calendarClient({ version: 'v3' });

  constructor(private readonly rootUrl: string) {}

  /** Events overlapping [from, to), recurring ones expanded, by start time. */
  async listEvents(token: string, from: Date, to: Date): Promise<CalendarEvent[]> {
    const data = await google(() =>
      this.api.events.list(
        { calendarId: 'primary', timeMin: from.toISOString(), timeMax: to.toISOString(), singleEvents: true, orderBy: 'startTime', maxResults: 100 },
        requestOptions(this.rootUrl, token),
      ),
    );
    return (data.items ?? []).map(toCalendarEvent);
  }

  /**
   * Inserts the event under a caller-chosen `id`. Google refuses a second insert with the same id (409), so a
   * replayed call answers with the event the first one created instead of creating another.
   */
  async createEvent(token: string, id: string, event: NewCalendarEvent): Promise<CalendarEvent> {
    const options = requestOptions(this.rootUrl, token);
    const requestBody: calendar_v3.Schema$Event = {
      id,
      summary: event.title,
      start: { dateTime: event.start.toISOString(), timeZone: 'UTC' },
      end: { dateTime: event.end.toISOString(), timeZone: 'UTC' },
      ...(event.attendees?.length ? { attendees: event.attendees.map((email) => ({ email })) } : {}),
      ...(event.location ? { location: event.location } : {}),
      ...(event.description ? { description: event.description } : {}),
    };
    try {
      // sendUpdates: without it Google adds attendees silently, and the tool promises them an invitation.
      return toCalendarEvent(await google(() => this.api.events.insert({ calendarId: 'primary', sendUpdates: 'all', requestBody }, options)));
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'conflict')) throw err;
      return toCalendarEvent(await google(() => this.api.events.get({ calendarId: 'primary', eventId: id }, options)));
    }
  }
}

// ---- Gmail -------------------------------------------------------------------------------------------------------

export interface MailSummary {
  id: string;
  threadId: string;
  from: string;
  to: string;
  subject: string;
  date: string;
  snippet: string;
  unread: boolean;
}

export interface Mail {
  id: string;
  threadId: string;
  from: string;
  to: string;
  cc?: string;
  subject: string;
  date: string;
  body: string;
}

export interface OutgoingMail {
  to: string[];
  cc?: string[];
  subject: string;
  body: string;
}

export class Gmail {
  private readonly api = gmailClient({ version: 'v1' });

  constructor(private readonly rootUrl: string) {}

  async search(token: string, query: string, maxResults: number): Promise<MailSummary[]> {
    const options = requestOptions(this.rootUrl, token);
    const list = await google(() => this.api.users.messages.list({ userId: 'me', q: query, maxResults }, options));
    const ids = (list.messages ?? []).slice(0, maxResults).flatMap((m) => (m.id ? [m.id] : []));
    return Promise.all(
      ids.map(async (id) => {
        const m = await google(() =>
          this.api.users.messages.get({ userId: 'me', id, format: 'metadata', metadataHeaders: ['From', 'To', 'Subject', 'Date'] }, options),
        );
        const h = headersOf(m.payload);
        return {
          id,
          threadId: m.threadId ?? id,
          from: h.from ?? '',
          to: h.to ?? '',
          subject: h.subject ?? '',
          date: h.date ?? '',
          snippet: m.snippet ?? '',
          unread: (m.labelIds ?? []).includes('UNREAD'),
        };
      }),
    );
  }

  async read(token: string, id: string): Promise<Mail> {
    const m = await google(() => this.api.users.messages.get({ userId: 'me', id, format: 'full' }, requestOptions(this.rootUrl, token)));
    const h = headersOf(m.payload);
    const body = messageText(m.payload);
    return {
      id,
      threadId: m.threadId ?? id,
      from: h.from ?? '',
      to: h.to ?? '',
      ...(h.cc ? { cc: h.cc } : {}),
      subject: h.subject ?? '',
      date: h.date ?? '',
      body: body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}\n[… truncated: ${body.length - MAX_BODY_CHARS} more characters]` : body,
    };
  }

  async send(token: string, mail: OutgoingMail): Promise<{ id: string; threadId: string }> {
    const sent = await google(() =>
      this.api.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from(rfc2822Message(mail), 'utf8').toString('base64url') } }, requestOptions(this.rootUrl, token)),
    );
    return { id: sent.id ?? '', threadId: sent.threadId ?? '' };
  }
}

type MessagePart = gmail_v1.Schema$MessagePart;

/** A part's headers by lower-cased name (the first of each). */
function headersOf(part: MessagePart | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of part?.headers ?? []) if (h.name && h.value && !(h.name.toLowerCase() in out)) out[h.name.toLowerCase()] = h.value;
  return out;
}

/** The first inline (not attached) part of this type with a body, depth first. */
function findPart(part: MessagePart, mimeType: string): MessagePart | undefined {
  if (part.mimeType === mimeType && !part.filename && part.body?.data) return part;
  for (const child of part.parts ?? []) {
    const found = findPart(child, mimeType);
    if (found) return found;
  }
  return undefined;
}

function decodePart(part: MessagePart): string {
  const bytes = Buffer.from(part.body?.data ?? '', 'base64url');
  const charset = /charset="?([^";\s]+)/i.exec(headersOf(part)['content-type'] ?? '')?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** The readable text of a message: its text/plain part, else its HTML part as text. */
export function messageText(payload: MessagePart | undefined): string {
  if (!payload) return '';
  const plain = findPart(payload, 'text/plain');
  if (plain) return decodePart(plain);
  const html = findPart(payload, 'text/html');
  return html ? htmlToText(decodePart(html)) : '';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? entity;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

/** HTML as plain text: no head, scripts or styles; block ends become line breaks; entities decoded once. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<(head|script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6]|blockquote)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * An RFC 2047 header value: printable ASCII as is, anything else as UTF-8 encoded words of at most 75 characters,
 * folded onto continuation lines.
 */
function headerText(value: string): string {
  if (/^[\x20-\x7E]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const char of value) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/**
 * A plain-text RFC 2822 message. The input schema already refuses CR/LF in addresses and subject, so no value can
 * start a header of its own (checked again here); the body is base64, so it cannot either.
 */
export function rfc2822Message(mail: OutgoingMail): string {
  if ([...mail.to, ...(mail.cc ?? []), mail.subject].some((value) => /[\r\n]/.test(value))) throw new Error('Mail header values must be single lines.');
  const body = Buffer.from(mail.body, 'utf8').toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
  return [
    `To: ${mail.to.join(', ')}`,
    ...(mail.cc?.length ? [`Cc: ${mail.cc.join(', ')}`] : []),
    `Subject: ${headerText(mail.subject)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}
