/**
 * Postgres `text` and `jsonb` cannot hold NUL, and `jsonb` refuses lone UTF-16 surrogates: either in a user's turn,
 * a captured page or a model's answer made the insert fail with a 500. Stored strings go through here instead:
 * NUL dropped, lone surrogates replaced with U+FFFD (what a UTF-8 encoder would write anyway).
 */
export function pgText(s: string): string {
  return s.toWellFormed().replace(/\u0000/g, '');
}

/** `pgText` on every string inside a JSON-shaped value. */
export function pgJson<T>(value: T): T {
  if (typeof value === 'string') return pgText(value) as T;
  if (Array.isArray(value)) return value.map(pgJson) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [pgText(k), pgJson(v)])) as T;
  return value;
}
