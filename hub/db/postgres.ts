// The hub on a Postgres server (DATABASE_URL), through a `pg` pool. Unlike PGlite there is no
// directory lock: several hub processes may share one server on purpose, and what keeps them
// apart is in the SQL (FOR UPDATE SKIP LOCKED for leases, advisory locks for migrations).
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.js';
import { migrate } from './migrations.js';

export interface PostgresOptions {
  /**
   * Connections in the pool; each open transaction holds one for its whole duration. Default: the
   * DATABASE_POOL_SIZE environment variable, else 20.
   */
  poolSize?: number;
  log?: (line: string) => void;
}

// PGlite returns bigint (epoch milliseconds, serials) as JS numbers and `pg` as strings by default.
// The hub's rows must look the same on both, and every bigint it stores is far below 2^53.
const int8 = (v: string) => Number(v);
// int4[]'s parser reads each element with parseInt, which is what int8[] wants here too.
const defaultParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (v: string) => unknown;
const int8Array = defaultParser(1007);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return int8;
    if (oid === 1016) return int8Array;
    return defaultParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

// A statement that opens with `/* prepare:NAME */` is a hot one (the lease): it is prepared once per
// connection under that name and then only bound and executed, which spares Postgres planning it
// again on every call. Other statements stay unnamed (planned per call, as before).
const PREPARE = /^\/\* prepare:([\w-]+) \*\//;

async function run<T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  const name = sql.startsWith('/* prepare:') ? PREPARE.exec(sql)?.[1] : undefined;
  const r = name ? await q.query({ name, text: sql, values: params ? [...params] : [] }) : await q.query(sql, params ? [...params] : undefined);
  return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
}

/** DATABASE_POOL_SIZE if it is a positive integer, else 20. */
function poolSizeFromEnv(): number {
  const n = Number(process.env.DATABASE_POOL_SIZE);
  return Number.isInteger(n) && n > 0 ? n : 20;
}

/** Host, port and database of a URL, never its password: this goes into logs. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgres (unparseable DATABASE_URL)';
  }
}

export async function openPostgresDb(connectionString: string, opts: PostgresOptions = {}): Promise<Db> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pool = new pg.Pool({ connectionString, max: opts.poolSize ?? poolSizeFromEnv(), types });
  // An idle client whose server connection dies (restart, failover) is reported here; without a
  // listener the pool's 'error' event would take the whole hub down. The next query reconnects.
  pool.on('error', (err) => log(`hub: postgres connection lost: ${err.message}`));

  const transaction = async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      try {
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('commit');
        return out;
      } catch (err) {
        try {
          await client.query('rollback');
        } catch (rollbackErr) {
          // A connection that cannot even roll back is not handed to the next transaction.
          broken = rollbackErr as Error;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  };

  const db: Db = {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    transaction,
    close: () => pool.end(),
  };
  try {
    await migrateExclusively(pool, db);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return db;
}

// migrate() locks each migration, but its opening `create table if not exists schema_migrations`
// runs before any lock, and two servers creating the same table at once can fail on the catalog's
// unique index. A session lock on one connection, held across the whole of migrate(), serialises
// hubs that start together; the per-migration transaction lock inside is re-entrant on it.
async function migrateExclusively(pool: pg.Pool, db: Db): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('select pg_advisory_lock(7411020101)');
    try {
      const one: Queryable = { query: (sql, params) => run(client, sql, params) };
      await migrate({
        ...db,
        query: one.query,
        async transaction(fn) {
          await client.query('begin');
          try {
            const out = await fn(one);
            await client.query('commit');
            return out;
          } catch (err) {
            await client.query('rollback').catch((e: Error) => (broken = e));
            throw err;
          }
        },
      });
    } finally {
      await client.query('select pg_advisory_unlock(7411020101)').catch((e: Error) => (broken = e));
    }
  } finally {
    client.release(broken);
  }
}
