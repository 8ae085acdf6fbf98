// Shared pieces of the jobs benches (bench/jobs-*.bench.ts): a real agent with the real job
// supervisor started in this process (workers forked from dist/workers/worker.js: `npm run build`),
// readings that let it run or stop work, /proc helpers, and the benchmark scene.
// Not a bench itself (bench/run.mjs only runs *.bench.*); import './define-globals.js' before it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runAgent, type AgentOptions, type RunningAgent } from '../agent/agent.js';
import { defaultPolicy, type Decision, type JobDetail, type JobSummary } from '../protocol/index.js';
import { root } from './lib.mjs';
import { AWAY_USER } from '../tests/support/signals.js';
import { groupPids, procStat } from '../tests/support/proc.js';

export { groupPids, procStat };

export const WORKER_BUNDLE = join(root, 'dist', 'workers', 'worker.js');
export const BENCHMARK_SCENE_PY = join(root, 'resources', 'benchmark', 'benchmark-scene.py');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const tick = () => new Promise<void>((r) => setImmediate(r));

/** A user away for an hour, cool machine on mains, no game: the default rules allow work. */
export const calm = AWAY_USER;
export const userBack = { source: 'bench.script', maxAgeMs: 3_600_000, readings: [{ name: 'idleSeconds', value: 0 }] };
export const idleAgain = { source: 'bench.script', maxAgeMs: 3_600_000, readings: [{ name: 'idleSeconds', value: 3600 }] };
export const gameStarts = { source: 'bench.script', maxAgeMs: 3_600_000, readings: [{ name: 'gamesRunning', value: [{ name: 'Cyberpunk2077.exe', via: 'user-list' }] }] };
export const gameEnds = { source: 'bench.script', maxAgeMs: 3_600_000, readings: [{ name: 'gamesRunning', value: [] }] };

/** Scratch directories under the repo's ignored .tmp/ (the sandbox hides /tmp). */
export function workDir(prefix: string): string {
  const base = join(root, '.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

export function requireBuild(): void {
  if (!existsSync(WORKER_BUNDLE)) throw new Error(`the worker bundle is missing (${WORKER_BUNDLE}): run "npm run build" first`);
}

/** Blender as the tests find it: BLENDER_PATH, else /usr/bin/blender; null when there is none. */
export function blenderPath(): string | null {
  const p = process.env.BLENDER_PATH ?? '/usr/bin/blender';
  return existsSync(p) ? p : null;
}

export interface BenchAgent {
  agent: RunningAgent;
  dataDir: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  signals(update: unknown): Promise<void>;
  queue(body: unknown): Promise<JobSummary>;
  job(id: string): JobDetail;
  waitJob(id: string, ok: (j: JobDetail) => boolean, what: string, ms?: number): Promise<JobDetail>;
  /** Every decision the policy engine hands the supervisor, with performance.now() just before. */
  onDecision(listener: (d: Decision, at: number) => void): () => void;
}

export async function startBenchAgent(dataDir: string, jobs: AgentOptions['jobs'] = {}, opts: { calm?: boolean } = {}): Promise<BenchAgent> {
  requireBuild();
  const agent = await runAgent({ dataDir, port: 0, rendererDir: join(dataDir, 'no-renderer'), sources: [], jobs });
  const sup = agent.jobs;
  if (!sup) throw new Error('the agent has no job supervisor');
  // The policy engine calls executor.applyDecision on the supervisor object: wrap it there.
  const listeners = new Set<(d: Decision, at: number) => void>();
  const apply = sup.applyDecision.bind(sup);
  sup.applyDecision = (d: Decision) => {
    const at = performance.now();
    apply(d);
    for (const l of listeners) l(d, at);
  };
  const base = `http://127.0.0.1:${agent.port}/api/v1`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${agent.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json: json as any };
  };
  const ok = async (method: string, path: string, body?: unknown, status = 200) => {
    const r = await call(method, path, body);
    if (r.status !== status) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  await ok('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 } });
  await ok('POST', '/sharing', { mode: 'on' });
  const signals = async (update: unknown) => void (await ok('POST', '/signals', update));
  if (opts.calm !== false) await signals(calm);
  const job = (id: string) => {
    const j = sup.get(id);
    if (!j) throw new Error(`no job ${id}`);
    return j;
  };
  const waitJob = async (id: string, test: (j: JobDetail) => boolean, what: string, ms = 120_000) => {
    const deadline = performance.now() + ms;
    for (;;) {
      const j = job(id);
      if (test(j)) return j;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; the job is ${JSON.stringify({ state: j.state, reason: j.reason, failure: j.failure, tail: j.consoleTail.slice(-10) })}`);
      await sleep(5);
    }
  };
  return {
    agent,
    dataDir,
    call,
    signals,
    queue: async (body) => (await ok('POST', '/jobs', body, 201)) as JobSummary,
    job,
    waitJob,
    onDecision: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

export const cpuState = (d: Decision) => d.resources.find((r) => r.resource === 'cpu')?.state;

/** The supervisor's pid registry: the engine process group of a job. */
export function enginePgid(dataDir: string, jobId: string): number | undefined {
  const file = join(dataDir, 'pids.json');
  if (!existsSync(file)) return undefined;
  const entries = (JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<{ pid: number; kind: string; jobId: string }> }).entries;
  return entries.find((e) => e.kind === 'engine' && e.jobId === jobId)?.pid;
}



/** Resident memory of some processes, bytes (0 for those gone). */
export function rssOf(pids: number[]): number {
  let sum = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch {}
  }
  return sum;
}

/** Every one stopped by a signal (state T). */
export const allStopped = (pids: number[]) => pids.every((p) => procStat(p)?.state === 'T');
/** Every one gone or a zombie: a zombie has already released its memory (exit_mm runs before). */
export const allGone = (pids: number[]) =>
  pids.every((p) => {
    const s = procStat(p);
    return s === null || s.state === 'Z' || s.state === 'X';
  });

/** Polls `check` between turns of the event loop (so the agent keeps running) until it holds. */
export async function pollUntil(check: () => boolean, what: string, ms = 10_000): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (check()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** Builds the bundled benchmark scene (resources/benchmark/benchmark-scene.py) into `out`. */
export function buildBenchmarkScene(blender: string, out: string, resolution: number, samples: number): Promise<void> {
  const args = ['--background', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python', BENCHMARK_SCENE_PY, '--', out, '--resolution', String(resolution), '--samples', String(samples)];
  return new Promise((resolve, reject) => {
    execFile(blender, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err || !existsSync(out)) reject(new Error(`building the benchmark scene failed: ${String(err)}\n${String(stdout).slice(-2000)}${String(stderr).slice(-2000)}`));
      else resolve();
    });
  });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** An engine's command as the worker ran it, to run again directly. */
export interface Captured {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * Reads a job's engine command from /proc while it runs: argv (with `nice -n 19` put back in front,
 * as nice execs away), environment and working directory (the job directory).
 */
export async function captureEngineCommand(dataDir: string, jobId: string, blender: string, ms = 120_000): Promise<Captured | null> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const pid = enginePgid(dataDir, jobId);
    if (pid !== undefined) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv.at(-1) === '') argv.pop();
        if (argv.includes(blender)) {
          const env: Record<string, string> = {};
          for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
            const eq = kv.indexOf('=');
            if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
          }
          const cwd = readlinkSync(`/proc/${pid}/cwd`);
          return { argv: basename(argv[0]!) === 'nice' ? argv : ['/usr/bin/nice', '-n', '19', ...argv], env, cwd };
        }
      } catch {}
    }
    await sleep(2);
  }
  return null;
}
