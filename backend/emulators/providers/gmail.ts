/**
 * Gmail API v1, the part Deputy uses: list and search messages, get one (full, metadata, minimal or raw), send.
 * Each account has its own mailbox; a message sent to another account of this emulator is delivered there too.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type GoogleEnv, googleError, NEEDS, requireGoogleScopes } from './google-api';
import { gmailQuery } from './gmail-query';
import { type Address, formatAddress, type Header, parseAddressList, parseMessage, rfc2822Date, writeMessage } from './mime';
import type { OAuthServer } from './oauth';
import type { ProviderState } from './state';

export interface Mail {
  id: string;
  threadId: string;
  /** The mailbox owner's e-mail (lower case). */
  mailbox: string;
  labelIds: string[];
  /** Header values, e.g. `Bob Brown <bob@example.com>`. */
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  /** ISO date-time the message was received (or sent). */
  date: string;
  messageId: string;
  inReplyTo?: string;
}

/** Gmail ids are 16 hex digits that grow with time. */
export function newMessageId(at: number, entropy = randomBytes(3).readUIntBE(0, 3)): string {
  return ((BigInt(at) << 20n) | BigInt(entropy & 0xfffff)).toString(16).padStart(16, '0');
}

export class Mailboxes {
  private readonly mails: Mail[];

  constructor(seed: Mail[], private readonly state: ProviderState) {
    this.mails = [...seed, ...(state.added.mails as Mail[])];
  }

  /** Newest first, as Gmail lists. */
  of(email: string): Mail[] {
    const owner = email.toLowerCase();
    return this.mails.filter((m) => m.mailbox === owner).sort((a, b) => Date.parse(b.date) - Date.parse(a.date));
  }

  get(email: string, id: string): Mail | undefined {
    const owner = email.toLowerCase();
    return this.mails.find((m) => m.mailbox === owner && m.id === id);
  }

  add(mail: Mail) {
    this.mails.push(mail);
    this.state.added.mails.push(mail);
  }
}

function headersOf(mail: Mail): Header[] {
  return [
    { name: 'From', value: mail.from },
    { name: 'To', value: mail.to.join(', ') },
    ...(mail.cc.length ? [{ name: 'Cc', value: mail.cc.join(', ') }] : []),
    { name: 'Subject', value: mail.subject },
    { name: 'Date', value: rfc2822Date(mail.date) },
    { name: 'Message-ID', value: mail.messageId },
    ...(mail.inReplyTo ? [{ name: 'In-Reply-To', value: mail.inReplyTo }, { name: 'References', value: mail.inReplyTo }] : []),
  ];
}

const snippetOf = (body: string) =>
  body
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const FORMATS = ['full', 'metadata', 'minimal', 'raw'] as const;

function messageResource(mail: Mail, format: (typeof FORMATS)[number], metadataHeaders: string[] = []) {
  const headers = headersOf(mail);
  const raw = writeMessage(headers, mail.body);
  const base = {
    id: mail.id,
    threadId: mail.threadId,
    labelIds: mail.labelIds,
    snippet: snippetOf(mail.body),
    sizeEstimate: Buffer.byteLength(raw),
    historyId: String(Math.floor(Date.parse(mail.date) / 1000) % 10_000_000),
    internalDate: String(Date.parse(mail.date)),
  };
  if (format === 'minimal') return base;
  if (format === 'raw') return { ...base, raw: Buffer.from(raw, 'utf8').toString('base64url') };
  const wanted = metadataHeaders.map((h) => h.toLowerCase());
  const part = { partId: '', mimeType: 'text/plain', filename: '' };
  if (format === 'metadata') {
    return { ...base, payload: { ...part, headers: wanted.length ? headers.filter((h) => wanted.includes(h.name.toLowerCase())) : headers, body: { size: 0 } } };
  }
  const bytes = Buffer.from(mail.body, 'utf8');
  return { ...base, payload: { ...part, headers, body: { size: bytes.length, data: bytes.toString('base64url') } } };
}

/** `me` or the account's own address; another mailbox would need domain-wide delegation, which nobody has here. */
function delegationDenied(c: Context<GoogleEnv>): Response | undefined {
  const userId = c.req.param('userId') ?? '';
  const account = c.get('grant').account;
  return userId === 'me' || userId.toLowerCase() === account.toLowerCase() ? undefined : googleError(c, 403, `Delegation denied for ${account}`, { reason: 'forbidden' });
}

const pageTokenOf = (offset: number) => String(offset).padStart(20, '0');
const offsetOf = (token: string | undefined) => (token === undefined ? 0 : /^\d{20}$/.test(token) ? Number(token) : undefined);

