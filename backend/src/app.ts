/** The HTTP API (Hono). Every handler under /v1 except /v1/config runs with a verified user from the access token. */
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ApprovalStatus, ChatRequest, Id, type Me, type PublicConfig, ResumeRequest } from '../../lib/protocol';
import { requireUser, type Variables } from './auth/bearer';
import { stepUpChallenge } from './auth/step-up';
import type { VerifiedUser } from './auth/verify-access-token';
import type { TokenVaultClient } from './agent/token-vault';
import { type AgentUser, type RunManager, StepUpRequired } from './chat/run-manager';
import { type ApprovalStore, approvalView, type AuditLog } from './store/approvals';
import type { BackendConfig } from './config';
import { ApiError, notFound, problem, validationError } from './http/problem';
import type { RunStore } from './store/runs';
import type { ThreadStore } from './store/threads';
import { touchUserProfile } from './knowledge/directory';
import type { KnowledgeBase } from './knowledge/knowledge-base';
import { knowledgeRoutes } from './knowledge/routes';

export interface AppDeps {
  config: BackendConfig;
  verify: (token: string) => Promise<VerifiedUser>;
  threads: ThreadStore;
  runStore: RunStore;
  runs: RunManager;
  tokenVault?: TokenVaultClient;
  approvals?: ApprovalStore;
  audit?: AuditLog;
  /** The knowledge base (when FGA is configured): /v1/documents, /v1/folders, /v1/groups. */
  knowledge?: KnowledgeBase;
  log?: (line: string) => void;
}

const MAX_BODY_BYTES = 256 * 1024;

