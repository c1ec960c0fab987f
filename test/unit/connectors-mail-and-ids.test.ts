/** Building outgoing mail, reading incoming mail's text, and deriving idempotent Calendar event ids. */
import { describe, expect, it } from 'vitest';
import { eventIdFor } from '../../backend/src/agent/tools/calendar';
import { htmlToText, messageText, rfc2822Message } from '../../backend/src/connectors/google';

const b64url = (s: string, encoding: BufferEncoding = 'utf8') => Buffer.from(s, encoding).toString('base64url');

function parse(message: string) {
  const [head, body] = message.split('\r\n\r\n') as [string, string];
  const unfolded = head.replace(/\r\n[ \t]/g, ' ');
  const headers = Object.fromEntries(unfolded.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { head, headers, body };
}

describe('rfc2822Message', () => {
  it('writes To, Cc, Subject and a base64 text/plain body with CRLF line ends', () => {
    const m = rfc2822Message({ to: ['bob@example.com', 'carol@example.com'], cc: ['dana@example.org'], subject: 'Lunch on Friday', body: 'See you at noon.\nAlice' });
    const { headers, body } = parse(m);
    expect(headers).toMatchObject({
      to: 'bob@example.com, carol@example.com',
      cc: 'dana@example.org',
      subject: 'Lunch on Friday',
      'mime-version': '1.0',
      'content-type': 'text/plain; charset=UTF-8',
      'content-transfer-encoding': 'base64',
    });
    expect(Buffer.from(body, 'base64').toString('utf8')).toBe('See you at noon.\nAlice');
    expect(m).not.toMatch(/[^\r]\n/);
  });

  it('refuses a header value with a line break even if the schema was bypassed', () => {
    expect(() => rfc2822Message({ to: ['bob@example.com\r\nBcc: eve@evil.example'], subject: 'x', body: 'y' })).toThrow();
    expect(() => rfc2822Message({ to: ['bob@example.com'], subject: 'x\nBcc: eve@evil.example', body: 'y' })).toThrow();
  });

  it('omits Cc when there is none', () => {
    expect(parse(rfc2822Message({ to: ['bob@example.com'], subject: 'x', body: 'y' })).headers.cc).toBeUndefined();
  });

  it('encodes a non-ASCII subject as UTF-8 encoded words of at most 75 characters, folded', () => {
    const subject = 'Grüße aus Köln – Übersicht der Token-Vault-Änderungen für Freitag, 14 Uhr';
    const { head, headers } = parse(rfc2822Message({ to: ['bob@example.com'], subject, body: 'y' }));
    const words = headers.subject!.split(' ');
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) {
      expect(w).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
      expect(w.length).toBeLessThanOrEqual(75);
    }
    expect(words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('')).toBe(subject);
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('wraps the base64 body at 76 characters', () => {
    const { body } = parse(rfc2822Message({ to: ['bob@example.com'], subject: 'x', body: 'long '.repeat(200) }));
    const lines = body.split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.length <= 76)).toBe(true);
    expect(Buffer.from(lines.join(''), 'base64').toString('utf8')).toBe('long '.repeat(200));
  });
});

describe('messageText', () => {
  it('reads a single-part text/plain message', () => {
    expect(messageText({ mimeType: 'text/plain', body: { data: b64url('Hello Alice') } })).toBe('Hello Alice');
  });

  it('prefers the text/plain alternative, also when nested', () => {
    const payload = {
      mimeType: 'multipart/mixed',
      parts: [
        {
          mimeType: 'multipart/alternative',
          parts: [
            { mimeType: 'text/html', body: { data: b64url('<p>HTML</p>') } },
            { mimeType: 'text/plain', body: { data: b64url('Plain') } },
          ],
        },
        { mimeType: 'text/plain', filename: 'notes.txt', body: { attachmentId: 'a1' } },
      ],
    };
    expect(messageText(payload)).toBe('Plain');
  });

  it('does not take an attached text file for the body', () => {
    const payload = {
      mimeType: 'multipart/mixed',
      parts: [
        { mimeType: 'text/html', body: { data: b64url('<div>Body</div>') } },
        { mimeType: 'text/plain', filename: 'secret.txt', body: { data: b64url('attachment') } },
      ],
    };
    expect(messageText(payload)).toBe('Body');
  });

  it('falls back to the HTML as text', () => {
    const html = '<html><head><title>t</title><style>p{color:red}</style></head><body><p>Hi&nbsp;Alice,</p><p>Total: 5 &lt; 7 &amp; &#8364;3</p><script>alert(1)</script></body></html>';
    expect(messageText({ mimeType: 'multipart/alternative', parts: [{ mimeType: 'text/html', body: { data: b64url(html) } }] })).toBe('Hi Alice,\nTotal: 5 < 7 & €3');
  });

  it('decodes the part’s charset', () => {
    const part = { mimeType: 'text/plain', headers: [{ name: 'Content-Type', value: 'text/plain; charset="ISO-8859-1"' }], body: { data: b64url('Grüße', 'latin1') } };
    expect(messageText(part)).toBe('Grüße');
  });

  it('is empty for a message without text', () => {
    expect(messageText(undefined)).toBe('');
    expect(messageText({ mimeType: 'image/png', body: { attachmentId: 'x' } })).toBe('');
  });
});

describe('htmlToText', () => {
  it('decodes entities once, so escaped markup stays text', () => {
    expect(htmlToText('&amp;lt;b&amp;gt; and &lt;i&gt;')).toBe('&lt;b&gt; and <i>');
  });

  it('turns line breaks and block ends into newlines, collapsing blank runs', () => {
    expect(htmlToText('a<br>b<br/><br><br><br>c<div>d</div>e')).toBe('a\nb\n\ncd\ne');
  });
});

describe('eventIdFor', () => {
  it('is a valid, deterministic Calendar event id (base32hex, 5–1024 characters)', () => {
    const id = eventIdFor('tool-call-key-1');
    expect(id).toMatch(/^[0-9a-v]{5,1024}$/);
    expect(eventIdFor('tool-call-key-1')).toBe(id);
    expect(eventIdFor('tool-call-key-2')).not.toBe(id);
  });
});
