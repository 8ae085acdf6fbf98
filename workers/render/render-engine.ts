// Runs one Blender render to completion: prepares the job's control files, picks the sandbox,
// spawns the engine in its own process group at low priority with a scrubbed environment, streams
// its output through the monitor, and decides the outcome. Pause/resume, the pty console and
// retries belong to the supervisor; it can use the same pieces (prepareJob, buildInvocation,
// RenderMonitor, decideOutcome) around its own pty, or this function for plain pipes.
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { constants as osConstants, setPriority } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { CyclesDevice, RenderFailure, RenderJobSpec, RenderProgress, RenderResult, RenderSandbox } from '../../protocol/index.js';
import { buildInvocation } from './command.js';
import { JobFilesError, prepareJob, type PreparedJob } from './job-files.js';
import { RenderMonitor } from './monitor.js';
import { decideOutcome, exitFromSandbox, type EngineExit } from './outcome.js';
import { killGroupAndWait, signalGroup } from './process-group.js';
import { blenderDirsToExpose, defaultHiddenPaths, findBubblewrap, probeBubblewrap, type SandboxPlan } from './sandbox.js';

/** `auto`: bubblewrap whenever it works here; `required`: fail rather than run without it. */
export type SandboxMode = 'auto' | 'off' | 'required';

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
  /** Extra directories to hide in the sandbox, e.g. the data directory. */
  hide?: string[];
  signal?: AbortSignal;
  /** Decoded output as it arrives, stdout and stderr alike, for a console view. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
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
  readonly done: Promise<RenderResult>;
}

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
  return { pid: undefined, sandbox, device, monitor: null, done: Promise.resolve(result) };
}

async function sandboxPlan(o: RenderEngineOptions, job: PreparedJob, device: CyclesDevice): Promise<SandboxPlan | string | null> {
  const mode = o.sandbox ?? 'auto';
  if (mode === 'off') return null;
  const bwrap = findBubblewrap();
  if (!bwrap) return mode === 'required' ? 'bubblewrap is not installed (Linux only; Debian package `bubblewrap`)' : null;
  const hide = defaultHiddenPaths(undefined, undefined).concat(o.hide ?? []).map((p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  });
  const probe = await probeBubblewrap(bwrap, o.blender, hide);
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
  const child = spawn(inv.file, inv.args, { cwd: inv.cwd, env: inv.env, detached: !isWindows, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const pid = child.pid;
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
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), o.killGraceMs ?? 5_000);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  for (const stream of ['stdout', 'stderr'] as const) {
    const decoder = new StringDecoder('utf8');
    child[stream].on('data', (buf: Buffer) => {
      const text = decoder.write(buf);
      if (text === '') return;
      o.onOutput?.(text, stream);
      monitor.push(text, stream);
    });
    child[stream].on('end', () => {
      const rest = decoder.end();
      if (rest) {
        o.onOutput?.(rest, stream);
        monitor.push(rest, stream);
      }
    });
  }

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
      resolve(
        await decideOutcome({
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
        }),
      );
    };
    child.on('error', (err) => void finish({ code: null, signal: null }, err));
    child.on('close', (code, signal) => void finish({ code, signal }));
  });

  return { pid, sandbox, device, monitor, done };
}

/** Runs a render and waits for its result. */
export async function render(o: RenderEngineOptions): Promise<RenderResult> {
  return (await startRender(o)).done;
}
