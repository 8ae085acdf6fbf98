// The job supervisor: the agent's WorkExecutor. It keeps the local queue (journaled, so a restart
// picks up what was running), runs one job per resource in its own worker process, and carries out
// every decision at once: a pause stops the engine's process group (SIGSTOP), a release kills the
// engine and puts the job back in the queue with its finished frames, and no new work starts unless
// the decision allows it. Crashed workers are retried with backoff; silent ones are killed.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeviceId as DeviceIdSchema } from '../../protocol/index.js';
import type {
  Decision,
  DeviceId,
  DeviceBenchmark,
  EngineEnvironment,
  GpuHint,
  JobKind,
  QueueBenchmark,
  RenderEngineInfo,
  JobDetail,
  JobList,
  JobSource,
  JobSummary,
  QueueRenderJob,
  Reason,
  RenderFailure,
  RenderFailureCode,
  RenderJobSpec,
  RenderResult,
  ResourceDecision,
  WorkerToAgent,
} from '../../protocol/index.js';
import { DATA_FILES } from '../../protocol/index.js';
import { Journal, readJournal } from '../journal.js';
import type { Logger } from '../logger.js';
import type { WorkExecutor } from '../policy/executor.js';
import { JobRecord, replayJobs, type JobJournalEntry } from './job-record.js';
import { PidRegistry, groupMembers } from './pid-registry.js';
import { jobDirOf, prepareBenchmarkJob, prepareHubJob, prepareLocalJob } from './queue-request.js';
import { BenchmarkStore } from './benchmark-store.js';
import type { WorkerConnection, WorkerStarter } from './worker-starter.js';

export interface SupervisorOptions {
  dataDir: string;
  starter: WorkerStarter;
  log: Logger;
  now?: () => Date;
  /** The Blender the user set (read at each job start); null: the worker looks for it. */
  blender?: () => string | null;
  /** The GPUs the sensors found, for jobs whose device is `auto`. */
  gpus?: () => GpuHint[];
  heartbeatMs?: number;
  /** Pongs a worker may miss before it counts as hung. */
  missedPongs?: number;
  /** Running time (pauses not counted) after which a job fails. */
  jobTimeoutMs?: number;
  /** Runs that crash before the job fails. */
  maxAttempts?: number;
  /** First retry delay; doubles with each crash. */
  backoffMs?: number;
  /** Between asking a worker to cancel and killing it (the worker gives its engine less). */
  cancelGraceMs?: number;
  /** Meters each run's electricity on its device and books it (the energy service). */
  energy?: RunMeter | null;
}

/** What the supervisor tells the energy service: a run started and ended on a device. */
export interface RunMeter {
  runStarted(jobId: string, device: DeviceId): void;
  runEnded(run: { jobId: string; title: string | null; device: DeviceId; succeeded: boolean; local: boolean; benchmark: boolean; network?: string | null }): unknown;
}

type Stop = 'release' | 'cancel' | 'timeout' | 'shutdown';

interface Spare {
  conn: WorkerConnection;
  exited: boolean;
}

interface ActiveRun {
  job: JobRecord;
  resource: string;
  conn: WorkerConnection | null;
  enginePid: number | undefined;
  stopping: Stop | null;
  paused: boolean;
  ended: boolean;
  seq: number;
  lastPongAt: number;
  lastTick: number;
  activeMs: number;
  /** Why the agent killed the worker itself (a hang), for the failure it leaves. */
  killedBecause: string | null;
  killTimer: NodeJS.Timeout | undefined;
  /** The device whose meter this run opened. */
  metered: DeviceId | null;
}

/** Failures of the machinery rather than the scene: worth another try. */
const RETRYABLE: ReadonlySet<RenderFailureCode> = new Set(['crash', 'engine_exit', 'spawn_failed']);
const FINAL = new Set(['succeeded', 'failed', 'canceled']);

