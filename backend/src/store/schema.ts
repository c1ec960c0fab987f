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
  /** The client's id for a user message: a retried POST does not store the message twice. */
  client_message_id: string | null;
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

export interface Database {
  users: UsersTable;
  threads: ThreadsTable;
  messages: MessagesTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  run_steps: RunStepsTable;
  tool_calls: ToolCallsTable;
}
