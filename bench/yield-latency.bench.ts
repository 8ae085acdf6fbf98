// Yield latency: from the moment the user's activity is visible at its source to a running job
// receiving the stop. A CPU-bound child process stands in for the job; the agent runs in this
// process with a stand-in executor that stops the child (SIGSTOP) when the CPU may not run.
//
// Two paths, each with its polling period stated:
//  - game: a process named like a game appears; the process-list source polls every 5 s (its
//    default). Measured end to end (spawn -> stop) and the part after the reading reaches the
//    agent (publish -> stop).
//  - pushed signal: a reading arrives over the API, as the Electron shell sends idle time (every
//    2 s) and events (at once). Measured from just before the POST to the stop. The 2 s idle
//    sampling before it happens in the desktop shell (Electron) or the D-Bus reader, neither of
//    which runs on a headless test box: it adds up to 2 s (1 s on average) on top of this figure.
import './define-globals.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent } from '../agent/agent.js';
import type { WorkExecutor } from '../agent/policy/executor.js';
import { GamesSource } from '../agent/signals/games.js';
import type { SignalSource, SourceContext } from '../agent/signals/source.js';
import { defaultPolicy, type Decision } from '../protocol/index.js';
import { emit, percentile } from './lib.mjs';

if (process.platform !== 'linux') {
  process.stderr.write('yield-latency: uses SIGSTOP and /proc; Linux only\n');
  process.exit(0);
}

const TRIALS = Number(process.env.BENCH_YIELD_TRIALS ?? 200);
const GAME_TRIALS = Number(process.env.BENCH_YIELD_GAME_TRIALS ?? TRIALS);
const POLL_MS = 5_000;

const dir = mkdtempSync(join(tmpdir(), 'offhours-yield-'));
// The stand-in job: burns CPU until stopped.
const job: ChildProcess = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });

let stoppedAt: number | null = null;
let stopped = false;
const executor: WorkExecutor = {
  applyDecision(d: Decision) {
    const cpu = d.resources.find((r) => r.resource === 'cpu');
    const run = cpu?.state === 'running' || cpu?.state === 'limited';
    if (!run && !stopped) {
      job.kill('SIGSTOP');
      stopped = true;
      stoppedAt = performance.now();
    } else if (run && stopped) {
      job.kill('SIGCONT');
      stopped = false;
    }
  },
  activeWork: () => ({ cpu: 1 }),
  ownPids: () => new Set(job.pid ? [job.pid] : []),
};

// Wraps the real games source to note when its reading reaches the agent.
let reachedAt: number | null = null;
const games = new GamesSource({ periodMs: POLL_MS });
const timedGames: SignalSource = {
  name: games.name,
  detectors: () => games.detectors(),
  stop: () => games.stop(),
  start: (ctx: SourceContext) =>
    games.start({
      ...ctx,
      sink: {
        publish: (source, readings, maxAgeMs) => {
          const list = readings.find((r) => r.name === 'gamesRunning')?.value as unknown[] | undefined;
          if (list && list.length > 0 && reachedAt === null) reachedAt = performance.now();
          ctx.sink.publish(source, readings, maxAgeMs);
        },
      },
    }),
};

const agent = await runAgent({ dataDir: join(dir, 'data'), port: 0, rendererDir: join(dir, 'none'), sources: [timedGames], executor });
const base = `http://127.0.0.1:${agent.port}/api/v1`;
const headers = { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' };
const post = (path: string, body: unknown, method = 'POST') => fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) }).then((r) => r.json());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const policy = defaultPolicy();
const gameName = 'offhours-bench-game';
policy.games.extra = [gameName];
policy.quietPeriodMinutes = 0;
await post('/settings', { consent: { accepted: true, version: 1 }, policy }, 'PATCH');
await post('/sharing', { mode: 'on' });
const calm = (extra: unknown[] = []) =>
  post('/signals', {
    source: 'bench.shell',
    maxAgeMs: 3_600_000,
    readings: [
      { name: 'idleSeconds', value: 3600 },
      { name: 'screenLocked', value: false },
      { name: 'onBattery', value: false },
      { name: 'cpuTemperature', value: 45 },
      ...extra,
    ],
  });

async function until(check: () => boolean, what: string, ms = 20_000) {
  const t = performance.now();
  while (!check()) {
    if (performance.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

// Pushed path: the shell reports the user is back (idle time reset to 0).
const pushed: number[] = [];
await calm();
await until(() => !stopped, 'the job to run');
for (let i = 0; i < TRIALS; i++) {
  stoppedAt = null;
  const t0 = performance.now();
  await post('/signals', { source: 'bench.shell', maxAgeMs: 3_600_000, readings: [{ name: 'idleSeconds', value: 0 }] });
  await until(() => stoppedAt !== null, 'the stop');
  pushed.push(stoppedAt! - t0);
  await calm();
  await until(() => !stopped, 'the job to run again');
}
pushed.sort((a, b) => a - b);

// Game path, end to end through the real process-list source.
const exe = join(dir, gameName);
copyFileSync('/bin/sleep', exe);
const total: number[] = [];
const afterReach: number[] = [];
for (let i = 0; i < GAME_TRIALS; i++) {
  await until(() => !stopped, 'the job to run again', POLL_MS * 4);
  // A random phase against the poll, as a real game start would have.
  await sleep(Math.random() * POLL_MS);
  stoppedAt = null;
  reachedAt = null;
  const t0 = performance.now();
  const game = spawn(exe, ['600'], { stdio: 'ignore' });
  await until(() => stoppedAt !== null, 'the game to be seen', POLL_MS * 4);
  if (reachedAt === null) throw new Error('the job stopped before the game reading reached the agent: something else stopped it');
  total.push(stoppedAt! - t0);
  afterReach.push(stoppedAt! - reachedAt);
  game.kill('SIGKILL');
}
total.sort((a, b) => a - b);
afterReach.sort((a, b) => a - b);

// Baseline for the pushed path: the same loopback POST to the agent with nothing to decide.
const bare: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const t0 = performance.now();
  await fetch(`${base}/health`, { headers });
  bare.push(performance.now() - t0);
}
bare.sort((a, b) => a - b);

emit('yield_pushed_signal_p50_ms', percentile(pushed, 50), `ms, POST /signals -> job stopped (${TRIALS} trials; the shell sends idle every 2 s, events at once)`, percentile(bare, 50));
emit('yield_pushed_signal_p99_ms', percentile(pushed, 99), 'ms (goal p99 <= 50 ms; baseline: a GET /health round trip)', percentile(bare, 99));
emit('yield_game_end_to_end_p50_ms', percentile(total, 50), `ms, game process starts -> job stopped (${GAME_TRIALS} trials, process list every ${POLL_MS / 1000} s)`, POLL_MS / 2);
emit('yield_game_end_to_end_p99_ms', percentile(total, 99), 'ms (baseline: the poll period)', POLL_MS);
emit('yield_game_after_reaching_agent_p50_ms', percentile(afterReach, 50), 'ms, reading published -> job stopped', null);
emit('yield_game_after_reaching_agent_p99_ms', percentile(afterReach, 99), 'ms (goal p99 <= 50 ms)', null);

job.kill('SIGKILL');
await agent.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