export function createApp(deps: AppDeps) {
  const { config, threads, runs, runStore } = deps;
  const app = new Hono<{ Variables: Variables }>();

  app.use(
    '*',
    cors({
      origin: (origin) => (config.allowedOrigins.includes(origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['WWW-Authenticate'],
      maxAge: 600,
    }),
  );

  app.onError((err, c) => {
    if (err instanceof StepUpRequired) {
      // RFC 9470 §3: the challenge says what authentication would do.
      return problem(c, err, {
        'WWW-Authenticate': stepUpChallenge(err.acrValues, err.maxAgeSeconds),
      });
    }
    if (err instanceof ApiError) return problem(c, err);
    deps.log?.(`unhandled error on ${c.req.method} ${c.req.path}: ${err instanceof Error ? err.name : 'unknown'}`);
    return problem(c, new ApiError(500, 'internal_error', 'Internal Server Error', 'Something went wrong on our side. Try again.'));
  });
  app.notFound((c) => problem(c, new ApiError(404, 'not_found', 'Not Found', `No route for ${c.req.method} ${c.req.path}.`)));

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/v1/config', (c) => {
    const body: PublicConfig = {
      auth: {
        domain: config.auth.issuer.replace(/\/$/, ''),
        clientId: config.auth.extensionClientId,
        audience: config.auth.audience,
        scope: config.auth.scope,
      },
      model: { name: config.model.name, offline: config.model.offline },
    };
    return c.json(body);
  });

  const api = new Hono<{ Variables: Variables }>();
  api.use('*', requireUser(deps.verify));
  // Record the user once per few minutes per instance, not on every request.
  const touched = new Map<string, number>();
  api.use('*', async (c, next) => {
    const { sub } = c.get('user');
    const now = Date.now();
    if ((touched.get(sub) ?? 0) < now - 300_000) {
      await touchUserProfile(threads, c.get('user'), c.get('accessToken'), config.auth.issuer);
      touched.set(sub, now);
      if (touched.size > 100_000) touched.clear();
    }
    await next();
  });

  api.get('/me', (c) => {
    const user = c.get('user');
    const claims = user.claims as Record<string, unknown>;
    const str = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
    const body: Me = { sub: user.sub, scopes: user.scopes, name: str('name'), email: str('email'), picture: str('picture') };
    return c.json(body);
  });

  api.get('/threads', async (c) => c.json({ threads: await threads.listThreads(c.get('user').sub) }));

  api.get('/threads/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'conversation id');
    const sub = c.get('user').sub;
    const thread = await threads.getThread(sub, id);
    if (!thread) throw notFound('The conversation');
    return c.json({ thread, messages: await threads.listMessages(sub, id) });
  });

  api.post('/chat', async (c) => {
    const body = ChatRequest.safeParse(await readJsonBody(c.req.raw));
    if (!body.success) throw validationError(body.error);
    const user = c.get('user');
    const { runId } = await runs.start(agentUser(user), body.data, c.get('accessToken'));
    return streamRun(c, user.sub, runId, 0);
  });

  api.get('/runs/:id/events', async (c) => {
    const runId = parseId(c.req.param('id'), 'run id');
    const after = z.coerce.number().int().min(0).safeParse(c.req.header('Last-Event-ID') ?? c.req.query('after') ?? 0);
    if (!after.success) throw new ApiError(400, 'invalid_last_event_id', 'Bad Request', 'Last-Event-ID must be a non-negative integer.');
    const sub = c.get('user').sub;
    if (!(await runStore.owns(sub, runId))) throw notFound('The run');
    const user = agentUser(c.get('user'));
    const token = c.get('accessToken');
    return streamRun(c, sub, runId, after.data, () => runs.reattach(user, runId, token));
  });

  // The user connected an account the paused call needed: the run goes on (and streams on) at that call.
  api.post('/runs/:id/resume', async (c) => {
    const runId = parseId(c.req.param('id'), 'run id');
    const body = ResumeRequest.safeParse(await readJsonBody(c.req.raw));
    if (!body.success) throw validationError(body.error);
    const user = c.get('user');
    await runs.resume(agentUser(user), runId, body.data.toolCallId, c.get('accessToken'));
    return c.json({ runId, resumed: true }, 202);
  });

  // Approvals the user asked for (newest first); `?status=pending` for the ones still waiting.
  api.get('/approvals', async (c) => {
    const status = c.req.query('status');
    const parsed = status === undefined ? undefined : ApprovalStatus.safeParse(status);
    if (parsed && !parsed.success) throw new ApiError(400, 'invalid_status', 'Bad Request', `status must be one of ${ApprovalStatus.options.join(', ')}.`);
    const list = (await deps.approvals?.list(c.get('user').sub, { status: parsed?.data })) ?? [];
    return c.json({ approvals: list.map((a) => approvalView(a, a.threadId)) });
  });

  // The user withdraws a pending approval: the call fails closed and the paused run goes on without it.
  api.post('/approvals/:id/cancel', async (c) => {
    const id = parseId(c.req.param('id'), 'approval id');
    const user = c.get('user');
    const cancelled = await runs.cancelApproval(agentUser(user), id);
    const thread = await runStore.get(user.sub, cancelled.runId);
    return c.json(approvalView(cancelled, thread?.threadId ?? ''));
  });

  // The user's audit trail: approvals asked for and answered, and the calls that ran (argument hashes only).
  api.get('/activity', async (c) => c.json({ entries: (await deps.audit?.list(c.get('user').sub)) ?? [] }));

  // The user connected or disconnected an account: third-party tokens cached for them are dropped.
  api.post('/connections/changed', (c) => {
    deps.tokenVault?.invalidate(c.get('user').sub);
    return c.body(null, 204);
  });

  function streamRun(c: Context<{ Variables: Variables }>, sub: string, runId: string, after: number, takeOver?: () => Promise<void>) {
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      for await (const { seq, event } of runs.follow(sub, runId, after, abort.signal, takeOver)) {
        await stream.writeSSE({ id: String(seq), event: event.type, data: JSON.stringify(event) });
      }
    });
  }

  if (deps.knowledge) api.route('/', knowledgeRoutes(deps.knowledge));
  app.route('/v1', api);
  return app;
}

function agentUser(u: VerifiedUser): AgentUser {
  return { sub: u.sub, scopes: u.scopes, acr: u.acr, amr: u.amr, authTime: u.authTime };
}

function parseId(value: string, what: string): string {
  const parsed = Id.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'invalid_id', 'Bad Request', `The ${what} must be a UUID.`);
  return parsed.data;
}

async function readJsonBody(req: Request): Promise<unknown> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Unsupported Media Type', 'Send the body as application/json.');
  }
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError(413, 'body_too_large', 'Payload Too Large', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'Bad Request', 'The body is not valid JSON.');
  }
}
