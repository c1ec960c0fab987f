/**
 * A small client of Auth0's Management API v2: a token by client credentials (audience `https://{domain}/api/v2/`),
 * JSON requests, page-based listing, and waiting on 429 rate limits. Errors carry the API's own message.
 */

export interface ManagementApiOptions {
  /** `https://acme.eu.auth0.com` (or a local fake's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
}

export class ManagementApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: unknown,
  ) {
    const b = body as { message?: string; error_description?: string; errorCode?: string } | undefined;
    super(`${method} ${path}: ${status} ${b?.message ?? b?.error_description ?? JSON.stringify(body)}`);
    this.name = 'ManagementApiError';
  }
}

export class ManagementApi {
  private token?: { value: string; expiresAt: number };
  private readonly fetchImpl: typeof fetch;
  /** Every request made, for the plan summary and the tests (method and path, never bodies). */
  readonly requests: Array<{ method: string; path: string }> = [];

  constructor(private readonly opts: ManagementApiOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
  }

  get audience(): string {
    return `${this.opts.baseUrl}/api/v2/`;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 30_000) return this.token.value;
    const res = await this.fetchImpl(`${this.opts.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: this.opts.clientId,
        client_secret: this.opts.clientSecret,
        audience: this.audience,
      }),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!res.ok || !body.access_token) throw new ManagementApiError(res.status, 'POST', '/oauth/token', body);
    this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return body.access_token;
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetchImpl(`${this.opts.baseUrl}/api/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await this.accessToken()}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      this.requests.push({ method, path: path.split('?')[0] });
      if (res.status === 429 && attempt < 5) {
        const reset = Number(res.headers.get('x-ratelimit-reset'));
        const retryAfter = Number(res.headers.get('retry-after'));
        const waitMs = retryAfter > 0 ? retryAfter * 1000 : reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : 1000 * 2 ** attempt;
        await new Promise((r) => setTimeout(r, Math.min(waitMs, 10_000)));
        continue;
      }
      const text = await res.text();
      const parsed = text ? safeJson(text) : undefined;
      if (!res.ok) throw new ManagementApiError(res.status, method, path, parsed);
      return parsed as T;
    }
  }

  /** Every item of a paged list endpoint (`page`, `per_page`, `include_totals=true`). */
  async list<T>(path: string, key: string, query: Record<string, string> = {}): Promise<T[]> {
    const out: T[] = [];
    for (let page = 0; page < 100; page++) {
      const qs = new URLSearchParams({ ...query, page: String(page), per_page: '50', include_totals: 'true' });
      const body = await this.request<Record<string, unknown> | T[]>('GET', `${path}?${qs}`);
      const items = (Array.isArray(body) ? body : ((body[key] as T[] | undefined) ?? [])) as T[];
      out.push(...items);
      const total = Array.isArray(body) ? undefined : (body.total as number | undefined);
      if (items.length < 50 || (total !== undefined && out.length >= total)) break;
    }
    return out;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
}
