// One job as the supervisor keeps it: what the API shows plus the spec, the frames already done and
// the console. The journal's entries replay into these.
import type { JobDetail, JobKind, JobSource, JobState, JobSummary, Reason, RenderFailure, RenderJobSpec, RenderProgress, RenderResult } from '../../protocol/index.js';
import { ConsoleRing } from './console-ring.js';

/** What goes into <data>/history/jobs.jsonl. */
export type JobJournalEntry =
  /** `kind` is absent for renders (entries written before benchmarks existed are renders). */
  /** `source` and `resource` are absent for local jobs (the device picks the resource). */
  | { type: 'queued'; id: string; title: string; spec: RenderJobSpec; createdAt: string; kind?: JobKind; source?: JobSource; resource?: string }
  | {
      type: 'state';
      id: string;
      state: JobState;
      reason: Reason | null;
      attempts: number;
      at: string;
      failure?: RenderFailure | null;
      result?: RenderResult | null;
    }
  | { type: 'frame'; id: string; frame: number }
  /** Deleted by the user (finished jobs only), with its folder. */
  | { type: 'removed'; id: string };

export class JobRecord {
  state: JobState = 'queued';
  reason: Reason | null = null;
  progress: RenderProgress | null = null;
  device: string | null = null;
  attempts = 0;
  /** Crashes since the last success of a run (worker or engine died, heartbeat lost). */
  crashes = 0;
  startedAt: string | null = null;
  finishedAt: string | null = null;
  failure: RenderFailure | null = null;
  result: RenderResult | null = null;
  readonly framesDone = new Set<number>();
  readonly console = new ConsoleRing();
  /** A retry waits until then (ms since epoch). */
  notBefore = 0;

  constructor(
    readonly id: string,
    readonly title: string,
    readonly spec: RenderJobSpec,
    readonly createdAt: string,
    readonly kind: JobKind = 'render',
    readonly source: JobSource = { kind: 'local' },
    /** The resource it must run on (a hub job leased for that device); null: from the device. */
    readonly resource: string | null = null,
  ) {}

  summary(): JobSummary {
    return {
      id: this.id,
      kind: this.kind,
      source: this.source,
      title: this.title,
      state: this.state,
      reason: this.reason,
      progress: this.progress,
      device: this.device,
      attempts: this.attempts,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      failure: this.failure,
      result: this.result,
    };
  }

  detail(): JobDetail {
    return { ...this.summary(), spec: this.spec, consoleTail: this.console.tail(50) };
  }
}

/** Rebuilds the jobs from the journal. What was starting, running or paused when the agent went
 * away is queued again, keeping its finished frames. */
export function replayJobs(entries: readonly JobJournalEntry[]): Map<string, JobRecord> {
  const jobs = new Map<string, JobRecord>();
  for (const e of entries) {
    if (e.type === 'queued') {
      jobs.set(e.id, new JobRecord(e.id, e.title, e.spec, e.createdAt, e.kind ?? 'render', e.source ?? { kind: 'local' }, e.resource ?? null));
      continue;
    }
    if (e.type === 'removed') {
      jobs.delete(e.id);
      continue;
    }
    const job = jobs.get(e.id);
    if (!job) continue;
    if (e.type === 'frame') {
      job.framesDone.add(e.frame);
      continue;
    }
    job.state = e.state;
    job.reason = e.reason;
    job.attempts = e.attempts;
    if (e.state === 'starting' && job.startedAt === null) job.startedAt = e.at;
    if (e.failure !== undefined) job.failure = e.failure;
    if (e.result !== undefined) job.result = e.result;
    if (e.state === 'succeeded' || e.state === 'failed' || e.state === 'canceled') job.finishedAt = e.at;
  }
  for (const job of jobs.values()) {
    if (job.state === 'starting' || job.state === 'running' || job.state === 'paused') {
      job.state = 'queued';
      job.reason = { code: 'agent_restarted', text: 'Queued again: the agent stopped while it was running.' };
    }
  }
  return jobs;
}
