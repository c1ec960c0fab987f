/** RFC 7807 problem responses: every error the API returns has a status, a machine-readable code and a human message. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { Problem } from '../../../lib/protocol';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly issues?: Problem['issues'],
  ) {
    super(detail ?? title);
  }
}

export function problem(c: Context, err: ApiError, headers: Record<string, string> = {}): Response {
  const body: Problem = {
    type: 'about:blank',
    title: err.title,
    status: err.status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(err.issues ? { issues: err.issues } : {}),
  };
  return c.body(JSON.stringify(body), err.status, { 'content-type': 'application/problem+json', ...headers });
}

export function validationError(error: z.ZodError, what = 'request body'): ApiError {
  return new ApiError(
    400,
    'validation_error',
    'Bad Request',
    `The ${what} is invalid: ${error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })),
  );
}

export const notFound = (what: string) => new ApiError(404, 'not_found', 'Not Found', `${what} was not found.`);
