/**
 * Typed client of Deputy's backend API (shapes from lib/protocol.ts). Every call but /v1/config carries
 * `Authorization: Bearer <access token>`; a 401 triggers one renewal and one retry. Errors are `ApiError`s built from
 * the backend's problem JSON. Chat answers stream as zod-validated `RunEvent`s parsed from the SSE byte stream.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { knowledgeChanged } from './knowledge-events';
import {
  ActivityList,
  ApprovalList,
  ApprovalView,
  ChatRequest,
  CreateDocumentRequest,
  CreateFolderRequest,
  DocumentList,
  DocumentView,
  FolderList,
  FolderView,
  GroupList,
  ShareList,
  ShareRequest,
  ResumeRequest,
  Me,
  Problem,
  PublicConfig,
  RunEvent,
  ThreadDetail,
  ThreadList,
} from './protocol';
import type { z } from 'zod';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status, or 0 when no response arrived (network error, broken stream). */
    readonly status: number,
    /** Machine-readable code: the problem's `code`, or one of ours (`network_error`, `stream_interrupted`, …). */
    readonly code: string,
    message: string,
    readonly problem?: Problem,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` (RFC 9470): the token is valid but
 * not from a recent enough multi-factor sign-in. Renewing silently cannot fix it; the user has to step up.
 */
export class StepUpRequiredError extends ApiError {
  override name = 'StepUpRequiredError';
  constructor(
    /** What to ask the IdP for (`acr_values`), and how recent the sign-in must be (`max_age`), when the server said. */
    readonly acrValues: string | undefined,
    readonly maxAgeSeconds: number | undefined,
    problem?: Problem,
  ) {
    super(401, 'insufficient_user_authentication', 'This action needs a fresh sign-in with a second factor.', problem);
  }
}

/** The auth-params of a `Bearer` WWW-Authenticate challenge (`error="…", max_age=300`), keys lower-cased. */
export function bearerChallengeParams(header: string | null): Record<string, string> | undefined {
  if (!header) return undefined;
  const m = /(?:^|,)\s*Bearer\b\s*(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g;
  for (let p = re.exec(m[1]); p; p = re.exec(m[1])) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return params;
}

async function stepUpErrorFrom(res: Response): Promise<StepUpRequiredError | undefined> {
  const params = bearerChallengeParams(res.headers.get('WWW-Authenticate'));
  if (params?.error !== 'insufficient_user_authentication') return undefined;
  const maxAge = params.max_age !== undefined && /^\d+$/.test(params.max_age) ? Number(params.max_age) : undefined;
  const err = await errorFromResponse(res);
  return new StepUpRequiredError(params.acr_values || undefined, maxAge, err.problem);
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  baseUrl: string;
  /** Returns a usable access token; with `rejected`, a token other than the one the API just refused. */
  getAccessToken(options?: { rejected?: string }): Promise<string>;
  fetch?: FetchLike;
}

export interface InvalidEventInfo {
  event?: string;
  id?: string;
  data: string;
  reason: string;
}

export interface ChatOptions {
  signal?: AbortSignal;
  /** Called for every SSE frame that is not a valid RunEvent (it is skipped). */
  onInvalidEvent?: (info: InvalidEventInfo) => void;
}

const defaultFetch: FetchLike = (input, init) => fetch(input, init);

function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

async function send(fetchImpl: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    const origin = new URL(url).origin;
    throw new ApiError(
      0,
      'network_error',
      `Could not reach the Deputy server at ${origin}. Check that it is running and that the backend URL in settings is right.`,
      undefined,
      { cause: e },
    );
  }
}

/** Builds an ApiError from a non-2xx response: problem JSON when the body is one, else the status line. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const problem = Problem.safeParse(body);
  if (problem.success) {
    const p = problem.data;
    return new ApiError(res.status, p.code, p.detail ?? p.title, p);
  }
  return new ApiError(res.status, `http_${res.status}`, `The server answered ${res.status} ${res.statusText}`.trim() + '.');
}

async function parseJson<S extends z.ZodType>(res: Response, schema: S, what: string): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    throw new ApiError(res.status, 'invalid_response', `The server sent ${what} that is not JSON.`, undefined, { cause: e });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError(res.status, 'invalid_response', `The server sent ${what} in an unexpected shape.`, undefined, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** GET /v1/config (public, no token). */
export async function fetchPublicConfig(baseUrl: string, fetchImpl: FetchLike = defaultFetch): Promise<PublicConfig> {
  const res = await send(fetchImpl, joinUrl(baseUrl, '/v1/config'), { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await errorFromResponse(res);
  return parseJson(res, PublicConfig, 'its configuration');
}

/** A run event with the SSE frame's `id:` (the run's event sequence number, for `Last-Event-ID`). */
export interface SequencedRunEvent {
  /** undefined when the frame had no numeric id. */
  seq?: number;
  event: RunEvent;
}

/** Events after which the server stops sending: the run ended, or paused on an interrupt. */
export function endsStream(event: RunEvent): boolean {
  return event.type === 'run.completed' || event.type === 'run.failed' || event.type === 'run.interrupted';
}

/**
 * Parses an SSE byte stream into RunEvents with their sequence numbers. Frames that are not valid JSON, fail the
 * RunEvent schema, or whose `event:` name disagrees with the data's `type` are skipped and reported through
 * `onInvalidEvent`.
 */
export async function* parseRunEventFrames(
  body: ReadableStream<Uint8Array>,
  options: { onInvalidEvent?: (info: InvalidEventInfo) => void } = {},
): AsyncGenerator<SequencedRunEvent> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const invalid = (reason: string) => options.onInvalidEvent?.({ event: value.event, id: value.id, data: value.data, reason });
      let json: unknown;
      try {
        json = JSON.parse(value.data);
      } catch {
        invalid('data is not JSON');
        continue;
      }
      const parsed = RunEvent.safeParse(json);
      if (!parsed.success) {
        invalid(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
        continue;
      }
      if (value.event && value.event !== parsed.data.type) {
        invalid(`event name "${value.event}" does not match data type "${parsed.data.type}"`);
        continue;
      }
      const seq = value.id !== undefined && /^\d+$/.test(value.id) ? Number(value.id) : undefined;
      yield { seq, event: parsed.data };
    }
  } finally {
    // Stops the pipe and the underlying response body when the consumer stops early.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Parses an SSE byte stream into RunEvents (without sequence numbers); see `parseRunEventFrames`. */
export async function* parseRunEvents(
  body: ReadableStream<Uint8Array>,
  options: { onInvalidEvent?: (info: InvalidEventInfo) => void } = {},
): AsyncGenerator<RunEvent> {
  for await (const { event } of parseRunEventFrames(body, options)) yield event;
}

/** What can be shared: a document, or a folder (and so everything in it). */
export type SharedObject = 'document' | 'folder';

const sharesPath = (on: SharedObject, id: string) => `/v1/${on === 'folder' ? 'folders' : 'documents'}/${encodeURIComponent(id)}/shares`;

export interface ApiClient {
  me(): Promise<Me>;
  listThreads(): Promise<z.infer<typeof ThreadList>>;
  getThread(id: string): Promise<z.infer<typeof ThreadDetail>>;
  /**
   * POST /v1/chat: yields the run's events with their sequence numbers until the run completes, fails or pauses
   * (run.interrupted); throws `stream_interrupted` if the stream ends before that.
   */
  chatEvents(request: ChatRequest, options?: ChatOptions): AsyncGenerator<SequencedRunEvent>;
  /** `chatEvents` without sequence numbers. */
  chat(request: ChatRequest, options?: ChatOptions): AsyncGenerator<RunEvent>;
  /**
   * GET /v1/runs/:id/events with `Last-Event-ID: afterSeq`: replays the events after `afterSeq`, then follows live
   * ones until the run completes, fails or pauses. A paused or finished run with nothing new ends the stream
   * without events (not an error); a stream that breaks throws `stream_interrupted`.
   */
  runEvents(runId: string, afterSeq: number, options?: ChatOptions): AsyncGenerator<SequencedRunEvent>;
  /**
   * POST /v1/runs/:id/resume: the account a paused call needed is connected now, or the user stepped up; follow the
   * run again after. Throws `StepUpRequiredError` (code `insufficient_user_authentication`) when the token is not a
   * fresh multi-factor one.
   */
  resumeRun(runId: string, toolCallId: string): Promise<void>;
  /** GET /v1/approvals?status=pending: approvals waiting for the user's trusted device. */
  listApprovals(): Promise<z.infer<typeof ApprovalList>>;
  /** POST /v1/approvals/:id/cancel: withdraws a pending approval (409 `not_pending` once it was answered). */
  cancelApproval(id: string): Promise<ApprovalView>;
  /** GET /v1/activity: the user's audit trail, newest first. */
  listActivity(): Promise<z.infer<typeof ActivityList>>;
  /** POST /v1/connections/changed: the user connected or disconnected an account (the backend drops cached tokens). */
  connectionsChanged(): Promise<void>;
  /** POST /v1/documents: saves a page or an uploaded file to the knowledge base; the caller becomes its owner. */
  createDocument(request: CreateDocumentRequest): Promise<DocumentView>;
  /** GET /v1/documents: every document the caller may view, with the caller's role on each. */
  listDocuments(): Promise<z.infer<typeof DocumentList>>;
  /** DELETE /v1/documents/:id (owners). */
  deleteDocument(id: string): Promise<void>;
  /** GET /v1/{documents|folders}/:id/shares: who may view or edit it (owners and editors). */
  listShares(id: string, on?: SharedObject): Promise<z.infer<typeof ShareList>>;
  /** POST /v1/{documents|folders}/:id/shares: grants a user, a group or the organisation viewer or editor. */
  share(id: string, request: ShareRequest, on?: SharedObject): Promise<void>;
  /** DELETE /v1/{documents|folders}/:id/shares: revokes exactly that grant (same body as `share`). */
  revokeShare(id: string, request: ShareRequest, on?: SharedObject): Promise<void>;
  /** GET /v1/folders: every folder the caller may view. */
  listFolders(): Promise<z.infer<typeof FolderList>>;
  /** POST /v1/folders: a folder (inside `parentId` when given); what is shared on a folder applies to what is in it. */
  createFolder(request: CreateFolderRequest): Promise<FolderView>;
  /** GET /v1/groups: the groups the caller belongs to (whom they can share with as a group). */
  listGroups(): Promise<z.infer<typeof GroupList>>;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const fetchImpl = options.fetch ?? defaultFetch;

  /** fetch with Bearer; on 401 one renewal (never the refused token again) and one retry. */
  async function authorized(path: string, init: RequestInit = {}): Promise<Response> {
    const url = joinUrl(options.baseUrl, path);
    const attempt = (token: string) => {
      const headers = new Headers(init.headers);
      headers.set('Authorization', `Bearer ${token}`);
      return send(fetchImpl, url, { ...init, headers });
    };
    let token = await options.getAccessToken();
    let res = await attempt(token);
    if (res.status === 401) {
      const stepUp = await stepUpErrorFrom(res);
      if (stepUp) throw stepUp;
      await res.body?.cancel().catch(() => {});
      token = await options.getAccessToken({ rejected: token });
      res = await attempt(token);
      if (res.status === 401) {
        const stepUp = await stepUpErrorFrom(res);
        if (stepUp) throw stepUp;
        const err = await errorFromResponse(res);
        throw new ApiError(
          401,
          err.code,
          `The server did not accept your sign-in, even after renewing it (${err.message}). Sign out and sign in again.`,
          err.problem,
        );
      }
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /** Yields a run's events from an SSE response; returns true when the run ended or paused within the stream. */
  async function* follow(res: Response, chatOptions: ChatOptions): AsyncGenerator<SequencedRunEvent, boolean> {
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new ApiError(res.status, 'invalid_response', 'The server did not answer with an event stream.');
    }
    try {
      for await (const frame of parseRunEventFrames(res.body, { onInvalidEvent: chatOptions.onInvalidEvent })) {
        yield frame;
        if (endsStream(frame.event)) return true;
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      if (chatOptions.signal?.aborted) throw e;
      throw new ApiError(0, 'stream_interrupted', 'The connection broke while the answer was streaming.', undefined, {
        cause: e,
      });
    }
    return false;
  }

  const postJson = async (path: string, body: unknown) => {
    const res = await authorized(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await res.body?.cancel().catch(() => {});
  };

  const client: ApiClient = {
    async me() {
      return parseJson(await authorized('/v1/me', { headers: { Accept: 'application/json' } }), Me, 'your profile');
    },
    async listThreads() {
      return parseJson(await authorized('/v1/threads', { headers: { Accept: 'application/json' } }), ThreadList, 'the conversation list');
    },
    async getThread(id) {
      return parseJson(
        await authorized(`/v1/threads/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' } }),
        ThreadDetail,
        'the conversation',
      );
    },
    async *chatEvents(request, chatOptions = {}) {
      const body = ChatRequest.parse(request);
      const res = await authorized('/v1/chat', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(body),
        signal: chatOptions.signal,
      });
      const ended = yield* follow(res, chatOptions);
      if (!ended) {
        throw new ApiError(0, 'stream_interrupted', 'The answer stream ended before the run finished.');
      }
    },
    async *chat(request, chatOptions = {}) {
      for await (const { event } of client.chatEvents(request, chatOptions)) yield event;
    },
    async *runEvents(runId, afterSeq, chatOptions = {}) {
      const res = await authorized(`/v1/runs/${encodeURIComponent(runId)}/events`, {
        headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(Math.max(0, Math.floor(afterSeq))) },
        signal: chatOptions.signal,
      });
      yield* follow(res, chatOptions);
    },
    resumeRun: (runId, toolCallId) => postJson(`/v1/runs/${encodeURIComponent(runId)}/resume`, ResumeRequest.parse({ toolCallId })),
    connectionsChanged: () => postJson('/v1/connections/changed', {}),
    async listApprovals() {
      return parseJson(await authorized('/v1/approvals?status=pending', { headers: { Accept: 'application/json' } }), ApprovalList, 'the approvals');
    },
    async cancelApproval(id) {
      const res = await authorized(`/v1/approvals/${encodeURIComponent(id)}/cancel`, { method: 'POST', headers: { Accept: 'application/json' } });
      return parseJson(res, ApprovalView, 'the cancelled approval');
    },
    async listActivity() {
      return parseJson(await authorized('/v1/activity', { headers: { Accept: 'application/json' } }), ActivityList, 'your activity');
    },
    async createDocument(request) {
      const res = await authorized('/v1/documents', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(CreateDocumentRequest.parse(request)),
      });
      const doc = await parseJson(res, DocumentView, 'the saved document');
      knowledgeChanged();
      return doc;
    },
    async listDocuments() {
      return parseJson(await authorized('/v1/documents', { headers: { Accept: 'application/json' } }), DocumentList, 'your documents');
    },
    async deleteDocument(id) {
      const res = await authorized(`/v1/documents/${encodeURIComponent(id)}`, { method: 'DELETE' });
      await res.body?.cancel().catch(() => {});
      knowledgeChanged();
    },
    async listShares(id, on = 'document') {
      const res = await authorized(sharesPath(on, id), { headers: { Accept: 'application/json' } });
      return parseJson(res, ShareList, 'the list of shares');
    },
    share: (id, request, on = 'document') => postJson(sharesPath(on, id), ShareRequest.parse(request)),
    async revokeShare(id, request, on = 'document') {
      const res = await authorized(sharesPath(on, id), {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(ShareRequest.parse(request)),
      });
      await res.body?.cancel().catch(() => {});
    },
    async listFolders() {
      return parseJson(await authorized('/v1/folders', { headers: { Accept: 'application/json' } }), FolderList, 'your folders');
    },
    async createFolder(request) {
      const res = await authorized('/v1/folders', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(CreateFolderRequest.parse(request)),
      });
      return parseJson(res, FolderView, 'the new folder');
    },
    async listGroups() {
      return parseJson(await authorized('/v1/groups', { headers: { Accept: 'application/json' } }), GroupList, 'your groups');
    },
  };
  return client;
}
