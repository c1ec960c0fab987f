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
import { PROJECTS_AUDIENCE } from '../../../lib/defaults';
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

const fail = (c: Context, status: 400 | 404 | 415, code: string, detail: string) => problem(c, new ApiError(status, code, code, detail));

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

  app.delete('/projects/:id', requireScopes('delete:projects'), (c) => {
    const sub = c.get('user').sub;
    const id = c.req.param('id');
    const p = data.project(sub, id);
    if (!p) return fail(c, 404, 'project_not_found', 'No such project.');
    const r = data.once(sub, c.req.header('idempotency-key'), () => {
      data.deleteProject(id);
      return { status: 200, body: { deleted: id } };
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
