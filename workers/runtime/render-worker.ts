// The render worker: takes one job from the agent, renders the frames that are not done yet (one
// engine run per contiguous range), reports the engine's process group, progress, console and each
// saved frame, and finishes with the honest result. A release or cancel kills the engine group at
// once; the result then lists the frames that were good, so the job can resume after them.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  AgentToWorker,
  WorkerToAgent,
  type RenderJobSpec,
  type RenderProgress,
  type RenderResult,
  type RenderedFrame,
  renderFrameFileName,
} from '../../protocol/index.js';
import { buildBenchmarkScene } from '../render/benchmark.js';
import { chooseDevice, shouldRetryOnCpu } from '../render/command.js';
import { resolveEngineEnvironment } from '../render/environment.js';
import { decideOutcome } from '../render/outcome.js';
import { checkPngFile } from '../render/png.js';
import { parseLine } from '../render/progress.js';
import { askGroupToStop, signalGroup } from '../render/process-group.js';
import { startRender } from '../render/render-engine.js';
import type { AgentChannel } from './channel.js';
import { ConsoleBatcher } from './console-batcher.js';
import { remainingRanges } from './frame-ranges.js';

type Start = Extract<AgentToWorker, { type: 'start' }>;

/** Between SIGTERM and SIGKILL of a canceled engine; the agent waits longer before it kills the worker. */
export const ENGINE_CANCEL_GRACE_MS = 2_000;

