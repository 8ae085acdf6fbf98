// Customer render jobs: a scene blob and a frame range become one render task per frame, each
// carrying what a node needs to fetch the scene and what the frame pays once verified. A frame's
// state is read off its task (queue state, then verification state), so there is one record of it.
import { randomBytes } from 'node:crypto';
import {
  refHex,
  type ContentRef,
  type FrameState,
  type HubJobView,
  type HubStatusView,
  type JobFrameView,
  type ResultRef,
  type SubmitRenderJob,
  type TaskSpec,
  type TaskView,
  type VerificationFailure,
} from '../protocol/index.js';
import type { Blobs } from './blobs.js';
import type { Db } from './db/db.js';
import { iso, type Clock } from './clock.js';
import { HttpError } from './server/http.js';
import type { Tasks } from './tasks.js';

export const DEFAULT_PRICE_PER_FRAME = '10000';

interface JobRow {
  id: string;
  name: string;
  scene: string;
  scene_bytes: number;
  settings: HubJobView['settings'];
  price_per_frame: string;
  state: HubJobView['state'];
  created_ms: number;
  finished_ms: number | null;
}
const JOB_COLUMNS = 'id, name, scene, scene_bytes, settings, price_per_frame, state, created_ms, finished_ms';

interface FrameRow {
  id: string;
  frame: number;
  state: TaskView['state'];
  verify_state: string | null;
  leased_by: string | null;
  attempts: number;
  result: ResultRef | null;
}

export class Jobs {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tasks: Tasks,
    private readonly blobs: Blobs,
    private readonly defaultPrice = DEFAULT_PRICE_PER_FRAME,
  ) {}

  async submit(req: SubmitRenderJob): Promise<HubJobView> {
    const sceneBytes = await this.blobs.size(refHex(req.scene));
    if (sceneBytes === null) throw new HttpError(409, 'conflict', `the scene ${req.scene} is not on this hub: upload it to /v1/blobs first`);
    const id = `j_${randomBytes(12).toString('base64url')}`;
    const pay = req.pricePerFrame ?? this.defaultPrice;
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `insert into jobs (id, name, scene, scene_bytes, settings, price_per_frame, state, created_ms) values ($1, $2, $3, $4, $5, $6, 'running', $7)`,
        [id, req.name, req.scene, sceneBytes, JSON.stringify(req.settings), pay, now],
      );
      const specs: TaskSpec[] = [];
      for (let frame = req.frames.start; frame <= req.frames.end; frame++) {
        specs.push({ kind: 'render', frame, settings: req.settings, job: { id, scene: req.scene, sceneBytes, pay } });
      }
      await this.tasks.create(specs, { tx, id });
    });
    return (await this.get(id))!;
  }

  async list(): Promise<{ jobs: Omit<HubJobView, 'frames'>[] }> {
    const { rows } = await this.db.query<JobRow>(`select ${JOB_COLUMNS} from jobs order by created_ms desc, id limit 1000`);
    const { rows: counts } = await this.db.query<{ job_id: string; total: number; verified: number; failed: number }>(
      `select job_id, count(*)::int as total, count(*) filter (where verify_state = 'verified')::int as verified, count(*) filter (where verify_state = 'failed')::int as failed
       from tasks where job_id = any($1::text[]) and verifies is null group by job_id`,
      [rows.map((r) => r.id)],
    );
    const byJob = new Map(counts.map((c) => [c.job_id, c]));
    return {
      jobs: rows.map((r) => {
        const c = byJob.get(r.id);
        return jobView(r, { total: c?.total ?? 0, verified: c?.verified ?? 0, failed: c?.failed ?? 0 });
      }),
    };
  }

  /**
   * Withdraws what is not yet handed in: open and leased frames are closed (a node holding one learns
   * at its next heartbeat, as a revoked lease, and stops). Frames already handed in, and the checks
   * of them, go on: that work was done in good faith and is verified and paid as usual.
   * Cancelling a cancelled job again is harmless; a finished one cannot be.
   */
  async cancel(id: string): Promise<HubJobView | 'not_found' | 'finished'> {
    const now = this.clock.now();
    const outcome = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ state: string }>('select state from jobs where id = $1 for update', [id]);
      const job = rows[0];
      if (!job) return 'not_found' as const;
      if (job.state === 'done' || job.state === 'failed') return 'finished' as const;
      if (job.state === 'canceled') return 'ok' as const;
      await tx.query("update jobs set state = 'canceled', finished_ms = $2 where id = $1", [id, now]);
      await tx.query(
        "update tasks set state = 'done', verify_state = 'cancelled', lease_expires_ms = null, progress = null, updated_ms = $2 where job_id = $1 and verifies is null and state in ('open', 'leased')",
        [id, now],
      );
      return 'ok' as const;
    });
    if (outcome !== 'ok') return outcome;
    return (await this.get(id))!;
  }

  async get(id: string): Promise<HubJobView | null> {
    const { rows } = await this.db.query<JobRow>(`select ${JOB_COLUMNS} from jobs where id = $1`, [id]);
    const job = rows[0];
    if (!job) return null;
    const { rows: frames } = await this.db.query<FrameRow>(
      `select id, (spec->>'frame')::int as frame, state, verify_state, leased_by, attempts, result from tasks where job_id = $1 and verifies is null order by (spec->>'frame')::int`,
      [id],
    );
    const { rows: failures } = await this.db.query<{ task_id: string; node: string; reason: VerificationFailure; detail: string }>(
      'select task_id, node, reason, detail from verification_failures where job_id = $1 order by seq',
      [id],
    );
    const byTask = new Map<string, JobFrameView['failures']>();
    for (const f of failures) {
      const list = byTask.get(f.task_id) ?? [];
      list.push({ provider: f.node, reason: f.reason, detail: f.detail.slice(0, 300) });
      byTask.set(f.task_id, list);
    }
    const views: JobFrameView[] = frames.map((f) => {
      const state = frameState(f);
      return {
        frame: Number(f.frame),
        taskId: f.id,
        state,
        result: state === 'verified' ? (f.result?.ref ?? null) : null,
        provider: state === 'open' ? null : f.leased_by,
        attempts: Number(f.attempts),
        failures: (byTask.get(f.id) ?? []).slice(-100),
      };
    });
    return {
      ...jobView(job, { total: views.length, verified: views.filter((v) => v.state === 'verified').length, failed: views.filter((v) => v.state === 'failed').length }),
      frames: views,
    };
  }

  /**
   * What must hold before a node's complete is taken: a job's result must already be a complete
   * blob here, of the size the node says, since verification reads it from the store.
   */
  async checkResult(node: string, leaseId: string, result: ResultRef): Promise<void> {
    const { rows } = await this.db.query<{ job_id: string | null }>('select job_id from tasks where lease_id = $1 and leased_by = $2', [leaseId, node]);
    if (!rows[0]?.job_id) return;
    const size = await this.blobs.size(refHex(result.ref as ContentRef));
    if (size === null) throw new HttpError(409, 'conflict', `the result ${result.ref} is not on this hub: upload the result to /v1/blobs first`);
    if (size !== result.bytes) throw new HttpError(409, 'conflict', `the result blob has ${size} bytes, not ${result.bytes}`);
  }
}

