/**
 * "Projects": a first-party resource server the agent acts on, with its own audience and scopes. It validates
 * access tokens itself and is the last word on what a caller may do, whatever the agent's gate decided.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { ApiError, problem, validationError } from '../../src/http/problem';
import { z } from 'zod';
import { requireScopes, requireUser, type AuthEnv } from '../../src/auth/bearer';
import { createAccessTokenVerifier } from '../../src/auth/verify-access-token';
import { MFA_ACR, PROJECTS_AUDIENCE } from '../../../lib/defaults';
import { freshMfa, stepUpChallenge } from '../../src/auth/step-up';
import { ProjectData } from './data';

export interface ProjectsApiOptions {
  port: number;
  host?: string;
  issuer: string;
  audience?: string;
  dataDir: string;
  members: { alice?: string; bob?: string };
}

const NewTask = z.strictObject({
  title: z.string().trim().min(1).max(200),
  due: z.iso.date().optional(),
});

const fail = (c: Context, status: 400 | 403 | 404 | 415, code: string, detail: string) => problem(c, new ApiError(status, code, code, detail));

/** How recent the multi-factor sign-in behind a critical call must be. */
export const CRITICAL_MAX_AGE_SECONDS = 300;

/** The RFC 9396 details a token carries (only an approved CIBA token has any). */
function detailsOf(claims: Record<string, unknown>): Array<Record<string, unknown>> {
  const d = claims.authorization_details;
  return Array.isArray(d) ? d.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
}

export function createProjectsApp(opts: { issuer: string; audience: string; data: ProjectData }) {
  const { data } = opts;
  const verify = createAccessTokenVerifier({ issuer: opts.issuer, audience: opts.audience });
  const app = new Hono<AuthEnv>();
  app.onError((err, c) => fail(c, 400, 'bad_request', err instanceof SyntaxError ? 'The body is not valid JSON.' : 'The request could not be processed.'));
  app.notFound((c) => fail(c, 404, 'not_found', 'No such route.'));
  app.use('*', requireUser(verify));

  const summary = (p: ReturnType<ProjectData['projectsOf']>[number]) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    openTasks: p.tasks.filter((t) => !t.done).length,
    doneTasks: p.tasks.filter((t) => t.done).length,
  });

  app.get('/projects', requireScopes('read:projects'), (c) => c.json({ projects: data.projectsOf(c.get('user').sub).map(summary) }));

  app.get('/projects/:id/tasks', requireScopes('read:projects'), (c) => {
    const p = data.project(c.get('user').sub, c.req.param('id'));
    if (!p) return fail(c, 404, 'project_not_found', 'No such project.');
    return c.json({ project: summary(p), tasks: p.tasks });
  });

  app.post('/projects/:id/tasks', requireScopes('write:projects'), async (c) => {
    const sub = c.get('user').sub;
    const p = data.project(sub, c.req.param('id'));
    if (!p) return fail(c, 404, 'project_not_found', 'No such project.');
    if (!(c.req.header('content-type') ?? '').includes('application/json')) return fail(c, 415, 'unsupported_media_type', 'Send JSON.');
    const body = NewTask.safeParse(await c.req.json());
    if (!body.success) return problem(c, validationError(body.error));
    const r = data.once(sub, c.req.header('idempotency-key'), () => ({ status: 201, body: { task: data.addTask(p, body.data.title, body.data.due) } }));
    return c.json(r.body as object, r.status as 201, r.replayed ? { 'idempotent-replayed': 'true' } : {});
  });

  app.post('/projects/:id/tasks/:taskId/complete', requireScopes('write:projects'), (c) => {
    const sub = c.get('user').sub;
    const p = data.project(sub, c.req.param('id'));
    const t = p?.tasks.find((x) => x.id === c.req.param('taskId'));
    if (!p || !t) return fail(c, 404, 'task_not_found', 'No such task.');
    const r = data.once(sub, c.req.header('idempotency-key'), () => {
      if (!t.done) Object.assign(t, { done: true, completedAt: new Date().toISOString() });
      return { status: 200, body: { task: t } };
    });
    return c.json(r.body as object, 200);
  });

  // An approval is single use: the token that carried it cannot delete anything again (D5).
  const usedApprovals = new Set<string>();
  const spendApproval = (c: Context<AuthEnv>) => {
    const jti = c.get('user').claims.jti;
    if (typeof jti !== 'string' || usedApprovals.has(jti)) return false;
    usedApprovals.add(jti);
    return true;
  };

  // Deleting a project needs the user's approval of exactly this deletion: a token whose authorization_details name it.
  app.delete('/projects/:id', requireScopes('delete:projects'), (c) => {
    const sub = c.get('user').sub;
    const id = c.req.param('id');
    const approved = detailsOf(c.get('user').claims).some((d) => d.type === 'project_delete' && d.projectId === id && Object.keys(d).length === 2);
    if (!approved) return fail(c, 403, 'approval_required', `Deleting ${id} needs a token approving the deletion of exactly this project.`);
    if (!spendApproval(c)) return fail(c, 403, 'approval_already_used', 'This approval was already used.');
    const p = data.project(sub, id);
    if (!p) return fail(c, 404, 'project_not_found', 'No such project.');
    const r = data.once(sub, c.req.header('idempotency-key'), () => {
      data.deleteProject(id);
      return { status: 200, body: { deleted: id } };
    });
    return c.json(r.body as object, 200);
  });

  // Critical: deleting every project of the user needs an approval of that AND a fresh multi-factor sign-in (RFC 9470).
  app.delete('/projects', requireScopes('delete:projects'), (c) => {
    const user = c.get('user');
    if (!freshMfa(user, CRITICAL_MAX_AGE_SECONDS)) {
      return problem(c, new ApiError(401, 'insufficient_user_authentication', 'insufficient_user_authentication', 'Deleting all projects needs a fresh multi-factor sign-in.'), {
        'WWW-Authenticate': stepUpChallenge(MFA_ACR, CRITICAL_MAX_AGE_SECONDS),
      });
    }
    const approved = detailsOf(user.claims).some((d) => d.type === 'project_delete_all' && Object.keys(d).length === 1);
    if (!approved) return fail(c, 403, 'approval_required', 'Deleting all projects needs a token approving exactly that.');
    if (!spendApproval(c)) return fail(c, 403, 'approval_already_used', 'This approval was already used.');
    const r = data.once(user.sub, c.req.header('idempotency-key'), () => {
      const ids = data.projectsOf(user.sub).map((p) => p.id);
      for (const id of ids) data.deleteProject(id);
      return { status: 200, body: { deleted: ids } };
    });
    return c.json(r.body as object, 200);
  });

  return app;
}

export async function startProjectsApi(opts: ProjectsApiOptions) {
  const data = new ProjectData(path.join(opts.dataDir, 'projects.json'), opts.members);
  const app = createProjectsApp({ issuer: opts.issuer, audience: opts.audience ?? PROJECTS_AUDIENCE, data });
  const host = opts.host ?? 'localhost';
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: host }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    data,
    close: () => new Promise<void>((resolve) => { if ('closeAllConnections' in server) server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
