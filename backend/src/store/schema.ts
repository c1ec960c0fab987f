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
  status: 'running' | 'completed' | 'failed';
  model: string;
  error_code: string | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
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
}
