/**
 * Day and time words the user says, as the values tools take: "today", "tomorrow", "yesterday", "the day after
 * tomorrow", weekday names ("on Friday", "next Monday", "last Tuesday"), month days ("March 13", "13th of March"),
 * "in 3 days", and ranges ("this week", "next week", "the weekend", "the next 5 days") as a first date plus a number of
 * days. Dates are relative to the date the system prompt gives (`Today is YYYY-MM-DD`), else the server's UTC date.
 * Times: "at 14:00", "at 2pm", "at 2:30 p.m.", "noon"; durations: "for 45 minutes", "for an hour", "14:00-15:30".
 */
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const NUMBER_WORDS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, few: 3, couple: 2 };

export function todayFrom(systemText: string | undefined, now = new Date()): string {
  return /Today is (\d{4}-\d{2}-\d{2})/.exec(systemText ?? '')?.[1] ?? now.toISOString().slice(0, 10);
}

export const shiftDay = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

const dayOfWeek = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();

/** "Wednesday" for 2026-03-11. */
export function weekdayName(day: string): string {
  const w = WEEKDAYS[dayOfWeek(day)] ?? '';
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** A day, or a run of `days` days starting on `date`; `at` is where the words were in the text. */
export interface DateSpan {
  date: string;
  days?: number;
  at: number;
}

const count = (w: string) => (/^\d+$/.test(w) ? Number(w) : NUMBER_WORDS[w] ?? NaN);

export function dateSpans(text: string, today: string): DateSpan[] {
  let t = text.toLowerCase();
  const out: DateSpan[] = [];
  const dow = dayOfWeek(today);
  const sinceMonday = (dow + 6) % 7;
  // Each rule blanks out what it matched, so "the day after tomorrow" is not also "tomorrow".
  const rule = (re: RegExp, span: (m: RegExpMatchArray) => Omit<DateSpan, 'at'> | undefined) => {
    for (const m of [...t.matchAll(re)]) {
      const s = span(m);
      if (!s) continue;
      out.push({ ...s, at: m.index! });
      t = t.slice(0, m.index!) + ' '.repeat(m[0].length) + t.slice(m.index! + m[0].length);
    }
  };
  rule(/\b(?:the )?day after tomorrow\b/g, () => ({ date: shiftDay(today, 2) }));
  rule(/\b(?:the )?day before yesterday\b/g, () => ({ date: shiftDay(today, -2) }));
  rule(/\b(?:the )?(?:next|coming|following|upcoming) (\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|few|couple(?: of)?) days\b/g, (m) => {
    const n = count(m[1]!.replace(/ of$/, ''));
    return n > 0 ? { date: today, days: n } : undefined;
  });
  rule(/\bwithin (?:the next )?(\d{1,2}) days\b/g, (m) => ({ date: today, days: Number(m[1]) }));
  rule(/\b(?:the )?(?:last|past|previous) (\d{1,2}|two|three|four|five|six|seven|few|couple(?: of)?) days\b/g, (m) => {
    const n = count(m[1]!.replace(/ of$/, ''));
    return n > 0 ? { date: shiftDay(today, -n), days: n } : undefined;
  });
  rule(/\bin (\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of) (days?|weeks?)\b/g, (m) => {
    const n = count(m[1]!.replace('a couple of', 'couple'));
    return n > 0 ? { date: shiftDay(today, n * (m[2]!.startsWith('week') ? 7 : 1)) } : undefined;
  });
  rule(/\b(\d{1,2}|a|one|two|three|four|five|six|seven) (days?|weeks?) ago\b/g, (m) => {
    const n = count(m[1]!);
    return n > 0 ? { date: shiftDay(today, -n * (m[2]!.startsWith('week') ? 7 : 1)) } : undefined;
  });
  rule(/\b(this|next|last|the) week(?:end)?\b|\bweek(?:end)?\b/g, (m) => {
    const which = m[1] ?? 'this';
    if (m[0].endsWith('weekend')) {
      const saturday = dow === 6 ? today : dow === 0 ? shiftDay(today, -1) : shiftDay(today, 6 - dow);
      const start = which === 'next' ? shiftDay(saturday, 7) : which === 'last' ? shiftDay(saturday, -7) : saturday;
      return start < today && which !== 'last' ? { date: today, days: 1 } : { date: start, days: 2 };
    }
    if (which === 'next') return { date: shiftDay(today, 7 - sinceMonday), days: 7 };
    if (which === 'last') return { date: shiftDay(today, -sinceMonday - 7), days: 7 };
    return { date: today, days: 7 - sinceMonday };
  });
  rule(/\b(today|tonight|this (?:morning|afternoon|evening)|tomorrow|yesterday)\b/g, (m) => ({
    date: shiftDay(today, m[1] === 'tomorrow' ? 1 : m[1] === 'yesterday' ? -1 : 0),
  }));
  rule(new RegExp(`\\b${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s*(\\d{4}))?`, 'g'), (m) => monthDay(m[1]!, m[2]!, m[3], today));
  rule(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH}(?:,?\\s*(\\d{4}))?`, 'g'), (m) => monthDay(m[2]!, m[1]!, m[3], today));
  rule(/\b(?:(next|this|coming|last|past) )?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)s?\b/g, (m) => {
    const target = WEEKDAYS.indexOf(m[2]!);
    if (m[1] === 'last' || m[1] === 'past') return { date: shiftDay(today, -(((dow - target + 7) % 7) || 7)) };
    return { date: shiftDay(today, ((target - dow + 7) % 7) || 7) };
  });
  return out.sort((a, b) => a.at - b.at);
}

function monthDay(month: string, day: string, year: string | undefined, today: string): Omit<DateSpan, 'at'> | undefined {
  const mi = MONTHS.indexOf(month.slice(0, 3));
  const d = Number(day);
  const y = year ? Number(year) : Number(today.slice(0, 4));
  if (mi < 0 || d < 1 || d > 31) return undefined;
  const date = new Date(Date.UTC(y, mi, d));
  if (date.getUTCMonth() !== mi) return undefined;
  return { date: date.toISOString().slice(0, 10) };
}

/** The ISO dates the day words in `text` stand for, in the order they appear. */
export function relativeDates(text: string, today: string): string[] {
  return dateSpans(text, today).map((s) => s.date);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Clock times in the text as 24-hour "HH:MM", in order: "at 14:00", "2pm", "2:30 p.m.", "noon". */
export function clockTimes(text: string): { time: string; at: number; end: number }[] {
  const out: { time: string; at: number; end: number }[] = [];
  const t = text.toLowerCase();
  const re = /(?<![\d:./])(\d{1,2})(?::([0-5]\d))?\s*(a\.?m\.?|p\.?m\.?)?(?![\d:])|\b(noon|midday|midnight)\b/g;
  for (const m of t.matchAll(re)) {
    if (m[4]) {
      out.push({ time: m[4] === 'midnight' ? '00:00' : '12:00', at: m.index!, end: m.index! + m[0].length });
      continue;
    }
    const meridiem = m[3]?.[0];
    // A bare number is not a time, except as the start of a range that says its half of the day ("2-3pm").
    if (m[2] === undefined && !meridiem && !/^\s*(?:-|–|to)\s*\d{1,2}(?::[0-5]\d)?\s*(?:a\.?m|p\.?m)/.test(t.slice(m.index! + m[0].length))) continue;
    let h = Number(m[1]);
    if (meridiem) {
      if (h < 1 || h > 12) continue;
      if (meridiem === 'p' && h < 12) h += 12;
      if (meridiem === 'a' && h === 12) h = 0;
    }
    if (h > 23) continue;
    out.push({ time: `${pad(h)}:${m[2] ?? '00'}`, at: m.index!, end: m.index! + m[0].replace(/\s+$/, '').length });
  }
  return out;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A length in minutes: "for 45 minutes", "for an hour", "1.5 hours", "a 30-minute call", "from 14:00 to 15:30". */
export function durationMinutes(text: string): number | undefined {
  const t = text.toLowerCase();
  if (/\bhalf an? hour\b/.test(t)) return 30;
  const m = /\b(\d+(?:\.\d+)?|an?|one|two|three|four)[\s-]*(hours?|hrs?|h|minutes?|mins?|m)\b/.exec(t);
  if (m) {
    const n = /^\d/.test(m[1]!) ? Number(m[1]) : count(m[1]!);
    if (n > 0) return Math.round(m[2]!.startsWith('h') ? n * 60 : n);
  }
  const times = clockTimes(text);
  for (let i = 0; i + 1 < times.length; i++) {
    const between = text.slice(times[i]!.end, times[i + 1]!.at);
    if (/^\s*(?:-|–|—|to|until|till)\s*$/i.test(between)) {
      // "2-3pm": the first time takes the second's half of the day.
      let start = minutesOf(times[i]!.time);
      const end = minutesOf(times[i + 1]!.time);
      if (start < 12 * 60 && end >= 12 * 60 && start + 12 * 60 < end) start += 12 * 60;
      if (end > start) return end - start;
    }
  }
  return undefined;
}

/** The start time the text names, with "2-3pm" read as 14:00. */
export function startTime(text: string): string | undefined {
  const times = clockTimes(text);
  const first = times[0];
  if (!first) return undefined;
  const second = times[1];
  if (second && /^\s*(?:-|–|—|to|until|till)\s*$/i.test(text.slice(first.end, second.at))) {
    const start = minutesOf(first.time);
    const end = minutesOf(second.time);
    if (start < 12 * 60 && end >= 12 * 60 && start + 12 * 60 < end) return `${pad(Math.floor(start / 60) + 12)}:${first.time.slice(3)}`;
  }
  return first.time;
}
