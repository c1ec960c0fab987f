/** Request parameters as the providers accept them: query string, form body or JSON body, and HTTP Basic clients. */
import type { Context } from 'hono';

export type Params = Record<string, string>;

/** The body as flat string parameters (form or JSON; JSON scalars become strings, arrays are joined by commas). */
export async function bodyParams(c: Context): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (!text) return {};
  if (/^application\/json\b/i.test(type)) {
    const json = JSON.parse(text) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) return {};
    const out: Params = {};
    for (const [k, v] of Object.entries(json)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else if (Array.isArray(v)) out[k] = v.map(String).join(',');
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** Query parameters, with the body's taking precedence. */
export async function allParams(c: Context): Promise<Params> {
  const query = c.req.query();
  return c.req.method === 'GET' || c.req.method === 'HEAD' ? query : { ...query, ...(await bodyParams(c)) };
}

/** client_id / client_secret from HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded) or the parameters. */
export function clientCredentials(c: Context, params: Params): { clientId?: string; clientSecret?: string } {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(c.req.header('authorization') ?? '');
  if (m) {
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      const part = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      return { clientId: part(decoded.slice(0, colon)), clientSecret: part(decoded.slice(colon + 1)) };
    }
  }
  return { clientId: params.client_id, clientSecret: params.client_secret };
}

/** The token of an `Authorization: Bearer …` header (GitHub also takes `token …`). */
export function bearerToken(c: Context, schemes: RegExp = /^Bearer$/i): string | undefined {
  const m = /^(\S+)\s+(\S+)\s*$/.exec(c.req.header('authorization') ?? '');
  return m && schemes.test(m[1]!) ? m[2] : undefined;
}

export const splitScopes = (value: string | undefined, separator: RegExp) => (value ?? '').split(separator).map((s) => s.trim()).filter(Boolean);
