/**
 * The connectors against scripted provider answers the emulator does not give: Calendar's 409 on a replayed event
 * id, rate limits (Google's 403 reasons, GitHub's exhausted quota, Slack's 429), pull requests among GitHub issues,
 * and the retry-once wrapper itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext, ToolResult } from '../../backend/src/agent/tool-declaration';
import { eventIdFor } from '../../backend/src/agent/tools/calendar';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { kindOfStatus, ProviderError, withConnection } from '../../backend/src/connectors/provider-call';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}
type Handler = (req: Seen) => { status: number; headers?: Record<string, string>; json: unknown };

let server: http.Server;
let base: string;
let handler: Handler;
let seen: Seen[];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const r: Seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body };
      seen.push(r);
      const { status, headers, json } = handler(r);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

const tools = () => new Map(thirdPartyTools({ googleApiUrl: `${base}/g/`, slackApiUrl: `${base}/s/api/`, githubApiUrl: `${base}/gh` }).map((t) => [t.name, t]));

function context(idempotencyKey = 'key-1', tokens: string[] = ['token-1']): ToolContext & { fresh: number } {
  const ctx = {
    sub: 'auth0|alice',
    runId: 'run',
    toolCallId: 'call',
    idempotencyKey,
    fresh: 0,
    getResourceToken: async () => 'unused',
    getConnectionToken: async (o?: { fresh?: boolean }) => {
      if (o?.fresh) ctx.fresh++;
      return tokens[Math.min(ctx.fresh, tokens.length - 1)]!;
    },
  };
  return ctx;
}

async function run(name: string, args: unknown, ctx = context()): Promise<ToolResult> {
  const t = tools().get(name)!;
  return t.execute(t.input.parse(args), ctx);
}

const googleError = (status: number, reason: string) => ({ status, json: { error: { code: status, message: `raw provider text ${reason}`, errors: [{ reason }] } } });

describe('Google Calendar create', () => {
  it('sends the idempotent id, the bearer token, sendUpdates and UTC times under the configured root path', async () => {
    handler = (r) => ({ status: 200, json: { ...JSON.parse(r.body), htmlLink: 'https://calendar.example/e' } });
    const result = await run('create_calendar_event', { title: 'Retro', date: '2026-03-02', start: '14:30', attendees: ['bob@example.com'] });
    expect(result).toMatchObject({ ok: true, data: { id: eventIdFor('key-1'), title: 'Retro', attendees: ['bob@example.com'] } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toMatch(/^\/g\/calendar\/v3\/calendars\/primary\/events\?(.*&)?sendUpdates=all/);
    expect(seen[0]!.authorization).toBe('Bearer token-1');
    expect(JSON.parse(seen[0]!.body)).toMatchObject({
      id: eventIdFor('key-1'),
      summary: 'Retro',
      start: { dateTime: '2026-03-02T14:30:00.000Z' },
      end: { dateTime: '2026-03-02T15:00:00.000Z' },
      attendees: [{ email: 'bob@example.com' }],
    });
  });

  it('answers a replay (409 for the same id) with the event created the first time', async () => {
    const id = eventIdFor('key-replayed');
    handler = (r) =>
      r.method === 'POST'
        ? googleError(409, 'duplicate')
        : { status: 200, json: { id, summary: 'Retro', start: { dateTime: '2026-03-02T14:30:00Z' }, end: { dateTime: '2026-03-02T15:00:00Z' } } };
    const result = await run('create_calendar_event', { title: 'Retro', date: '2026-03-02', start: '14:30' }, context('key-replayed'));
    expect(result).toMatchObject({ ok: true, data: { id, title: 'Retro' } });
    expect(seen.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual(['POST /g/calendar/v3/calendars/primary/events', `GET /g/calendar/v3/calendars/primary/events/${id}`]);
  });
});

describe('provider errors become codes and plain messages, never the provider’s text', () => {
  const cases: Array<[string, Handler, string, unknown]> = [
    ['Google 403 insufficientPermissions', () => googleError(403, 'insufficientPermissions'), 'insufficient_provider_scope', ['list_calendar_events', {}]],
    ['Google 403 rateLimitExceeded', () => googleError(403, 'rateLimitExceeded'), 'rate_limited', ['list_calendar_events', {}]],
    ['Google 429', () => googleError(429, 'rateLimitExceeded'), 'rate_limited', ['search_email', { query: 'x' }]],
    ['Google 403 forbidden', () => googleError(403, 'forbidden'), 'forbidden', ['read_email', { messageId: 'abc' }]],
    ['Google 404', () => googleError(404, 'notFound'), 'not_found', ['read_email', { messageId: 'abc' }]],
    ['Google 500', () => googleError(500, 'backendError'), 'provider_error', ['list_calendar_events', {}]],
    ['GitHub 403 with the quota spent', () => ({ status: 403, headers: { 'x-ratelimit-remaining': '0' }, json: { message: 'raw provider text' } }), 'rate_limited', ['list_github_repos', {}]],
    ['GitHub 404 for a token with repo', () => ({ status: 404, headers: { 'x-oauth-scopes': 'repo, read:user' }, json: { message: 'raw provider text' } }), 'not_found', ['list_github_issues', { repo: 'a/b' }]],
    ['GitHub 422', () => ({ status: 422, json: { message: 'raw provider text' } }), 'invalid_request', ['create_github_issue', { repo: 'a/b', title: 't' }]],
    ['Slack 429', () => ({ status: 429, headers: { 'retry-after': '30' }, json: { ok: false, error: 'ratelimited' } }), 'rate_limited', ['list_slack_channels', {}]],
    ['Slack is_archived', () => ({ status: 200, json: { ok: false, error: 'is_archived' } }), 'invalid_request', ['post_slack_message', { channelId: 'C1ABC', text: 'x' }]],
    ['Slack channel_not_found', () => ({ status: 200, json: { ok: false, error: 'channel_not_found' } }), 'not_found', ['read_slack_channel', { channelId: 'C1ABC' }]],
  ];
  for (const [label, h, code, [name, args]] of cases as Array<[string, Handler, string, [string, unknown]]>) {
    it(`${label} → ${code}`, async () => {
      handler = h;
      const started = Date.now();
      const result = await run(name, args);
      expect(result).toMatchObject({ ok: false, error: { code } });
      expect(JSON.stringify(result)).not.toContain('raw provider text');
      expect(seen).toHaveLength(1); // no SDK retries, no waiting out a rate limit
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  }

  it('names the Slack error code when Slack calls the request invalid', async () => {
    handler = () => ({ status: 200, json: { ok: false, error: 'is_archived' } });
    expect(await run('post_slack_message', { channelId: 'C1ABC', text: 'x' })).toEqual({ ok: false, error: { code: 'invalid_request', message: 'Slack refused the request as invalid (is_archived).' } });
  });
});

describe('GitHub issues', () => {
  it('leaves out pull requests and keeps label names', async () => {
    handler = () => ({
      status: 200,
      json: [
        { number: 7, title: 'Bug', state: 'open', user: { login: 'carol' }, labels: [{ name: 'bug' }, 'plain'], created_at: '2026-01-01T00:00:00Z', html_url: 'https://gh/7' },
        { number: 8, title: 'PR', state: 'open', user: { login: 'bob' }, labels: [], created_at: '2026-01-02T00:00:00Z', html_url: 'https://gh/8', pull_request: { url: 'x' } },
      ],
    });
    const result = await run('list_github_issues', { repo: 'acme/website' });
    expect(result).toEqual({
      ok: true,
      data: { repo: 'acme/website', issues: [{ number: 7, title: 'Bug', state: 'open', author: 'carol', labels: ['bug', 'plain'], createdAt: '2026-01-01T00:00:00Z', url: 'https://gh/7' }] },
    });
    expect(seen[0]!.url).toBe('/gh/repos/acme/website/issues?state=open&per_page=50');
    expect(seen[0]!.authorization).toMatch(/^(token|bearer) token-1$/i);
  });
});

describe('Slack channels', () => {
  it('follows cursors and stops at 200 channels', async () => {
    let page = 0;
    handler = () => {
      page++;
      const channels = Array.from({ length: 150 }, (_, i) => ({ id: `C${page}X${i}`, name: `c${page}-${i}`, is_member: false, num_members: 1 }));
      return { status: 200, json: { ok: true, channels, response_metadata: { next_cursor: page < 5 ? `cursor-${page}` : '' } } };
    };
    const result = (await run('list_slack_channels', {})) as { ok: true; data: { channels: unknown[] } };
    expect(result.data.channels).toHaveLength(200);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.body).toContain('cursor=cursor-1');
  });
});

describe('withConnection', () => {
  it('retries a refused token exactly once with a fresh one', async () => {
    const tokens: string[] = [];
    const ctx = context('k', ['old', 'new']);
    const result = await withConnection(ctx, 'Google', async (token) => {
      tokens.push(token);
      if (token === 'old') throw new ProviderError('unauthorized');
      return 'data';
    });
    expect(result).toEqual({ ok: true, data: 'data' });
    expect(tokens).toEqual(['old', 'new']);
    expect(ctx.fresh).toBe(1);
  });

  it('does not retry other refusals', async () => {
    const ctx = context();
    const result = await withConnection(ctx, 'Slack', async () => {
      throw new ProviderError('insufficient_scope');
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'insufficient_provider_scope' } });
    expect(ctx.fresh).toBe(0);
  });

  it('rethrows what is not a provider error (the runtime reports its own authorization failures)', async () => {
    const ctx = { ...context(), getConnectionToken: async () => Promise.reject(new Error('not connected')) };
    await expect(withConnection(ctx, 'GitHub', async () => 'never')).rejects.toThrow('not connected');
  });

  it('maps HTTP statuses to kinds', () => {
    expect([undefined, 401, 403, 404, 409, 429, 400, 422, 500].map(kindOfStatus)).toEqual([
      'unreachable',
      'unauthorized',
      'forbidden',
      'not_found',
      'conflict',
      'rate_limited',
      'invalid',
      'invalid',
      'failed',
    ]);
  });
});
