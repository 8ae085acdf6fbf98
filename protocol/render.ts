// The render job contract (hub or local queue -> agent -> render worker -> back): what to render,
// how far it got, and what came out. Every field is data, never a command line: the worker builds
// Blender's arguments itself (workers/render/command.ts) and only reads numbers and enums from here.
// Pure: no I/O, no Node built-ins (this module also runs in the browser).
import { z } from 'zod';

/** Blender's own frame limit (MAXFRAME). Frame 0 and negative frames are not offered. */
export const MAX_RENDER_FRAME = 1_048_574;

export const RenderJobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a job id is 1-64 letters, digits, _ or -');
export type RenderJobId = z.infer<typeof RenderJobId>;

export const CyclesDevice = z.enum(['OPTIX', 'CUDA', 'HIP', 'METAL', 'ONEAPI', 'CPU']);
export type CyclesDevice = z.infer<typeof CyclesDevice>;

/** `auto` lets the worker pick from the detected hardware. */
export const RenderDeviceChoice = z.enum(['OPTIX', 'CUDA', 'HIP', 'METAL', 'ONEAPI', 'CPU', 'auto']);
export type RenderDeviceChoice = z.infer<typeof RenderDeviceChoice>;

const frameNumber = z.number().int().min(1).max(MAX_RENDER_FRAME);
const unit = z.number().min(0).max(1);

export const FrameRange = z
  .object({ start: frameNumber, end: frameNumber })
  .strict()
  .refine((r) => r.end >= r.start, { message: 'frames.end must not be before frames.start', path: ['end'] });
export type FrameRange = z.infer<typeof FrameRange>;

/** A render border in Blender's normalised coordinates (0,0 bottom left). The output keeps the full
 * resolution with black outside the region, so its size stays predictable for the result check. */
export const RenderRegion = z
  .object({ minX: unit, minY: unit, maxX: unit, maxY: unit })
  .strict()
  .refine((r) => r.maxX > r.minX && r.maxY > r.minY, { message: 'a region needs max > min on both axes' });
export type RenderRegion = z.infer<typeof RenderRegion>;

export const RenderResolution = z
  .object({ width: z.number().int().min(4).max(16_384), height: z.number().int().min(4).max(16_384) })
  .strict();
export type RenderResolution = z.infer<typeof RenderResolution>;

export const RenderJobSpec = z
  .object({
    jobId: RenderJobId,
    frames: FrameRange,
    /** Absent: the scene's own resolution (at 100 %). */
    resolution: RenderResolution.optional(),
    /** Absent: the scene's own sample count. */
    samples: z.number().int().min(1).max(1_000_000).optional(),
    device: RenderDeviceChoice.default('auto'),
    /** Absent: Blender decides (all cores); the worker may lower it by policy. */
    threads: z.number().int().min(1).max(1024).optional(),
    region: RenderRegion.optional(),
    output: z.object({ format: z.literal('PNG') }).strict().default({ format: 'PNG' }),
  })
  .strict();
export type RenderJobSpec = z.infer<typeof RenderJobSpec>;
export type RenderJobSpecInput = z.input<typeof RenderJobSpec>;

/** Progress of a running render, as parsed from Blender's status lines. Times are seconds. */
export const RenderProgress = z.object({
  /** The frame being rendered now (Blender's frame number), or null before the first status line. */
  frame: z.number().int().nullable(),
  framesDone: z.number().int().nonnegative(),
  framesTotal: z.number().int().positive(),
  sample: z.number().int().nonnegative().nullable(),
  samples: z.number().int().positive().nullable(),
  /** Tiles finished in this frame, and how many it has (Cycles with tiling only). */
  tile: z.number().int().nonnegative().nullable(),
  tiles: z.number().int().positive().nullable(),
  /** The whole job: finished frames' times plus the current frame's. */
  elapsedS: z.number().nonnegative(),
  /** Estimated, for the whole job; null until there is something to estimate from. */
  remainingS: z.number().nonnegative().nullable(),
  /** 0..1 over the whole job. */
  fraction: unit,
});
export type RenderProgress = z.infer<typeof RenderProgress>;

/**
 * Why a render did not succeed. Stable codes for programs; the text says it for people.
 * Device errors (`gpu_*`) are worth one retry on the CPU (workers/render/command.ts).
 */
