/**
 * One Kysely database over either embedded PGlite (the offline default, a directory on disk or memory://)
 * or a real Postgres (DATABASE_URL). The same queries and migrations run on both.
 */
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrations } from './migrations';
import type { Database } from './schema';

export interface Store {
  db: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export async function openStore(opts: { databaseUrl?: string; pgliteDir?: string }): Promise<Store> {
  let pool: pg.Pool;
  let pglite: PGlite | undefined;
  if (opts.databaseUrl) {
    pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
  } else {
    const dir = opts.pgliteDir ?? 'memory://';
    if (!dir.startsWith('memory://')) fs.mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir, { extensions: { vector } });
    pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrate(db);
  return {
    db,
    kind: pglite ? 'pglite' : 'postgres',
    async close() {
      await db.destroy();
      await pglite?.close();
    },
  };
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}
