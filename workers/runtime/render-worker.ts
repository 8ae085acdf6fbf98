// The render worker: takes one job from the agent, renders the frames that are not done yet (one
// engine run per contiguous range), reports the engine's process group, progress, console and each
// saved frame, and finishes with the honest result. A release or cancel kills the engine group at
// once; the result then lists the frames that were good, so the job can resume after them.
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
import { findBlender } from '../render/find-blender.js';
import { decideOutcome } from '../render/outcome.js';
import { checkPngFile } from '../render/png.js';
import { parseLine } from '../render/progress.js';
import { signalGroup } from '../render/process-group.js';
import { startRender } from '../render/render-engine.js';
import type { AgentChannel } from './channel.js';
import { ConsoleBatcher } from './console-batcher.js';
import { remainingRanges } from './frame-ranges.js';

type Start = Extract<AgentToWorker, { type: 'start' }>;

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
      case 'cancel':
        stopping ??= msg.type;
        // SIGKILL at once: a release must free memory now, and a paused (SIGSTOPped) engine would
        // never see a SIGTERM anyway.
        killEngine();
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
    let blender = msg.blender;
    if (blender === null) {
      const found = await findBlender(null);
      if (!('ok' in found) || !found.ok) return failed(spec, { code: found.code, text: found.message });
      blender = found.path;
    }
    const started = performance.now();
    let last: RenderResult | null = null;
    for (const frames of remainingRanges(spec.frames, doneBefore)) {
      if (stopping) break;
      abort = new AbortController();
      const already = doneBefore.size + good.size;
      const run = await startRender({
        spec: { ...spec, frames },
        jobDir,
        scene: msg.scene,
        blender,
        // The job directory lives inside the data directory: the rest of it (token, settings,
        // other jobs) stays out of the sandbox.
        hide: [dirname(dirname(jobDir))],
        signal: abort.signal,
        killGraceMs: 0,
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
      if (stopping) killEngine();
      last = await run.done;
      enginePid = undefined;
      for (const f of last.frames) good.set(f.frame, f);
      if (last.outcome !== 'succeeded') break;
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
    return all;
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
