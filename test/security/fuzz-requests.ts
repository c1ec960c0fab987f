/**
 * What the fuzzer sends and what it accepts back. A case is one HTTP request derived from a route: the legitimate
 * method or another one; a valid credential, none, garbage, a tampered one, Bob's real one for another audience, or
 * the right token in the wrong place (query string, cookie); path parameters that exist, that are Bob's, or made up; a body that is the route's valid sample mutated (missing, extra or retyped
 * fields), arbitrary JSON, malformed JSON, very deep nesting, a huge body, odd Unicode, or nothing; any content type;
 * fuzzed path parameters and query strings.
 *
 * Accepted: any status below 500; on 4xx the service's own error shape; never a stack trace, a file path of this
 * repository or a secret in the body; an answer within the time limit.
 */
import http from 'node:http';
import fc from 'fast-check';
import type { FuzzWorld } from './fuzz-world';
import { KNOWN_PARAMS, OTHER_USERS_PARAMS, type ErrorShape, type Method, type RouteSpec } from './routes';

export interface FuzzCase {
  method: Method;
  token: 'valid' | 'none' | 'garbage' | 'tampered' | 'otherAudience' | 'query' | 'cookie' | 'basicGarbage';
  params: Record<string, string>;
  /** Leave `%` in parameters unescaped (invalid percent-encodings reach the router). */
  rawPercent: boolean;
  query: Array<[string, string]>;
  contentType: string | null;
  body: { kind: 'none' } | { kind: 'text'; text: string } | { kind: 'deep'; depth: number; open: string } | { kind: 'huge'; bytes: number };
}

const ODD_STRINGS = [
  '', ' ', '\u0000', '\u202e\u2066evil\u2069', '\u200b\u200d\ufeff', '\ud800', '\udfff\ud800', '𝕏'.repeat(300), 'e\u0301'.repeat(200),
  '../../../etc/passwd', '..%2f..%2f', '%00', '%', '%zz', '<script>alert(1)</script>', "' OR 1=1--", '${7*7}{{7*7}}', '__proto__',
  'constructor', 'prototype', 'null', 'undefined', 'NaN', '-1', '1e309', '9'.repeat(400), 'true', '[]', '{}', '\r\nX-Injected: 1', 'a'.repeat(5000),
];
export const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.uuid().map(String) },
);
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  oddString,
  fc.dictionary(oddString, fc.oneof(oddString, fc.integer(), fc.constant(null), fc.boolean()), { maxKeys: 6 }),
);

/** Paths (keys and indexes) of every string in a JSON value. */
function stringPaths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...at, k]));
  return [];
}

/** Characters that text stores, parsers and renderers mishandle: NUL, lone surrogates, bidi and zero-width marks. */
const NASTY_CHARS = ['\u0000', '\ud800', '\udfff', '\u202e', '\u2066', '\u200b', '\ufeff', '\uffff', '\u0085', '\u2028', '𝕏'];

/** The route's sample with one to three structural mutations, or a valid shape carrying a nasty character. */
function mutatedSample(sample: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(sample);
  const paths = stringPaths(sample);
  const spiced = paths.length
    ? fc.record({ path: fc.constantFrom(...paths), ch: fc.constantFrom(...NASTY_CHARS), at: fc.nat({ max: 50 }) }).map(({ path, ch, at }) => {
        const out = JSON.parse(JSON.stringify(sample)) as Record<string, unknown>;
        let node: Record<string | number, unknown> = out;
        for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
        const last = path.at(-1)!;
        const str = node[last] as string;
        const i = Math.min(at, str.length);
        node[last] = str.slice(0, i) + ch + str.slice(i);
        return out;
      })
    : undefined;
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('retype' as const), key: fc.constantFrom(...keys), value: anyJson }),
    fc.record({ op: fc.constant('extra' as const), key: fc.oneof(oddString, fc.constantFrom('__proto__', 'constructor', 'sub', 'admin', 'role', 'isAdmin')), value: anyJson }),
  );
  const mutated = fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    const out: Record<string, unknown> = JSON.parse(JSON.stringify(sample));
    for (const m of ms) {
      if (m.op === 'drop') delete out[m.key];
      else Object.defineProperty(out, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    }
    return out;
  });
  return spiced ? fc.oneof(mutated, spiced) : mutated;
}

