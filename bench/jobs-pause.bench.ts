// Pause and release latency of a real Blender render under the job supervisor, with the agent in
// this process. "Decision" is the moment the policy engine hands its decision to the supervisor
// (JobSupervisor.applyDecision, wrapped here); the readings that cause it are POSTed to
// /api/v1/signals as the desktop shell would.
//  - pause (the user comes back): decision -> every process of the engine's group in state T
//    (/proc/<pid>/stat), polled between turns of this process's event loop.
//  - release (a game starts): decision -> every process of the engine's group gone or a zombie (a
//    zombie has already given its memory back: exit_mm runs before it turns Z). The path is the
//    agent telling the worker over IPC, the worker killing the group (SIGKILL), the kernel
//    tearing it down.
// Baselines, on the very command the worker ran (read from /proc, run directly from this process):
// a bare kill(-pgid, SIGSTOP) -> all T, and a bare kill(-pgid, SIGKILL) of an engine that is
// sampling -> all gone.
//
//   BENCH_JOBS_PAUSE_TRIALS (40), BENCH_JOBS_RELEASE_TRIALS (30)
import './define-globals.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision } from '../protocol/index.js';
import {
  allGone,
  allStopped,
  blenderPath,
  buildBenchmarkScene,
  captureEngineCommand,
  cpuState,
  enginePgid,
  gameEnds,
  gameStarts,
  groupPids,
  idleAgain,
  median,
  pollUntil,
  procStat,
  rssOf,
  sleep,
  startBenchAgent,
  userBack,
  workDir,
  type Captured,
} from './jobs-common.js';
import { emit, percentile } from './lib.mjs';

const blender = blenderPath();
if (process.platform !== 'linux' || !blender) {
  process.stderr.write('jobs-pause: needs Linux and Blender (BLENDER_PATH or /usr/bin/blender); skipped\n');
  process.exit(0);
}

const PAUSE_TRIALS = Number(process.env.BENCH_JOBS_PAUSE_TRIALS ?? 40);
const RELEASE_TRIALS = Number(process.env.BENCH_JOBS_RELEASE_TRIALS ?? 30);
const RES = 256;

const dir = workDir('bench-jobs-pause-');
const scene = join(dir, 'benchmark.blend');
await buildBenchmarkScene(blender, scene, RES, 64);
const a = await startBenchAgent(join(dir, 'agent'), { blender: () => blender });

// One decision at a time is awaited: the first one with the wanted CPU state after arming.
let armed: { want: string; pids: number[]; check: (pids: number[]) => boolean; resolve: (ms: number) => void; reject: (e: unknown) => void } | null = null;
a.onDecision((d: Decision, at: number) => {
  const arm = armed;
  if (!arm || cpuState(d) !== arm.want) return;
  armed = null;
  pollUntil(() => arm.check(arm.pids), `the engine to be ${arm.want}`).then((t) => arm.resolve(t - at), arm.reject);
});
const arm = (want: string, pids: number[], check: (pids: number[]) => boolean) =>
  new Promise<number>((resolve, reject) => {
    armed = { want, pids, check, resolve, reject };
  });

// A render that will not finish during the trials.
const job = await a.queue({ kind: 'render', blendFile: scene, frames: { start: 1, end: 1 }, device: 'CPU', resolution: { width: RES, height: RES }, samples: 100_000 });
const sampling = (j: ReturnType<typeof a.job>) => j.state === 'running' && (j.progress?.sample ?? 0) > 0;
const capturing = captureEngineCommand(a.dataDir, job.id, blender);
await a.waitJob(job.id, sampling, 'the render to be sampling');
const captured: Captured | null = await capturing;
if (!captured) throw new Error('could not read the engine command');

const notStopped = (pgid: number) => () => {
  const pids = groupPids(pgid);
  return pids.length > 0 && pids.every((p) => procStat(p)?.state !== 'T');
};

// Pause: the user comes back, then goes away again; the same engine throughout.
const pause: number[] = [];
for (let i = 0; i < PAUSE_TRIALS; i++) {
  const pgid = enginePgid(a.dataDir, job.id)!;
  await pollUntil(notStopped(pgid), 'the engine to run');
  await sleep(50 + Math.random() * 100);
  const pids = groupPids(pgid);
  const measured = arm('paused', pids, allStopped);
  await a.signals(userBack);
  pause.push(await measured);
  await a.waitJob(job.id, (j) => j.state === 'paused', 'the job to be paused');
  await a.signals(idleAgain);
  await a.waitJob(job.id, (j) => j.state === 'running', 'the job to run again');
}

