// The embedded database: PGlite (Postgres compiled to WebAssembly) in the hub's data directory.
// The directory lock comes first: PGlite assumes one process owns its files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';
import { acquireHubDirLock } from './dir-lock.js';
import { migrate } from './migrations.js';

async function run<T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  const r = await q.query<T>(sql, params ? [...params] : undefined);
  return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
}

export async function openPgliteDb(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireHubDirLock(join(dataDir, 'hub.lock'));
  let pg: PGlite;
  try {
    pg = new PGlite(join(dataDir, 'pgdata'));
    await pg.waitReady;
  } catch (err) {
    lock.release();
    throw err;
  }
  const db: Db = {
    kind: 'pglite',
    query: (sql, params) => run(pg, sql, params),
    transaction: (fn) => pg.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) } satisfies Queryable)),
    async close() {
      try {
        await pg.close();
      } finally {
        lock.release();
      }
    },
  };
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