/** GET /v1/status: counts straight from the tables, so every hub sharing a database agrees. */
export async function hubStatus(db: Db, now: number, onlineWithinMs: number, payments: (() => Promise<HubStatusView['payments']>) | undefined): Promise<HubStatusView> {
  const { rows } = await db.query<Record<string, number>>(
    `select
       (select count(*)::int from nodes) as providers,
       (select count(*)::int from nodes where last_seen_at >= $1) as online,
       (select count(*)::int from tasks where state = 'open') as open,
       (select count(*)::int from tasks where state = 'leased') as leased,
       (select count(*)::int from tasks where verify_state = 'checking') as checking,
       (select count(*)::int from jobs where state = 'running') as running,
       (select count(*)::int from jobs where state = 'done') as done,
       (select count(*)::int from jobs where state = 'failed') as failed,
       (select count(*)::int from verification_failures where at_ms >= $2) as failures`,
    [now - onlineWithinMs, now - 24 * 3600_000],
  );
  const r = rows[0]!;
  return {
    providersOnline: r.online!,
    providers: r.providers!,
    queue: { open: r.open!, leased: r.leased!, checking: r.checking! },
    jobs: { running: r.running!, done: r.done!, failed: r.failed! },
    failures24h: r.failures!,
    payments: payments ? await payments() : null,
  };
}

function frameState(f: FrameRow): FrameState {
  if (f.state === 'open') return 'open';
  if (f.state === 'leased') return 'leased';
  switch (f.verify_state) {
    case 'checking':
      return 'checking';
    case 'verified':
      return 'verified';
    case 'failed':
      return 'failed';
    // Its job failed or was cancelled before anyone handed it in.
    case 'cancelled':
      return 'canceled';
    default:
      return 'rendered';
  }
}

function jobView(r: JobRow, counts: HubJobView['counts']): Omit<HubJobView, 'frames'> {
  return {
    id: r.id,
    kind: 'render',
    name: r.name,
    state: r.state,
    scene: r.scene,
    settings: r.settings,
    pricePerFrame: r.price_per_frame,
    counts,
    createdAt: iso(Number(r.created_ms)),
    finishedAt: r.finished_ms === null ? null : iso(Number(r.finished_ms)),
  };
}
