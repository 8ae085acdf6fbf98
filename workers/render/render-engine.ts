// Runs one Blender render to completion: prepares the job's control files, picks the sandbox,
// spawns the engine in its own process group at low priority with a scrubbed environment, streams
// its output through the monitor, and decides the outcome. Pause/resume and retries belong to the
// supervisor.
//
// The engine runs on a terminal of its own (pty-console.ts) on Linux and macOS, so its console is a
// real terminal for the dashboard's xterm.js (Blender and Python line-buffer and print as they
// would for a person), and with plain pipes where node-pty's binding cannot load or on Windows
// (ConPTY cannot deliver POSIX signals, and pause/kill rely on them). Either way the engine's pid is
// its process group id: it is spawned detached, which calls setsid().
import { spawn } from 'node:child_process';
import { constants as osConstants, setPriority } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { CyclesDevice, EngineEnvironment, RenderFailure, RenderJobSpec, RenderProgress, RenderResult, RenderSandbox } from '../../protocol/index.js';
import { buildInvocation, type Invocation } from './command.js';
import { JobFilesError, prepareJob, type PreparedJob } from './job-files.js';
import { RenderMonitor } from './monitor.js';
import { decideOutcome, exitFromSandbox, type EngineExit } from './outcome.js';
import { askGroupToStop, killGroupAndWait, signalGroup } from './process-group.js';
import { loadPty, spawnOnPty, type Emit, type SpawnedEngine } from './pty-console.js';
import { sandboxHide, type SandboxMode } from './environment.js';
import { blenderDirsToExpose, findBubblewrap, probeBubblewrap, type SandboxPlan } from './sandbox.js';

export type { SandboxMode } from './environment.js';

export interface RenderEngineOptions {
  spec: RenderJobSpec;
  /** Created by the caller inside the data directory; the scene is already in it. */
  jobDir: string;
  /** The .blend, inside jobDir (relative to it, or absolute). */
  scene: string;
  /** From findBlender(). */
  blender: string;
  /** The device to render on, already chosen (chooseDevice); default: the spec's, CPU for `auto`. */
  device?: CyclesDevice;
  withCpu?: boolean;
  /** Overrides spec.threads (the user's core limit wins over the job's wish). */
  threads?: number;
  sandbox?: SandboxMode;
  /** The probe an earlier run made with this Blender (resolveEngineEnvironment), so this run
   * does not start Blender once more just to see that bubblewrap works. */
  probed?: EngineEnvironment['sandbox'];
  /** Extra directories to hide in the sandbox, e.g. the data directory. */
  hide?: string[];
  signal?: AbortSignal;
  /** Decoded output as it arrives, for a console view. Under a pty stdout and stderr are one
   * stream (reported as `stdout`) and carry the terminal's `\r\n` and escapes as they are. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** `auto` (default): a pty where node-pty's binding loads and the OS is not Windows, else pipes. */
  console?: 'auto' | 'pty' | 'pipes';
  onProgress?: (progress: RenderProgress) => void;
  onLine?: (line: string) => void;
  /** Between SIGTERM and SIGKILL of the process group on abort. */
  killGraceMs?: number;
  /** POSIX niceness (default 19). */
  nice?: number | null;
  /** Cycles tile size, when the default (a few tiles per frame) is not wanted. */
  tileSize?: number;
}

export interface RenderRun {
  /** The engine's process; on POSIX also its process group id (signal -pid to reach all of it). */
  readonly pid: number | undefined;
  readonly sandbox: RenderSandbox;
  readonly device: CyclesDevice;
  readonly monitor: RenderMonitor | null;
  /** What the engine's output came through (null: it never started). */
  readonly console: 'pty' | 'pipes' | null;
  readonly done: Promise<RenderResult>;
}

export { PTY_COLUMNS, loadPty } from './pty-console.js';

const isWindows = process.platform === 'win32';

function failedRun(o: RenderEngineOptions, device: CyclesDevice, sandbox: RenderSandbox, failure: RenderFailure): RenderRun {
  const result: RenderResult = {
    jobId: o.spec.jobId,
    outcome: 'failed',
    failure,
    device,
    sandbox,
    exit: { code: null, signal: null },
    frames: [],
    extraFiles: [],
    wallS: 0,
  };
  return { pid: undefined, sandbox, device, monitor: null, console: null, done: Promise.resolve(result) };
}

async function sandboxPlan(o: RenderEngineOptions, job: PreparedJob, device: CyclesDevice): Promise<SandboxPlan | string | null> {
  const mode = o.sandbox ?? 'auto';
  if (mode === 'off') return null;
  const bwrap = findBubblewrap();
  if (!bwrap) return mode === 'required' ? 'bubblewrap is not installed (Linux only; Debian package `bubblewrap`)' : null;
  const hide = sandboxHide(o.hide ?? []);
  const probe =
    o.probed && o.probed.bwrap === bwrap
      ? o.probed.kind === 'bubblewrap'
        ? ({ ok: true } as const)
        : ({ ok: false, reason: o.probed.note ?? 'bubblewrap did not work here' } as const)
      : await probeBubblewrap(bwrap, o.blender, hide);
  if (!probe.ok) return mode === 'required' ? probe.reason : null;
  return { bwrap, jobDir: job.jobDir, hide, readOnly: blenderDirsToExpose(o.blender, hide), gpu: device !== 'CPU' };
}