export function runRenderWorker(channel: AgentChannel, exit: (code: number) => void): void {
  const send = (msg: WorkerToAgent) => channel.send(WorkerToAgent.parse(msg));
  const batcher = new ConsoleBatcher((data) => send({ type: 'console', data }));
  let stopping: 'release' | 'cancel' | null = null;
  let abort: AbortController | null = null;
  let enginePid: number | undefined;
  let started = false;

  const killEngine = () => {
    if (enginePid !== undefined) signalGroup(enginePid, 'SIGKILL');
  };
  // A cancel asks first: SIGTERM lets Blender finish writing what it has open; a paused
  // (SIGSTOPped) engine only sees it once continued. Whatever is left after the grace is killed.
  const askEngineToStop = () => {
    const pid = enginePid;
    if (pid === undefined) return;
    askGroupToStop(pid);
    setTimeout(() => signalGroup(pid, 'SIGKILL'), ENGINE_CANCEL_GRACE_MS).unref();
  };

  // Nothing of ours outlives the agent: no agent, no engine, no worker.
  channel.onClose(() => {
    killEngine();
    exit(0);
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killEngine();
      exit(0);
    });
  }

  channel.onMessage((raw) => {
    const parsed = AgentToWorker.safeParse(raw);
    if (!parsed.success) {
      process.stderr.write(`offhours worker: ignored an invalid message from the agent\n`);
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'ping':
        send({ type: 'pong', seq: msg.seq });
        break;
      case 'release':
        stopping ??= 'release';
        // SIGKILL at once: a release must free memory now (a game is starting).
        killEngine();
        abort?.abort();
        break;
      case 'cancel':
        stopping ??= 'cancel';
        askEngineToStop();
        abort?.abort();
        break;
      case 'start':
        if (started) return;
        started = true;
        void render(msg)
          .then((result) => {
            batcher.flush();
            send({ type: 'finished', result, released: stopping === 'release' });
          })
          .catch((err: unknown) => {
            batcher.flush();
            send({ type: 'failed-to-start', failure: { code: 'spawn_failed', text: `The render worker failed: ${String(err)}` } });
          });
        break;
    }
  });

  async function render(msg: Start): Promise<RenderResult> {
    const spec = msg.spec;
    const jobDir = resolve(msg.jobDir);
    const total = spec.frames.end - spec.frames.start + 1;
    const good = new Map<number, RenderedFrame>();
    const doneBefore = new Set(msg.framesDone.filter((f) => f >= spec.frames.start && f <= spec.frames.end));
    const hide = [dirname(dirname(jobDir))];
    const env = await resolveEngineEnvironment({ setting: msg.blender, known: msg.known, hide, sandbox: 'auto' });
    if (!env.ok) return failed(spec, env.failure);
    if (env.fresh) send({ type: 'environment', environment: env.environment });
    const blender = env.environment.blender.path;
    let device = chooseDevice(spec.device, msg.gpus);
    if (msg.buildScene === 'benchmark' && !existsSync(join(jobDir, msg.scene))) {
      const size = spec.resolution ?? { width: 128, height: 128 };
      const error = await buildBenchmarkScene({ blender, workDir: jobDir, out: join(jobDir, msg.scene), resolution: size.width, samples: spec.samples ?? 64 });
      if (error) return failed(spec, { code: 'python_error', text: `The benchmark scene could not be built: ${error.trim()}` });
    }
    const started = performance.now();
    let last: RenderResult | null = null;
    let renderS = 0;
    let timedSamples = 0;
    const ranges = remainingRanges(spec.frames, doneBefore);
    // `stopping` is set by a message that arrives while the engine runs (an await below).
    // eslint-disable-next-line no-unmodified-loop-condition
    while (ranges.length > 0 && !stopping) {
      const frames = ranges[0]!;
      abort = new AbortController();
      const already = doneBefore.size + good.size;
      const run = await startRender({
        spec: { ...spec, frames },
        jobDir,
        scene: msg.scene,
        blender,
        device,
        probed: env.environment.sandbox,
        // The job directory lives inside the data directory: the rest of it (token, settings,
        // other jobs) stays out of the sandbox.
        hide,
        signal: abort.signal,
        killGraceMs: ENGINE_CANCEL_GRACE_MS,
        onOutput: (chunk) => batcher.push(chunk),
        onProgress: (p) => send({ type: 'progress', progress: overall(p, already, frames.end - frames.start + 1, total) }),
        onLine: (line) => {
          const parsed = parseLine(line);
          if (parsed?.kind === 'saved' && parsed.frame !== null) send({ type: 'frame-done', frame: parsed.frame });
        },
      });
      enginePid = run.pid;
      if (run.pid !== undefined) send({ type: 'engine', pid: run.pid, sandbox: run.sandbox, device: run.device });
      // A stop that arrived while the engine was being set up.
      if (stopping === 'release') killEngine();
      else if (stopping === 'cancel') askEngineToStop();
      last = await run.done;
      enginePid = undefined;
      for (const f of last.frames) good.set(f.frame, f);
      if (last.speed) {
        renderS += last.speed.renderS;
        timedSamples += last.speed.samplesPerSecond * last.speed.renderS;
      }
      if (last.outcome === 'succeeded') {
        ranges.shift();
        continue;
      }
      // A GPU that fails (out of memory, a driver error) gets the rest of the range redone on the
      // CPU once: slower, but the job finishes instead of failing on this machine's GPU.
      if (!stopping && last.failure && shouldRetryOnCpu(last.failure.code, device)) {
        batcher.push(`\r\n[offhours] ${last.failure.text} Rendering the remaining frames on the CPU instead.\r\n`);
        device = 'CPU';
        ranges.splice(0, ranges.length, ...remainingRanges(spec.frames, new Set([...doneBefore, ...good.keys()])));
        continue;
      }
      break;
    }
    if (last && last.outcome !== 'succeeded') return { ...last, jobId: spec.jobId, frames: sorted(good), wallS: elapsed(started) };
    if (stopping) return failed(spec, { code: 'aborted', text: 'The render was stopped before it finished.' }, sorted(good));
    // Every frame of the job, from this run and earlier ones, checked and hashed for the record.
    const all = await decideOutcome({
      spec,
      framesDir: join(jobDir, 'frames'),
      exit: { code: 0, signal: null },
      fatal: null,
      expectedSize: spec.resolution ?? (good.size > 0 ? sizeOf(good) : await sizeOnDisk(jobDir, spec.frames.start)),
      aborted: false,
      device: last?.device ?? 'CPU',
      sandbox: last?.sandbox ?? 'none',
      wallS: elapsed(started),
    });
    return renderS > 0 && all.outcome === 'succeeded' ? { ...all, speed: { samplesPerSecond: Math.round(timedSamples / renderS), renderS } } : all;
  }
}

function overall(p: RenderProgress, doneBefore: number, count: number, total: number): RenderProgress {
  const fraction = Math.min(1, (doneBefore + p.fraction * count) / total);
  return { ...p, framesDone: Math.min(total, doneBefore + p.framesDone), framesTotal: total, fraction };
}

function sorted(frames: Map<number, RenderedFrame>): RenderedFrame[] {
  return [...frames.values()].sort((a, b) => a.frame - b.frame);
}

function sizeOf(frames: Map<number, RenderedFrame>): { width: number; height: number } {
  const f = frames.values().next().value!;
  return { width: f.width, height: f.height };
}

/** All frames were done by earlier runs: their size is what they are. */
async function sizeOnDisk(jobDir: string, frame: number): Promise<{ width: number; height: number } | null> {
  const png = await checkPngFile(join(jobDir, 'frames', renderFrameFileName(frame)));
  return png.ok ? { width: png.width, height: png.height } : null;
}

const elapsed = (started: number) => (performance.now() - started) / 1000;

function failed(spec: RenderJobSpec, failure: RenderResult['failure'] & object, frames: RenderedFrame[] = []): RenderResult {
  return { jobId: spec.jobId, outcome: 'failed', failure, device: 'CPU', sandbox: 'none', exit: { code: null, signal: null }, frames, extraFiles: [], wallS: 0 };
}
