// Work leased from hubs, under the user's rules. When the policy lets a resource (`cpu`, `gpu:N`)
// take new work and nothing of ours waits or runs there, one hub (in the settings' order) is asked
// for one task for that device. The task's scene is downloaded and checked, and the task becomes an
// ordinary supervisor job, so pause, release, drain and the Jobs page work as for any job. While
// the job lives its lease is renewed (every third of the time left) and its progress reported; a
// release by the policy or a failure gives the task back to the hub, a lease the hub took back
// cancels the job, and a finished frame goes to the outbox, which delivers it exactly once.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LeaseRequest,
  LeaseResponse,
  ProgressRequest,
  RenderJobSpec,
  RenderedFrame,
  ReleaseRequest,
  RenewResponse,
  TaskView,
  type ContentRef,
  type Decision,
  type JobDetail,
  type JobList,
  type JobSource,
  type JobSummary,
  type ResultRef,
  type TaskSpec,
} from '../../protocol/index.js';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { DEFAULT_BACKOFF, backoffMs, type BackoffOptions } from './backoff.js';
import { BlobCache, uploadBlob } from './blob-transfer.js';
import type { HubClient } from './hub-client.js';
import { HubRequestError } from './hub-http.js';
import { Outbox, type OutboxEntry, type OutboxTransport } from './outbox.js';

type HubSource = Extract<JobSource, { kind: 'hub' }>;

/** What hub work needs of the job supervisor. */
export interface HubWorkJobs {
  queueHub(req: { title: string; spec: Omit<RenderJobSpec, 'jobId'>; scene: string; source: HubSource; resource: string }): Promise<JobSummary>;
  cancel(id: string): JobSummary | null;
  get(id: string): JobDetail | null;
  list(): JobList;
  busy(resource: string): boolean;
  onJob(listener: (job: JobSummary) => void): () => void;
}

export interface HubWorkTimings {
  /** Between progress reports of one lease. */
  progressEveryMs: number;
  /** Failed lease requests and deliveries back off with this. */
  backoff: BackoffOptions;
  /** After a task that could not be used (no scene, a scene that fails its check), before asking
   * that hub again: a hub handing out only such tasks is not asked in a tight loop. */
  unusableTaskWaitMs: number;
}

export interface HubWorkOptions {
  dataDir: string;
  jobs: HubWorkJobs;
  /** The hubs' clients, in the settings' order. */
  clients(): HubClient[];
  decision(): Decision | null;
  log: Logger;
  now: () => Date;
  /** What the Networks view shows changed (a task taken or ended). */
  onChange?(): void;
  timings?: Partial<HubWorkTimings>;
}

type Phase = 'preparing' | 'running' | 'delivering';

interface Held {
  network: string;
  leaseId: string;
  taskId: string;
  task: TaskSpec | null;
  /** The device it occupies; null once delivering (the device is free for the next task). */
  resource: string | null;
  phase: Phase;
  deadlineMs: number;
  jobId: string | null;
  renewTimer: NodeJS.Timeout | undefined;
  renewFailures: number;
  lastProgressAt: number;
  lastFraction: number | null;
  /** Set once this lease is being let go: nothing more is sent for it but the release. */
  ended: boolean;
}

/** Whatever the hub says, renew at least this often and at most this rarely. */
const MIN_RENEW_MS = 250;
const MAX_RENEW_MS = 10 * 60_000;
const MAX_RETRY_AFTER_MS = 10 * 60_000;
const RELEASE_TRIES = 3;

const isDevice = (resource: string) => resource === 'cpu' || /^gpu:[0-9]{1,3}$/.test(resource);
const mayStart = (rd: Decision['resources'][number]) => rd.newWork && (rd.state === 'running' || rd.state === 'limited');
const codeOf = (err: unknown) => (err instanceof HubRequestError ? err.code : null);
const words = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** Answers that say the lease is no longer this node's. */
const LEASE_GONE = new Set(['lease_not_found', 'lease_expired', 'conflict']);

