/**
 * Just enough RFC 5322 / MIME for Gmail's messages.send and format=raw: read a message someone composed (CRLF or
 * LF, folded headers, encoded-word subjects, base64 or quoted-printable bodies, the text/plain part of a multipart
 * message) and write a stored message back as text.
 */

export interface Header {
  name: string;
  value: string;
}

export interface Address {
  name?: string;
  email: string;
}

export interface ParsedMessage {
  headers: Header[];
  header(name: string): string | undefined;
  body: string;
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;

function splitHeadersAndBody(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) } : { head: text, body: '' };
}

function parseHeaders(head: string): Header[] {
  const headers: Header[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]!.value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
    }
  }
  return headers.map((h) => ({ name: h.name, value: decodeEncodedWords(h.value) }));
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= and =?UTF-8?Q?…?=), as mail clients write non-ASCII subjects and names. */
export function decodeEncodedWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=(\s+(?==\?))?/g, (_all, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
  );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const headerOf = (headers: Header[]) => (name: string) => headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

/** The readable text of an entity: its own body decoded, or the first text/plain part inside a multipart. */
function entityText(headers: Header[], body: string): string {
  const header = headerOf(headers);
  const type = header('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body
      .split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`))
      .slice(1)
      .filter((p) => p.trim());
    const parsed = parts.map((p) => {
      const { head, body: partBody } = splitHeadersAndBody(p);
      return { headers: parseHeaders(head), body: partBody };
    });
    const plain = parsed.find((p) => /^text\/plain\b/i.test(headerOf(p.headers)('content-type') ?? 'text/plain')) ?? parsed[0];
    return plain ? entityText(plain.headers, plain.body) : '';
  }
  const encoding = (header('content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

export function parseMessage(text: string): ParsedMessage {
  const { head, body } = splitHeadersAndBody(text);
  const headers = parseHeaders(head);
  return { headers, header: headerOf(headers), body: entityText(headers, body).replace(/\r\n/g, '\n') };
}

/** An address list header; undefined when any entry is not a valid address. */
export function parseAddressList(value: string): Address[] | undefined {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if (ch === ',' && !quoted && !angle) {
      entries.push(current);
      current = '';
    } else current += ch;
  }
  entries.push(current);
  const out: Address[] = [];
  for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
    const m = /^(?:"?([^"<]*?)"?\s*)?<([^<>]+)>$/.exec(raw);
    const email = (m ? m[2]! : raw).trim();
    if (!EMAIL.test(email)) return undefined;
    const name = m?.[1]?.trim();
    out.push(name ? { name, email } : { email });
  }
  return out;
}

export const formatAddress = (a: Address) => (a.name ? `${/[",<>@]/.test(a.name) ? JSON.stringify(a.name) : a.name} <${a.email}>` : a.email);

const encodeHeader = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`);

/** A message as RFC 5322 text (CRLF line ends, base64 body when it is not plain ASCII). */
export function writeMessage(headers: Header[], body: string): string {
  const ascii = /^[\x00-\x7f]*$/.test(body);
  const lines = [
    ...headers.map((h) => `${h.name}: ${encodeHeader(h.value)}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="UTF-8"',
    `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
  ];
  const text = ascii ? body.replace(/\r?\n/g, '\r\n') : (Buffer.from(body, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return `${lines.join('\r\n')}\r\n\r\n${text}`;
}

/** RFC 5322 date as Gmail writes it: `Tue, 10 Jun 2025 09:30:00 +0000`. */
export const rfc2822Date = (iso: string) => new Date(iso).toUTCString().replace(/GMT$/, '+0000');
