import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  sub: string;
  email: string | null;
  name: string | null;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface ThreadsTable {
  id: string;
  user_sub: string;
  title: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MessagesTable {
  id: string;
  thread_id: string;
  user_sub: string;
  role: 'user' | 'assistant';
  content: string;
  /** Assistant turns: the knowledge-base documents the answer drew on (JSON array of Citation). */
  citations?: ColumnType<unknown, string | null | undefined, string | null>;
  /** The client's id for a user message: a retried POST does not store the message twice. */
  client_message_id: string | null;
  /** User turns: the page context items (`PageContextItem[]`) that came with them. */
  context?: ColumnType<unknown, string | null | undefined, string | null>;
  seq: Generated<string>;
  created_at: Timestamp;
}

export interface RunsTable {
  id: string;
  thread_id: string;
  user_sub: string;
  status: 'running' | 'interrupted' | 'completed' | 'failed';
  model: string;
  error_code: string | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
  user_message_id: string | null;
  lease_owner: string | null;
  lease_until: Timestamp | null;
}

export interface RunStepsTable {
  run_id: string;
  idx: number;
  message: ColumnType<unknown, string, string>;
}

export type ToolCallStatus = 'proposed' | 'executing' | 'succeeded' | 'failed' | 'denied' | 'interrupted';

export interface ToolCallsTable {
  run_id: string;
  id: string;
  user_sub: string;
  name: string;
  arguments: ColumnType<unknown, string | null, string | null>;
  args_hash: string | null;
  tier: string | null;
  status: ToolCallStatus;
  decision: ColumnType<unknown, string | null, string | null>;
  approval: ColumnType<unknown, string | null, string | null>;
  idempotency_key: string;
  result: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: string;
  data: ColumnType<unknown, string, string>;
  created_at: Timestamp;
}

export type ApprovalRowStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ApprovalsTable {
  id: string;
  user_sub: string;
  run_id: string;
  tool_call_id: string;
  tool: string;
  audience: string;
  binding_message: string;
  authorization_details: ColumnType<unknown, string, string>;
  args_hash: string;
  user_claims: ColumnType<unknown, string, string>;
  auth_req_id: string;
  status: ApprovalRowStatus;
  interval_seconds: number;
  next_poll_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
  lease_owner: string | null;
  lease_until: ColumnType<Date | null, Date | null, Date | null>;
  approver: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  resolved_at: ColumnType<Date | null, Date | null, Date | null>;
}

export interface AuditEventsTable {
  id: Generated<string>;
  user_sub: string;
  kind: string;
  tool: string;
  run_id: string | null;
  approval_id: string | null;
  args_hash: string | null;
  approver: string | null;
  summary: string;
  at: ColumnType<Date, Date | undefined, never>;
}

export interface KbFoldersTable {
  id: string;
  name: string;
  parent_id: string | null;
  created_by: string;
  created_at: Timestamp;
}

export interface KbDocumentsTable {
  id: string;
  title: string;
  url: string | null;
  source: 'page' | 'upload';
  content_type: string;
  folder_id: string | null;
  created_by: string;
  chars: number;
  chunk_count: number;
  embedder: string;
  created_at: Timestamp;
}

export interface KbChunksTable {
  id: Generated<string>;
  document_id: string;
  idx: number;
  text: string;
  /** pgvector literal `[x,y,…]` on the way in. */
  embedding: ColumnType<string, string, string>;
  tsv: Generated<string>;
}

export interface ContactsTable {
  user_sub: string;
  kind: 'email' | 'slack_channel' | 'github_repo';
  value: string;
  /** 'named' (the user typed it) or 'approved' (the user approved sending there). */
  source: string;
  first_used_at: ColumnType<Date, Date | undefined, never>;
}

export interface Database {
  contacts: ContactsTable;
  kb_folders: KbFoldersTable;
  kb_documents: KbDocumentsTable;
  kb_chunks: KbChunksTable;
  approvals: ApprovalsTable;
  audit_events: AuditEventsTable;
  users: UsersTable;
  threads: ThreadsTable;
  messages: MessagesTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  run_steps: RunStepsTable;
  tool_calls: ToolCallsTable;
}