export function gmailRoutes(oauth: OAuthServer, mailboxes: Mailboxes, state: ProviderState): Hono<GoogleEnv> {
  const app = new Hono<GoogleEnv>();
  const read = requireGoogleScopes(oauth, NEEDS.gmailRead);
  const send = requireGoogleScopes(oauth, NEEDS.gmailSend);

  app.get('/users/:userId/messages', read, (c) => {
    const account = c.get('grant').account;
    const denied = delegationDenied(c);
    if (denied) return denied;
    const q = c.req.query();
    const maxResults = q.maxResults === undefined ? 100 : Number(q.maxResults);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 500) return googleError(c, 400, `Invalid value at 'max_results' (${q.maxResults})`);
    const offset = offsetOf(q.pageToken);
    if (offset === undefined) return googleError(c, 400, 'Invalid pageToken');
    const labelIds = c.req.queries('labelIds') ?? [];
    const matches = gmailQuery(q.q, account);
    const found = mailboxes.of(account).filter((m) => labelIds.every((l) => m.labelIds.includes(l)) && matches(m));
    const page = found.slice(offset, offset + maxResults);
    const next = offset + maxResults < found.length ? pageTokenOf(offset + maxResults) : undefined;
    return c.json({
      ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
      ...(next ? { nextPageToken: next } : {}),
      resultSizeEstimate: found.length,
    });
  });

  app.get('/users/:userId/messages/:id', read, (c) => {
    const account = c.get('grant').account;
    const denied = delegationDenied(c);
    if (denied) return denied;
    const format = (c.req.query('format') ?? 'full').toLowerCase();
    if (!(FORMATS as readonly string[]).includes(format)) return googleError(c, 400, `Invalid value at 'format' (${format})`);
    const mail = mailboxes.get(account, c.req.param('id'));
    if (!mail) return googleError(c, 404, 'Requested entity was not found.', { reason: 'notFound' });
    return c.json(messageResource(mail, format as (typeof FORMATS)[number], c.req.queries('metadataHeaders') ?? []));
  });

  app.post('/users/:userId/messages/send', send, async (c) => {
    const account = c.get('grant').account;
    const denied = delegationDenied(c);
    if (denied) return denied;
    let body: { raw?: unknown; threadId?: unknown };
    try {
      body = JSON.parse((await c.req.text()) || '{}') as typeof body;
    } catch {
      return googleError(c, 400, 'Invalid JSON payload received.');
    }
    // `null`, an array or a string is valid JSON but not a message resource.
    if (!body || typeof body !== 'object' || Array.isArray(body)) return googleError(c, 400, 'Invalid JSON payload received. Expected an object.');
    if (typeof body.raw !== 'string' || !body.raw) return googleError(c, 400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required");
    const parsed = parseMessage(Buffer.from(body.raw, 'base64').toString('utf8'));
    const list = (name: 'To' | 'Cc' | 'Bcc'): Address[] | undefined => {
      const value = parsed.header(name);
      return value === undefined || !value.trim() ? [] : parseAddressList(value);
    };
    const to = list('To');
    const cc = list('Cc');
    const bcc = list('Bcc');
    if (!to) return googleError(c, 400, 'Invalid To header');
    if (!cc) return googleError(c, 400, 'Invalid Cc header');
    if (!bcc) return googleError(c, 400, 'Invalid Bcc header');
    if (to.length + cc.length + bcc.length === 0) return googleError(c, 400, 'Invalid To header');

    const sender = oauth.account(account);
    const now = Date.now();
    const date = new Date(now).toISOString();
    const own = mailboxes.of(account);
    const inReplyTo = parsed.header('In-Reply-To');
    const thread =
      (typeof body.threadId === 'string' && own.find((m) => m.threadId === body.threadId)?.threadId) || (inReplyTo && own.find((m) => m.messageId === inReplyTo)?.threadId) || undefined;
    const id = newMessageId(now);
    const recipients = [...to, ...cc, ...bcc].map((a) => a.email.toLowerCase());
    const message = {
      from: formatAddress({ name: sender?.name, email: account }),
      to: to.map(formatAddress),
      cc: cc.map(formatAddress),
      subject: parsed.header('Subject') ?? '',
      body: parsed.body,
      date,
      messageId: `<${randomBytes(12).toString('hex')}@mail.gmail.com>`,
      ...(inReplyTo ? { inReplyTo } : {}),
    };
    const toSelf = recipients.includes(account.toLowerCase());
    mailboxes.add({ ...message, id, threadId: thread ?? id, mailbox: account.toLowerCase(), labelIds: toSelf ? ['SENT', 'INBOX', 'UNREAD'] : ['SENT'] });
    for (const recipient of new Set(recipients)) {
      if (recipient === account.toLowerCase() || !oauth.account(recipient)) continue;
      const copyId = newMessageId(now);
      mailboxes.add({ ...message, id: copyId, threadId: copyId, mailbox: recipient, labelIds: ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'] });
    }
    state.record({
      provider: 'google',
      kind: 'gmail.send',
      account,
      data: { to: to.map((a) => a.email), cc: cc.map((a) => a.email), ...(bcc.length ? { bcc: bcc.map((a) => a.email) } : {}), subject: message.subject, body: message.body },
    });
    state.save();
    return c.json({ id, threadId: thread ?? id, labelIds: ['SENT'] });
  });

  return app;
}

