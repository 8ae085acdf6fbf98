// What happens to a job's result once handed in. First the cheap refusals, on the frame alone: not
// a PNG, the wrong size, blank, or bytes already handed in for another job's scene (a frame copied
// from another job). Then, for a fraction of frames, a spot check: a check task re-renders a random
// region of the same frame on another node, and the two are compared pixel for pixel over that
// region. A verified result is credited in the transaction that marks it verified; a refused one
// is recorded against its provider (frame failures, reputation, job blocks) and the frame reopens.
//
// Decoding happens outside any transaction; each decision is applied in one, after re-reading the
// task under a row lock, so two hubs (or a sweep and a complete) examining the same result decide
// it once.
import { refHex, type ContentRef, type RenderRegion, type ResultRef, type TaskSpec, type VerificationFailure } from '../../protocol/index.js';
import type { Blobs } from '../blobs.js';
import type { CreditSink } from '../credit-sink.js';
import type { Db, Queryable } from '../db/db.js';
import type { Clock } from '../clock.js';
import { recordOutcome } from '../reputation.js';
import type { Tasks } from '../tasks.js';
import { borderToRect, decodePng, inset, isBlank, psnr, ssim, type Rgba } from './image.js';

/** Refused results after which a frame, and with it its job, has failed. */
export const MAX_FRAME_REFUSALS = 5;
/** Refused results in one job after which a node leases none of its tasks. */
export const BLOCK_AFTER_REFUSALS = 2;

// Calibrated with Blender 3.4 (Cycles, CPU) on the factory cube scene, 64x64, no denoising,
// comparing over the centre 32x32 region inset by a pixel (how a check is compared), 8 samples:
//   the same render twice, and a region render (border, not cropped) vs the full render: identical
//   (PSNR inf, SSIM 1.0000): Cycles is deterministic for a given seed;
//   another seed (stands in for another device's noise), seeds 1-3 vs 0: PSNR 38.7-39.2 dB,
//   SSIM 0.9916-0.9921; seed 1 vs seed 2: 38.3 dB, 0.9893;
//   cheats: 1 sample at half resolution, upscaled: 25.7 dB, 0.864 (2 samples: 26.4 dB, 0.896);
//   1 sample at full resolution: 29.8 dB, 0.953; a 16x16 region altered: 14.0 dB, 0.473;
//   the cube moved (another frame): 20.0 dB, 0.624.
// Noise between honest renders shrinks as samples grow (over the whole frame: 2 samples 33.9 dB,
// 4: 36.3, 32: 50.1, 128: 56.8), while a 1-sample cheat stays near 33.6-33.9 dB against them. So
// the PSNR floor rises with the job's samples: 31 dB at 8 samples, +10 dB per tenfold samples,
// kept within 28..40 dB; SSIM must be at least 0.95 whatever the samples. A scene much noisier than
// the cube at a low sample count can fall below these: raise the job's samples, or lower the
// floors in HubOptions.verify.
export function psnrFloor(samples: number): number {
  return Math.min(40, Math.max(28, 31 + 10 * Math.log10(samples / 8)));
}
export const SSIM_FLOOR = 0.95;

export interface VerifyOptions {
  /** Share of results spot-checked by another node (default 0.1). */
  checkFraction?: number;
  /** Share of the frame's area a check re-renders (default 0.25; 1 is the whole frame). */
  cropArea?: number;
  /** Override the calibrated floors (tests, or a hub with noisier scenes). */
  psnrMin?: number;
  ssimMin?: number;
  /** 0..1; default Math.random. Picks which results are checked and where. */
  random?: () => number;
}

interface Row {
  id: string;
  job_id: string | null;
  spec: Extract<TaskSpec, { kind: 'render' }>;
  state: string;
  verify_state: string | null;
  result: ResultRef | null;
  leased_by: string | null;
  device: string | null;
  verifies: string | null;
  check_task: string | null;
  refusals: number;
}
const COLUMNS = 'id, job_id, spec, state, verify_state, result, leased_by, device, verifies, check_task, refusals';