export const RenderFailureCode = z.enum([
  'gpu_out_of_memory',
  'gpu_error',
  'out_of_memory',
  'crash',
  'python_error',
  'cannot_save',
  'missing_file',
  'external_reference',
  'denoiser_unavailable',
  'scene_error',
  'bad_output',
  'engine_exit',
  'aborted',
  'sandbox_unavailable',
  'spawn_failed',
  'blender_not_found',
  'blender_unsupported',
]);
export type RenderFailureCode = z.infer<typeof RenderFailureCode>;

export const RenderFailure = z.object({
  code: RenderFailureCode,
  text: z.string(),
  /** The engine line that decided it, when one did. */
  line: z.string().optional(),
});
export type RenderFailure = z.infer<typeof RenderFailure>;

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const RenderedFrame = z.object({
  frame: frameNumber,
  /** File name inside the job's frames directory. */
  file: z.string().regex(/^frame_\d{4,7}\.png$/),
  sha256: sha256Hex,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
});
export type RenderedFrame = z.infer<typeof RenderedFrame>;

/** Other files the scene wrote (File Output nodes, redirected into the job), hashed for the record. */
export const RenderExtraFile = z.object({ path: z.string(), sha256: sha256Hex, bytes: z.number().int().nonnegative() });
export type RenderExtraFile = z.infer<typeof RenderExtraFile>;

/** Which OS sandbox the engine ran in. `none`: only the reference check stood between the scene and the user's files. */
export const RenderSandbox = z.enum(['bubblewrap', 'none']);
export type RenderSandbox = z.infer<typeof RenderSandbox>;

export const RenderResult = z.object({
  jobId: RenderJobId,
  outcome: z.enum(['succeeded', 'failed']),
  /** Set when outcome is failed. */
  failure: RenderFailure.nullable(),
  device: CyclesDevice,
  sandbox: RenderSandbox,
  exit: z.object({ code: z.number().int().nullable(), signal: z.string().nullable() }),
  /** Every frame that was checked and hashed, in frame order; on failure, those that were good. */
  frames: z.array(RenderedFrame),
  extraFiles: z.array(RenderExtraFile),
  wallS: z.number().nonnegative(),
  /** How fast it rendered: pixels x samples per second of Blender's own frame time (start-up and
   * saving not counted). Absent when the sample count or the frame times were not known. */
  speed: z.object({ samplesPerSecond: z.number().nonnegative(), renderS: z.number().nonnegative() }).optional(),
});
export type RenderResult = z.infer<typeof RenderResult>;

/** A Blender the worker found and checked, and what identifies that very file, so a later worker
 * can trust the check without running `--version` again (a Blender update changes size or mtime). */
export const BlenderInfo = z.object({
  path: z.string().min(1),
  /** As Blender printed it, e.g. "Blender 3.4.1". */
  version: z.string(),
  /** 'setting', 'PATH' or the install location's name. */
  source: z.string(),
  fingerprint: z.object({ realPath: z.string(), size: z.number().int().nonnegative(), mtimeMs: z.number() }).strict(),
});
export type BlenderInfo = z.infer<typeof BlenderInfo>;

/** What a render worker found out about this machine once, handed back to later workers by the
 * agent: the Blender check and the sandbox probe each cost a Blender start (~0.3 s). */
export const EngineEnvironment = z.object({
  blender: BlenderInfo,
  sandbox: z
    .object({
      /** The bubblewrap binary the probe ran, or null when there is none. */
      bwrap: z.string().nullable(),
      kind: RenderSandbox,
      /** Why there is no sandbox, in words, when there is none. */
      note: z.string().nullable(),
    })
    .strict(),
});
export type EngineEnvironment = z.infer<typeof EngineEnvironment>;

/** A graphics adapter as the agent's sensors name it ("NVIDIA GeForce RTX 3080", "AMD GPU (…)"),
 * for the worker's choice of a Cycles backend when a job says `auto`. */
export const GpuHint = z.object({ vendor: z.string().max(200).optional(), model: z.string().max(200).optional() }).strict();
export type GpuHint = z.infer<typeof GpuHint>;

/** The output file name Blender writes for `-o <dir>/frame_####` (at least four digits). */
export function renderFrameFileName(frame: number): string {
  return `frame_${String(frame).padStart(4, '0')}.png`;
}

/** The frame numbers a spec asks for, in order. */
export function renderFrameNumbers(frames: FrameRange): number[] {
  const out: number[] = [];
  for (let f = frames.start; f <= frames.end; f++) out.push(f);
  return out;
}
