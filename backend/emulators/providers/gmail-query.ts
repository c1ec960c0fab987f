/**
 * Gmail's search box (`q`), the operators people and agents use: from:, to:, cc:, subject:, is:unread/read/starred/
 * important, in:inbox/sent/anywhere, label:, newer_than:/older_than: (d, m, y), after:/before: (yyyy/mm/dd),
 * "quoted phrases", plain words, and a leading - to negate. All terms are ANDed and case-insensitive; an operator
 * this emulator does not know is searched for as text, as Gmail does.
 */
import type { Mail } from './gmail';

type Predicate = (m: Mail) => boolean;

const TERM = /(-?)(?:([a-z_]+):)?(?:"([^"]*)"|(\S+))/gi;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { d: DAY_MS, m: 30 * DAY_MS, y: 365 * DAY_MS };

const has = (value: string | undefined, needle: string) => (value ?? '').toLowerCase().includes(needle);

function parseDate(value: string): number | undefined {
  if (/^\d{9,}$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

/** A predicate for the query; `me` in from:/to: is the mailbox owner. */
export function gmailQuery(q: string | undefined, owner: string, now = Date.now()): Predicate {
  const predicates: Predicate[] = [];
  for (const m of (q ?? '').matchAll(TERM)) {
    const negate = m[1] === '-';
    const op = m[2]?.toLowerCase();
    const value = (m[3] ?? m[4] ?? '').toLowerCase();
    const text = (needle: string): Predicate => (mail) => [mail.from, ...mail.to, ...mail.cc, mail.subject, mail.body].some((f) => has(f, needle));
    const who = value === 'me' ? owner.toLowerCase() : value;
    let p: Predicate | undefined;
    switch (op) {
      case undefined:
        if (value === 'or' || value === 'and') continue;
        p = text(value);
        break;
      case 'from':
        p = (mail) => has(mail.from, who);
        break;
      case 'to':
        p = (mail) => mail.to.some((t) => has(t, who));
        break;
      case 'cc':
        p = (mail) => mail.cc.some((t) => has(t, who));
        break;
      case 'subject':
        p = (mail) => has(mail.subject, value);
        break;
      case 'is':
      case 'in':
      case 'label': {
        if (value === 'anywhere') continue;
        const label = value === 'read' ? 'UNREAD' : value.toUpperCase().replace(/-/g, '_');
        p = value === 'read' ? (mail) => !mail.labelIds.includes(label) : (mail) => mail.labelIds.includes(label);
        break;
      }
      case 'newer_than':
      case 'older_than': {
        const d = /^(\d+)([dmy])$/.exec(value);
        if (!d) {
          p = text(`${op}:${value}`);
          break;
        }
        const cutoff = now - Number(d[1]) * UNIT_MS[d[2]!]!;
        p = op === 'newer_than' ? (mail) => Date.parse(mail.date) >= cutoff : (mail) => Date.parse(mail.date) < cutoff;
        break;
      }
      case 'after':
      case 'before': {
        const at = parseDate(value);
        if (at === undefined) {
          p = text(`${op}:${value}`);
          break;
        }
        p = op === 'after' ? (mail) => Date.parse(mail.date) >= at : (mail) => Date.parse(mail.date) < at;
        break;
      }
      default:
        p = text(`${op}:${value}`);
    }
    const positive = p;
    predicates.push(negate ? (mail) => !positive(mail) : positive);
  }
  return (mail) => predicates.every((p) => p(mail));
}
