import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Append-only: never edit a migration that has shipped; add a new one. */
export const migrations: Record<string, Migration> = {
  '0001_threads_and_runs': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('sub', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text')
        .addColumn('name', 'text')
        .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('threads')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('user_sub', 'text', (c) => c.notNull().references('users.sub'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('threads_by_user').on('threads').columns(['user_sub', 'updated_at']).execute();
      await db.schema
        .createTable('messages')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('thread_id', 'uuid', (c) => c.notNull().references('threads.id').onDelete('cascade'))
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('user', 'assistant')`))
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('client_message_id', 'uuid')
        .addColumn('seq', 'bigserial', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('messages_client_id_unique', ['user_sub', 'client_message_id'])
        .execute();
      await db.schema.createIndex('messages_by_thread').on('messages').columns(['thread_id', 'seq']).execute();
      await db.schema
        .createTable('runs')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('thread_id', 'uuid', (c) => c.notNull().references('threads.id').onDelete('cascade'))
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('finished_at', 'timestamptz')
        .execute();
      await db.schema
        .createTable('run_events')
        .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
        .execute();
    },
  },
  '0002_agent_tool_calls': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('runs').addColumn('user_message_id', 'uuid').execute();
      await db.schema.alterTable('runs').addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable('runs').addColumn('lease_until', 'timestamptz').execute();
      /** The model-facing transcript of a run: assistant turns with tool calls, and tool results, in order. */
      await db.schema
        .createTable('run_steps')
        .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('message', 'jsonb', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_steps_pk', ['run_id', 'idx'])
        .execute();
      await db.schema
        .createTable('tool_calls')
        .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('arguments', 'jsonb')
        .addColumn('args_hash', 'text')
        .addColumn('tier', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('decision', 'jsonb')
        .addColumn('approval', 'jsonb')
        .addColumn('idempotency_key', 'uuid', (c) => c.notNull())
        .addColumn('result', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('tool_calls_pk', ['run_id', 'id'])
        .execute();
      await db.schema.createIndex('tool_calls_by_user').on('tool_calls').columns(['user_sub', 'created_at']).execute();
    },
  },
  '0003_approvals_and_audit': {
    async up(db: Kysely<any>) {
      /**
       * Human approvals (CIBA) and the durable jobs that poll for them: any backend instance may claim a due row
       * (lease), so a pending approval survives restarts and is polled by exactly one instance at a time.
       */
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('tool_call_id', 'text', (c) => c.notNull())
        .addColumn('tool', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('binding_message', 'text', (c) => c.notNull())
        .addColumn('authorization_details', 'jsonb', (c) => c.notNull())
        .addColumn('args_hash', 'text', (c) => c.notNull())
        /** The verified claims the request was made under (scopes, acr, amr, auth_time): never a token. */
        .addColumn('user_claims', 'jsonb', (c) => c.notNull())
        .addColumn('auth_req_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('next_poll_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'timestamptz')
        .addColumn('approver', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('resolved_at', 'timestamptz')
        .addUniqueConstraint('approvals_one_per_call', ['run_id', 'tool_call_id'])
        .execute();
      await db.schema.createIndex('approvals_due').on('approvals').columns(['status', 'next_poll_at']).execute();
      await db.schema.createIndex('approvals_by_user').on('approvals').columns(['user_sub', 'created_at']).execute();
      /** Append-only audit trail the user can read (Activity view). */
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('tool', 'text', (c) => c.notNull())
        .addColumn('run_id', 'uuid')
        .addColumn('approval_id', 'uuid')
        .addColumn('args_hash', 'text')
        .addColumn('approver', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('audit_by_user').on('audit_events').columns(['user_sub', 'id']).execute();
    },
  },
};
