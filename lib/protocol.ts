/**
 * The wire protocol between the extension and the backend: one zod definition of every request, response
 * and server-sent event, imported by both sides. Change it here and both sides see the change.
 */
import { z } from 'zod';

/** RFC 7807 problem JSON, plus a machine-readable `code`. Every error response of the backend has this shape. */
export const Problem = z.object({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** GET /v1/config (public): what the extension needs to sign in and to say which model answers. */
export const PublicConfig = z.object({
  auth: z.object({
    /** Auth0 domain or an http(s) URL for the local emulator; spa-js prefixes https:// only when no scheme is given. */
    domain: z.string().min(1),
    clientId: z.string().min(1),
    audience: z.string().min(1),
    scope: z.string(),
  }),
  model: z.object({ name: z.string(), offline: z.boolean() }),
});
export type PublicConfig = z.infer<typeof PublicConfig>;

/** GET /v1/me: the verified user, from the access token (and the IdP's userinfo where available). */
export const Me = z.object({
  sub: z.string(),
  scopes: z.array(z.string()),
  name: z.string().optional(),
  email: z.string().optional(),
  picture: z.string().optional(),
});
export type Me = z.infer<typeof Me>;

export const Id = z.uuid();

/**
 * Content captured from a page on a user action (a context-menu click, "include this page" in the panel). It is
 * untrusted data with its provenance, never the user's words: the backend fences it for the model, and once it is in
 * a run every side-effecting call needs the user's approval of its exact arguments.
 */
export const PageContextItem = z.strictObject({
  kind: z.enum(['page', 'selection']),
  url: z.string().max(4096).refine((u) => URL.canParse(u), 'url is not a URL'),
  title: z.string().max(500).optional(),
  text: z.string().max(100_000, 'captured text is longer than 100000 characters'),
  /** ISO 8601, when the extension read it from the tab. */
  capturedAt: z.iso.datetime(),
  /** The page was longer than the budget: how much of it was read. */
  truncated: z.strictObject({ readChars: z.number().int().min(0), totalChars: z.number().int().min(0) }).optional(),
});
export type PageContextItem = z.infer<typeof PageContextItem>;

/** POST /v1/chat: one user turn. Only the side panel's own input creates this. */
export const ChatRequest = z.strictObject({
  threadId: Id.optional(),
  /** Client-chosen id of the user's message: a retried request with the same id is not stored twice. */
  clientMessageId: Id.optional(),
  message: z.string().trim().min(1, 'message is empty').max(16_000, 'message is longer than 16000 characters'),
  /** Page content the user chose to include with this turn (data with provenance, never instructions). */
  context: z.array(PageContextItem).max(4, 'at most 4 context items').optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const Role = z.enum(['user', 'assistant']);

/** A source an answer drew on: a knowledge-base document the user may view (checked by FGA before retrieval). */
export const Citation = z.object({
  documentId: Id,
  title: z.string(),
  url: z.string().optional(),
  snippet: z.string(),
});
export type Citation = z.infer<typeof Citation>;

/** What a stored user turn shows of the context it carried (the text itself is not echoed back). */
export const ContextRef = z.object({
  kind: z.enum(['page', 'selection']),
  url: z.string(),
  title: z.string().optional(),
  capturedAt: z.string(),
  truncated: z.object({ readChars: z.number(), totalChars: z.number() }).optional(),
});
export type ContextRef = z.infer<typeof ContextRef>;

export const ChatMessage = z.object({
  id: Id,
  threadId: Id,
  role: Role,
  content: z.string(),
  createdAt: z.string(),
  /** User turns: the page context that came with them. */
  context: z.array(ContextRef).optional(),
  /** Assistant turns: the knowledge-base documents the answer drew on. */
  citations: z.array(Citation).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ThreadSummary = z.object({ id: Id, title: z.string(), createdAt: z.string(), updatedAt: z.string() });
export type ThreadSummary = z.infer<typeof ThreadSummary>;

/** GET /v1/threads */
export const ThreadList = z.object({ threads: z.array(ThreadSummary) });
/** GET /v1/threads/:id */
export const ThreadDetail = z.object({ thread: ThreadSummary, messages: z.array(ChatMessage) });

/** How the policy gate decided a tool call. */
export const GateDecision = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('allow') }),
  z.object({ kind: z.literal('need_connection'), connection: z.string(), scopes: z.array(z.string()), reason: z.string() }),
  z.object({
    kind: z.literal('need_approval'),
    reason: z.string(),
    /** Destinations the call sends data to that the user did not name in their own words (nor has as contacts). */
    newDestinations: z.array(z.object({ kind: z.enum(['email', 'slack_channel', 'github_repo']), value: z.string() })).optional(),
  }),
  z.object({ kind: z.literal('need_step_up'), acrValues: z.string(), maxAgeSeconds: z.number(), reason: z.string() }),
  z.object({ kind: z.literal('deny'), code: z.string(), reason: z.string() }),
]);
export type GateDecision = z.infer<typeof GateDecision>;

export const RiskTier = z.enum(['read', 'write', 'high', 'critical']);

/** A tool call as the side panel shows it: the validated arguments and a one-line human description. */
export const ToolCallView = z.object({
  toolCallId: z.string(),
  name: z.string(),
  tier: RiskTier.optional(),
  arguments: z.record(z.string(), z.unknown()),
  summary: z.string(),
});
export type ToolCallView = z.infer<typeof ToolCallView>;

/** Where a human approval (CIBA) stands. `pending` waits for the user's trusted device. */
export const ApprovalStatus = z.enum(['pending', 'approved', 'denied', 'expired', 'cancelled']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** Why a run paused, and what the user can do about it. */
export const Interrupt = z.object({
  kind: z.enum(['approval_pending', 'connect_required', 'step_up_required']),
  toolCallId: z.string(),
  reason: z.string(),
  /** What the approval shows on the trusted device: built from validated arguments only. */
  bindingMessage: z.string().optional(),
  authorizationDetails: z.array(z.record(z.string(), z.unknown())).optional(),
  /** approval_pending: the approval to follow or cancel, and when it lapses (ISO 8601). */
  approvalId: Id.optional(),
  expiresAt: z.string().optional(),
  /** connect_required: the connection and every scope it should grant. */
  connection: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  /** step_up_required: what to ask the IdP for when signing in again (RFC 9470). */
  acrValues: z.string().optional(),
  maxAgeSeconds: z.number().int().optional(),
});
export type Interrupt = z.infer<typeof Interrupt>;

/** An approval as the user sees it (GET /v1/approvals, POST /v1/approvals/:id/cancel). */
export const ApprovalView = z.object({
  id: Id,
  runId: Id,
  threadId: Id,
  toolCallId: z.string(),
  tool: z.string(),
  bindingMessage: z.string(),
  authorizationDetails: z.array(z.record(z.string(), z.unknown())),
  status: ApprovalStatus,
  createdAt: z.string(),
  expiresAt: z.string(),
  resolvedAt: z.string().optional(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;
export const ApprovalList = z.object({ approvals: z.array(ApprovalView) });

/** One line of the user's audit trail (GET /v1/activity), newest first. */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.enum(['approval.requested', 'approval.approved', 'approval.denied', 'approval.expired', 'approval.cancelled', 'tool.executed', 'tool.refused', 'step_up.required']),
  tool: z.string(),
  approvalId: Id.optional(),
  /** sha256 of the canonical JSON of the call's validated arguments. */
  argsHash: z.string().optional(),
  /** Who answered on the trusted device (the approved token's subject). */
  approver: z.string().optional(),
  summary: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const ActivityList = z.object({ entries: z.array(AuditEntry) });

/**
 * POST /v1/runs/:id/resume: the user dealt with a `connect_required` or `step_up_required` interrupt; the gate
 * decides the call again (with the token of this request, for step-up).
 */
export const ResumeRequest = z.strictObject({ toolCallId: z.string().min(1).max(200) });
export type ResumeRequest = z.infer<typeof ResumeRequest>;

/** Server-sent events of a chat run. Each SSE frame: `id: <seq>`, `event: <type>`, `data: <json of this schema>`. */
export const RunEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run.started'),
    runId: Id,
    threadId: Id,
    userMessageId: Id,
    model: z.string(),
  }),
  z.object({ type: z.literal('message.delta'), runId: Id, messageId: Id, delta: z.string() }),
  z.object({ type: z.literal('message.completed'), runId: Id, message: ChatMessage }),
  /** The model asked for a tool; arguments are shown only after validation (raw model output is never echoed). */
  z.object({ type: z.literal('tool.proposed'), runId: Id, call: ToolCallView }),
  z.object({ type: z.literal('tool.decided'), runId: Id, toolCallId: z.string(), decision: GateDecision }),
  z.object({
    type: z.literal('tool.completed'),
    runId: Id,
    toolCallId: z.string(),
    ok: z.boolean(),
    /** Human summary of the outcome ("3 projects", "Task added"); never the raw result. */
    summary: z.string(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  z.object({ type: z.literal('run.interrupted'), runId: Id, interrupt: Interrupt }),
  /** The trusted device answered (or the user cancelled, or the request lapsed). The run goes on after it. */
  z.object({
    type: z.literal('approval.resolved'),
    runId: Id,
    toolCallId: z.string(),
    approvalId: Id,
    status: ApprovalStatus.exclude(['pending']),
  }),
  /** The run goes on after an interrupt was dealt with (an account connected, an approval answered). */
  z.object({ type: z.literal('run.resumed'), runId: Id, toolCallId: z.string() }),
  z.object({ type: z.literal('run.completed'), runId: Id }),
  z.object({
    type: z.literal('run.failed'),
    runId: Id,
    error: z.object({ code: z.string(), message: z.string() }),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;

/* ---------------------------------------------------------------- knowledge base (retrieval filtered by FGA) */

/** The largest request body POST /v1/documents takes (the backend enforces it; the panel checks files against it). */
export const MAX_DOCUMENT_BODY_BYTES = 10 * 1024 * 1024;

export const DocumentContentType = z.enum(['text/plain', 'text/markdown', 'text/html', 'application/pdf']);
export type DocumentContentType = z.infer<typeof DocumentContentType>;

/**
 * POST /v1/documents: save a page or upload a file. Text types send `text`; PDF sends `dataBase64`. The backend
 * extracts, chunks and embeds it; the caller becomes its owner in FGA.
 */
export const CreateDocumentRequest = z
  .strictObject({
    title: z.string().trim().min(1, 'title is empty').max(300),
    /** The page it came from (saved pages) or nothing (uploads). */
    url: z.string().max(4096).refine((u) => URL.canParse(u), 'url is not a URL').optional(),
    source: z.enum(['page', 'upload']),
    contentType: DocumentContentType,
    text: z.string().max(2_000_000).optional(),
    dataBase64: z.string().max(14_000_000).optional(),
    folderId: Id.optional(),
  })
  .refine((d) => (d.contentType === 'application/pdf' ? d.dataBase64 !== undefined && d.text === undefined : d.text !== undefined && d.dataBase64 === undefined), {
    message: 'send `text` for text types and `dataBase64` for application/pdf',
  });
export type CreateDocumentRequest = z.infer<typeof CreateDocumentRequest>;

/** The caller's own relation to a document, as FGA computes it. */
export const DocumentRole = z.enum(['owner', 'editor', 'viewer']);

export const DocumentView = z.object({
  id: Id,
  title: z.string(),
  url: z.string().optional(),
  source: z.enum(['page', 'upload']),
  contentType: DocumentContentType,
  folderId: Id.optional(),
  chunks: z.number().int(),
  chars: z.number().int(),
  createdAt: z.string(),
  /** Shown only to people who can view the document. */
  ownerName: z.string().optional(),
  role: DocumentRole,
});
export type DocumentView = z.infer<typeof DocumentView>;
/** GET /v1/documents: every document the caller may view. */
export const DocumentList = z.object({ documents: z.array(DocumentView) });

/** Who a document (or folder) is shared with. `organization` is everyone in the signed-in user's organisation. */
export const ShareSubject = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), email: z.email() }),
  z.strictObject({ type: z.literal('group'), id: z.string().min(1).max(100) }),
  z.strictObject({ type: z.literal('organization') }),
]);
export type ShareSubject = z.infer<typeof ShareSubject>;

/** POST /v1/documents/:id/shares (grant) and DELETE /v1/documents/:id/shares (revoke, same body). */
export const ShareRequest = z.strictObject({ subject: ShareSubject, relation: z.enum(['viewer', 'editor']) });
export type ShareRequest = z.infer<typeof ShareRequest>;

export const ShareView = z.object({ subject: ShareSubject, relation: z.enum(['owner', 'viewer', 'editor']), label: z.string() });
/** GET /v1/documents/:id/shares (owners and editors only). */
export const ShareList = z.object({ shares: z.array(ShareView) });

/** POST /v1/folders: a folder; documents saved into it (and sub-folders) inherit whoever may view or edit it. */
export const CreateFolderRequest = z.strictObject({ name: z.string().trim().min(1, 'name is empty').max(200), parentId: Id.optional() });
export type CreateFolderRequest = z.infer<typeof CreateFolderRequest>;
export const FolderView = z.object({ id: Id, name: z.string(), parentId: Id.optional(), createdAt: z.string(), role: DocumentRole });
export type FolderView = z.infer<typeof FolderView>;
/** GET /v1/folders: every folder the caller may view. */
export const FolderList = z.object({ folders: z.array(FolderView) });
/** GET /v1/groups: the groups the caller belongs to (whom they can share with as a group). */
export const GroupList = z.object({ groups: z.array(z.object({ id: z.string() })) });
