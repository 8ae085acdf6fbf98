// The hub's schema, as numbered migrations applied in order, each in its own transaction with its
// row in schema_migrations, so a hub killed mid-migration restarts from the last whole one. Never
// edit an applied migration: add the next one. Plain Postgres SQL (PGlite and servers alike).
//
// Times are epoch milliseconds (bigint) taken from the hub's clock rather than now(): tests can
// move the clock, and every comparison uses the same source.
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'nodes, sign-in, tasks',
    statements: [
      `create table nodes (
        address text primary key,
        payout_address text not null,
        capabilities jsonb not null,
        availability jsonb not null default '[]',
        registered_at bigint not null,
        last_seen_at bigint not null
      )`,
      // One row per outstanding challenge; sign-in deletes it, which is what makes a nonce single-use.
      `create table auth_challenges (
        nonce text primary key,
        address text not null,
        hub text not null,
        issued_at text not null,
        expires_at text not null,
        expires_ms bigint not null
      )`,
      `create index auth_challenges_expiry on auth_challenges (expires_ms)`,
      // Only a hash of each token is kept, so a copy of the database signs no one in.
      `create table sessions (
        token_hash text primary key,
        address text not null,
        expires_ms bigint not null
      )`,
      `create index sessions_expiry on sessions (expires_ms)`,
      `create table tasks (
        id text primary key,
        seq bigserial not null,
        kind text not null,
        spec jsonb not null,
        state text not null check (state in ('open', 'leased', 'done')),
        lease_id text unique,
        leased_by text,
        lease_expires_ms bigint,
        attempts integer not null default 0,
        progress real,
        result jsonb,
        created_ms bigint not null,
        updated_ms bigint not null,
        -- A done task keeps the lease it was completed under, so a repeated complete is recognised.
        check (state <> 'leased' or (lease_id is not null and leased_by is not null and lease_expires_ms is not null)),
        check (state <> 'open' or (lease_id is null and lease_expires_ms is null))
      )`,
      // Partial indexes: the lease query only ever looks at the queue's head and at expired leases.
      `create index tasks_open on tasks (seq) where state = 'open'`,
      `create index tasks_lease_expiry on tasks (lease_expires_ms) where state = 'leased'`,
    ],
  },
];

export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.query(`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at timestamptz not null default now()
  )`);
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      // Several hub processes may start together on one Postgres server: one migrates, the others
      // wait here and then see the row.
      await tx.query('select pg_advisory_xact_lock(7411020101)');
      const seen = await tx.query('select 1 from schema_migrations where version = $1', [m.version]);
      if (seen.rowCount > 0) return false;
      for (const sql of m.statements) await tx.query(sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
