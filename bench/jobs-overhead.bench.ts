// Supervision overhead: the wall time of rendering the bundled benchmark scene through the agent
// (POST /api/v1/jobs -> the supervisor reports "succeeded": handing the job to a worker (a spare is
// forked ahead while work may start), the setup script, the render, the output checks and hashing;
// the Blender lookup and the bubblewrap probe run once per agent, in its warm-up job) against the
// very command the worker ran (nice -n 19, bubblewrap when it works here, Blender with the job's
// setup script), read from /proc during the warm-up job and spawned again directly from this
// process. Runs alternate (direct, agent, agent with the Blender path given, ...) after one warm-up of
// each, so drift of the machine hits both sides alike. Goal: ratio <= 1.03.
//
//   BENCH_JOBS_OVERHEAD_RUNS (3), BENCH_JOBS_OVERHEAD_RES (256), BENCH_JOBS_OVERHEAD_SAMPLES (64)
import './define-globals.js';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { JobSummary } from '../protocol/index.js';
import { blenderPath, buildBenchmarkScene, captureEngineCommand, median, startBenchAgent, workDir, type BenchAgent, type Captured } from './jobs-common.js';
import { emit } from './lib.mjs';

const blender = blenderPath();
if (process.platform !== 'linux' || !blender) {
  process.stderr.write('jobs-overhead: needs Linux and Blender (BLENDER_PATH or /usr/bin/blender); skipped\n');
  process.exit(0);
}

const RUNS = Number(process.env.BENCH_JOBS_OVERHEAD_RUNS ?? 3);
const RES = Number(process.env.BENCH_JOBS_OVERHEAD_RES ?? 256);
const SAMPLES = Number(process.env.BENCH_JOBS_OVERHEAD_SAMPLES ?? 64);

const dir = workDir('bench-jobs-overhead-');
const scene = join(dir, 'benchmark.blend');
await buildBenchmarkScene(blender, scene, RES, SAMPLES);

// Two agents: as the headless agent runs by default (the worker looks for Blender: PATH, then a
// `--version` run), and with the Blender path given (a user setting).
const found = await startBenchAgent(join(dir, 'agent-found'), {});
const given = await startBenchAgent(join(dir, 'agent-given'), { blender: () => blender });

const request = { kind: 'render', blendFile: scene, frames: { start: 1, end: 1 }, device: 'CPU', resolution: { width: RES, height: RES }, samples: SAMPLES };

// Event-driven (the supervisor's job listener), not polled: on 2 cores a poll loop in the agent's
// process would take CPU from the render and count as overhead that is the bench's own.
async function throughAgent(a: BenchAgent, onQueued?: (id: string) => void): Promise<number> {
  let runningAt: number | null = null;
  let id: string | null = null;
  let ended!: (v: { at: number; job: JobSummary }) => void;
  const end = new Promise<{ at: number; job: JobSummary }>((r) => (ended = r));
  const off = a.agent.jobs!.onJob((j) => {
    if (j.id !== id) return;
    if (j.state === 'running') runningAt ??= performance.now();
    if (j.state === 'succeeded' || j.state === 'failed' || j.state === 'canceled') ended({ at: performance.now(), job: j });
  });
  const t0 = performance.now();
  const job = await a.queue(request);
  id = job.id;
  onQueued?.(job.id);
  const timeout = setTimeout(() => ended({ at: NaN, job }), 300_000);
  const { at, job: final } = await end;
  clearTimeout(timeout);
  off();
  if (final.state !== 'succeeded') throw new Error(`the render through the agent did not succeed: ${JSON.stringify(a.job(job.id).failure ?? final.state)}`);
  if (runningAt !== null) startup.push((runningAt - t0) / 1000);
  return (at - t0) / 1000;
}
/** POST -> the worker reports its engine started (state running): fork, lookup, probe, spawn. */
const startup: number[] = [];

// The direct side: the very command the worker ran for the warm-up job, read from /proc while it
// ran (argv, environment, working directory; `nice -n 19` put back in front, as nice execs away),
// run again in that job's directory with its frame removed first.
let captured: Captured | null = null;

async function direct(): Promise<number> {
  const c = captured!;
  const frame = join(c.cwd, 'frames', 'frame_0001.png');
  rmSync(frame, { force: true });
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(c.argv[0]!, c.argv.slice(1), { cwd: c.cwd, env: c.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0 || !existsSync(frame)) throw new Error(`the direct render failed (exit ${code}): ${c.argv.join(' ')}`);
  return wall;
}

// Warm-up (page cache, the worker bundle, Blender's kernels): not counted.
let capturing: Promise<void> = Promise.resolve();
await throughAgent(found, (id) => (capturing = captureEngineCommand(found.dataDir, id, blender!).then((c) => void (captured = c))));
await capturing;
if (!captured) throw new Error('could not read the engine command of the warm-up job');
const sandboxUsed = (captured as Captured).argv.some((x) => basename(x) === 'bwrap') ? 'bubblewrap' : 'none';
process.stderr.write(`jobs-overhead: direct command: ${(captured as Captured).argv.join(' ')}\n`);
await direct();
await throughAgent(given);

startup.length = 0;
const d: number[] = [];
const aFound: number[] = [];
const aGiven: number[] = [];
for (let i = 0; i < RUNS; i++) {
  d.push(await direct());
  aFound.push(await throughAgent(found));
  aGiven.push(await throughAgent(given));
}
process.stderr.write(`jobs-overhead: direct ${d.map((x) => x.toFixed(2)).join(' ')} s; agent ${aFound.map((x) => x.toFixed(2)).join(' ')} s; agent, Blender given ${aGiven.map((x) => x.toFixed(2)).join(' ')} s; of the agent runs, POST -> engine started ${startup.map((x) => x.toFixed(2)).join(' ')} s\n`);

const what = `${RES}x${RES}, ${SAMPLES} samples, CPU, sandbox ${sandboxUsed}; median of ${RUNS} alternating runs each`;
emit('jobs_supervision_overhead_wall_s', median(aFound), `s, POST /jobs -> succeeded through the agent (worker finds Blender itself) vs the same nice+bwrap+Blender command run directly (${what}; goal ratio <= 1.03)`, median(d));
emit('jobs_supervision_overhead_blender_given_wall_s', median(aGiven), `s, as above with the Blender path given to the supervisor (no lookup run)`, median(d));

await found.agent.stop();
await given.agent.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
