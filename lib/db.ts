/**
 * Local conversation history (IndexedDB through Dexie), what the side panel shows instantly on open. The backend keeps
 * the authoritative threads; this is a per-user copy. Every row carries the user's `sub` and is part of the primary key,
 * and every query goes through `historyFor(sub)`, so one user never sees another user's local history.
 *
 * Never stores tokens: only thread summaries and message text.
 */
import Dexie, { type Table } from 'dexie';

export interface LocalThread {
  sub: string;
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export interface LocalMessage {
  sub: string;
  id: string;
  threadId: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: string;
}

export class DeputyDb extends Dexie {
  threads!: Table<LocalThread, [string, string]>;
  messages!: Table<LocalMessage, [string, string]>;

  constructor(name = 'deputy-history') {
    super(name);
    this.version(1).stores({
      threads: '[sub+id], [sub+updatedAt]',
      messages: '[sub+id], [sub+threadId+createdAt]',
    });
  }
}

let shared: DeputyDb | undefined;
export function getDb(): DeputyDb {
  shared ??= new DeputyDb();
  return shared;
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0].replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New conversation';
}

export interface LocalHistory {
  readonly sub: string;
  listThreads(): Promise<LocalThread[]>;
  getThread(id: string): Promise<LocalThread | undefined>;
  listMessages(threadId: string): Promise<LocalMessage[]>;
  upsertThread(thread: Omit<LocalThread, 'sub'>): Promise<void>;
  /** Merges server summaries: adds missing threads, updates changed titles/times (never deletes local ones). */
  mergeThreads(threads: Omit<LocalThread, 'sub'>[]): Promise<void>;
  putMessages(messages: Omit<LocalMessage, 'sub'>[]): Promise<void>;
  /** Forgets this user's local history (the server keeps its copy). */
  clear(): Promise<void>;
}

export function historyFor(sub: string, db: DeputyDb = getDb()): LocalHistory {
  if (!sub) throw new Error('historyFor: sub is required');
  return {
    sub,
    async listThreads() {
      const rows = await db.threads.where('[sub+updatedAt]').between([sub, Dexie.minKey], [sub, Dexie.maxKey]).toArray();
      return rows.reverse();
    },
    async getThread(id) {
      return db.threads.get([sub, id]);
    },
    async listMessages(threadId) {
      return db.messages
        .where('[sub+threadId+createdAt]')
        .between([sub, threadId, Dexie.minKey], [sub, threadId, Dexie.maxKey])
        .toArray();
    },
    async upsertThread(thread) {
      await db.threads.put({ ...thread, sub });
    },
    async mergeThreads(threads) {
      await db.transaction('rw', db.threads, async () => {
        for (const t of threads) {
          const existing = await db.threads.get([sub, t.id]);
          if (!existing || existing.updatedAt < t.updatedAt || existing.title !== t.title) {
            await db.threads.put({
              ...t,
              sub,
              updatedAt: existing && existing.updatedAt > t.updatedAt ? existing.updatedAt : t.updatedAt,
            });
          }
        }
      });
    },
    async putMessages(messages) {
      await db.messages.bulkPut(messages.map((m) => ({ ...m, sub })));
    },
    async clear() {
      await db.transaction('rw', db.threads, db.messages, async () => {
        await db.threads.where('[sub+updatedAt]').between([sub, Dexie.minKey], [sub, Dexie.maxKey]).delete();
        await db.messages
          .where('[sub+threadId+createdAt]')
          .between([sub, Dexie.minKey, Dexie.minKey], [sub, Dexie.maxKey, Dexie.maxKey])
          .delete();
      });
    },
  };
}
