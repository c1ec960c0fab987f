/**
 * `npm run bench:turn`: the backend's own overhead per chat turn (token verification, gate, persistence, SSE),
 * excluding model time, single stream and with N concurrent streams. The offline model runs with no artificial
 * delay; its own time is measured by calling it directly with the same request and subtracted (paired medians).
 * Prints one JSON object. Loopback only; bounded by --turns and --concurrency.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { FREE_PORTS, startStack } from '../backend/src/stack';
import { SYSTEM_PROMPT } from '../backend/src/chat/system-prompt';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, OFFLINE_MODEL_NAME, PROJECTS_SCOPES } from '../lib/defaults';
import { pkceLogin } from '../test/helpers/pkce-login';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '200' } } });
const TURNS = Number(values.turns);
const CONCURRENCY = Number(values.concurrency);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2)) : NaN;
};
const summary = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: pct(xs, 100) });

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-bench-'));
const stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 0 });
try {
  const tokens = await pkceLogin({
    idpUrl: stack.idpUrl!, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
    scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, email: 'alice@example.com', password: 'alice-pass-123',
  });
  const model = new OpenAI({ baseURL: stack.modelUrl, apiKey: 'offline' });
  const message = 'Tell me about passkeys, phishing resistance and device binding';

  async function turn(text: string): Promise<{ ms: number; ok: boolean }> {
    const t0 = performance.now();
    const res = await fetch(`${stack.backendUrl}/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: text }),
    });
    const body = await res.text();
    return { ms: performance.now() - t0, ok: res.ok && body.includes('event: run.completed') };
  }
  async function modelOnly(): Promise<number> {
    const t0 = performance.now();
    const stream = await model.chat.completions.create({
      model: OFFLINE_MODEL_NAME, stream: true,
      messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: message }],
    });
    for await (const _ of stream) { /* drain */ }
    return performance.now() - t0;
  }

  for (let i = 0; i < 20; i++) await turn(message); // warm up JIT, JWKS cache, DB
  const total: number[] = [];
  const modelMs: number[] = [];
  let errors = 0;
  for (let i = 0; i < TURNS; i++) {
    const r = await turn(message);
    if (!r.ok) errors++;
    total.push(r.ms);
    modelMs.push(await modelOnly());
  }
  const overhead = total.map((t, i) => Math.max(0, t - modelMs[i]));

  const toolTurns: number[] = [];
  for (let i = 0; i < 20; i++) toolTurns.push((await turn('list my projects')).ms);

  const t0 = performance.now();
  const concurrent = await Promise.all(Array.from({ length: CONCURRENCY }, () => turn(message)));
  const wall = performance.now() - t0;
  const concErrors = concurrent.filter((r) => !r.ok).length;
  const concMs = concurrent.map((r) => r.ms);

  console.log(JSON.stringify({
    bench: 'turn',
    machine: { cpus: os.cpus().length, node: process.version },
    single: { turnMs: summary(total), modelMs: summary(modelMs), overheadMs: summary(overhead), errors },
    toolTurn: { note: 'list my projects: two model turns, token exchange, Projects API call', turnMs: summary(toolTurns) },
    concurrent: { streams: CONCURRENCY, wallMs: Number(wall.toFixed(1)), turnMs: summary(concMs), errors: concErrors, turnsPerSecond: Number((CONCURRENCY / (wall / 1000)).toFixed(1)) },
    ratios: { overheadShareOfTurnP50: Number((pct(overhead, 50) / pct(total, 50)).toFixed(3)), concurrentP95OverSingleP95: Number((pct(concMs, 95) / pct(total, 95)).toFixed(1)) },
    goal: { overheadP95Ms: 5, met: pct(overhead, 95) <= 5 },
  }));
  if (errors || concErrors) process.exitCode = 1;
} finally {
  await stack.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
