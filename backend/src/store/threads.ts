/** Threads, messages, runs and run events, always scoped to the verified user's `sub`. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChatMessage, Citation, ContextRef, PageContextItem, ThreadSummary } from '../../../lib/protocol';
import { ContactStore } from './contacts';
import { pgJson, pgText } from './pg-text';
import type { Database } from './schema';

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export class ThreadStore {
  /** Where the user has sent data before (the destination rule). */
  readonly contacts: ContactStore;

  constructor(private readonly db: Kysely<Database>) {
    this.contacts = new ContactStore(db);
  }

  /**
   * Did another run of this thread read content anyone could have written (a successful call of one of these
   * tools)? Its answers are in this run's history, so that content is in this run's context too.
   */
  async untrustedResultsBefore(sub: string, threadId: string, runId: string, toolNames: string[]): Promise<boolean> {
    if (!toolNames.length) return false;
    const row = await this.db
      .selectFrom('tool_calls')
      .innerJoin('runs', 'runs.id', 'tool_calls.run_id')
      .select('tool_calls.id')
      .where('runs.thread_id', '=', threadId)
      .where('runs.user_sub', '=', sub)
      .where('runs.id', '!=', runId)
      .where('tool_calls.status', '=', 'succeeded')
      .where('tool_calls.name', 'in', toolNames)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async touchUser(user: { sub: string; email?: string; name?: string }): Promise<void> {
    await this.db
      .insertInto('users')
      .values({ sub: user.sub, email: user.email ?? null, name: user.name ?? null })
      .onConflict((oc) =>
        oc.column('sub').doUpdateSet((eb) => ({
          last_seen_at: new Date(),
          email: eb.fn.coalesce('excluded.email', 'users.email'),
          name: eb.fn.coalesce('excluded.name', 'users.name'),
        })),
      )
      .execute();
  }

  async createThread(sub: string, title: string): Promise<ThreadSummary> {
    const row = await this.db
      .insertInto('threads')
      .values({ id: randomUUID(), user_sub: sub, title: pgText(title) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSummary(row);
  }

  /** The thread if it exists AND belongs to `sub`; another user's thread is indistinguishable from a missing one. */
  async getThread(sub: string, id: string): Promise<ThreadSummary | undefined> {
    const row = await this.db
      .selectFrom('threads')
      .selectAll()
      .where('id', '=', id)
      .where('user_sub', '=', sub)
      .executeTakeFirst();
    return row && toSummary(row);
  }

  async listThreads(sub: string, limit = 100): Promise<ThreadSummary[]> {
    const rows = await this.db
      .selectFrom('threads')
      .selectAll()
      .where('user_sub', '=', sub)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toSummary);
  }

  async listMessages(sub: string, threadId: string): Promise<ChatMessage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('thread_id', '=', threadId)
      .where('user_sub', '=', sub)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toMessage);
  }

  /** The page context items of the thread's user turns that carried some, by message id (for the model only). */
  async pageContext(sub: string, threadId: string): Promise<Map<string, PageContextItem[]>> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['id', 'context'])
      .where('thread_id', '=', threadId)
      .where('user_sub', '=', sub)
      .where('context', 'is not', null)
      .execute();
    return new Map(rows.flatMap((r) => (Array.isArray(r.context) && r.context.length ? [[r.id, r.context as PageContextItem[]]] : [])));
  }

  /**
   * Stores a message. A user message with a `clientMessageId` already stored for this user is returned as it
   * was, not stored again (a retried request).
   */
  async addMessage(m: {
    sub: string;
    threadId: string;
    role: 'user' | 'assistant';
    content: string;
    clientMessageId?: string;
    id?: string;
    /** Assistant turns: the knowledge-base documents the answer drew on. */
    citations?: Citation[];
    /** User turns: page content sent with the turn, kept apart from the user's words. */
    context?: PageContextItem[];
  }): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const inserted = await this.db
      .insertInto('messages')
      .values({
        id: m.id ?? randomUUID(),
        thread_id: m.threadId,
        user_sub: m.sub,
        role: m.role,
        content: pgText(m.content),
        client_message_id: m.clientMessageId ?? null,
        ...(m.citations?.length ? { citations: JSON.stringify(pgJson(m.citations)) } : {}),
        ...(m.context?.length ? { context: JSON.stringify(pgJson(m.context)) } : {}),
      })
      .onConflict((oc) => oc.columns(['user_sub', 'client_message_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    await this.db.updateTable('threads').set({ updated_at: new Date() }).where('id', '=', m.threadId).execute();
    if (inserted) return { message: toMessage(inserted), duplicate: false };
    const existing = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('user_sub', '=', m.sub)
      .where('client_message_id', '=', m.clientMessageId ?? null)
      .executeTakeFirstOrThrow();
    return { message: toMessage(existing), duplicate: true };
  }
}

function toSummary(row: { id: string; title: string; created_at: Date | string; updated_at: Date | string }): ThreadSummary {
  return { id: row.id, title: row.title, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

function toMessage(row: {
  id: string;
  thread_id: string;
  role: 'user' | 'assistant';
  content: string;
  created_at: Date | string;
  citations?: unknown;
  context?: unknown;
}): ChatMessage {
  const citations = Array.isArray(row.citations) && row.citations.length ? { citations: row.citations as Citation[] } : {};
  const context = Array.isArray(row.context) && row.context.length ? { context: (row.context as PageContextItem[]).map(contextRef) } : {};
  return { id: row.id, threadId: row.thread_id, role: row.role, content: row.content, createdAt: iso(row.created_at), ...citations, ...context };
}

/** What a stored turn shows of its context: where it came from and when, never the captured text. */
function contextRef(item: PageContextItem): ContextRef {
  return {
    kind: item.kind,
    url: item.url,
    ...(item.title !== undefined ? { title: item.title } : {}),
    capturedAt: item.capturedAt,
    ...(item.truncated ? { truncated: item.truncated } : {}),
  };
}
