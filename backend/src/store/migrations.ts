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
  '0004_knowledge_base': {
    async up(db: Kysely<any>) {
      /**
       * The knowledge base. Who may see what is in FGA, never here: these tables hold content and provenance only,
       * and every read path filters by FGA before text leaves the database layer.
       */
      await sql`create extension if not exists vector`.execute(db);
      await db.schema
        .createTable('kb_folders')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'uuid', (c) => c.references('kb_folders.id').onDelete('cascade'))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('kb_documents')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('folder_id', 'uuid', (c) => c.references('kb_folders.id').onDelete('set null'))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('chars', 'integer', (c) => c.notNull())
        .addColumn('chunk_count', 'integer', (c) => c.notNull())
        .addColumn('embedder', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('kb_chunks')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('document_id', 'uuid', (c) => c.notNull().references('kb_documents.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('embedding', sql`vector(384)`, (c) => c.notNull())
        .addColumn('tsv', sql`tsvector`, (c) => c.generatedAlwaysAs(sql`to_tsvector('english', text)`).stored())
        .addUniqueConstraint('kb_chunks_doc_idx', ['document_id', 'idx'])
        .execute();
      await sql`create index kb_chunks_embedding_hnsw on kb_chunks using hnsw (embedding vector_cosine_ops)`.execute(db);
      await sql`create index kb_chunks_tsv_gin on kb_chunks using gin (tsv)`.execute(db);
      // Sharing by e-mail looks people up in the directory the backend keeps from verified tokens.
      await sql`create index users_by_email on users (lower(email))`.execute(db);
      await db.schema.alterTable('messages').addColumn('citations', 'jsonb').execute();
    },
  },
  '0004_page_context_and_contacts': {
    async up(db: Kysely<any>) {
      /** Page content the user sent with a turn (untrusted data with its provenance), never part of `content`. */
      await db.schema.alterTable('messages').addColumn('context', 'jsonb').execute();
      /**
       * Where each user has sent data before on their own word or with their explicit approval (the destination
       * rule): an e-mail address, a Slack channel id, a GitHub repository.
       */
      await db.schema
        .createTable('contacts')
        .addColumn('user_sub', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('first_used_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('contacts_pk', ['user_sub', 'kind', 'value'])
        .execute();
    },
  },
};
