/**
 * Day words the user says ("today", "tomorrow", "yesterday", "on Friday", "next Monday", "in 3 days") as ISO dates,
 * relative to the date the system prompt gives (`Today is YYYY-MM-DD`), else the server's UTC date.
 */
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export function todayFrom(systemText: string | undefined, now = new Date()): string {
  return /Today is (\d{4}-\d{2}-\d{2})/.exec(systemText ?? '')?.[1] ?? now.toISOString().slice(0, 10);
}

const shift = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export function relativeDates(text: string, today: string): string[] {
  const t = text.toLowerCase();
  const out: Array<[number, string]> = [];
  const add = (index: number, date: string) => out.push([index, date]);
  for (const m of t.matchAll(/\b(today|tonight|tomorrow|yesterday)\b/g)) {
    add(m.index!, shift(today, m[1] === 'tomorrow' ? 1 : m[1] === 'yesterday' ? -1 : 0));
  }
  for (const m of t.matchAll(/\bin (\d{1,2}) days?\b/g)) add(m.index!, shift(today, Number(m[1])));
  const dow = new Date(`${today}T00:00:00Z`).getUTCDay();
  for (const m of t.matchAll(/\b(next )?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/g)) {
    let ahead = (WEEKDAYS.indexOf(m[2]!) - dow + 7) % 7 || 7;
    add(m.index!, shift(today, ahead));
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, d]) => d);
}