function encodeBody(type: 'json' | 'form', value: unknown): string {
  if (type === 'json' || value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value) ?? 'null';
  return new URLSearchParams(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString();
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x',
  'application/xml', 'application/problem+json', 'application/json; charset=utf-16', 'application/jsonp', 'image/png', '*/*', ';;;', 'application/',
];

export function fuzzCase(route: RouteSpec): fc.Arbitrary<FuzzCase> {
  const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const param = (name: string) =>
    fc.oneof(
      ...(KNOWN_PARAMS[name] ? [{ weight: 2, arbitrary: fc.constant('@known') }] : []),
      ...(OTHER_USERS_PARAMS[name] ? [{ weight: 2, arbitrary: fc.constant('@other') }] : []),
      { weight: 1, arbitrary: fc.uuid().map(String) },
      { weight: 2, arbitrary: oddString },
    );
  const sample = route.body?.sample;
  const typeFor = route.body?.type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
  const bodyText = fc.oneof(
    ...(sample
      ? [
          { weight: 2, arbitrary: fc.constant(encodeBody(route.body!.type, sample)) },
          { weight: 5, arbitrary: mutatedSample(sample).map((v) => encodeBody(route.body!.type, v)) },
          { weight: 1, arbitrary: fc.nat({ max: 200 }).map((n) => encodeBody('json', sample).slice(0, n)) },
        ]
      : []),
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: oddString },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '{"message": "x",}', "{'a': 1}", 'NaN', '\u0000', '{"__proto__": {"admin": true}}', '{"a":1,"a":2}') },
  );
  const body = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 12, arbitrary: bodyText.map((text) => ({ kind: 'text' as const, text })) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(200, 5_000, 100_000), open: fc.constantFrom('[', '{"a":') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), bytes: fc.constantFrom(300_000, 2_100_000, 12_000_000) }) },
  );
  return fc.record({
    method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE') }),
    token: fc.oneof(
      { weight: 6, arbitrary: fc.constant('valid' as const) },
      { weight: 3, arbitrary: fc.constantFrom('none' as const, 'garbage' as const, 'tampered' as const, 'otherAudience' as const, 'query' as const, 'cookie' as const, 'basicGarbage' as const) },
    ),
    params: fc.record(Object.fromEntries(names.map((n) => [n, param(n)]))) as fc.Arbitrary<Record<string, string>>,
    rawPercent: fc.boolean(),
    query: fc.array(fc.tuple(fc.oneof(oddString, fc.constantFrom('access_token', 'after', 'status', 'state', 'redirect_uri', 'client_id', 'q', 'maxResults')), oddString), { maxLength: 3 }),
    contentType: fc.oneof({ weight: 4, arbitrary: fc.constant(typeFor) }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(null) }),
    body,
  });
}

/** Percent-encodes a parameter; lone surrogates become the bytes of their WTF-8 form (invalid UTF-8 on the wire). */
function encodeParam(value: string, rawPercent: boolean): string {
  const wellFormed = value.replace(/[\ud800-\udfff]/g, (ch, i: number) => {
    const code = ch.charCodeAt(0);
    const paired = code < 0xdc00 ? /[\udc00-\udfff]/.test(value[i + 1] ?? '') : /[\ud800-\udbff]/.test(value[i - 1] ?? '');
    return paired ? ch : '\u0000LONE\u0000';
  });
  const enc = encodeURIComponent(wellFormed).replace(/%00LONE%00/g, '%ED%A0%80');
  return rawPercent ? enc.replace(/%25/g, '%') : enc;
}

