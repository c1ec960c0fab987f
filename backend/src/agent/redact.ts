/** Defence in depth: credentials never reach the model, even if an API echoes one back in its data. */
const PATTERNS: RegExp[] = [
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, // JWTs
  /\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*/gi,
  /\b(?:sk|rk|pk)-[A-Za-z0-9_-]{12,}/g, // OpenAI-style keys
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bya29\.[A-Za-z0-9_-]{20,}/g, // Google access tokens
];

export function redactString(s: string): string {
  return PATTERNS.reduce((acc, re) => acc.replace(re, '[redacted credential]'), s);
}

export function redactCredentials<T>(value: T): T {
  if (typeof value === 'string') return redactString(value) as T;
  if (Array.isArray(value)) return value.map(redactCredentials) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = /^(access_?token|refresh_?token|id_?token|authorization|client_?secret|password|api_?key)$/i.test(k) ? '[redacted credential]' : redactCredentials(v);
    }
    return out as T;
  }
  return value;
}

/** JSON with sorted keys: the same arguments always give the same bytes (for hashing and approval matching). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