export async function startRender(o: RenderEngineOptions): Promise<RenderRun> {
  const device: CyclesDevice = o.device ?? (o.spec.device === 'auto' ? 'CPU' : o.spec.device);
  if (o.signal?.aborted) return failedRun(o, device, 'none', { code: 'aborted', text: 'The render was stopped before it started.' });

  let job: PreparedJob;
  try {
    job = await prepareJob(o.jobDir, o.scene, o.spec, device, { tileSize: o.tileSize });
  } catch (e) {
    if (e instanceof JobFilesError) return failedRun(o, device, 'none', { code: 'external_reference', text: e.message });
    throw e;
  }
  const plan = await sandboxPlan(o, job, device);
  if (typeof plan === 'string') return failedRun(o, device, 'none', { code: 'sandbox_unavailable', text: plan });
  const sandbox: RenderSandbox = plan ? 'bubblewrap' : 'none';

  const inv = buildInvocation({
    blender: o.blender,
    job,
    frames: o.spec.frames,
    threads: o.threads ?? o.spec.threads,
    device,
    withCpu: o.withCpu,
    sandbox: plan,
    nice: o.nice,
  });
  const monitor = new RenderMonitor({ frames: o.spec.frames, nonce: job.nonce, onProgress: o.onProgress, onLine: o.onLine });
  const started = performance.now();
  const emit = (text: string, stream: 'stdout' | 'stderr') => {
    o.onOutput?.(text, stream);
    monitor.push(text, stream);
  };
  const mode = o.console ?? 'auto';
  const loaded = mode === 'pipes' ? null : loadPty();
  if (mode === 'pty' && loaded && 'reason' in loaded) {
    return failedRun(o, device, sandbox, { code: 'spawn_failed', text: `No pty for the engine: ${loaded.reason}` });
  }
  const engine = loaded && 'open' in loaded ? spawnOnPty(loaded.open, inv, emit) : spawnPipes(inv, emit);
  const pid = engine.pid;
  if (pid !== undefined && o.nice !== null) {
    // The niceness from `nice` covers POSIX; this covers Windows (and a missing `nice`).
    try {
      setPriority(pid, isWindows ? osConstants.priority.PRIORITY_LOW : (o.nice ?? 19));
    } catch {}
  }

  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (aborted || pid === undefined) return;
    aborted = true;
    askGroupToStop(pid);
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), o.killGraceMs ?? 5_000);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const done = new Promise<RenderResult>((resolve) => {
    let settled = false;
    const finish = async (exit: EngineExit, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
      // Whatever the engine left running in its group goes with it, before "done" says so.
      if (pid !== undefined) await killGroupAndWait(pid);
      monitor.end();
      const wallS = (performance.now() - started) / 1000;
      if (spawnError) {
        resolve({
          ...(await failedRun(o, device, sandbox, { code: 'spawn_failed', text: `Blender could not be started: ${spawnError.message}` }).done),
          wallS,
        });
        return;
      }
      const eff = monitor.effective;
      const result = await decideOutcome({
          spec: o.spec,
          framesDir: job.framesDir,
          exit: plan ? exitFromSandbox(exit) : exit,
          fatal: monitor.fatal,
          savedBeforeFatal: monitor.savedBeforeFatal,
          expectedSize: o.spec.resolution ?? (eff ? { width: eff.width, height: eff.height } : null),
          aborted,
          device,
          sandbox,
          wallS,
        });
      resolve(withSpeed(result, monitor, o.spec.samples ?? eff?.samples ?? null));
    };
    void engine.ended.then(({ exit, error }) => finish(exit, error));
  });

  return { pid, sandbox, device, monitor, console: engine.kind, done };
}

/** Pixels x samples per second over the frames Blender timed, when the sample count is known. */
function withSpeed(result: RenderResult, monitor: RenderMonitor, samples: number | null): RenderResult {
  const { renderS, frames } = monitor.frameTimes;
  const frame = result.frames[0];
  if (result.outcome !== 'succeeded' || !samples || !frame || frames === 0 || renderS <= 0) return result;
  const samplesPerSecond = Math.round((frame.width * frame.height * samples * frames) / renderS);
  return { ...result, speed: { samplesPerSecond, renderS } };
}

function spawnPipes(inv: Invocation, emit: Emit): SpawnedEngine {
  const child = spawn(inv.file, inv.args, { cwd: inv.cwd, env: inv.env, detached: !isWindows, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  for (const stream of ['stdout', 'stderr'] as const) {
    const decoder = new StringDecoder('utf8');
    child[stream].on('data', (buf: Buffer) => {
      const text = decoder.write(buf);
      if (text !== '') emit(text, stream);
    });
    child[stream].on('end', () => {
      const rest = decoder.end();
      if (rest) emit(rest, stream);
    });
  }
  // 'close' comes after both pipes ended: all output is in.
  const ended = new Promise<{ exit: EngineExit; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ exit: { code: null, signal: null }, error }));
    child.on('close', (code, signal) => resolve({ exit: { code, signal } }));
  });
  return { kind: 'pipes', pid: child.pid, ended };
}

/** Runs a render and waits for its result. */
export async function render(o: RenderEngineOptions): Promise<RenderResult> {
  return (await startRender(o)).done;
}
