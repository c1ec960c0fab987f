/**
 * Text Postgres cannot store (NUL; lone UTF-16 surrogates in jsonb) in a user's turn or in captured page context is
 * stored cleaned, not answered with a 500: a page with a stray surrogate must not break the user's question.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { ThreadDetail } from '../../lib/protocol';
import { extensionAccessToken } from '../helpers/pkce-login';
import { readRunEvents } from '../helpers/sse';

let stack: RunningStack;
let dataDir: string;
let token: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-unstorable-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 0 });
  const a = stack.users.find((u) => u.email.startsWith('alice'))!;
  token = await extensionAccessToken(stack.idpUrl!, a);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const chat = (body: unknown) =>
  fetch(`${stack.backendUrl}/v1/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('unstorable characters in a chat turn', () => {
  const page = (text: string, title = 'Page') => ({ kind: 'page', url: 'https://a.example/p', title, text, capturedAt: '2026-11-30T10:00:00.000Z' });

  for (const [name, body, stored] of [
    ['NUL in the message', { message: 'Hello\u0000 there' }, 'Hello there'],
    ['NUL in page context', { message: 'Summarize this page.', context: [page('Para\u0000graph')] }, 'Summarize this page.'],
    ['a lone surrogate in page context', { message: 'Summarize this page.', context: [page('broken \ud800 text', 'T\udfff')] }, 'Summarize this page.'],
  ] as const) {
    it(`${name}: the turn is stored and answered, no 500`, async () => {
      const res = await chat(body);
      expect(res.status).toBe(200);
      const events = await readRunEvents(res);
      const threadId = (events.find((e) => e.data.type === 'run.started')?.data as { threadId: string }).threadId;
      expect(events.some((e) => e.data.type === 'message.completed')).toBe(true);
      const detail = ThreadDetail.parse(await (await fetch(`${stack.backendUrl}/v1/threads/${threadId}`, { headers: { authorization: `Bearer ${token}` } })).json());
      expect(detail.messages[0]!.content).toBe(stored);
    });
  }
});
