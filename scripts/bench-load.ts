/**
 * `npm run bench:load`: N simulated users (default 200) chat with tools on the offline model for a bounded time
 * (default 60 s) against the whole stack in this process, on loopback. Each user has its own sign-in (a real PKCE
 * login; the demo tenant's two accounts, alternating), its own conversations, and loops: send a message, read the
 * SSE stream to its end, maybe think, again. The mix uses read tools (Projects), write tools (adding a task), Token
 * Vault (calendar, connected beforehand) and plain answers.
 *
 * Prints one JSON object: throughput, p50/p95/p99 of turn latency and of time to first token per kind of turn,
 * errors by cause, and memory (RSS, heap) before and after. Exits non-zero when any turn failed.
 *
 *   npm run bench:load -- --users 200 --seconds 60 --think-ms 10000 --chunk-delay-ms 12   (think 0: a stress test; 12 ms: the offline model's own pace)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FREE_PORTS, startStack } from '../backend/src/stack';
import { PROVIDER_SCOPES } from '../lib/connections';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_SCOPES } from '../lib/defaults';
import { connectAccount } from '../test/helpers/connect-account';
import { pkceLogin } from '../test/helpers/pkce-login';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    /** Each user waits a random 0..think-ms between turns (reading the answer, typing); 0 = a stress test. */
    'think-ms': { type: 'string', default: '10000' },
    'chunk-delay-ms': { type: 'string', default: '12' },
    'turn-timeout-ms': { type: 'string', default: '120000' },
  },
});
const USERS = Number(values.users);
const SECONDS = Number(values.seconds);
const THINK_MS = Number(values['think-ms']);
const TURN_TIMEOUT_MS = Number(values['turn-timeout-ms']);
if (![USERS, SECONDS, THINK_MS, TURN_TIMEOUT_MS].every((n) => Number.isFinite(n) && n >= 0) || USERS < 1) {
  console.error('usage: bench-load [--users N] [--seconds S] [--think-ms MS] [--chunk-delay-ms MS] [--turn-timeout-ms MS]');
  process.exit(2);
}