export class JobSupervisor implements WorkExecutor {
  private readonly jobs: Map<string, JobRecord>;
  private readonly journal: Journal<JobJournalEntry>;
  private readonly registry: PidRegistry;
  private readonly active = new Map<string, ActiveRun>();
  private readonly jobListeners = new Set<(job: JobSummary) => void>();
  private readonly removedListeners = new Set<(id: string) => void>();
  private readonly consoleListeners = new Set<(jobId: string, data: string) => void>();
  private readonly progressTimers = new Map<string, NodeJS.Timeout>();
  private decision: Decision | null = null;
  private heartbeat: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private pidCache: { at: number; pids: Set<number> } | null = null;
  /** What the last worker found (Blender, sandbox), handed to the next so it need not look again. */
  private environment: EngineEnvironment | null = null;
  private spare: Promise<Spare | null> | null = null;
  private readonly sparesTaken = new WeakSet<Promise<Spare | null>>();
  private readonly benchmarks: BenchmarkStore;
  private readonly o: Required<SupervisorOptions>;

  constructor(opts: SupervisorOptions) {
    this.o = {
      now: () => new Date(),
      blender: () => null,
      gpus: () => [],
      energy: null,
      heartbeatMs: 2_000,
      missedPongs: 3,
      jobTimeoutMs: 24 * 3_600_000,
      maxAttempts: 3,
      backoffMs: 2_000,
      cancelGraceMs: 5_000,
      ...opts,
    };
    this.benchmarks = new BenchmarkStore(join(opts.dataDir, DATA_FILES.renderBenchmarks), opts.log);
    this.registry = new PidRegistry(opts.dataDir);
    const { killed } = this.registry.reap();
    if (killed.length > 0) opts.log.warn('killed processes a previous agent left running', { killed });
    this.journal = new Journal<JobJournalEntry>(join(opts.dataDir, DATA_FILES.historyDir, 'jobs.jsonl'), this.o.now);
    if (this.journal.recovered.damagedLines.length > 0) opts.log.error('damaged lines in the jobs journal were skipped', { lines: this.journal.recovered.damagedLines });
    this.jobs = replayJobs(readJournal<JobJournalEntry>(this.journal.path).entries.map((e) => e.data));
    for (const job of this.jobs.values()) {
      if (job.reason?.code === 'agent_restarted') this.record(job);
    }
    this.heartbeat = setInterval(() => this.tick(), this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  // ---- WorkExecutor ----------------------------------------------------------------------------

  applyDecision(decision: Decision): void {
    this.decision = decision;
    for (const run of this.active.values()) this.applyTo(run);
    // Starting work is not urgent, and must not run inside the policy engine's call.
    setImmediate(() => this.schedule());
  }

  activeWork(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.active.keys()) out[r] = 1;
    return out;
  }

  ownPids(): ReadonlySet<number> {
    const t = Date.now();
    if (this.pidCache && t - this.pidCache.at < 1_000) return this.pidCache.pids;
    const pids = new Set<number>();
    for (const run of this.active.values()) {
      if (run.conn) pids.add(run.conn.pid);
      if (run.enginePid !== undefined) for (const p of [run.enginePid, ...groupMembers(run.enginePid)]) pids.add(p);
    }
    this.pidCache = { at: t, pids };
    return pids;
  }

  // ---- the Jobs API ----------------------------------------------------------------------------

  list(): JobList {
    return { jobs: [...this.jobs.values()].reverse().map((j) => j.summary()) };
  }

  get(id: string): JobDetail | null {
    return this.jobs.get(id)?.detail() ?? null;
  }

  consoleReplay(id: string): string | null {
    return this.jobs.get(id)?.console.text() ?? null;
  }

  async queue(req: QueueRenderJob): Promise<JobSummary> {
    return this.enqueue('render', await prepareLocalJob(this.o.dataDir, req));
  }

  async queueBenchmark(req: QueueBenchmark): Promise<JobSummary> {
    return this.enqueue('benchmark', await prepareBenchmarkJob(this.o.dataDir, req));
  }

  /**
   * A task leased from a hub, its scene already on disk: queued on the resource it was leased for,
   * under the same rules as any job.
   */
  async queueHub(req: { title: string; spec: Omit<RenderJobSpec, 'jobId'>; scene: string; source: Extract<JobSource, { kind: 'hub' }>; resource: string }): Promise<JobSummary> {
    const prepared = await prepareHubJob(this.o.dataDir, req);
    return this.enqueue('render', prepared, req.source, req.resource);
  }

  /** Whether a job waits or runs on this resource (a hub lease is only taken for an idle one). */
  busy(resource: string): boolean {
    for (const j of this.jobs.values()) if (!FINAL.has(j.state) && this.resourceOf(j) === resource) return true;
    return false;
  }

  /** Which Blender renders here, its sandbox, and each device's benchmark. */
  engineInfo(): RenderEngineInfo {
    return { blenderSetting: this.o.blender(), environment: this.environment, benchmarks: this.benchmarks.list() };
  }

  private enqueue(kind: JobKind, prepared: { id: string; title: string; spec: JobRecord['spec'] }, source: JobSource = { kind: 'local' }, resource: string | null = null): JobSummary {
    const job = new JobRecord(prepared.id, prepared.title, prepared.spec, this.o.now().toISOString(), kind, source, resource);
    this.journal.append({
      type: 'queued',
      id: job.id,
      title: job.title,
      spec: job.spec,
      createdAt: job.createdAt,
      ...(kind === 'render' ? {} : { kind }),
      ...(source.kind === 'local' ? {} : { source }),
      ...(resource === null ? {} : { resource }),
    });
    this.jobs.set(job.id, job);
    job.reason = { code: 'waiting', text: 'Waiting for the policy to allow work.' };
    this.o.log.info('job queued', { jobId: job.id, title: job.title, frames: job.spec.frames });
    this.emit(job);
    setImmediate(() => this.schedule());
    return job.summary();
  }

  cancel(id: string): JobSummary | null {
    const job = this.jobs.get(id);
    if (!job) return null;
    if (FINAL.has(job.state)) return job.summary();
    const run = [...this.active.values()].find((r) => r.job === job);
    if (!run) {
      this.setState(job, 'canceled', { code: 'canceled', text: 'Canceled.' });
      return job.summary();
    }
    this.stopRun(run, 'cancel');
    return job.summary();
  }

  /**
   * Deletes a finished job and its folder (scene copy, frames, temp files). A job that may still
   * run is refused: cancel it first. The journal records the removal, so it stays gone.
   */
  async remove(id: string): Promise<'removed' | 'not_found' | 'active'> {
    const job = this.jobs.get(id);
    if (!job) return 'not_found';
    if (!FINAL.has(job.state)) return 'active';
    this.journal.append({ type: 'removed', id });
    this.jobs.delete(id);
    // The id passed the job-id pattern at the API, and the folder is the agent's own.
    await rm(jobDirOf(this.o.dataDir, id), { recursive: true, force: true });
    this.o.log.info('job deleted', { jobId: id });
    for (const l of this.removedListeners) l(id);
    return 'removed';
  }

  onJobRemoved(listener: (id: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  onJob(listener: (job: JobSummary) => void): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  onConsole(listener: (jobId: string, data: string) => void): () => void {
    this.consoleListeners.add(listener);
    return () => this.consoleListeners.delete(listener);
  }

  /** Agent shutdown: kill everything now. The journal still says "running", so the next start
   * queues those jobs again with their finished frames. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    for (const t of this.progressTimers.values()) clearTimeout(t);
    this.keepSpare(false);
    const waits: Promise<void>[] = [];
    for (const run of this.active.values()) {
      run.stopping = 'shutdown';
      waits.push(this.killTree(run));
    }
    await Promise.all(waits);
    this.journal.close();
  }

  // ---- running ---------------------------------------------------------------------------------

  private resourceOf(job: JobRecord): string {
    if (job.resource !== null) return job.resource;
    const gpu = this.decision?.resources.find((r) => r.resource.startsWith('gpu'))?.resource;
    if (job.spec.device === 'CPU') return 'cpu';
    // `auto` renders on a GPU when the sensors found one (the worker picks its backend), else the CPU.
    if (job.spec.device === 'auto') return gpu !== undefined && this.o.gpus().length > 0 ? gpu : 'cpu';
    return gpu ?? 'gpu';
  }

  private resourceDecision(resource: string): ResourceDecision | undefined {
    return this.decision?.resources.find((r) => r.resource === resource);
  }

  /**
   * A worker forked ahead of time while the policy allows new work, so a job starts without waiting
   * for a Node process to boot (~0.1 s, most of the fixed cost of a short job). It idles without
   * CPU; it goes as soon as nothing may start (a game, the user back), so it never sits beside a
   * game.
   */
  private keepSpare(wanted: boolean): void {
    if (!wanted || this.closed) {
      const spare = this.spare;
      this.spare = null;
      void spare?.then((c) => this.dropSpare(c));
      return;
    }
    if (this.spare) return;
    const pending: Promise<Spare | null> = this.o.starter.start('spare').then(
      (conn) => {
        const spare: Spare = { conn, exited: false };
        this.registry.add({ pid: conn.pid, kind: 'worker', jobId: 'spare' });
        this.pidCache = null;
        conn.onExit(() => {
          spare.exited = true;
          this.registry.remove(conn.pid);
          if (this.spare === pending) this.spare = null;
        });
        // Dropped (or the agent closed) while it started; one taken for a job is the job's now.
        if (this.spare !== pending && !this.sparesTaken.has(pending)) this.dropSpare(spare);
        return spare;
      },
      (err: unknown) => {
        if (this.spare === pending) this.spare = null;
        this.o.log.warn('could not fork a spare worker', { err });
        return null;
      },
    );
    this.spare = pending;
  }

  private async takeSpare(): Promise<WorkerConnection | null> {
    const pending = this.spare;
    if (!pending) return null;
    this.spare = null;
    this.sparesTaken.add(pending);
    const spare = await pending;
    if (!spare || spare.exited) return null;
    this.registry.remove(spare.conn.pid);
    return spare.conn;
  }

  private dropSpare(spare: Spare | null): void {
    if (!spare || spare.exited) return;
    spare.conn.kill();
    this.registry.remove(spare.conn.pid);
    this.pidCache = null;
  }

  private schedule(): void {
    if (this.closed || !this.decision) return;
    // Forked only while nothing runs: booting Node takes CPU from an engine that is starting up.
    // The next spare comes when this run ends (end() schedules again).
    const mayStart = this.decision.resources.some((rd) => rd.newWork && (rd.state === 'running' || rd.state === 'limited'));
    if (!mayStart || this.active.size === 0) this.keepSpare(mayStart);
    const t = Date.now();
    let wake = Infinity;
    for (const rd of this.decision.resources) {
      if (this.active.has(rd.resource)) continue;
      if (!rd.newWork || (rd.state !== 'running' && rd.state !== 'limited')) continue;
      const candidates = [...this.jobs.values()].filter((j) => j.state === 'queued' && this.resourceOf(j) === rd.resource);
      const ready = candidates.find((j) => j.notBefore <= t);
      for (const j of candidates) if (j.notBefore > t) wake = Math.min(wake, j.notBefore);
      if (ready) void this.run(ready, rd);
    }
    clearTimeout(this.retryTimer);
    if (wake !== Infinity) {
      this.retryTimer = setTimeout(() => this.schedule(), Math.max(10, wake - t));
      this.retryTimer.unref();
    }
  }

  private async run(job: JobRecord, rd: ResourceDecision): Promise<void> {
    const run: ActiveRun = {
      job,
      resource: rd.resource,
      conn: null,
      enginePid: undefined,
      stopping: null,
      paused: false,
      ended: false,
      seq: 0,
      lastPongAt: Date.now(),
      lastTick: Date.now(),
      activeMs: 0,
      killedBecause: null,
      killTimer: undefined,
      metered: null,
    };
    this.active.set(rd.resource, run);
    job.attempts++;
    job.startedAt ??= this.o.now().toISOString();
    job.failure = null;
    this.setState(job, 'starting', null);
    let conn: WorkerConnection;
    try {
      conn = (await this.takeSpare()) ?? (await this.o.starter.start(job.id));
    } catch (err) {
      this.end(run, { kind: 'crash', failure: { code: 'spawn_failed', text: `The render worker could not be started: ${err instanceof Error ? err.message : String(err)}` } });
      return;
    }
    run.conn = conn;
    run.lastPongAt = Date.now();
    this.registry.add({ pid: conn.pid, kind: 'worker', jobId: job.id });
    conn.onMessage((m) => this.onMessage(run, m));
    conn.onInvalid((issue) => this.o.log.warn('invalid message from a worker', { jobId: job.id, issue }));
    conn.onExit((code, signal) => {
      const how = signal ?? `exit code ${code ?? 'unknown'}`;
      this.end(run, { kind: 'crash', failure: { code: 'crash', text: run.killedBecause ?? `The render worker stopped unexpectedly (${how}).` } });
    });
    if (this.closed || run.stopping === 'cancel' || run.stopping === 'shutdown') {
      void this.killTree(run);
      return;
    }
    const limit = this.resourceDecision(rd.resource)?.limits?.cpuCores;
    const spec = limit && run.resource === 'cpu' ? { ...job.spec, threads: Math.min(job.spec.threads ?? limit, limit) } : job.spec;
    conn.send({
      type: 'start',
      spec,
      jobDir: jobDirOf(this.o.dataDir, job.id),
      scene: 'scene.blend',
      blender: this.o.blender(),
      known: this.environment,
      gpus: this.o.gpus(),
      framesDone: [...job.framesDone].sort((a, b) => a - b),
      buildScene: job.kind === 'benchmark' ? 'benchmark' : null,
    });
    if (run.stopping === 'release') conn.send({ type: 'release' });
  }

  private onMessage(run: ActiveRun, m: WorkerToAgent): void {
    if (run.ended) return;
    const job = run.job;
    switch (m.type) {
      case 'hello':
        break;
      case 'pong':
        run.lastPongAt = Date.now();
        break;
      case 'environment':
        this.environment = m.environment;
        this.o.log.info('render engine found', { blender: m.environment.blender.path, version: m.environment.blender.version, sandbox: m.environment.sandbox.kind, note: m.environment.sandbox.note });
        break;
      case 'engine':
        run.enginePid = m.pid;
        this.pidCache = null;
        this.registry.add({ pid: m.pid, kind: 'engine', jobId: job.id });
        job.device = m.device;
        // The meter runs from the engine's start to the run's end; a pause draws idle, which the
        // meter does not bill (it bills power above the device's idle draw).
        if (run.metered === null && this.o.energy && DeviceIdSchema.safeParse(run.resource).success) {
          run.metered = run.resource as DeviceId;
          this.o.energy.runStarted(job.id, run.metered);
        }
        if (job.state === 'starting') this.setState(job, 'running', null);
        this.applyTo(run);
        break;
      case 'progress':
        job.progress = m.progress;
        this.emitSoon(job);
        break;
      case 'console':
        job.console.push(m.data);
        for (const l of this.consoleListeners) l(job.id, m.data);
        break;
      case 'frame-done':
        this.addFrame(job, m.frame);
        break;
      case 'finished':
        this.end(run, { kind: 'finished', result: m.result, released: m.released });
        break;
      case 'failed-to-start':
        this.end(run, { kind: RETRYABLE.has(m.failure.code) ? 'crash' : 'failed', failure: m.failure });
        break;
    }
  }

  /** The decision for this run's resource, carried out on its engine. */
  private applyTo(run: ActiveRun): void {
    if (run.ended || run.stopping) return;
    const rd = this.resourceDecision(run.resource);
    const state = rd?.state ?? 'paused';
    const reason = rd?.reasons[0] ?? { code: 'no_decision', text: 'Paused: no decision yet.' };
    if (state === 'released') {
      this.stopRun(run, 'release');
      return;
    }
    if (run.enginePid === undefined) return;
    if (state === 'paused' && !run.paused) {
      signalGroup(run.enginePid, 'SIGSTOP');
      run.paused = true;
      this.setState(run.job, 'paused', reason);
    } else if (state !== 'paused' && run.paused) {
      signalGroup(run.enginePid, 'SIGCONT');
      run.paused = false;
      this.setState(run.job, 'running', null);
    }
  }

  private stopRun(run: ActiveRun, why: Stop): void {
    if (run.ended) return;
    if (run.stopping === 'cancel' || run.stopping === 'timeout' || run.stopping === why) return;
    run.stopping = why;
    // The worker kills the engine group (a stopped engine dies of SIGKILL as well); if the worker
    // does not answer in time, the agent kills the whole tree itself.
    run.conn?.send({ type: why === 'release' ? 'release' : 'cancel' });
    clearTimeout(run.killTimer);
    run.killTimer = setTimeout(() => void this.killTree(run), this.o.cancelGraceMs);
    run.killTimer.unref();
  }

  private async killTree(run: ActiveRun): Promise<void> {
    if (run.enginePid !== undefined) signalGroup(run.enginePid, 'SIGKILL');
    run.conn?.kill();
    if (run.enginePid !== undefined) await waitGroupGone(run.enginePid);
  }

  private tick(): void {
    const t = Date.now();
    for (const run of this.active.values()) {
      const gap = t - run.lastTick;
      run.lastTick = t;
      // A tick far later than asked for means this process (or the machine) was asleep: the
      // worker could not have answered either, so that is not a hang.
      if (gap > this.o.heartbeatMs * 2) run.lastPongAt = t;
      if (run.job.state === 'running') run.activeMs += Math.min(gap, this.o.heartbeatMs * 2);
      if (!run.conn || run.ended) continue;
      if (t - run.lastPongAt > this.o.heartbeatMs * this.o.missedPongs + 1_000) {
        run.killedBecause = `The render worker stopped answering (no reply to ${this.o.missedPongs} heartbeats); it was stopped.`;
        this.o.log.warn('a worker stopped answering; killing it', { jobId: run.job.id, pid: run.conn.pid });
        void this.killTree(run);
        continue;
      }
      if (run.activeMs > this.o.jobTimeoutMs && !run.stopping) {
        this.stopRun(run, 'timeout');
        continue;
      }
      run.conn.send({ type: 'ping', seq: ++run.seq });
    }
  }

  private end(
    run: ActiveRun,
    how: { kind: 'finished'; result: RenderResult; released: boolean } | { kind: 'crash' | 'failed'; failure: RenderFailure },
  ): void {
    if (run.ended) return;
    run.ended = true;
    clearTimeout(run.killTimer);
    if (this.active.get(run.resource) === run) this.active.delete(run.resource);
    this.pidCache = null;
    const job = run.job;
    const enginePid = run.enginePid;
    // Whatever the worker left behind of its engine goes too (a worker killed with -9 cannot).
    if (enginePid !== undefined) signalGroup(enginePid, 'SIGKILL');
    run.conn?.kill();
    if (run.conn) this.registry.remove(run.conn.pid);
    if (enginePid !== undefined) void waitGroupGone(enginePid).then(() => this.registry.remove(enginePid));
    if (how.kind === 'finished') for (const f of how.result.frames) this.addFrame(job, f.frame);
    if (run.metered !== null) {
      const succeeded = how.kind === 'finished' && how.result.outcome === 'succeeded' && run.stopping === null;
      try {
        this.o.energy?.runEnded({
          jobId: job.id,
          title: job.title,
          device: run.metered,
          succeeded,
          local: job.source.kind === 'local',
          benchmark: job.kind === 'benchmark',
          network: job.source.kind === 'hub' ? job.source.network : null,
        });
      } catch (err) {
        this.o.log.error('could not book the energy of a run', { jobId: job.id, err });
      }
    }

    if (run.stopping === 'shutdown' || this.closed) return;
    if (run.stopping === 'cancel') {
      this.setState(job, 'canceled', { code: 'canceled', text: 'Canceled.' });
    } else if (run.stopping === 'timeout') {
      this.fail(job, { code: 'aborted', text: `The job ran longer than its limit (${Math.round(this.o.jobTimeoutMs / 1000)} s) and was stopped.` });
    } else if (run.stopping === 'release' || (how.kind === 'finished' && how.released)) {
      const reason = this.resourceDecision(run.resource)?.reasons[0];
      job.progress = null;
      this.setState(job, 'queued', { code: 'released', text: `Released: ${reason?.text ?? 'the policy stopped it'}. It continues from frame ${this.nextFrame(job)} later.` });
    } else if (how.kind === 'finished' && how.result.outcome === 'succeeded') {
      job.result = how.result;
      job.crashes = 0;
      if (job.kind === 'benchmark') this.keepBenchmark(job, how.result);
      if (job.progress) job.progress = { ...job.progress, fraction: 1, framesDone: job.progress.framesTotal, remainingS: 0 };
      this.setState(job, 'succeeded', null, { result: how.result });
    } else {
      const failure = how.kind === 'finished' ? (how.result.failure ?? { code: 'engine_exit', text: 'The render failed.' }) : how.failure;
      if (how.kind === 'finished') job.result = how.result;
      if (how.kind === 'failed' || !RETRYABLE.has(failure.code)) this.fail(job, failure, how.kind === 'finished' ? how.result : null);
      else this.retryOrFail(job, failure);
    }
    this.schedule();
  }

  private keepBenchmark(job: JobRecord, result: RenderResult): void {
    const frame = result.frames[0];
    if (!result.speed || !frame || job.spec.samples === undefined) {
      this.o.log.warn('a benchmark finished without a speed figure', { jobId: job.id });
      return;
    }
    const entry: DeviceBenchmark = {
      device: result.device,
      samplesPerSecond: result.speed.samplesPerSecond,
      renderS: result.speed.renderS,
      width: frame.width,
      height: frame.height,
      samples: job.spec.samples,
      blender: this.environment?.blender.version ?? 'unknown',
      jobId: job.id,
      at: this.o.now().toISOString(),
    };
    this.benchmarks.put(entry);
    this.o.log.info('benchmark kept', { device: entry.device, samplesPerSecond: entry.samplesPerSecond });
  }

  private retryOrFail(job: JobRecord, failure: RenderFailure): void {
    job.crashes++;
    if (job.crashes >= this.o.maxAttempts) {
      this.fail(job, { ...failure, text: `${failure.text} Gave up after ${job.crashes} attempts.${tailText(job)}` });
      return;
    }
    const delay = this.o.backoffMs * 2 ** (job.crashes - 1);
    job.notBefore = Date.now() + delay;
    job.failure = failure;
    this.o.log.warn('a render run crashed; retrying', { jobId: job.id, failure, inMs: delay });
    this.setState(job, 'queued', { code: 'retrying', text: `${failure.text} Retrying in ${Math.ceil(delay / 1000)} s (attempt ${job.crashes + 1} of ${this.o.maxAttempts}).` }, { failure });
  }

  private fail(job: JobRecord, failure: RenderFailure, result: RenderResult | null = null): void {
    job.failure = failure;
    this.setState(job, 'failed', { code: failure.code, text: failure.text }, { failure, result });
  }

  private nextFrame(job: JobRecord): number {
    for (let f = job.spec.frames.start; f <= job.spec.frames.end; f++) if (!job.framesDone.has(f)) return f;
    return job.spec.frames.end;
  }

  private addFrame(job: JobRecord, frame: number): void {
    if (job.framesDone.has(frame) || frame < job.spec.frames.start || frame > job.spec.frames.end) return;
    job.framesDone.add(frame);
    this.journal.append({ type: 'frame', id: job.id, frame });
  }

  private setState(job: JobRecord, state: JobSummary['state'], reason: Reason | null, extra: { failure?: RenderFailure | null; result?: RenderResult | null } = {}): void {
    job.state = state;
    job.reason = reason;
    if (FINAL.has(state)) job.finishedAt = this.o.now().toISOString();
    this.record(job, extra);
  }

  private record(job: JobRecord, extra: { failure?: RenderFailure | null; result?: RenderResult | null } = {}): void {
    if (!this.closed) this.journal.append({ type: 'state', id: job.id, state: job.state, reason: job.reason, attempts: job.attempts, at: this.o.now().toISOString(), ...extra });
    this.emit(job);
  }

  private emit(job: JobRecord): void {
    clearTimeout(this.progressTimers.get(job.id));
    this.progressTimers.delete(job.id);
    const s = job.summary();
    for (const l of this.jobListeners) l(s);
  }

  /** Progress arrives with every status line; UIs need a few updates a second, not each one. */
  private emitSoon(job: JobRecord): void {
    if (this.progressTimers.has(job.id)) return;
    const t = setTimeout(() => this.emit(job), 250);
    t.unref();
    this.progressTimers.set(job.id, t);
  }
}

function tailText(job: JobRecord): string {
  const tail = job.console.tail(20);
  return tail.length > 0 ? `\nLast console lines:\n${tail.join('\n')}` : '';
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === 'win32' ? pgid : -pgid, signal);
  } catch {}
}

async function waitGroupGone(pgid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) {
    signalGroup(pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 25));
  }
}