// Release: a game starts (the engine is killed, the job re-queued), then ends (a new engine).
const release: number[] = [];
const rss: number[] = [];
for (let i = 0; i < RELEASE_TRIALS; i++) {
  await a.waitJob(job.id, sampling, 'the render to be sampling');
  const pgid = enginePgid(a.dataDir, job.id)!;
  await pollUntil(notStopped(pgid), 'the engine to run');
  const pids = groupPids(pgid);
  rss.push(rssOf(pids));
  const measured = arm('released', pids, allGone);
  await a.signals(gameStarts);
  release.push(await measured);
  await a.waitJob(job.id, (j) => j.state === 'queued' && j.reason?.code === 'released', 'the job to be released');
  await a.signals(gameEnds);
}
await a.call('POST', `/jobs/${job.id}/cancel`);
await a.waitJob(job.id, (j) => j.state === 'canceled', 'the job to be canceled');
await a.agent.stop();

// Baselines on the same command, run directly.
function startDirect(): Promise<{ child: ChildProcess; pgid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(captured!.argv[0]!, captured!.argv.slice(1), { cwd: captured!.cwd, env: captured!.env, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the direct engine exited early (${code}): ${out.slice(-500)}`)));
    child.stdout!.on('data', (d) => {
      out = (out + d).slice(-4000);
      if (/Sample \d+\/\d+/.test(out)) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        child.removeAllListeners('exit');
        resolve({ child, pgid: child.pid! });
      }
    });
  });
}

const bareStop: number[] = [];
{
  const { pgid } = await startDirect();
  for (let i = 0; i < PAUSE_TRIALS; i++) {
    await pollUntil(notStopped(pgid), 'the direct engine to run');
    await sleep(50 + Math.random() * 100);
    const pids = groupPids(pgid);
    const t0 = performance.now();
    process.kill(-pgid, 'SIGSTOP');
    bareStop.push((await pollUntil(() => allStopped(pids), 'the direct engine to stop')) - t0);
    process.kill(-pgid, 'SIGCONT');
  }
  process.kill(-pgid, 'SIGKILL');
  await pollUntil(() => groupPids(pgid).length === 0, 'the direct engine to be gone');
}

const bareKill: number[] = [];
for (let i = 0; i < RELEASE_TRIALS; i++) {
  const { pgid } = await startDirect();
  const pids = groupPids(pgid);
  const t0 = performance.now();
  process.kill(-pgid, 'SIGKILL');
  bareKill.push((await pollUntil(() => allGone(pids), 'the direct engine to be gone')) - t0);
}

for (const xs of [pause, release, bareStop, bareKill]) xs.sort((x, y) => x - y);
const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
process.stderr.write(`jobs-pause: pause ms ${list(pause)}\n  bare SIGSTOP ms ${list(bareStop)}\n  release ms ${list(release)}\n  bare SIGKILL ms ${list(bareKill)}\n`);
const mib = Math.round(median(rss) / 1024 ** 2);
emit('jobs_pause_latency_p50_ms', percentile(pause, 50), `ms, decision -> every engine process stopped (T), Blender ${RES}x${RES} CPU under bwrap (${PAUSE_TRIALS} trials; baseline: bare kill(-pgid, SIGSTOP) -> T on the same command)`, percentile(bareStop, 50));
emit('jobs_pause_latency_p99_ms', percentile(pause, 99), `ms (${PAUSE_TRIALS} trials: p99 is the ${PAUSE_TRIALS < 100 ? 'maximum' : '99th percentile'})`, percentile(bareStop, 99));
emit('jobs_release_latency_p50_ms', percentile(release, 50), `ms, decision -> every engine process gone or a zombie (memory freed; engine RSS ${mib} MiB) via agent -> worker IPC -> SIGKILL (${RELEASE_TRIALS} trials; baseline: bare kill(-pgid, SIGKILL) of the same command)`, percentile(bareKill, 50));
emit('jobs_release_latency_p99_ms', percentile(release, 99), `ms (${RELEASE_TRIALS} trials: p99 is the ${RELEASE_TRIALS < 100 ? 'maximum' : '99th percentile'})`, percentile(bareKill, 99));

rmSync(dir, { recursive: true, force: true });
process.exit(0);
