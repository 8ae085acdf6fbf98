// Jobs: the agent's queue and its workers. The Jobs API (UI <-> agent) and the worker messages
// (agent <-> worker process) share these shapes. Pure: no I/O, no Node built-ins.
import { z } from 'zod';
import { isoDateTime, Reason } from './common.js';
import { CyclesDevice, EngineEnvironment, GpuHint, RenderDeviceChoice, RenderFailure, RenderJobId, RenderJobSpec, RenderProgress, RenderResult } from './render.js';

export const JobState = z.enum(['queued', 'starting', 'running', 'paused', 'succeeded', 'failed', 'canceled']);
export type JobState = z.infer<typeof JobState>;
export const FINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled']);

/** Where a job came from: the user's own machine (a local render), or a task leased from a hub
 * (`network` is the hub's network key, as in the ledger). */
export const JobSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }).strict(),
  z
    .object({
      kind: z.literal('hub'),
      network: z.string().min(1).max(300),
      taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      leaseId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      /** A check task: re-renders a region of another node's frame. */
      check: z.boolean(),
    })
    .strict(),
]);
export type JobSource = z.infer<typeof JobSource>;

/** `POST /api/v1/jobs`: render your own .blend on your own machine, under your rules. The file is
 * copied into the job's own directory first; the path is only read, never written. */
export const QueueRenderJob = z
  .object({
    kind: z.literal('render'),
    /** An absolute path to a .blend file on this machine. */
    blendFile: z.string().min(1).max(4096).regex(/\.blend$/i, 'a .blend file'),
    frames: RenderJobSpec.shape.frames,
    device: RenderJobSpec.shape.device,
    samples: RenderJobSpec.shape.samples,
    resolution: RenderJobSpec.shape.resolution,
  })
  .strict();
export type QueueRenderJob = z.infer<typeof QueueRenderJob>;

/** `POST /api/v1/render/benchmark`: render the bundled benchmark scene on one device, under the
 * same rules as any job, and keep its speed for that device. */
export const QueueBenchmark = z.object({ device: RenderDeviceChoice.default('auto') }).strict();
export type QueueBenchmark = z.infer<typeof QueueBenchmark>;

/** A render of your own scene, or the benchmark (its speed is kept per device). */
export const JobKind = z.enum(['render', 'benchmark']);
export type JobKind = z.infer<typeof JobKind>;

export const JobSummary = z.object({
  id: RenderJobId,
  kind: JobKind,
  source: JobSource,
  /** What the user calls it: the scene file's name. */
  title: z.string(),
  state: JobState,
  /** Why it is paused, queued or failed, in words. */
  reason: Reason.nullable(),
  progress: RenderProgress.nullable(),
  device: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  createdAt: isoDateTime,
  startedAt: isoDateTime.nullable(),
  finishedAt: isoDateTime.nullable(),
  failure: RenderFailure.nullable(),
  result: RenderResult.nullable(),
});
export type JobSummary = z.infer<typeof JobSummary>;

export const JobDetail = JobSummary.extend({
  spec: RenderJobSpec,
  /** The last lines of the engine's console, escapes stripped. */
  consoleTail: z.array(z.string()),
});
export type JobDetail = z.infer<typeof JobDetail>;

export const JobList = z.object({ jobs: z.array(JobSummary) });
export type JobList = z.infer<typeof JobList>;

// ---- agent <-> worker --------------------------------------------------------------------------

/** Agent -> worker, on the worker's channel (MessagePort in the app, IPC under the headless agent). */
export const AgentToWorker = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('start'),
      spec: RenderJobSpec,
      /** The job's own directory, made by the agent inside its data directory. */
      jobDir: z.string().min(1),
      /** The scene inside jobDir. */
      scene: z.string().min(1),
      /** The Blender the user set in Settings; null: the worker looks for one. */
      blender: z.string().min(1).nullable(),
      /** What an earlier worker found (Blender, sandbox), reused when it still matches. */
      known: EngineEnvironment.nullable().default(null),
      /** The GPUs the agent's sensors found, for a job whose device is `auto`. */
      gpus: z.array(GpuHint).max(16).default([]),
      /** Frames already finished by an earlier run (a release): render only the rest. */
      framesDone: z.array(z.number().int()).default([]),
      /** Build the scene first, from a script the worker ships ('benchmark'), instead of using one. */
      buildScene: z.enum(['benchmark']).nullable().default(null),
    })
    .strict(),
  /** Stop at once, freeing memory; the job resumes later from its last finished frame. */
  z.object({ type: z.literal('release') }).strict(),
  z.object({ type: z.literal('cancel') }).strict(),
  z.object({ type: z.literal('ping'), seq: z.number().int() }).strict(),
]);
export type AgentToWorker = z.infer<typeof AgentToWorker>;

/** Worker -> agent. */
export const WorkerToAgent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), pid: z.number().int().positive(), kind: z.literal('render') }).strict(),
  z.object({ type: z.literal('pong'), seq: z.number().int() }).strict(),
  /** The engine's process group, so the agent can pause it (SIGSTOP) and reap it after a crash. */
  z.object({ type: z.literal('engine'), pid: z.number().int().positive(), sandbox: z.string(), device: z.string() }).strict(),
  /** Sent when the worker had to look (no usable `known`): the agent keeps it for the next worker. */
  z.object({ type: z.literal('environment'), environment: EngineEnvironment }).strict(),
  z.object({ type: z.literal('progress'), progress: RenderProgress }).strict(),
  /** Raw console output (a terminal's bytes as text), batched by the worker. */
  z.object({ type: z.literal('console'), data: z.string().max(1_048_576) }).strict(),
  z.object({ type: z.literal('frame-done'), frame: z.number().int() }).strict(),
  z.object({ type: z.literal('finished'), result: RenderResult, released: z.boolean() }).strict(),
  z.object({ type: z.literal('failed-to-start'), failure: RenderFailure }).strict(),
]);
export type WorkerToAgent = z.infer<typeof WorkerToAgent>;



// ---- the render engine on this machine ---------------------------------------------------------

/** The speed of one device on the benchmark scene, kept until the next benchmark of that device. */
export const DeviceBenchmark = z.object({
  device: CyclesDevice,
  samplesPerSecond: z.number().nonnegative(),
  renderS: z.number().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  samples: z.number().int().positive(),
  /** The Blender that ran it, e.g. "Blender 3.4.1". */
  blender: z.string(),
  jobId: RenderJobId,
  at: isoDateTime,
});
export type DeviceBenchmark = z.infer<typeof DeviceBenchmark>;

/** `GET /api/v1/render`: which Blender renders here, its sandbox, and each device's benchmark. */
export const RenderEngineInfo = z.object({
  /** The path set in Settings; null: found by looking. */
  blenderSetting: z.string().nullable(),
  /** What the last worker found; null until a job or benchmark has run since the agent started. */
  environment: EngineEnvironment.nullable(),
  benchmarks: z.array(DeviceBenchmark),
});
export type RenderEngineInfo = z.infer<typeof RenderEngineInfo>;

/** The empty answer of a 204 (`DELETE /api/v1/jobs/:id`), for clients that check every answer. */
export const NoContent = z.undefined();
