// Blender's command line, built here from typed values and never from a string that came over the
// network. Order matters: Blender runs its arguments left to right, so the scene loads, the setup
// script runs, the output options are set, and only then does `-f`/`-a` render. Everything after
// `--` is Blender's to ignore and Cycles' (and our setup script's) to read.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CyclesDevice, FrameRange, GpuHint, RenderDeviceChoice, RenderFailureCode } from '../../protocol/index.js';
import type { PreparedJob } from './job-files.js';
import { bwrapArgs, type SandboxPlan } from './sandbox.js';

export { bwrapArgs, defaultHiddenPaths, findBubblewrap, probeBubblewrap, blenderDirsToExpose, type SandboxPlan } from './sandbox.js';

export interface BlenderArgsInput {
  /** Absolute paths (a relative one could start with `-` and be read as an option). */
  scene: string;
  setupScript: string;
  jobFile: string;
  framesDir: string;
  frames: FrameRange;
  threads?: number;
  device: CyclesDevice;
  /** Render on the CPU too, next to a GPU (`OPTIX+CPU`). */
  withCpu?: boolean;
}

export function cyclesDeviceArg(device: CyclesDevice, withCpu = false): string {
  return withCpu && device !== 'CPU' ? `${device}+CPU` : device;
}

export function blenderArgs(i: BlenderArgsInput): string[] {
  for (const [name, p] of [
    ['scene', i.scene],
    ['setupScript', i.setupScript],
    ['jobFile', i.jobFile],
    ['framesDir', i.framesDir],
  ] as const) {
    if (!path.isAbsolute(p)) throw new Error(`blenderArgs: ${name} must be an absolute path, got ${p}`);
  }
  const args = ['--background', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', i.scene, '--python', i.setupScript];
  args.push('-o', path.join(i.framesDir, 'frame_####'), '-F', 'PNG');
  if (i.threads !== undefined) args.push('-t', String(Math.max(1, Math.floor(i.threads))));
  const { start, end } = i.frames;
  if (start === end) args.push('-f', String(start));
  else args.push('-s', String(start), '-e', String(end), '-a');
  args.push('--', '--cycles-device', cyclesDeviceArg(i.device, i.withCpu), '--offhours-job', i.jobFile);
  return args;
}

const RANK: CyclesDevice[] = ['OPTIX', 'CUDA', 'HIP', 'METAL', 'ONEAPI', 'CPU'];

function deviceForGpu(gpu: GpuHint, platform: NodeJS.Platform): CyclesDevice {
  const text = `${gpu.vendor ?? ''} ${gpu.model ?? ''}`;
  if (/nvidia/i.test(text) && platform !== 'darwin') return /\bRTX\b/i.test(text) ? 'OPTIX' : 'CUDA';
  if (/\b(AMD|ATI|Advanced Micro Devices)\b|Radeon/i.test(text) && platform !== 'darwin') return 'HIP';
  if (/\bApple\b/i.test(text) && platform === 'darwin') return 'METAL';
  if (/\bIntel\b/i.test(text) && /\bArc\b/i.test(text) && platform !== 'darwin') return 'ONEAPI';
  return 'CPU';
}

/** NVIDIA RTX -> OPTIX, other NVIDIA -> CUDA, AMD -> HIP, Intel Arc -> ONEAPI, Apple -> METAL,
 * else CPU; with several adapters the strongest backend wins. */
export function deviceFromHardware(gpus: readonly GpuHint[], platform: NodeJS.Platform = process.platform): CyclesDevice {
  let best: CyclesDevice = 'CPU';
  for (const g of gpus) {
    const d = deviceForGpu(g, platform);
    if (RANK.indexOf(d) < RANK.indexOf(best)) best = d;
  }
  return best;
}

export function chooseDevice(choice: RenderDeviceChoice, gpus: readonly GpuHint[], platform: NodeJS.Platform = process.platform): CyclesDevice {
  return choice === 'auto' ? deviceFromHardware(gpus, platform) : choice;
}

/** A device error is worth one more try on the CPU; a broken scene is not. */
export function shouldRetryOnCpu(code: RenderFailureCode, device: CyclesDevice): boolean {
  return device !== 'CPU' && (code === 'gpu_out_of_memory' || code === 'gpu_error');
}

/**
 * The environment Blender gets: nothing of the agent's (no tokens, keys or proxies), HOME and
 * TMPDIR inside the job so caches and temporary files land there.
 */
export function engineEnv(jobDir: string, platform: NodeJS.Platform = process.platform, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const tmp = path.join(jobDir, 'tmp');
  const env: Record<string, string> = {
    PATH: parent.PATH ?? parent.Path ?? (platform === 'win32' ? 'C:\\Windows\\System32' : '/usr/bin:/bin'),
    HOME: jobDir,
    LANG: parent.LANG ?? 'C.UTF-8',
    TMPDIR: tmp,
  };
  if (platform === 'win32') {
    // Windows programs need these to start at all; USERPROFILE keeps Blender's config lookups in the job.
    Object.assign(env, { SystemRoot: parent.SystemRoot ?? 'C:\\Windows', TEMP: tmp, TMP: tmp, USERPROFILE: jobDir });
  }
  return env;
}

export interface Invocation {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface InvocationInput {
  blender: string;
  job: PreparedJob;
  frames: FrameRange;
  threads?: number;
  device: CyclesDevice;
  withCpu?: boolean;
  /** null: no OS sandbox. */
  sandbox: SandboxPlan | null;
  /** POSIX niceness for the engine (default 19); null leaves it alone. */
  nice?: number | null;
  platform?: NodeJS.Platform;
  /** Where `nice` lives, when it does (found on PATH by default). */
  niceBinary?: string | null;
}

export function findNice(exists: (p: string) => boolean = existsSync): string | null {
  return ['/usr/bin/nice', '/bin/nice'].find((p) => exists(p)) ?? null;
}

/**
 * The whole command, ready for child_process.spawn or a pty: `nice -n 19` (POSIX; a niceness set
 * before exec reaches every process of the engine, which os.setPriority on one pid after spawn
 * cannot promise under bwrap), then bwrap when sandboxed, then Blender.
 */
export function buildInvocation(i: InvocationInput): Invocation {
  const platform = i.platform ?? process.platform;
  const blender = blenderArgs({
    scene: i.job.scene,
    setupScript: i.job.setupScript,
    jobFile: i.job.jobFile,
    framesDir: i.job.framesDir,
    frames: i.frames,
    threads: i.threads,
    device: i.device,
    withCpu: i.withCpu,
  });
  let argv = [i.blender, ...blender];
  if (i.sandbox) argv = [i.sandbox.bwrap, ...bwrapArgs(i.sandbox), ...argv];
  const niceness = i.nice === undefined ? 19 : i.nice;
  const niceBinary = i.niceBinary === undefined ? (platform === 'win32' ? null : findNice()) : i.niceBinary;
  if (niceness !== null && niceBinary && platform !== 'win32') argv = [niceBinary, '-n', String(niceness), ...argv];
  return { file: argv[0]!, args: argv.slice(1), env: engineEnv(i.job.jobDir, platform), cwd: i.job.jobDir };
}
