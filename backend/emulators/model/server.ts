/**
 * An OpenAI-compatible chat-completions endpoint serving the deterministic offline model.
 * The backend reaches it through the `openai` SDK exactly as it would reach OpenAI: models `deputy-offline-1` and
 * `deputy-adversary`, tool calling (`tools`, `tool_choice`, `parallel_tool_calls`, assistant `tool_calls`, `tool`
 * results) streamed and not, OpenAI's error shape (400 invalid request, 404 `model_not_found`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type ModelMessage, OFFLINE_MODELS, offlineTurn, toChunks, type ToolChoice, type ToolSpec } from './offline-model';

const SYSTEM_FINGERPRINT = 'fp_deputy_offline';

const TextContent = z.union([z.string(), z.null(), z.array(z.object({ type: z.string(), text: z.string().optional() }).loose())]);

const ToolCallShape = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }).loose(),
}).loose();

const Message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer', 'user']), content: TextContent, name: z.string().optional() }).loose(),
  z.object({ role: z.literal('assistant'), content: TextContent.optional(), tool_calls: z.array(ToolCallShape).optional() }).loose(),
  z.object({ role: z.literal('tool'), content: TextContent, tool_call_id: z.string().min(1) }).loose(),
]);

const FunctionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must match '^[a-zA-Z0-9_-]{1,64}$'"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }).loose(),
}).loose();

const ToolChoiceShape = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }).loose(),
]);

const ChatCompletionRequest = z.object({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
  tools: z.array(FunctionTool).optional(),
  tool_choice: ToolChoiceShape.optional(),
  parallel_tool_calls: z.boolean().optional(),
}).loose();

type Body = z.infer<typeof ChatCompletionRequest>;

const textOf = (content: z.infer<typeof TextContent> | undefined): string | null =>
  Array.isArray(content) ? content.map((p) => p.text ?? '').join('') : content ?? null;

/** OpenAI's checks on how tool calls, tool results and tool_choice fit together; an error message or undefined. */
function protocolError(body: Body): { message: string; param: string | null } | undefined {
  const open = new Map<string, number>();
  for (const [i, m] of body.messages.entries()) {
    if (m.role === 'tool') {
      if (!open.has(m.tool_call_id)) {
        return { message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", param: `messages.[${i}].role` };
      }
      open.delete(m.tool_call_id);
      continue;
    }
    if (open.size) {
      const [first] = open.values();
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.keys()].join(', ')}`,
        param: `messages.[${first}].role`,
      };
    }
    if (m.role === 'assistant') for (const tc of m.tool_calls ?? []) open.set(tc.id, i);
  }
  if (open.size) {
    const [first] = open.values();
    return {
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.keys()].join(', ')}`,
      param: `messages.[${first}].role`,
    };
  }
  if (body.tool_choice !== undefined && body.tool_choice !== 'none' && !body.tools?.length) {
    return { message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", param: 'tool_choice' };
  }
  if (body.parallel_tool_calls !== undefined && !body.tools?.length) {
    return { message: "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.", param: 'parallel_tool_calls' };
  }
  const choice = body.tool_choice;
  if (typeof choice === 'object' && !body.tools?.some((t) => t.function.name === choice.function.name)) {
    return { message: `Tool choice '${choice.function.name}' not found in 'tools' parameter.`, param: 'tool_choice' };
  }
  const names = body.tools?.map((t) => t.function.name) ?? [];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return { message: `Invalid 'tools': duplicate function name '${dup}'.`, param: 'tools' };
  return undefined;
}

/** Splits a JSON arguments string into token-like fragments, the way OpenAI streams them ('{"', 'projectId', '":"', …). */
export function argumentFragments(args: string): string[] {
  const pieces = args.match(/[A-Za-z]{1,8}|\d{1,4}|\s+|[^A-Za-z\d\s]{1,3}/g) ?? [];
  return pieces.length ? pieces : [args];
}

export interface ModelServerOptions {
  port: number;
  host?: string;
  /** Delay between streamed chunks, to look like a model thinking; 0 in benchmarks. */
  chunkDelayMs?: number;
  /** Sees every valid request body (tests assert what the model was shown). */
  onRequest?: (body: unknown) => void;
}

export interface RunningModelServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function openAiError(res: http.ServerResponse, status: number, message: string, code: string | null, param?: string | null) {
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

const modelObject = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'deputy' });

