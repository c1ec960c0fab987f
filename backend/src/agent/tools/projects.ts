/** Tools over the first-party Projects API. Each declaration is the single source of truth for that tool. */
import { z } from 'zod';
import { PROJECTS_AUDIENCE } from '../../../../lib/defaults';
import { defineTool, toBindingMessage, type ToolContext, type ToolResult } from '../tool-declaration';

const ProjectId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a project id like "website-relaunch"').describe('The project id, e.g. "website-relaunch" (from list_projects).');

async function callProjects(
  baseUrl: string,
  ctx: ToolContext,
  method: string,
  path: string,
  body?: unknown,
): Promise<ToolResult> {
  const token = await ctx.getResourceToken();
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(method !== 'GET' ? { 'idempotency-key': ctx.idempotencyKey } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: ctx.signal ?? AbortSignal.timeout(15_000),
    });
  } catch {
    return { ok: false, error: { code: 'projects_unreachable', message: 'The Projects service could not be reached.' } };
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.ok) return { ok: true, data: json };
  const message =
    res.status === 401 && json.code === 'insufficient_user_authentication' ? 'The Projects service needs a fresh sign-in with a second factor for this.'
    : res.status === 403 && typeof json.detail === 'string' ? `The Projects service refused: ${json.detail}`
    : res.status === 403 ? 'The Projects service refused: your account is not allowed to do that.'
    : res.status === 404 ? 'The Projects service found no such project or task.'
    : res.status === 401 ? 'The Projects service did not accept our credentials.'
    : typeof json.detail === 'string' ? `The Projects service said: ${json.detail}` : `The Projects service answered ${res.status}.`;
  return { ok: false, error: { code: typeof json.code === 'string' ? json.code : `http_${res.status}`, message } };
}

/**
 * A Projects scope the user must hold on Deputy's API, and the same scope on the Projects API token the backend
 * obtains for the call (the gate checks the first; the Projects API enforces the second).
 */
const needs = (scope: string) => ({ requiredScopes: [scope], resource: { audience: PROJECTS_AUDIENCE, scopes: [scope] } });

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function projectTools(baseUrl: string) {
  return [
    defineTool({
      name: 'list_projects',
      description: 'List the projects the user is a member of, with counts of open and done tasks.',
      input: z.strictObject({}),
      tier: 'read',
      ...needs('read:projects'),
      sideEffect: false,
      describe: () => ({ summary: 'List your projects', bindingMessage: 'List projects', authorizationDetails: [{ type: 'project_read' }] }),
      outcome: (data) => count((data as { projects?: unknown[] }).projects?.length ?? 0, 'project'),
      execute: (_args, ctx) => callProjects(baseUrl, ctx, 'GET', '/projects'),
    }),
    defineTool({
      name: 'list_tasks',
      description: 'List the tasks of one project (open and done).',
      input: z.strictObject({ projectId: ProjectId }),
      tier: 'read',
      ...needs('read:projects'),
      sideEffect: false,
      describe: ({ projectId }) => ({
        summary: `List tasks in ${projectId}`,
        bindingMessage: toBindingMessage(`List tasks in ${projectId}`),
        authorizationDetails: [{ type: 'project_read', projectId }],
      }),
      outcome: (data) => {
        const tasks = (data as { tasks?: Array<{ done: boolean }> }).tasks ?? [];
        return `${count(tasks.filter((t) => !t.done).length, 'open task')}, ${tasks.filter((t) => t.done).length} done`;
      },
      execute: ({ projectId }, ctx) => callProjects(baseUrl, ctx, 'GET', `/projects/${projectId}/tasks`),
    }),
    defineTool({
      name: 'create_task',
      description: 'Add a task to a project.',
      input: z.strictObject({
        projectId: ProjectId,
        title: z.string().trim().min(1).max(200).describe('The task title.'),
        due: z.iso.date().optional().describe('Due date, YYYY-MM-DD.'),
      }),
      tier: 'write',
      ...needs('write:projects'),
      sideEffect: true,
      describe: ({ projectId, title, due }) => ({
        summary: `Add task “${title}” to ${projectId}${due ? ` (due ${due})` : ''}`,
        bindingMessage: toBindingMessage(`Add task to ${projectId}: ${title}`),
        authorizationDetails: [{ type: 'project_task', action: 'create', projectId, title, ...(due ? { due } : {}) }],
      }),
      outcome: () => 'Task added',
      execute: ({ projectId, title, due }, ctx) => callProjects(baseUrl, ctx, 'POST', `/projects/${projectId}/tasks`, { title, ...(due ? { due } : {}) }),
    }),
    defineTool({
      name: 'complete_task',
      description: 'Mark a task of a project as done.',
      input: z.strictObject({ projectId: ProjectId, taskId: z.uuid().describe('The task id (from list_tasks).') }),
      tier: 'write',
      ...needs('write:projects'),
      sideEffect: true,
      describe: ({ projectId, taskId }) => ({
        summary: `Complete a task in ${projectId}`,
        bindingMessage: toBindingMessage(`Complete task ${taskId.slice(0, 8)} in ${projectId}`),
        authorizationDetails: [{ type: 'project_task', action: 'complete', projectId, taskId }],
      }),
      outcome: () => 'Task completed',
      execute: ({ projectId, taskId }, ctx) => callProjects(baseUrl, ctx, 'POST', `/projects/${projectId}/tasks/${taskId}/complete`),
    }),
    defineTool({
      name: 'delete_project',
      description: 'Delete a project and all its tasks. Irreversible.',
      input: z.strictObject({ projectId: ProjectId }),
      tier: 'high',
      ...needs('delete:projects'),
      sideEffect: true,
      describe: ({ projectId }) => ({
        summary: `Delete the project ${projectId} and all its tasks`,
        bindingMessage: toBindingMessage(`Delete project ${projectId}`),
        authorizationDetails: [{ type: 'project_delete', projectId }],
      }),
      outcome: () => 'Project deleted',
      execute: ({ projectId }, ctx) => callProjects(baseUrl, ctx, 'DELETE', `/projects/${projectId}`),
    }),
    defineTool({
      name: 'delete_all_projects',
      description: 'Delete every project of the user, with all their tasks. Irreversible; needs a fresh sign-in with a second factor and approval on the trusted device.',
      input: z.strictObject({}),
      tier: 'critical',
      ...needs('delete:projects'),
      sideEffect: true,
      describe: () => ({
        summary: 'Delete ALL your projects and their tasks',
        bindingMessage: 'Delete ALL projects',
        authorizationDetails: [{ type: 'project_delete_all' }],
      }),
      outcome: (data) => `Deleted ${count((data as { deleted?: unknown[] }).deleted?.length ?? 0, 'project')}`,
      execute: (_args, ctx) => callProjects(baseUrl, ctx, 'DELETE', '/projects'),
    }),
  ];
}