/** What the simulated users say, with how often, and what a complete turn must contain. */
const MIX = [
  { kind: 'chat', weight: 4, text: () => 'Tell me about passkeys, phishing resistance and device binding', tools: [] as string[] },
  { kind: 'read_tool', weight: 3, text: () => 'list my projects', tools: ['list_projects'] },
  // In a new conversation: after a turn that read third-party data (the calendar), a side effect needs an approval.
  { kind: 'write_tool', weight: 1, text: (n: number) => `add a task 'Load test ${n}' to Website relaunch`, tools: ['create_task'], newThread: true },
  { kind: 'token_vault', weight: 2, text: () => "what's on my calendar tomorrow?", tools: ['list_calendar_events'] },
] as const;
type Kind = (typeof MIX)[number]['kind'];
const TOTAL_WEIGHT = MIX.reduce((a, m) => a + m.weight, 0);
function pick(i: number) {
  let x = (i * 7919) % TOTAL_WEIGHT; // deterministic spread over the mix
  for (const m of MIX) if ((x -= m.weight) < 0) return m;
  return MIX[0];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1)) : null;
};
const summary = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: pct(xs, 100) });
const mb = (n: number) => Number((n / 1024 / 1024).toFixed(1));
const memory = () => {
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) };
};
// A full collection before each memory reading, so that "after" is what is retained, not garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface TurnResult { kind: Kind; ok: boolean; error?: string; turnMs: number; ttftMs?: number }

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-load-'));
const stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: Number(values['chunk-delay-ms']) });
try {
  const accounts = stack.users.slice(0, 2);
  for (const u of accounts) await connectAccount(stack.idpUrl!, { email: u.email, password: u.password }, 'google-oauth2', [PROVIDER_SCOPES.google.calendarRead]);

  // One sign-in per simulated user (10 at a time, as a crowd arriving).
  const tokens: string[] = new Array(USERS);
  const loginStart = performance.now();
  for (let i = 0; i < USERS; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, USERS - i) }, async (_, j) => {
        const u = accounts[(i + j) % accounts.length]!;
        const t = await pkceLogin({
          idpUrl: stack.idpUrl!, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
          scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, email: u.email, password: u.password,
        });
        tokens[i + j] = t.access_token;
      }),
    );
  }
  const loginMs = performance.now() - loginStart;

  async function turn(token: string, threadId: string | undefined, kind: (typeof MIX)[number], n: number): Promise<TurnResult & { threadId?: string }> {
    const t0 = performance.now();
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TURN_TIMEOUT_MS);
    try {
      const res = await fetch(`${stack.backendUrl}/v1/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: kind.text(n), ...(threadId ? { threadId } : {}) }),
        signal: ctrl.signal,
      });
      if (!res.ok || !res.body) return { kind: kind.kind, ok: false, error: `http_${res.status}`, turnMs: performance.now() - t0 };
      let ttftMs: number | undefined;
      let text = '';
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (ttftMs === undefined && text.includes('event: message.delta')) ttftMs = performance.now() - t0;
      }
      const turnMs = performance.now() - t0;
      const tid = /"threadId":"([^"]+)"/.exec(text)?.[1];
      if (text.includes('event: run.failed')) return { kind: kind.kind, ok: false, error: `run_failed:${/"code":"([^"]+)"/.exec(text.slice(text.indexOf('event: run.failed')))?.[1]}`, turnMs, threadId: tid };
      if (text.includes('event: run.interrupted')) return { kind: kind.kind, ok: false, error: `interrupted:${kind.kind}:${/"interrupt":\{"kind":"([^"]+)"/.exec(text)?.[1]}`, turnMs, threadId: tid };
      if (!text.includes('event: run.completed')) return { kind: kind.kind, ok: false, error: 'no_completion', turnMs, threadId: tid };
      const toolFailure = /"type":"tool.completed"[^\n]*"ok":false[^\n]*?"code":"([^"]+)"/.exec(text) ?? /"type":"tool.completed"[^\n]*"ok":false/.exec(text);
      if (toolFailure) return { kind: kind.kind, ok: false, error: `tool_failed:${toolFailure[1] ?? 'unknown'}`, turnMs, threadId: tid };
      for (const tool of kind.tools) if (!text.includes(`"name":"${tool}"`)) return { kind: kind.kind, ok: false, error: `tool_not_called:${tool}`, turnMs, threadId: tid };
      return { kind: kind.kind, ok: true, turnMs, ttftMs, threadId: tid };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { kind: kind.kind, ok: false, error: ctrl.signal.aborted ? 'timeout' : `network:${cause ?? (err as Error).message}`, turnMs: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }

  // Warm-up: one turn of each kind (JIT, JWKS cache, token exchange, Token Vault caches), not counted.
  for (const [i, m] of MIX.entries()) {
    const r = await turn(tokens[0]!, undefined, m, i);
    if (!r.ok) throw new Error(`warm-up ${m.kind} failed: ${r.error}`);
  }

  gc();
  const memoryBefore = memory();
  const results: TurnResult[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  let counter = 0;
  const t0 = performance.now();
  await Promise.all(
    tokens.map(async (token, u) => {
      let threadId: string | undefined;
      let turnsInThread = 0;
      // Spread the first requests over the first second, like users arriving.
      await new Promise((r) => setTimeout(r, (u * 1000) / USERS));
      while (performance.now() < deadline) {
        const n = counter++;
        const kind = pick(n);
        const r = await turn(token, 'newThread' in kind ? undefined : threadId, kind, n);
        results.push(r);
        // A conversation of a few turns, then a new one (threads do not grow without bound).
        threadId = r.ok && ++turnsInThread < 5 ? r.threadId : undefined;
        if (!threadId) turnsInThread = 0;
        if (THINK_MS > 0) await new Promise((res) => setTimeout(res, Math.random() * THINK_MS));
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const memoryPeakish = memory();
  gc();
  const memoryAfter = memory();

  const ok = results.filter((r) => r.ok);
  const errors: Record<string, number> = {};
  for (const r of results) if (!r.ok) errors[r.error!] = (errors[r.error!] ?? 0) + 1;
  const byKind = Object.fromEntries(
    MIX.map((m) => {
      const rs = ok.filter((r) => r.kind === m.kind);
      return [m.kind, { turns: rs.length, turnMs: summary(rs.map((r) => r.turnMs)), ttftMs: summary(rs.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs]))) }];
    }),
  );
  const errorCount = results.length - ok.length;
  console.log(
    JSON.stringify({
      bench: 'load',
      machine: { cpus: os.cpus().length, node: process.version, gcBeforeReadings: true },
      config: { users: USERS, seconds: SECONDS, thinkMs: THINK_MS, chunkDelayMs: Number(values['chunk-delay-ms']), accounts: accounts.length, mix: MIX.map((m) => ({ kind: m.kind, weight: m.weight })) },
      setup: { signInsMs: Number(loginMs.toFixed(0)) },
      wallMs: Number(wallMs.toFixed(0)),
      turns: results.length,
      turnsPerSecond: Number((ok.length / (wallMs / 1000)).toFixed(1)),
      turnMs: summary(ok.map((r) => r.turnMs)),
      ttftMs: summary(ok.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs]))),
      byKind,
      errors: { total: errorCount, rate: results.length ? Number((errorCount / results.length).toFixed(4)) : 0, byCause: errors },
      memory: { before: memoryBefore, endOfLoad: memoryPeakish, after: memoryAfter, rssGrowthMb: Number((memoryAfter.rssMb - memoryBefore.rssMb).toFixed(1)), heapGrowthMb: Number((memoryAfter.heapUsedMb - memoryBefore.heapUsedMb).toFixed(1)) },
    }),
  );
  if (errorCount > 0 || ok.length === 0) process.exitCode = 1;
} finally {
  await stack.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
