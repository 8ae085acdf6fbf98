// The hub's narrow view of its database. Everything above it writes plain Postgres SQL with $n
// parameters, so the same queries run on the embedded PGlite (pglite.ts) and on a Postgres server
// through `pg` when DATABASE_URL is set (postgres.ts). Keeping the surface to query + transaction
// is what makes the second one a small file.

export interface QueryResult<T> {
  rows: T[];
  /** Rows returned, or changed by an INSERT/UPDATE/DELETE. */
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
