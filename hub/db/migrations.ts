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
  {
    version: 2,
    name: 'render jobs, verification, reputation',
    statements: [
      `create table jobs (
        id text primary key,
        name text not null,
        scene text not null,
        scene_bytes bigint not null,
        settings jsonb not null,
        price_per_frame text not null,
        state text not null check (state in ('running', 'done', 'failed')),
        created_ms bigint not null,
        finished_ms bigint
      )`,
      // A job's frame is its render task (verifies null); a check task names the task it checks.
      // verify_state follows a job task's result: rendered (handed in, not yet looked at), checking
      // (a check task re-renders part of it), verified, failed (refused too often), mismatch (a check
      // whose region disagreed), cancelled (its job failed). excluded: nodes this task must not go
      // to (the provider a check checks, providers already refused on this frame).
      `alter table tasks add column job_id text references jobs (id)`,
      `alter table tasks add column verifies text`,
      `alter table tasks add column device text`,
      `alter table tasks add column verify_state text check (verify_state in ('rendered', 'checking', 'verified', 'failed', 'mismatch', 'cancelled'))`,
      `alter table tasks add column refusals integer not null default 0`,
      `alter table tasks add column excluded text[] not null default '{}'`,
      `alter table tasks add column check_task text`,
      `create index tasks_job on tasks (job_id, (spec->>'frame')) where job_id is not null`,
      `create index tasks_verify_pending on tasks (updated_ms) where verify_state = 'rendered'`,
      `create index tasks_result_ref on tasks ((result->>'ref')) where result is not null`,
      `create table verification_failures (
        seq bigserial primary key,
        task_id text not null,
        job_id text not null,
        node text not null,
        reason text not null,
        detail text not null,
        at_ms bigint not null
      )`,
      `create index verification_failures_task on verification_failures (task_id, seq)`,
      `create index verification_failures_at on verification_failures (at_ms)`,
      // Refused results per node and job: two, and the node leases nothing more of that job.
      `create table job_blocks (
        job_id text not null,
        node text not null,
        refusals integer not null,
        primary key (job_id, node)
      )`,
      `alter table nodes add column passed integer not null default 0`,
      `alter table nodes add column failed integer not null default 0`,
    ],
  },
  {
    version: 3,
    name: 'payment credits and voucher totals',
    statements: [
      // payer/token null: recorded while the hub had no payment configuration, folded into a
      // total (and so into a voucher) once it has one. (task_id, kind) unique makes a repeated
      // credit a no-op; seq is taken under the node's row lock, so per node it grows in commit order.
      `create table payment_credits (
        seq bigserial primary key,
        id text not null unique,
        node text not null,
        kind text not null check (kind in ('render', 'check', 'storage')),
        task_id text,
        job_id text,
        amount numeric(78, 0) not null check (amount >= 0),
        device text,
        payee text not null,
        payer text,
        token text,
        created_ms bigint not null,
        unique (task_id, kind)
      )`,
      `create index payment_credits_node on payment_credits (node, seq)`,
      `create index payment_credits_unassigned on payment_credits (seq) where payer is null`,
      // One running total per (payer, payee, token), the voucher that signs it, and its expiry in
      // unix seconds. Changed only under SELECT … FOR UPDATE on the row.
      `create table payment_totals (
        payer text not null,
        payee text not null,
        token text not null,
        cumulative numeric(78, 0) not null default 0,
        voucher jsonb,
        expiry bigint,
        updated_ms bigint not null,
        primary key (payer, payee, token)
      )`,
    ],
  },
  {
    version: 4,
    name: 'storage files, replicas (deals), challenges, retrievals',
    statements: [
      `create table storage_files (
        id text primary key,
        name text not null,
        bytes bigint not null,
        sha256 text not null,
        replicas_wanted integer not null,
        created_ms bigint not null
      )`,
      // One row per replica and so per deal; an unhealthy one stays as the record its repair replaced.
      `create table storage_replicas (
        id text primary key,
        seq bigserial not null,
        file_id text not null references storage_files (id),
        key_index integer not null,
        blob_hex text not null,
        piece_cid text not null,
        bytes bigint not null,
        state text not null check (state in ('pending', 'offered', 'sealing', 'healthy', 'unhealthy')),
        provider text,
        repair_of text,
        refused_by jsonb not null default '[]',
        deadline_ms bigint,
        confirmed_ms bigint,
        last_challenge_ms bigint,
        last_credit_ms bigint,
        passed integer not null default 0,
        failed integer not null default 0,
        created_ms bigint not null,
        updated_ms bigint not null,
        check (state = 'pending' or provider is not null)
      )`,
      `create index storage_replicas_file on storage_replicas (file_id)`,
      `create index storage_replicas_provider on storage_replicas (provider, state)`,
      `create index storage_replicas_pending on storage_replicas (seq) where state = 'pending'`,
      // Failed and missed rows are the record against a provider.
      `create table storage_challenges (
        id text primary key,
        replica_id text not null references storage_replicas (id),
        provider text not null,
        seed text not null,
        leaves jsonb not null,
        deadline_ms bigint not null,
        state text not null check (state in ('open', 'passed', 'failed', 'missed')),
        detail text,
        created_ms bigint not null,
        answered_ms bigint
      )`,
      `create index storage_challenges_open on storage_challenges (provider, deadline_ms) where state = 'open'`,
      `create index storage_challenges_replica on storage_challenges (replica_id)`,
      `create table storage_retrievals (
        id text primary key,
        replica_id text not null references storage_replicas (id),
        provider text not null,
        blob_hex text not null,
        -- A download's bytes stay a while for the customer; a repair's go once the copy is confirmed.
        purpose text not null check (purpose in ('repair', 'download')),
        state text not null check (state in ('open', 'done', 'abandoned', 'cleared')),
        created_ms bigint not null,
        deadline_ms bigint not null
      )`,
      `create index storage_retrievals_open on storage_retrievals (provider) where state = 'open'`,
    ],
  },
  {
    version: 5,
    name: 'customers may cancel jobs',
    statements: [
      // The inline check of migration 2 got Postgres's default name.
      `alter table jobs drop constraint jobs_state_check`,
      `alter table jobs add constraint jobs_state_check check (state in ('running', 'done', 'failed', 'canceled'))`,
    ],
  },
  {
    version: 6,
    name: 'storage periods: files end, providers are told to drop replicas',
    statements: [
      // Files stored before periods existed get the default 30 days from when they were stored.
      `alter table storage_files add column until_ms bigint`,
      `update storage_files set until_ms = created_ms + 2592000000 where until_ms is null`,
      `alter table storage_files alter column until_ms set not null`,
      `alter table storage_replicas drop constraint storage_replicas_state_check`,
      `alter table storage_replicas add constraint storage_replicas_state_check check (state in ('pending', 'offered', 'sealing', 'healthy', 'unhealthy', 'ended'))`,
      // A replica that ended before it was placed has no provider.
      `alter table storage_replicas drop constraint storage_replicas_check`,
      `alter table storage_replicas add constraint storage_replicas_check check (state in ('pending', 'ended') or provider is not null)`,
      // Set when the provider should let go of its copy; dropped_ms once it says it has.
      `alter table storage_replicas add column drop_reason text check (drop_reason in ('ended', 'replaced'))`,
      `alter table storage_replicas add column dropped_ms bigint`,
      `create index storage_replicas_drops on storage_replicas (provider) where drop_reason is not null and dropped_ms is null`,
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
