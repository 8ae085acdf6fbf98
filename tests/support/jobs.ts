// A real agent running real render jobs, for the supervisor's tests: started in-process with no
// signal sources, consent given, the Gamer preset with no quiet period, and readings posted that
// let it run. Workers are forked from the built bundle (dist/workers/worker.js): `npm run build`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAgent, type AgentOptions, type RunningAgent } from '../../agent/agent.js';
import { JobDetail, defaultPolicy, type JobState } from '../../protocol/index.js';
import { api } from './agent-client.js';
import { REPO } from './blender.js';
import { AWAY_USER } from './signals.js';
import { groupPids, procStat } from './proc.js';

export { groupPids, procStat };

export const WORKER_BUNDLE = join(REPO, 'dist', 'workers', 'worker.js');

/** The default rules allow work: see AWAY_USER. */
export const calm = AWAY_USER;
export const userBack = { source: 'test.script', maxAgeMs: 600_000, readings: [{ name: 'idleSeconds', value: 0 }] };
export const idleAgain = { source: 'test.script', maxAgeMs: 600_000, readings: [{ name: 'idleSeconds', value: 3600 }] };
export const gameStarts = { source: 'test.script', maxAgeMs: 600_000, readings: [{ name: 'gamesRunning', value: [{ name: 'Cyberpunk2077.exe', via: 'user-list' }] }] };
export const gameEnds = { source: 'test.script', maxAgeMs: 600_000, readings: [{ name: 'gamesRunning', value: [] }] };

export interface TestAgent {
  agent: RunningAgent;
  dataDir: string;
  call(method: string, path: string, body?: unknown): ReturnType<typeof api>;
  signals(update: unknown): Promise<void>;
  job(id: string): Promise<JobDetail>;
  waitJob(id: string, ok: (j: JobDetail) => boolean, what: string, ms?: number): Promise<JobDetail>;
}

export async function startAgent(dataDir: string, extra: Partial<AgentOptions> = {}, opts: { calm?: boolean } = {}): Promise<TestAgent> {
  const agent = await runAgent({
    dataDir,
    port: 0,
    rendererDir: join(dataDir, 'no-renderer'),
    sources: [],
    ...extra,
    jobs: { heartbeatMs: 500, backoffMs: 200, cancelGraceMs: 1_000, ...extra.jobs },
  });
  const base = `http://127.0.0.1:${agent.port}`;
  const call = (method: string, path: string, body?: unknown) => api(base, agent.token, method, path, body);
  await call('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 } });
  await call('POST', '/sharing', { mode: 'on' });
  const signals = async (update: unknown) => {
    const r = await call('POST', '/signals', update);
    expect(r.status).toBe(200);
  };
  if (opts.calm !== false) await signals(calm);
  const job = async (id: string) => {
    const r = await call('GET', `/jobs/${id}`);
    expect(r.status).toBe(200);
    return JobDetail.parse(r.json);
  };
  const waitJob = async (id: string, ok: (j: JobDetail) => boolean, what: string, ms = 60_000) => {
    const deadline = Date.now() + ms;
    let last: JobDetail | undefined;
    while (Date.now() < deadline) {
      last = await job(id);
      if (ok(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}; the job is ${JSON.stringify({ state: last?.state, reason: last?.reason, failure: last?.failure, tail: last?.consoleTail.slice(-10) })}`);
  };
  return { agent, dataDir, call, signals, job, waitJob };
}

export const inState = (...states: JobState[]) => (j: JobDetail) => states.includes(j.state);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Like waitFor, for a check that has to ask something (an API call): polled until it gives a value. */
export async function waitForAsync<T>(fn: () => Promise<T | undefined | null | false>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The supervisor's pid registry: the workers and engine process groups running now. */
export function registry(dataDir: string): Array<{ pid: number; kind: 'worker' | 'engine'; jobId: string }> {
  const file = join(dataDir, 'pids.json');
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<{ pid: number; kind: 'worker' | 'engine'; jobId: string }> }).entries;
}




export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== 'Z';
}
