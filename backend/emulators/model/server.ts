/**
 * An OpenAI-compatible chat-completions endpoint serving the deterministic offline model.
 * The backend reaches it through the `openai` SDK exactly as it would reach OpenAI.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { OFFLINE_MODEL_NAME } from '../../../lib/defaults';
import { offlineReply, toChunks } from './offline-model';

const ChatCompletionRequest = z.object({
  model: z.string().min(1),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']),
        content: z.union([z.string(), z.null(), z.array(z.object({ type: z.string(), text: z.string().optional() }))]),
      }).loose(),
    )
    .min(1),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
}).loose();

export interface ModelServerOptions {
  port: number;
  host?: string;
  /** Delay between streamed chunks, to look like a model thinking; 0 in benchmarks. */
  chunkDelayMs?: number;
}

export interface RunningModelServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function openAiError(res: http.ServerResponse, status: number, message: string, code: string, param?: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: param ?? null, code } }));
}

async function readJson(req: http.IncomingMessage, limit = 2_000_000): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    parts.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { status: 400 });
  }
}

export async function startModelServer(opts: ModelServerOptions): Promise<RunningModelServer> {
  const chunkDelayMs = opts.chunkDelayMs ?? 12;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: OFFLINE_MODEL_NAME, object: 'model', created: 0, owned_by: 'deputy' }] }));
      return;
    }
    if (url.pathname !== '/v1/chat/completions') return openAiError(res, 404, `Unknown path ${url.pathname}`, 'not_found');
    if (req.method !== 'POST') return openAiError(res, 405, 'Use POST', 'method_not_allowed');
    let body: z.infer<typeof ChatCompletionRequest>;
    try {
      const parsed = ChatCompletionRequest.safeParse(await readJson(req));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return openAiError(res, 400, `Invalid request: ${issue.path.join('.')}: ${issue.message}`, 'invalid_request', issue.path.join('.'));
      }
      body = parsed.data;
    } catch (err) {
      const e = err as Error & { status?: number };
      return openAiError(res, e.status ?? 400, e.message, 'invalid_request');
    }
    const messages = body.messages.map((m) => ({
      role: m.role,
      content: Array.isArray(m.content) ? m.content.map((p) => p.text ?? '').join('') : m.content,
    }));
    const reply = offlineReply(messages);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: messages.reduce((n, m) => n + Math.ceil((m.content ?? '').length / 4), 0),
      completion_tokens: toChunks(reply).length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;

    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id, object: 'chat.completion', created, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage,
      }));
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let closed = false;
    res.on('close', () => { closed = true; });
    const send = (delta: object, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`);
    send({ role: 'assistant', content: '' }, null);
    for (const piece of toChunks(reply)) {
      if (closed) return;
      send({ content: piece }, null);
      if (chunkDelayMs > 0) await new Promise((r) => setTimeout(r, chunkDelayMs));
    }
    send({}, 'stop');
    if (body.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? 'localhost', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? 'localhost'}:${port}/v1`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