/** Builds the fetch request of a case. */
export function toRequest(world: FuzzWorld, route: RouteSpec, c: FuzzCase): { url: string; init: RequestInit } {
  let p = route.path;
  for (const [name, value] of Object.entries(c.params)) {
    const v = value === '@known' ? KNOWN_PARAMS[name]!(world.known) : value === '@other' ? OTHER_USERS_PARAMS[name]!(world.known) : encodeParam(value, c.rawPercent);
    p = p.replace(`:${name}`, v || '%20');
  }
  const url = new URL(world.urls[route.service]! + p);
  for (const [k, v] of c.query) url.searchParams.append(k, v);

  const headers = new Headers();
  const valid = world.credential(route.auth);
  // Bob's real token, but for another audience (his My Account token at an API, his API token everywhere else).
  const bob = world.credential(route.auth === 'api' ? 'myAccount' : 'api', 'bob');
  const asAuth = (t: string) => (t.startsWith('Basic ') ? t : `Bearer ${t}`);
  if (valid) {
    if (c.token === 'valid') headers.set('authorization', asAuth(valid));
    if (c.token === 'garbage') headers.set('authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.');
    if (c.token === 'tampered') headers.set('authorization', asAuth(valid.slice(0, -6) + (valid.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA')));
    if (c.token === 'otherAudience') headers.set('authorization', asAuth(bob));
    if (c.token === 'query') url.searchParams.set('access_token', valid.replace(/^Basic /, ''));
    if (c.token === 'cookie') headers.set('cookie', `access_token=${valid.replace(/^Basic /, '')}`);
    if (c.token === 'basicGarbage') headers.set('authorization', 'Basic Og==');
  }
  if (c.contentType !== null) headers.set('content-type', c.contentType);

  let body: string | undefined;
  if (c.method !== 'GET') {
    if (c.body.kind === 'text') body = c.body.text;
    if (c.body.kind === 'deep') body = c.body.open.repeat(c.body.depth) + (c.body.open === '[' ? ']' : '}').repeat(c.body.depth);
    if (c.body.kind === 'huge') body = `{"message":"${'x'.repeat(c.body.bytes)}"}`;
  }
  return { url: url.href, init: { method: c.method, headers, body, redirect: 'manual' } };
}

const STACK_TRACE = /\n\s+at [^\n]+[:(][^\n]*\d+:\d+|node:internal|\bat (async )?[\w.<>]+ \(|(TypeError|ReferenceError|RangeError|SyntaxError): [^"]*\n/;

export interface Outcome {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Sends a case over a fresh connection (node:http, no keep-alive: a server that answers early and closes, e.g. 413
 * before reading a huge body, must not break the next case); reads at most 64 KB of a streamed answer.
 */
export function send(url: string, init: RequestInit, stream: boolean, timeoutMs = 20_000): Promise<Outcome> {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
  if (body) headers['content-length'] = String(body.length);
  return new Promise<Outcome>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: init.method, headers, agent: false }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType, text: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (stream && contentType.includes('text/event-stream') && (size > 65_536 || /event: run\.(completed|failed|paused|interrupted)/.test(chunk.toString('utf8')))) {
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', (err) => (res.destroyed ? undefined : fail(err)));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`${init.method} ${url.slice(0, 160)}: ${err.message}`));
    };
    // The server may answer (413) and close before it has read the whole body: that is an answer, not a failure.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return; // the response (if any) still arrives
      fail(err);
    });
    req.on('close', () => setTimeout(() => fail(new Error('connection closed without an answer')), 2_000).unref());
    req.end(body);
  });
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Why the outcome breaks the rules (undefined when it is fine). */
export function violation(out: Outcome, shapes: ErrorShape | ErrorShape[], secrets: string[], repoRoot: string): string | undefined {
  const list = Array.isArray(shapes) ? shapes : [shapes];
  const whys = list.map((shape) => violationOf(out, shape, secrets, repoRoot));
  return whys.includes(undefined) ? undefined : whys.join(' / ');
}

function violationOf(out: Outcome, shape: ErrorShape, secrets: string[], repoRoot: string): string | undefined {
  if (out.status >= 500) return `server error ${out.status}: ${out.text.slice(0, 300)}`;
  if (STACK_TRACE.test(out.text)) return `stack trace in the response: ${out.text.slice(0, 300)}`;
  if (out.text.includes(repoRoot)) return 'a file path of the server in the response';
  for (const s of secrets) if (s && out.text.includes(s)) return `a secret in the response (${s.slice(0, 6)}…)`;
  const isError = out.status >= 400 || (shape === 'slack' && /"ok":false/.test(out.text));
  if (!isError || shape === 'any' || out.status === 405 && shape === 'html') return undefined;
  if (shape === 'html') return /text\/(html|plain)|application\/(json|problem\+json)/.test(out.contentType) ? undefined : `error page with content type ${out.contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(out.text);
  } catch {
    return `a ${out.status} whose body is not JSON (${out.contentType}): ${out.text.slice(0, 200)}`;
  }
  if (!isObj(body)) return `a ${out.status} whose body is not an object`;
  switch (shape) {
    case 'problem':
      if (!out.contentType.includes('application/problem+json')) return `problem without application/problem+json (${out.contentType})`;
      if (body.status !== out.status || typeof body.code !== 'string' || typeof body.title !== 'string') return `not our problem JSON: ${out.text.slice(0, 200)}`;
      return undefined;
    case 'problem-lite':
      return body.status === out.status && typeof body.title === 'string' ? undefined : `not a My Account API problem: ${out.text.slice(0, 200)}`;
    case 'oauth':
      return typeof body.error === 'string' ? undefined : `not an OAuth error: ${out.text.slice(0, 200)}`;
    case 'openai':
      return isObj(body.error) && typeof body.error.message === 'string' ? undefined : `not an OpenAI error: ${out.text.slice(0, 200)}`;
    case 'google':
      return isObj(body.error) && body.error.code === out.status && typeof body.error.message === 'string' ? undefined : `not a Google error: ${out.text.slice(0, 200)}`;
    case 'slack':
      return body.ok === false && typeof body.error === 'string' ? undefined : `not a Slack error: ${out.text.slice(0, 200)}`;
    case 'github':
      return typeof body.message === 'string' ? undefined : `not a GitHub error: ${out.text.slice(0, 200)}`;
    case 'openfga':
      return typeof body.code === 'string' && typeof body.message === 'string' ? undefined : `not an OpenFGA error: ${out.text.slice(0, 200)}`;
  }
  return undefined;
}