export async function startModelServer(opts: ModelServerOptions): Promise<RunningModelServer> {
  const chunkDelayMs = opts.chunkDelayMs ?? 12;
  const pause = () => (chunkDelayMs > 0 ? new Promise((r) => setTimeout(r, chunkDelayMs)) : Promise.resolve());
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: OFFLINE_MODELS.map(modelObject) }));
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/v1/models/')) {
      let id: string;
      try {
        id = decodeURIComponent(url.pathname.slice('/v1/models/'.length));
      } catch {
        return openAiError(res, 400, 'The model id is not a valid percent-encoded string.', 'invalid_request', 'model');
      }
      if (!OFFLINE_MODELS.includes(id)) return openAiError(res, 404, `The model \`${id}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(modelObject(id)));
      return;
    }
    if (url.pathname !== '/v1/chat/completions') return openAiError(res, 404, `Unknown path ${url.pathname}`, 'not_found');
    if (req.method !== 'POST') return openAiError(res, 405, 'Use POST', 'method_not_allowed');
    let body: Body;
    try {
      const parsed = ChatCompletionRequest.safeParse(await readJson(req));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return openAiError(res, 400, `Invalid request: ${issue.path.join('.')}: ${issue.message}`, 'invalid_request', issue.path.join('.'));
      }
      body = parsed.data;
      opts.onRequest?.(body);
    } catch (err) {
      const e = err as Error & { status?: number };
      return openAiError(res, e.status ?? 400, e.message, 'invalid_request');
    }
    if (!OFFLINE_MODELS.includes(body.model)) {
      return openAiError(res, 404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
    }
    const invalid = protocolError(body);
    if (invalid) return openAiError(res, 400, invalid.message, null, invalid.param);

    const messages: ModelMessage[] = body.messages.map((m) => ({
      role: m.role,
      content: textOf(m.content),
      ...(m.role === 'assistant' && m.tool_calls?.length
        ? { tool_calls: m.tool_calls.map((tc) => ({ id: tc.id, type: 'function' as const, function: { name: tc.function.name, arguments: tc.function.arguments } })) }
        : {}),
      ...(m.role === 'tool' ? { tool_call_id: m.tool_call_id } : {}),
    }));
    const tools: ToolSpec[] | undefined = body.tools?.map((t) => ({
      type: 'function',
      function: { name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: t.function.strict },
    }));
    const turn = offlineTurn({ model: body.model, messages, tools, tool_choice: body.tool_choice as ToolChoice | undefined, parallel_tool_calls: body.parallel_tool_calls });
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const textChunks = turn.type === 'text' ? toChunks(turn.content) : [];
    const argChunks = turn.type === 'tool_calls' ? turn.toolCalls.map((tc) => argumentFragments(tc.function.arguments)) : [];
    const usage = {
      prompt_tokens: messages.reduce((n, m) => n + Math.ceil(((m.content ?? '').length + JSON.stringify(m.tool_calls ?? '').length) / 4), 0),
      completion_tokens: textChunks.length + argChunks.reduce((n, c) => n + c.length + 1, 0),
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const finishReason = turn.type === 'tool_calls' ? 'tool_calls' : 'stop';

    if (!body.stream) {
      const message =
        turn.type === 'text'
          ? { role: 'assistant', content: turn.content, refusal: null, annotations: [] }
          : { role: 'assistant', content: null, tool_calls: turn.toolCalls, refusal: null, annotations: [] };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id, object: 'chat.completion', created, model: body.model, system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
        usage,
      }));
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let closed = false;
    res.on('close', () => { closed = true; });
    const withUsage = body.stream_options?.include_usage ? { usage: null } : {};
    const send = (delta: object, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: SYSTEM_FINGERPRINT, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...withUsage })}\n\n`);

    if (turn.type === 'text') {
      send({ role: 'assistant', content: '', refusal: null }, null);
      for (const piece of textChunks) {
        if (closed) return;
        send({ content: piece }, null);
        await pause();
      }
    } else {
      // As OpenAI streams them: per call, a first delta with index, id, type, name and empty arguments (the very first
      // one also carries the role), then the arguments in fragments carrying only the index.
      for (const [index, tc] of turn.toolCalls.entries()) {
        if (closed) return;
        const head = { index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } };
        send(index === 0 ? { role: 'assistant', content: null, tool_calls: [head], refusal: null } : { tool_calls: [head] }, null);
        await pause();
        for (const fragment of argChunks[index]) {
          if (closed) return;
          send({ tool_calls: [{ index, function: { arguments: fragment } }] }, null);
          await pause();
        }
      }
    }
    if (closed) return;
    send({}, finishReason);
    if (body.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: SYSTEM_FINGERPRINT, choices: [], usage })}\n\n`);
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