type Refusal = { reason: VerificationFailure; detail: string };

export class Verifier {
  private readonly checkFraction: number;
  private readonly cropArea: number;
  private readonly random: () => number;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tasks: Tasks,
    private readonly blobs: Blobs,
    private readonly credits: CreditSink | null,
    private readonly opts: VerifyOptions = {},
  ) {
    this.checkFraction = Math.min(1, Math.max(0, opts.checkFraction ?? 0.1));
    this.cropArea = Math.min(1, Math.max(0.01, opts.cropArea ?? 0.25));
    this.random = opts.random ?? Math.random;
  }

  /** Examines a handed-in job result, if it still waits for that; anything else is left alone. */
  async examine(taskId: string): Promise<void> {
    const t = await this.load(this.db, taskId);
    if (!t || !t.job_id || t.state !== 'done' || t.verify_state !== 'rendered' || !t.result || !t.leased_by) return;
    const { resolutionX: w, resolutionY: h } = t.spec.settings;
    const bytes = await this.blobs.read(refHex(t.result.ref as ContentRef));
    const decoded: { ok: true; image: Rgba } | ({ ok: false } & Refusal) = bytes
      ? decodePng(bytes, w, h)
      : { ok: false, reason: 'missing_blob', detail: `${t.result.ref} is not on the hub` };

    if (t.verifies) return this.examineCheck(t, decoded);
    if (!decoded.ok) return this.refuse(t, decoded);
    if (isBlank(decoded.image)) return this.refuse(t, { reason: 'blank', detail: 'the frame is one flat colour' });
    // The same bytes for two frames of one scene at one setting can be honest (a still scene renders
    // every frame alike); the same bytes under another scene or setting cannot.
    const { rows: dup } = await this.db.query<{ id: string }>(
      `select id from tasks where result->>'ref' = $1 and id <> $2 and verifies is null
         and (spec->'job'->>'scene' is distinct from $3 or spec->'settings' <> $4::jsonb) limit 1`,
      [t.result.ref, t.id, t.spec.job!.scene, JSON.stringify(t.spec.settings)],
    );
    if (dup[0]) return this.refuse(t, { reason: 'duplicate', detail: `the same bytes were handed in for task ${dup[0].id}` });

    if (this.random() < this.checkFraction) await this.startCheck(t);
    else await this.decide(t.id, 'rendered', async (tx, orig) => this.accept(tx, orig, 'render'));
  }

  /** Results a crash left unexamined (handed in, never looked at), oldest first. */
  async sweep(olderThanMs = 60_000): Promise<void> {
    const { rows } = await this.db.query<{ id: string }>("select id from tasks where verify_state = 'rendered' and updated_ms < $1 order by updated_ms limit 100", [
      this.clock.now() - olderThanMs,
    ]);
    for (const r of rows) await this.examine(r.id);
  }

  private load(q: Queryable, id: string, lock = false): Promise<Row | null> {
    return q.query<Row>(`select ${COLUMNS} from tasks where id = $1${lock ? ' for update' : ''}`, [id]).then((r) => r.rows[0] ?? null);
  }

  /** Runs `fn` on the task locked, if it is still in `state` (else someone already decided it). */
  private async decide(id: string, state: string, fn: (tx: Queryable, t: Row) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const t = await this.load(tx, id, true);
      if (!t || t.state !== 'done' || t.verify_state !== state) return;
      await fn(tx, t);
    });
  }

  private async startCheck(t: Row): Promise<void> {
    const { resolutionX: W, resolutionY: H } = t.spec.settings;
    const side = Math.sqrt(this.cropArea);
    // At least 8 pixels a side where the frame has them: SSIM's window, and room for the inset.
    const w = Math.min(W, Math.max(Math.min(W, 8), Math.round(W * side)));
    const h = Math.min(H, Math.max(Math.min(H, 8), Math.round(H * side)));
    const x0 = Math.min(W - w, Math.floor(this.random() * (W - w + 1)));
    const y0 = Math.min(H - h, Math.floor(this.random() * (H - h + 1)));
    // Whole pixels as fractions, so Blender's border lands on the pixels compared.
    const region: RenderRegion = { minX: x0 / W, maxX: (x0 + w) / W, minY: y0 / H, maxY: (y0 + h) / H };
    const job = t.spec.job!;
    const area = BigInt(W) * BigInt(H);
    const pay = ((BigInt(job.pay) * BigInt(w) * BigInt(h) + area - 1n) / area).toString();
    const spec: TaskSpec = { kind: 'render', frame: t.spec.frame, settings: t.spec.settings, job: { ...job, pay }, region, verifies: t.id };
    await this.decide(t.id, 'rendered', async (tx, orig) => {
      const [check] = await this.tasks.create([spec], { tx, id: orig.job_id!, verifies: orig.id, excluded: [orig.leased_by!] });
      await tx.query("update tasks set verify_state = 'checking', check_task = $2, updated_ms = $3 where id = $1", [orig.id, check!.id, this.clock.now()]);
    });
  }

  private async examineCheck(check: Row, decoded: { ok: true; image: Rgba } | ({ ok: false } & Refusal)): Promise<void> {
    const orig = await this.load(this.db, check.verifies!);
    // The original was decided some other way meanwhile (its job failed): the check is moot.
    if (!orig || orig.verify_state !== 'checking' || orig.check_task !== check.id || !orig.result) {
      await this.decide(check.id, 'rendered', async (tx) => void (await tx.query("update tasks set verify_state = 'cancelled' where id = $1", [check.id])));
      return;
    }
    if (!decoded.ok) return this.refuseCheck(check, orig, decoded);
    const origBytes = await this.blobs.read(refHex(orig.result.ref as ContentRef));
    const origImage = origBytes ? decodePng(origBytes, orig.spec.settings.resolutionX, orig.spec.settings.resolutionY) : null;
    const { resolutionX: W, resolutionY: H, samples } = check.spec.settings;
    const rect = inset(borderToRect(check.spec.region ?? { minX: 0, minY: 0, maxX: 1, maxY: 1 }, W, H), 1);
    let match: { p: number; s: number } | null = null;
    if (origImage?.ok) match = { p: psnr(origImage.image, decoded.image, rect), s: ssim(origImage.image, decoded.image, rect) };
    const pMin = this.opts.psnrMin ?? psnrFloor(samples);
    const sMin = this.opts.ssimMin ?? SSIM_FLOOR;
    const fmt = (m: { p: number; s: number }) => `PSNR ${Number.isFinite(m.p) ? m.p.toFixed(1) : 'inf'} dB (min ${pMin.toFixed(1)}), SSIM ${m.s.toFixed(3)} (min ${sMin})`;

    await this.decide(check.id, 'rendered', async (tx, c) => {
      const o = await this.load(tx, orig.id, true);
      if (!o || o.verify_state !== 'checking' || o.check_task !== c.id) {
        await tx.query("update tasks set verify_state = 'cancelled' where id = $1", [c.id]);
        return;
      }
      if (match && match.p >= pMin && match.s >= sMin) {
        await this.accept(tx, o, 'render');
        await this.accept(tx, c, 'check');
        return;
      }
      // The check disagrees: the original is refused. The check is not paid for it (this hub
      // cannot tell which of the two is wrong; the frame is rendered and checked again).
      await tx.query("update tasks set verify_state = 'mismatch', updated_ms = $2 where id = $1", [c.id, this.clock.now()]);
      await this.refuseIn(tx, o, { reason: 'check_mismatch', detail: match ? `a re-render of part of the frame differs: ${fmt(match)}` : 'the original result could not be read back' });
    });
  }

  /** Marks a result verified, credits it, and finishes the job if this was its last frame. */
  private async accept(tx: Queryable, t: Row, kind: 'render' | 'check'): Promise<void> {
    const now = this.clock.now();
    await tx.query("update tasks set verify_state = 'verified', updated_ms = $2 where id = $1", [t.id, now]);
    await recordOutcome(tx, t.leased_by!, 'passed');
    await this.credits?.credit(tx, { node: t.leased_by!, kind, taskId: t.id, jobId: t.job_id!, amount: t.spec.job!.pay, device: t.device });
    if (kind === 'render') {
      await tx.query(
        `update jobs set state = 'done', finished_ms = $2 where id = $1 and state = 'running'
           and not exists (select 1 from tasks where job_id = $1 and verifies is null and verify_state is distinct from 'verified')`,
        [t.job_id, now],
      );
    }
  }

  private async refuse(t: Row, r: Refusal): Promise<void> {
    await this.decide(t.id, 'rendered', (tx, locked) => this.refuseIn(tx, locked, r));
  }

  /** Records a refusal against the provider and reopens the frame, or fails it (and its job). */
  private async refuseIn(tx: Queryable, t: Row, r: Refusal): Promise<void> {
    const now = this.clock.now();
    const node = t.leased_by!;
    await this.recordFailure(tx, t.id, t.job_id!, node, r);
    if (Number(t.refusals) + 1 >= MAX_FRAME_REFUSALS) {
      await tx.query("update tasks set verify_state = 'failed', refusals = refusals + 1, check_task = null, updated_ms = $2 where id = $1", [t.id, now]);
      await tx.query("update jobs set state = 'failed', finished_ms = $2 where id = $1 and state = 'running'", [t.job_id, now]);
      // Nothing more of a failed job is handed out; leases out now are revoked at the next heartbeat.
      await tx.query(
        "update tasks set state = 'done', verify_state = 'cancelled', lease_expires_ms = null, updated_ms = $2 where job_id = $1 and state in ('open', 'leased')",
        [t.job_id, now],
      );
      return;
    }
    // Reopened for another node: the refused provider is excluded from this frame.
    await tx.query(
      `update tasks set state = 'open', lease_id = null, leased_by = null, lease_expires_ms = null, progress = null, result = null, device = null,
         verify_state = null, check_task = null, refusals = refusals + 1, excluded = array_append(excluded, $2), updated_ms = $3 where id = $1`,
      [t.id, node, now],
    );
  }

  /** A check's own result refused: recorded on the frame it checks, and the check reopens. */
  private async refuseCheck(check: Row, orig: Row, r: Refusal): Promise<void> {
    await this.decide(check.id, 'rendered', async (tx, c) => {
      await this.recordFailure(tx, orig.id, c.job_id!, c.leased_by!, r);
      await tx.query(
        `update tasks set state = 'open', lease_id = null, leased_by = null, lease_expires_ms = null, progress = null, result = null, device = null,
           verify_state = null, excluded = array_append(excluded, $2), updated_ms = $3 where id = $1`,
        [c.id, c.leased_by, this.clock.now()],
      );
    });
  }

  private async recordFailure(tx: Queryable, frameTask: string, jobId: string, node: string, r: Refusal): Promise<void> {
    await tx.query('insert into verification_failures (task_id, job_id, node, reason, detail, at_ms) values ($1, $2, $3, $4, $5, $6)', [
      frameTask,
      jobId,
      node,
      r.reason,
      r.detail.slice(0, 300),
      this.clock.now(),
    ]);
    await recordOutcome(tx, node, 'failed');
    await tx.query(
      'insert into job_blocks (job_id, node, refusals) values ($1, $2, 1) on conflict (job_id, node) do update set refusals = job_blocks.refusals + 1',
      [jobId, node],
    );
  }
}