export class HubWork {
  private readonly held = new Map<string, Held>();
  private readonly notBefore = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly connected = new Set<string>();
  /** Leases of jobs an earlier agent left unfinished: released once their hub answers. */
  private readonly toRelease: Array<{ network: string; leaseId: string; tries: number }> = [];
  private readonly outbox: Outbox;
  private readonly blobs: BlobCache;
  private readonly t: HubWorkTimings;
  private readonly unsubscribe: () => void;
  private started = false;
  private pumping = false;
  private again = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: HubWorkOptions) {
    this.t = { progressEveryMs: 2_000, backoff: DEFAULT_BACKOFF, unusableTaskWaitMs: 5_000, ...o.timings };
    this.blobs = new BlobCache({ dir: join(o.dataDir, 'network', 'blobs'), log: o.log });
    this.outbox = new Outbox({
      dataDir: o.dataDir,
      log: o.log,
      backoff: this.t.backoff,
      now: o.now,
      transport: (network) => this.transport(network),
      onSettled: (entry, outcome) => this.settled(entry, outcome),
    });
    // Before the supervisor can start anything: a hub job an earlier agent left unfinished is not
    // run again here (its lease has lapsed or soon will; the hub gives the task to someone).
    for (const job of o.jobs.list().jobs) {
      if (job.source.kind !== 'hub' || job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled') continue;
      o.jobs.cancel(job.id);
      this.toRelease.push({ network: job.source.network, leaseId: job.source.leaseId, tries: 0 });
      o.log.info('canceled a hub job left from before the restart', { jobId: job.id, hub: job.source.network, taskId: job.source.taskId });
    }
    this.unsubscribe = o.jobs.onJob((j) => this.jobChanged(j));
  }

  /** Starts delivering and leasing, once the agent around it is fully up (its listeners exist). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    // Results waiting for delivery keep their leases alive until the hub has them.
    for (const e of this.outbox.pending()) {
      const h = this.newHeld(e.network, e.leaseId, e.taskId, null, null, 'delivering', 0);
      this.held.set(e.leaseId, h);
      this.scheduleRenew(h, 0);
    }
    // A frame that finished just before the agent went away, but never reached the outbox: it goes
    // now (if its lease has lapsed meanwhile, the hub says so and the entry ends there).
    for (const job of this.o.jobs.list().jobs) {
      if (job.source.kind !== 'hub' || job.state !== 'succeeded' || this.outbox.known(job.id) || this.held.has(job.source.leaseId)) continue;
      const h = this.newHeld(job.source.network, job.source.leaseId, job.source.taskId, null, null, 'running', 0);
      h.jobId = job.id;
      this.held.set(h.leaseId, h);
      this.scheduleRenew(h, 0);
      void this.deliver(h, job);
    }
    this.outbox.start();
    this.poke();
  }

  /** The leases held at one hub, for its heartbeat. */
  leasesFor(network: string): string[] {
    return [...this.held.values()].filter((h) => h.network === network && !h.ended).map((h) => h.leaseId);
  }

  /** Whether work may be taken now: some device may start new work (not off, paused or draining). */
  leasing(): boolean {
    return !this.closed && (this.o.decision()?.resources.some((rd) => isDevice(rd.resource) && mayStart(rd)) ?? false);
  }

  /** The task this node works on for one hub now, for the Networks view. */
  workingAt(network: string): { taskId: string; title: string } | null {
    for (const h of this.held.values()) {
      if (h.network !== network || h.ended || h.phase === 'delivering') continue;
      const title = (h.jobId !== null ? this.o.jobs.get(h.jobId)?.title : null) ?? `task ${h.taskId}`;
      return { taskId: h.taskId, title };
    }
    return null;
  }

  /** Something changed that may allow a lease (a decision, a job ended, a hub connected). */
  poke(): void {
    if (this.closed || !this.started) return;
    setImmediate(() => void this.pump());
  }

  /** A hub client's state changed: when it has just connected, undelivered results go now. */
  clientChanged(client: HubClient): void {
    const network = networkOf(client);
    if (client.connected && !this.connected.has(network)) {
      this.connected.add(network);
      this.outbox.kick(network);
    } else if (!client.connected) {
      this.connected.delete(network);
    }
    this.poke();
  }

  decisionChanged(decision: Decision): void {
    // A job still waiting for its first start when its device is released holds the task for
    // nothing: give it back. One that runs is released by the supervisor (jobChanged sees it).
    for (const h of this.held.values()) {
      if (h.ended || h.phase !== 'running' || h.jobId === null || h.resource === null) continue;
      const rd = decision.resources.find((r) => r.resource === h.resource);
      const job = this.o.jobs.get(h.jobId);
      if (job?.state === 'queued' && job.startedAt === null && (!rd || rd.state === 'released')) void this.letGo(h, 'paused', 'the device was released before the task started');
    }
    this.poke();
  }

  /** The hub answered that it took these leases back: their jobs stop. */
  revoked(network: string, leaseIds: string[]): void {
    for (const id of leaseIds) {
      const h = this.held.get(id);
      if (!h || h.network !== network || h.ended) continue;
      // A result in delivery is not thrown away on a heartbeat's word: complete says for sure.
      if (h.phase === 'delivering') continue;
      this.lost(h, 'the hub took the lease back');
    }
  }

  /** The user removed a hub: its work here stops (its leases lapse; the client is gone). */
  hubRemoved(network: string): void {
    for (const h of [...this.held.values()]) {
      if (h.network === network && !h.ended && h.phase !== 'delivering') this.lost(h, 'the hub was removed from the settings');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearTimeout(this.wakeTimer);
    const releases: Promise<void>[] = [];
    for (const h of this.held.values()) {
      clearTimeout(h.renewTimer);
      // Work in flight goes back to the hub now rather than after its lease runs out.
      if (!h.ended && h.phase !== 'delivering') {
        h.ended = true;
        releases.push(this.sendRelease(h.network, h.leaseId, 'shutdown').then(() => undefined));
      }
    }
    await Promise.race([Promise.all(releases), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.outbox.close();
  }

  // ---- leasing ---------------------------------------------------------------------------------

  private async pump(): Promise<void> {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.releaseLeftovers();
        await this.leaseRound();
      } while (this.again && !this.closed);
    } catch (err) {
      this.o.log.error('leasing hub work failed unexpectedly', { err });
    } finally {
      this.pumping = false;
    }
  }

  private async leaseRound(): Promise<void> {
    const decision = this.o.decision();
    if (!decision) return;
    let wake = Infinity;
    for (const rd of decision.resources) {
      if (this.closed) return;
      if (!isDevice(rd.resource) || !mayStart(rd)) continue;
      if ([...this.held.values()].some((h) => h.resource === rd.resource)) continue;
      if (this.o.jobs.busy(rd.resource)) continue;
      for (const client of this.o.clients()) {
        if (!client.connected) continue;
        const network = networkOf(client);
        const after = this.notBefore.get(network) ?? 0;
        if (after > Date.now()) {
          wake = Math.min(wake, after);
          continue;
        }
        // The decision may have moved on while an earlier hub answered.
        const now = this.o.decision()?.resources.find((r) => r.resource === rd.resource);
        if (!now || !mayStart(now) || this.o.jobs.busy(rd.resource)) break;
        if (await this.leaseFrom(client, rd.resource)) break;
        const next = this.notBefore.get(network) ?? 0;
        if (next > Date.now()) wake = Math.min(wake, next);
      }
    }
    clearTimeout(this.wakeTimer);
    if (wake !== Infinity && !this.closed) {
      this.wakeTimer = setTimeout(() => void this.pump(), Math.max(50, wake - Date.now()));
      this.wakeTimer.unref();
    }
  }

  /** Asks one hub for one task for this device; true when it gave one. */
  private async leaseFrom(client: HubClient, resource: string): Promise<boolean> {
    const network = networkOf(client);
    let answer: LeaseResponse;
    try {
      answer = await client.call('/v1/leases', LeaseRequest.parse({ kinds: ['render'], device: resource }), LeaseResponse, 'lease');
    } catch (err) {
      const n = (this.failures.get(network) ?? 0) + 1;
      this.failures.set(network, n);
      const wait = backoffMs(n, this.t.backoff);
      this.notBefore.set(network, Date.now() + wait);
      this.o.log.info('asking a hub for work failed; backing off', { hub: network, reason: words(err), waitMs: wait });
      return false;
    }
    this.failures.delete(network);
    const lease = answer.lease;
    if (!lease) {
      this.notBefore.set(network, Date.now() + Math.min(MAX_RETRY_AFTER_MS, Math.max(1_000, answer.retryAfterS * 1_000)));
      return false;
    }
    if (this.held.has(lease.leaseId)) {
      this.o.log.warn('a hub handed out a lease this node already holds; ignored', { hub: network, leaseId: lease.leaseId });
      this.notBefore.set(network, Date.now() + this.t.unusableTaskWaitMs);
      return false;
    }
    if (answer.retryAfterS > 0) this.notBefore.set(network, Date.now() + Math.min(MAX_RETRY_AFTER_MS, answer.retryAfterS * 1_000));
    const h = this.newHeld(network, lease.leaseId, lease.taskId, lease.task, resource, 'preparing', this.deadlineOf(lease.deadline));
    this.held.set(h.leaseId, h);
    this.o.onChange?.();
    this.o.log.info('leased a task', { hub: network, taskId: lease.taskId, leaseId: lease.leaseId, device: resource, frame: lease.task.frame });
    this.scheduleRenew(h);
    void this.prepare(h, client).catch((err: unknown) => {
      this.o.log.error('preparing a leased task failed unexpectedly', { hub: network, taskId: h.taskId, err });
      void this.letGo(h, 'error', words(err));
    });
    return true;
  }

  /** Downloads the scene and queues the job; a task that cannot be rendered goes back at once. */
  private async prepare(h: Held, client: HubClient): Promise<void> {
    const task = h.task!;
    const job = task.job;
    if (!job) {
      await this.letGo(h, 'error', 'the task names no scene to render');
      return;
    }
    const spec = RenderJobSpec.safeParse({
      jobId: 'j_hub',
      frames: { start: task.frame, end: task.frame },
      device: h.resource === 'cpu' ? 'CPU' : 'auto',
      samples: task.settings.samples,
      resolution: { width: task.settings.resolutionX, height: task.settings.resolutionY },
      ...(task.region ? { region: task.region } : {}),
      output: { format: 'PNG' },
    });
    if (!spec.success) {
      await this.letGo(h, 'error', `this node cannot render the task (${spec.error.issues[0]?.message ?? 'invalid'})`);
      return;
    }
    let scene: string;
    try {
      scene = await this.blobs.get(client.blobs, job.scene, job.sceneBytes);
    } catch (err) {
      await this.letGo(h, 'error', `the scene could not be downloaded: ${words(err)}`);
      return;
    }
    try {
      if (h.ended || this.closed) return;
      const { jobId: _, ...rest } = spec.data;
      const summary = await this.o.jobs.queueHub({
        title: `${job.id} frame ${task.frame}${task.verifies ? ' (check)' : ''} · ${h.network}`,
        spec: rest,
        scene,
        source: { kind: 'hub', network: h.network, taskId: h.taskId, leaseId: h.leaseId, check: !!task.verifies },
        resource: h.resource!,
      });
      h.jobId = summary.id;
      h.phase = 'running';
      this.o.onChange?.();
    } finally {
      this.blobs.done(job.scene);
    }
    // The device may have been released while the scene came down.
    const decision = this.o.decision();
    if (decision) this.decisionChanged(decision);
  }

  // ---- the job's life --------------------------------------------------------------------------

  private jobChanged(job: JobSummary): void {
    if (this.closed) return;
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled') this.poke();
    if (job.source.kind !== 'hub') return;
    // A hub job never runs again once it ends: its copy of the scene (one per frame) goes at once.
    // The job id comes from the supervisor, which made the folder.
    if (job.state === 'failed' || job.state === 'canceled' || job.state === 'succeeded') void rm(join(this.o.dataDir, 'jobs', job.id, 'scene.blend'), { force: true });
    const h = this.held.get(job.source.leaseId);
    if (!h || h.ended || h.jobId !== job.id) return;
    switch (job.state) {
      case 'queued':
        if (job.reason?.code === 'released') void this.letGo(h, 'paused', 'the policy released the device');
        break;
      case 'starting':
      case 'running':
      case 'paused':
        if (job.progress) this.reportProgress(h, job.progress.fraction);
        break;
      case 'succeeded':
        void this.deliver(h, job);
        break;
      case 'failed':
        void this.letGo(h, 'error', job.failure?.text ?? 'the render failed');
        break;
      case 'canceled':
        // Canceled here by the user: the task goes back to the hub for someone else.
        void this.letGo(h, 'other', 'canceled on this machine');
        break;
    }
  }

  private async deliver(h: Held, job: JobSummary): Promise<void> {
    if (h.phase === 'delivering') return;
    const frame = job.result?.frames[0];
    const file = frame && RenderedFrame.shape.file.safeParse(frame.file).success ? frame.file : null;
    if (!file) {
      await this.letGo(h, 'error', 'the render left no frame');
      return;
    }
    h.phase = 'delivering';
    h.resource = null;
    this.o.onChange?.();
    this.poke();
    try {
      await this.outbox.add({ id: job.id, network: h.network, leaseId: h.leaseId, taskId: h.taskId }, join(this.o.dataDir, 'jobs', job.id, 'frames', file));
    } catch (err) {
      if (this.closed) return;
      this.o.log.error('could not put a result in the outbox', { jobId: job.id, err });
      await this.letGo(h, 'error', `the result could not be kept: ${words(err)}`);
    }
  }

  private settled(entry: OutboxEntry, outcome: 'delivered' | 'dropped'): void {
    const h = this.held.get(entry.leaseId);
    if (h) this.drop(h);
    // A delivered result may already be verified and credited: talk to the hub now (heartbeat, then
    // the payment sync) instead of at the next period, so its voucher shows up within seconds.
    if (outcome === 'delivered') this.clientFor(entry.network)?.nudge();
    this.poke();
  }

  private reportProgress(h: Held, fraction: number): void {
    const t = Date.now();
    if (t - h.lastProgressAt < this.t.progressEveryMs || fraction === h.lastFraction) return;
    const client = this.clientFor(h.network);
    if (!client?.connected) return;
    h.lastProgressAt = t;
    h.lastFraction = fraction;
    const body = ProgressRequest.parse({ fraction: Math.min(1, Math.max(0, fraction)) });
    void client.call(`/v1/leases/${h.leaseId}/progress`, body, RenewResponse, 'progress').then(
      (r) => {
        if (r.leaseId === h.leaseId && !h.ended) h.deadlineMs = this.deadlineOf(r.deadline);
      },
      (err: unknown) => {
        if (LEASE_GONE.has(codeOf(err) ?? '')) this.lost(h, words(err));
      },
    );
  }

  // ---- the lease -------------------------------------------------------------------------------

  private scheduleRenew(h: Held, inMs?: number): void {
    clearTimeout(h.renewTimer);
    if (h.ended || this.closed) return;
    const ms = inMs ?? Math.min(MAX_RENEW_MS, Math.max(MIN_RENEW_MS, (h.deadlineMs - Date.now()) / 3));
    h.renewTimer = setTimeout(() => void this.renew(h), ms);
    h.renewTimer.unref();
  }

  private async renew(h: Held): Promise<void> {
    if (h.ended || this.closed) return;
    const client = this.clientFor(h.network);
    try {
      if (!client) throw new HubRequestError('unreachable', 'the hub was removed from the settings');
      const r = await client.call(`/v1/leases/${h.leaseId}/renew`, {}, RenewResponse, 'renew');
      if (r.leaseId !== h.leaseId) throw new HubRequestError('invalid', 'the hub renewed another lease');
      h.deadlineMs = this.deadlineOf(r.deadline);
      h.renewFailures = 0;
      this.scheduleRenew(h);
    } catch (err) {
      if (h.ended) return;
      if (LEASE_GONE.has(codeOf(err) ?? '')) {
        // A result in delivery learns the same from complete, and drops itself there.
        if (h.phase === 'delivering') return;
        this.lost(h, words(err));
        return;
      }
      h.renewFailures++;
      // Sooner than usual while the lease still has time (the hub may be back in a moment); once
      // it has run out, only as often as the backoff says.
      const left = h.deadlineMs - Date.now();
      const wait = backoffMs(h.renewFailures, this.t.backoff);
      this.scheduleRenew(h, left > 0 ? Math.min(wait, Math.max(MIN_RENEW_MS, left / 3)) : wait);
    }
  }

  /** The hub no longer counts this lease as ours: stop the job, keep nothing. */
  private lost(h: Held, why: string): void {
    if (h.ended) return;
    this.o.log.info('a lease was lost; its job stops', { hub: h.network, taskId: h.taskId, leaseId: h.leaseId, reason: why });
    this.drop(h);
    if (h.jobId) this.o.jobs.cancel(h.jobId);
    this.poke();
  }

  /** Gives the task back to the hub (best effort: unanswered, the lease lapses) and stops the job. */
  private async letGo(h: Held, reason: ReleaseRequest['reason'], why: string): Promise<void> {
    if (h.ended) return;
    this.o.log.info('giving a task back to its hub', { hub: h.network, taskId: h.taskId, leaseId: h.leaseId, reason, why });
    this.drop(h);
    if (h.jobId) this.o.jobs.cancel(h.jobId);
    if (reason === 'error') this.notBefore.set(h.network, Math.max(this.notBefore.get(h.network) ?? 0, Date.now() + this.t.unusableTaskWaitMs));
    await this.sendRelease(h.network, h.leaseId, reason);
    this.poke();
  }

  private async sendRelease(network: string, leaseId: string, reason: ReleaseRequest['reason']): Promise<'done' | 'retry'> {
    const client = this.clientFor(network);
    if (!client?.connected) return 'retry';
    try {
      await client.call(`/v1/leases/${leaseId}/release`, ReleaseRequest.parse({ reason }), AnyObject, 'release');
      return 'done';
    } catch (err) {
      // Any refusal means the hub has no live lease of ours to give back.
      if (err instanceof HubRequestError && err.kind === 'http') return 'done';
      this.o.log.info('could not release a lease; it lapses on its own', { hub: network, leaseId, reason: words(err) });
      return 'retry';
    }
  }

  private async releaseLeftovers(): Promise<void> {
    for (const r of [...this.toRelease]) {
      if (!this.clientFor(r.network)?.connected) continue;
      r.tries++;
      const outcome = await this.sendRelease(r.network, r.leaseId, 'shutdown');
      if (outcome === 'done' || r.tries >= RELEASE_TRIES) this.toRelease.splice(this.toRelease.indexOf(r), 1);
    }
  }

  private drop(h: Held): void {
    h.ended = true;
    clearTimeout(h.renewTimer);
    if (this.held.get(h.leaseId) === h) this.held.delete(h.leaseId);
    if (!this.closed) this.o.onChange?.();
  }

  private newHeld(network: string, leaseId: string, taskId: string, task: TaskSpec | null, resource: string | null, phase: Phase, deadlineMs: number): Held {
    return { network, leaseId, taskId, task, resource, phase, deadlineMs, jobId: null, renewTimer: undefined, renewFailures: 0, lastProgressAt: 0, lastFraction: null, ended: false };
  }

  /** The hub's deadline on this clock, kept within sane bounds (a hostile or skewed hub). */
  private deadlineOf(iso: string): number {
    const left = Date.parse(iso) - this.o.now().getTime();
    return Date.now() + Math.min(60 * 60_000, Math.max(1_000, Number.isFinite(left) ? left : 1_000));
  }

  private clientFor(network: string): HubClient | undefined {
    return this.o.clients().find((c) => networkOf(c) === network);
  }

  private transport(network: string): OutboxTransport | null {
    const client = this.clientFor(network);
    if (!client?.connected) return null;
    return {
      uploadBlob: (file: string, ref: ContentRef, bytes: number) => uploadBlob(client.blobs, file, ref, bytes),
      complete: async (leaseId: string, result: ResultRef) => {
        const view = await client.call(`/v1/leases/${leaseId}/complete`, { result }, CompleteAnswer, 'complete');
        if (view.result && (view.result.ref !== result.ref || view.result.bytes !== result.bytes)) {
          throw new HubRequestError('http', 'the hub kept another result for this lease', 409, 'conflict');
        }
      },
    };
  }
}

/** Nothing of a release's answer is used: any JSON object will do. */
const AnyObject = z.object({}).passthrough();

/** Complete answers with the task; only its result matters here, so newer fields do not break it. */
const CompleteAnswer = z.object({ result: TaskView.shape.result }).passthrough();

const networkOf = (client: HubClient): string => new URL(client.origin).host;
