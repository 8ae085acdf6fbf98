// The task queue and its leases. Leasing is one statement that takes the queue's head with
// FOR UPDATE SKIP LOCKED: on a Postgres server shared by several hub processes, two transactions
// never lock the same row, and one that finds the head locked moves on instead of waiting, so no
// task is handed out twice and no one queues behind a slow lease. On PGlite (one process, one
// connection) the same SQL simply runs serialised.
import { randomBytes } from 'node:crypto';
import type { Lease, ResultRef, TaskKind, TaskSpec, TaskView } from '../protocol/index.js';
import type { Db, Queryable } from './db/db.js';
import { iso, type Clock } from './clock.js';

export const LEASE_TTL_MS = 5 * 60_000;
/** How long a task waits before a node with a poor record (score < 0.5) may have it. */
export const LOW_REPUTATION_DELAY_MS = 30_000;
/** Rows added since the last ANALYZE that call for another, and how often one may run at most. */
const ANALYZE_AFTER_ROWS = 500;
const ANALYZE_EVERY_MS = 10_000;

export class LeaseError extends Error {
  constructor(
    readonly code: 'lease_not_found' | 'lease_expired' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

interface TaskRow {
  id: string;
  state: TaskView['state'];
  spec: TaskSpec;
  attempts: number;
  leased_by: string | null;
  lease_expires_ms: number | null;
  progress: number | null;
  result: ResultRef | null;
  created_ms: number;
}
const TASK_COLUMNS = 'id, state, spec, attempts, leased_by, lease_expires_ms, progress, result, created_ms';

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

export class Tasks {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly leaseTtlMs = LEASE_TTL_MS,
    private readonly lowReputationDelayMs = LOW_REPUTATION_DELAY_MS,
  ) {}

  /** `job`: the tasks are a job's (its frames, or a check), created inside the caller's transaction. */
  async create(specs: TaskSpec[], job?: { tx: Queryable; id: string; verifies?: string; excluded?: string[] }): Promise<TaskView[]> {
    const now = this.clock.now();
    const ids = specs.map(() => newId('t'));
    // One statement for the batch: unnest keeps the parameter count fixed however many tasks.
    const { rows } = await (job?.tx ?? this.db).query<TaskRow>(
      `insert into tasks (id, kind, spec, state, created_ms, updated_ms, job_id, verifies, excluded)
       select id, spec->>'kind', spec, 'open', $3, $3, $4, $5, $6::text[] from unnest($1::text[], $2::jsonb[]) with ordinality as u(id, spec, n) order by n
       returning ${TASK_COLUMNS}`,
      [ids, specs.map((s) => JSON.stringify(s)), now, job?.id ?? null, job?.verifies ?? null, job?.excluded ?? []],
    );
    this.inserted(specs.length, job !== undefined);
    return rows.map(view);
  }

  // The lease takes the queue's head through the partial index on open tasks, but only if the
  // planner knows the queue is long: with statistics from when it was short (a fresh hub, a big job
  // just queued, and Postgres's autovacuum a minute away; PGlite has none) it reads and sorts every
  // open task on each lease instead, O(queue) per lease. So once enough rows have been added, the
  // table is analysed (at most every ANALYZE_EVERY_MS, in the background: a job's tasks are still
  // in the caller's transaction, so a little later).
  private insertedSinceAnalyze = 0;
  private nextAnalyzeMs = 0;
  private inserted(count: number, inTransaction: boolean): void {
    this.insertedSinceAnalyze += count;
    const now = Date.now();
    if (this.insertedSinceAnalyze < ANALYZE_AFTER_ROWS || now < this.nextAnalyzeMs) return;
    this.insertedSinceAnalyze = 0;
    this.nextAnalyzeMs = now + ANALYZE_EVERY_MS;
    // Best effort: a failure (the hub closing meanwhile) only leaves the statistics to autovacuum.
    const t = setTimeout(() => void Promise.resolve().then(() => this.db.query('analyze tasks')).catch(() => undefined), inTransaction ? 1000 : 0);
    t.unref();
  }

  async get(id: string): Promise<TaskView | null> {
    const { rows } = await this.db.query<TaskRow>(`select ${TASK_COLUMNS} from tasks where id = $1`, [id]);
    return rows[0] ? view(rows[0]) : null;
  }

  /** One task for this node, or null when there is none. */
  async lease(node: string, kinds: readonly TaskKind[], device: string | null = null): Promise<Lease | null> {
    const now = this.clock.now();
    const leaseId = newId('l');
    const deadline = now + this.leaseTtlMs;
    // One statement, not a transaction of two: it is atomic on its own, and on a Postgres server it
    // is one round trip instead of four (begin, expired, open, commit).
    const { rows } = await this.db.query<{ id: string; spec: TaskSpec }>(LEASE_SQL, [now, leaseId, node, deadline, [...kinds], device, now - this.lowReputationDelayMs]);
    const row = rows[0];
    return row ? { leaseId, taskId: row.id, task: row.spec, deadline: iso(deadline) } : null;
  }

  async renew(node: string, leaseId: string): Promise<string> {
    const now = this.clock.now();
    const deadline = now + this.leaseTtlMs;
    await this.onLiveLease(node, leaseId, 'update tasks set lease_expires_ms = $4, updated_ms = $3', [deadline]);
    return iso(deadline);
  }

  async progress(node: string, leaseId: string, fraction: number): Promise<string> {
    // The column is a real: a fraction too small for it (1e-71) fails the statement, lease or not,
    // so it is kept to a millionth, finer than any progress bar shows.
    const row = await this.onLiveLease(node, leaseId, 'update tasks set progress = $4, updated_ms = $3', [Math.round(fraction * 1e6) / 1e6]);
    return iso(Number(row.lease_expires_ms));
  }

  async release(node: string, leaseId: string): Promise<TaskView> {
    return view(
      await this.onLiveLease(node, leaseId, "update tasks set state = 'open', lease_id = null, lease_expires_ms = null, leased_by = null, progress = null, updated_ms = $3", []),
    );
  }

  async complete(node: string, leaseId: string, result: ResultRef): Promise<TaskView> {
    // A repeat of a complete that already went through (its answer lost on the way) succeeds
    // again, so a node's retry after a network failure is harmless; a different result is not.
    const { rows: done } = await this.db.query<TaskRow>(`select ${TASK_COLUMNS} from tasks where lease_id = $1 and leased_by = $2 and state = 'done'`, [leaseId, node]);
    if (done[0]) {
      if (JSON.stringify(done[0].result) !== JSON.stringify(result)) throw new LeaseError('conflict', 'this lease was already completed with another result');
      return view(done[0]);
    }
    // A job's result is not accepted yet: verification (hub/verify) looks at it next.
    const row = await this.onLiveLease(node, leaseId, "update tasks set state = 'done', result = $4, progress = 1, lease_expires_ms = null, updated_ms = $3, verify_state = case when job_id is null then null else 'rendered' end", [
      JSON.stringify(result),
    ]);
    return view(row);
  }

  /** Of the leases a node believes it holds, those it no longer does (expired, re-leased, unknown). */
  async revoked(node: string, leaseIds: readonly string[]): Promise<string[]> {
    if (leaseIds.length === 0) return [];
    const { rows } = await this.db.query<{ lease_id: string }>(
      "select lease_id from tasks where lease_id = any($1::text[]) and leased_by = $2 and state = 'leased' and lease_expires_ms >= $3",
      [leaseIds, node, this.clock.now()],
    );
    const live = new Set(rows.map((r) => r.lease_id));
    return leaseIds.filter((id) => !live.has(id));
  }

  /** Puts expired leases back in the queue, so the customer's view shows them open. */
  async sweep(): Promise<number> {
    const { rowCount } = await this.db.query(
      "update tasks set state = 'open', lease_id = null, lease_expires_ms = null, leased_by = null, progress = null, updated_ms = $1 where state = 'leased' and lease_expires_ms < $1",
      [this.clock.now()],
    );
    return rowCount;
  }

  /** Runs `update … where` on the task this node holds under a live lease, or says why not. */
  private async onLiveLease(node: string, leaseId: string, update: string, extra: unknown[]): Promise<TaskRow> {
    const now = this.clock.now();
    const { rows } = await this.db.query<TaskRow>(
      `${update} where lease_id = $1 and leased_by = $2 and state = 'leased' and lease_expires_ms >= $3 returning ${TASK_COLUMNS}`,
      [leaseId, node, now, ...extra],
    );
    if (rows[0]) return rows[0];
    const { rows: held } = await this.db.query<{ state: string }>("select state from tasks where lease_id = $1 and leased_by = $2", [leaseId, node]);
    if (held[0]?.state === 'leased') throw new LeaseError('lease_expired', 'the lease has expired; the task may be leased to another node');
    if (held[0]?.state === 'done') throw new LeaseError('conflict', 'the task is already complete');
    throw new LeaseError('lease_not_found', 'no such lease for this node (it may have expired and been leased again)');
  }
}

// Besides the queue order: never a task this node is excluded from (the result a check checks is
// its own; it was refused on this frame), nor any task of a job it is blocked from; and a node
// whose record scores below 0.5 gets only what has waited `lowReputationDelayMs` since it became
// available, so better nodes go first. The score subquery does not depend on the row: Postgres
// runs it once per statement.
const eligible = (waitedSince: string) => `kind = any($5::text[])
         and not ($3 = any(excluded))
         and (job_id is null or not exists (select 1 from job_blocks b where b.job_id = tasks.job_id and b.node = $3 and b.refusals >= 2 /* BLOCK_AFTER_REFUSALS */))
         and (${waitedSince} <= $7 or coalesce((select (n.passed + 1)::float8 / (n.passed + n.failed + 2) from nodes n where n.address = $3), 0.5) >= 0.5)`;

// Parameters: now, lease id, node, deadline, kinds, device, and the cutoff a poorly rated node waits
// for. Expired leases first: their work is the oldest, and its customer has already waited once.
// Taking them here, not only in the sweep, means a dead node's work is re-leased the moment someone
// asks, whatever the sweep's timer. COALESCE evaluates its second argument only when the first is
// null, so the open queue is only read (and a row of it only locked) when no expired lease is there
// to take. Each head is taken with FOR UPDATE SKIP LOCKED: two concurrent leases never lock the
// same row, and one that finds the head locked moves on instead of waiting.
const LEASE_SQL = `/* prepare:hub-lease */ with picked as (
     select coalesce(
       (select id from tasks where state = 'leased' and lease_expires_ms < $1 and ${eligible('lease_expires_ms')}
         order by lease_expires_ms limit 1 for update skip locked),
       (select id from tasks where state = 'open' and ${eligible('updated_ms')}
         order by seq limit 1 for update skip locked)
     ) as id
   )
   update tasks t set state = 'leased', lease_id = $2, leased_by = $3, lease_expires_ms = $4, attempts = t.attempts + 1, progress = null, result = null, device = $6, updated_ms = $1
   from picked where t.id = picked.id
   returning t.id, t.spec`;

function view(r: TaskRow): TaskView {
  return {
    id: r.id,
    state: r.state,
    task: r.spec,
    attempts: Number(r.attempts),
    leasedBy: r.leased_by,
    deadline: r.state === 'leased' && r.lease_expires_ms !== null ? iso(Number(r.lease_expires_ms)) : null,
    progress: r.progress,
    result: r.result,
    createdAt: iso(Number(r.created_ms)),
  };
}
