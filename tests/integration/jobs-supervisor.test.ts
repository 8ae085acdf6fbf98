// The supervisor with real Blender through the real agent API: render, pause (SIGSTOP: the engine
// is stopped and uses no CPU), release (engine gone, resumed from the last finished frame), cancel
// (nothing of the tree left), a worker killed with -9 (retried) and an agent restart (re-queued).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobSummary, QueueRenderJob, RenderEngineInfo } from '../../protocol/index.js';
import { REPO, blender, buildScene, useRepoTempDirs } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { openEvents } from '../support/agent-client.js';
import {
  WORKER_BUNDLE,
  gameEnds,
  gameStarts,
  groupPids,
  idleAgain,
  inState,
  procStat,
  registry,
  sleep,
  startAgent,
  userBack,
  waitFor,
  type TestAgent,
} from '../support/jobs.js';

const found = blender();
const enabled = requireProgram(found, 'job supervisor (real Blender)');

describe.runIf(enabled)('job supervisor with real Blender', () => {
  const tmp = useRepoTempDirs();
  const running: TestAgent[] = [];
  let sceneDir: string;
  let scene: string;
  let slowScene: string;

  beforeAll(async () => {
    if (!existsSync(WORKER_BUNDLE)) throw new Error(`the worker bundle is missing (${WORKER_BUNDLE}): run "npm run build" first`);
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    sceneDir = mkdtempSync(join(REPO, '.tmp', 'scene-'));
    scene = join(sceneDir, 'cube.blend');
    await buildScene(found.found!, scene);
    // Without adaptive sampling a render takes as long as its sample count says.
    slowScene = join(sceneDir, 'slow.blend');
    await buildScene(found.found!, slowScene, 'scene.cycles.use_adaptive_sampling = False');
  });

  afterAll(() => rmSync(sceneDir, { recursive: true, force: true }));

  afterEach(async () => {
    for (const a of running.splice(0)) await a.agent.stop();
  });

  async function agent(dataDir = tmp(), jobs: NonNullable<Parameters<typeof startAgent>[1]>['jobs'] = {}) {
    const a = await startAgent(dataDir, { jobs });
    running.push(a);
    return a;
  }


  async function queue(a: TestAgent, over: Partial<QueueRenderJob> = {}) {
    const body: QueueRenderJob = { kind: 'render', blendFile: scene, frames: { start: 1, end: 2 }, device: 'CPU', resolution: { width: 64, height: 64 }, samples: 8, ...over };
    const r = await a.call('POST', '/jobs', body);
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return JobSummary.parse(r.json);
  }

  const engineOf = (a: TestAgent, jobId: string) => waitFor(() => registry(a.dataDir).find((e) => e.kind === 'engine' && e.jobId === jobId)?.pid, 'the engine in the pid registry');
  const workerOf = (a: TestAgent, jobId: string) => waitFor(() => registry(a.dataDir).find((e) => e.kind === 'worker' && e.jobId === jobId)?.pid, 'the worker in the pid registry');
  const rendering = (j: { state: string; progress: { sample: number | null } | null }) => j.state === 'running' && (j.progress?.sample ?? 0) > 0;

  it('renders a queued .blend through the agent API into hashed frames in the job directory', async () => {
    const a = await agent();
    const job = await queue(a);
    expect(job.state).toBe('queued');
    expect(job.title).toBe('cube.blend');
    const done = await a.waitJob(job.id, inState('succeeded', 'failed', 'canceled'), 'the job to finish');
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.result?.frames.map((f) => [f.frame, f.width, f.height])).toEqual([
      [1, 64, 64],
      [2, 64, 64],
    ]);
    for (const f of done.result!.frames) {
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(join(a.dataDir, 'jobs', job.id, 'frames', f.file))).toBe(true);
    }
    // The user's directory got nothing.
    expect(existsSync(join(sceneDir, 'frames'))).toBe(false);
    expect(done.consoleTail.length).toBeGreaterThan(0);
    const list = (await a.call('GET', '/jobs')).json as { jobs: JobSummary[] };
    expect(list.jobs.map((j) => j.id)).toContain(job.id);
    // Nothing of the job is left; at most the one spare worker waiting for the next job.
    await waitFor(() => registry(a.dataDir).every((e) => e.jobId === 'spare'), 'the job processes to leave the registry');
    expect(registry(a.dataDir).length).toBeLessThanOrEqual(1);
  });

  it('a benchmark through the API keeps samples per second for its device, across a restart', async () => {
    const dataDir = tmp();
    const a = await agent(dataDir);
    const r = await a.call('POST', '/render/benchmark', { device: 'CPU' });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const job = JobSummary.parse(r.json);
    expect(job.kind).toBe('benchmark');
    const done = await a.waitJob(job.id, inState('succeeded', 'failed', 'canceled'), 'the benchmark to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    const info = RenderEngineInfo.parse((await a.call('GET', '/render')).json);
    expect(info.environment?.blender.version).toMatch(/^Blender \d+\.\d+/);
    expect(info.benchmarks).toHaveLength(1);
    const b = info.benchmarks[0]!;
    expect(b).toMatchObject({ device: 'CPU', jobId: job.id, width: 128, height: 128, samples: 64, blender: info.environment!.blender.version });
    expect(b.samplesPerSecond).toBe(Math.round((128 * 128 * 64) / b.renderS));
    // The speed is the device's, not the agent's: it is there after a restart.
    await a.agent.stop();
    running.splice(running.indexOf(a), 1);
    const again = await agent(dataDir);
    const after = RenderEngineInfo.parse((await again.call('GET', '/render')).json);
    expect(after.benchmarks).toEqual(info.benchmarks);
    expect(after.environment).toBeNull();
  });

  it('renders with the Blender set in Settings, and fails clearly when that path holds no Blender', async () => {
    const a = await agent();
    const bad = join(tmp(), 'no-blender-here');
    expect((await a.call('PATCH', '/settings', { render: { blenderPath: bad } })).status).toBe(200);
    const failed = await a.waitJob((await queue(a)).id, inState('succeeded', 'failed', 'canceled'), 'the job to fail');
    expect(failed.state).toBe('failed');
    expect(failed.failure?.code).toBe('blender_not_found');
    expect(failed.failure?.text).toContain(bad);
    expect((await a.call('PATCH', '/settings', { render: { blenderPath: 'relative/blender' } })).status).toBe(400);
    expect((await a.call('PATCH', '/settings', { render: { blenderPath: found.found! } })).status).toBe(200);
    const ok = await a.waitJob((await queue(a)).id, inState('succeeded', 'failed', 'canceled'), 'the job to finish');
    expect(ok.state, JSON.stringify(ok.failure)).toBe('succeeded');
    const info = RenderEngineInfo.parse((await a.call('GET', '/render')).json);
    expect(info.blenderSetting).toBe(found.found!);
    expect(info.environment?.blender).toMatchObject({ path: found.found!, source: 'setting' });
  });

  it('pushes job changes and the live console on the events socket, and replays the console to a late subscriber', async () => {
    const a = await agent();
    const job = await queue(a);
    const live = await openEvents(a.agent.port, {
      token: a.agent.token,
      tokenVia: 'protocol',
      ms: 60_000,
      send: [{ type: 'console-subscribe', jobId: job.id }],
      until: (m) => m.some((x) => x.type === 'job' && x.job.id === job.id && x.job.state === 'succeeded'),
    });
    const states = live.messages.filter((m) => m.type === 'job' && m.job.id === job.id).map((m) => JobSummary.parse(m.job).state);
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('succeeded');
    const liveText = live.messages.filter((m) => m.type === 'console' && m.jobId === job.id).map((m) => m.data as string).join('');
    expect(liveText).toMatch(/Fra:\s?1/);
    const late = await openEvents(a.agent.port, {
      token: a.agent.token,
      tokenVia: 'protocol',
      ms: 5_000,
      send: [{ type: 'console-subscribe', jobId: job.id }],
      until: (m) => m.some((x) => x.type === 'console'),
    });
    const replay = late.messages.find((m) => m.type === 'console');
    expect(replay).toMatchObject({ jobId: job.id, replay: true });
    expect(replay.data).toBe(liveText);
  });

  it('refuses a missing file, a directory and a bad id; 404 for an unknown job', async () => {
    const a = await agent();
    const bad = { kind: 'render', frames: { start: 1, end: 1 }, device: 'CPU' };
    expect((await a.call('POST', '/jobs', { ...bad, blendFile: join(tmp(), 'nope.blend') })).status).toBe(400);
    const dir = join(tmp(), 'dir.blend');
    mkdirSync(dir);
    expect((await a.call('POST', '/jobs', { ...bad, blendFile: dir })).status).toBe(400);
    expect((await a.call('GET', '/jobs/j_unknown')).status).toBe(404);
    expect((await a.call('GET', '/jobs/bad%20id')).status).toBe(400);
    expect((await a.call('POST', '/jobs/j_unknown/cancel')).status).toBe(404);
  });

  it('pauses with SIGSTOP (stopped, no CPU time) and finishes after resuming', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 3000 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    const pgid = await engineOf(a, job.id);
    await a.signals(userBack);
    await a.waitJob(job.id, inState('paused'), 'the job to be paused');
    const members = groupPids(pgid);
    expect(members.length).toBeGreaterThan(0);
    await waitFor(() => members.every((p) => procStat(p)?.state === 'T'), 'every engine process to be stopped (T)');
    const before = members.map((p) => procStat(p)!.cpuTicks);
    await sleep(1_000);
    const after = members.map((p) => procStat(p)!.cpuTicks);
    expect(after).toEqual(before);
    await a.signals(idleAgain);
    await a.waitJob(job.id, inState('running', 'succeeded'), 'the job to run again');
    expect(groupPids(pgid).every((p) => procStat(p)?.state !== 'T')).toBe(true);
    const done = await a.waitJob(job.id, inState('succeeded', 'failed'), 'the job to finish');
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
  });

  it('a release stops the engine; the job resumes later without rendering finished frames again', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 3 }, samples: 1500 });
    await a.waitJob(job.id, (j) => (j.progress?.framesDone ?? 0) >= 1, 'the first frame to be done', 120_000);
    const pgid = await engineOf(a, job.id);
    const frame1 = join(a.dataDir, 'jobs', job.id, 'frames', 'frame_0001.png');
    const mtime = statSync(frame1).mtimeMs;
    await a.signals(gameStarts);
    const released = await a.waitJob(job.id, inState('queued'), 'the job to be released');
    expect(released.reason?.code).toBe('released');
    await waitFor(() => groupPids(pgid).length === 0, 'the engine group to be gone', 10_000);
    await a.signals(gameEnds);
    const done = await a.waitJob(job.id, inState('succeeded', 'failed'), 'the job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.result?.frames.map((f) => f.frame)).toEqual([1, 2, 3]);
    expect(statSync(frame1).mtimeMs).toBe(mtime);
  });

  it('cancel kills the whole tree', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 3000 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    const pgid = await engineOf(a, job.id);
    const worker = await workerOf(a, job.id);
    expect((await a.call('POST', `/jobs/${job.id}/cancel`)).status).toBe(200);
    await a.waitJob(job.id, inState('canceled'), 'the job to be canceled');
    await waitFor(() => groupPids(pgid).length === 0 && procStat(worker) === null, 'no engine and no worker left', 10_000);
  });

  it('a worker killed with -9 is retried and the job still finishes', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 1500 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    const pgid = await engineOf(a, job.id);
    const worker = await workerOf(a, job.id);
    process.kill(worker, 'SIGKILL');
    await waitFor(() => groupPids(pgid).length === 0, 'the orphaned engine to be killed', 10_000);
    const done = await a.waitJob(job.id, inState('succeeded', 'failed'), 'the retried job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.attempts).toBe(2);
  });

  it('an engine killed with -9 is a typed failure, retried per policy', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 1500 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    const pgid = await engineOf(a, job.id);
    process.kill(-pgid, 'SIGKILL');
    const retrying = await a.waitJob(job.id, (j) => j.reason?.code === 'retrying' || j.attempts >= 2, 'the job to be retried');
    expect(retrying.attempts === 2 || retrying.failure?.code === 'engine_exit').toBe(true);
    const done = await a.waitJob(job.id, inState('succeeded', 'failed'), 'the retried job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.attempts).toBe(2);
  });

  it('a worker that stops answering heartbeats is killed and the job retried', async () => {
    const a = await agent();
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 1500 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    const worker = await workerOf(a, job.id);
    process.kill(worker, 'SIGSTOP');
    const retrying = await a.waitJob(job.id, (j) => j.reason?.code === 'retrying', 'the hung worker to be noticed', 20_000);
    expect(retrying.reason?.text).toContain('stopped answering');
    await waitFor(() => procStat(worker) === null, 'the hung worker to be gone', 10_000);
    const done = await a.waitJob(job.id, inState('succeeded', 'failed'), 'the retried job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
  });

  it('gives up after the last attempt, with the last console lines attached', async () => {
    const a = await agent(tmp(), { maxAttempts: 1 });
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 3000 });
    await a.waitJob(job.id, rendering, 'the render to be sampling');
    process.kill(await workerOf(a, job.id), 'SIGKILL');
    const failed = await a.waitJob(job.id, inState('failed'), 'the job to fail');
    expect(failed.failure?.code).toBe('crash');
    expect(failed.failure?.text).toContain('Gave up after 1 attempts');
    expect(failed.failure?.text).toContain('Last console lines');
  });

  it('a job over its time limit is stopped and failed', async () => {
    const a = await agent(tmp(), { jobTimeoutMs: 1_000 });
    const job = await queue(a, { blendFile: slowScene, frames: { start: 1, end: 1 }, samples: 100_000 });
    const pgid = await engineOf(a, job.id);
    const failed = await a.waitJob(job.id, inState('failed', 'succeeded'), 'the job to time out', 30_000);
    expect(failed.state).toBe('failed');
    expect(failed.failure?.text).toContain('longer than its limit');
    await waitFor(() => groupPids(pgid).length === 0, 'the engine to be gone', 10_000);
  });

  it('an agent stopped mid-job re-queues it on the next start, which finishes it', async () => {
    const dataDir = tmp();
    const first = await startAgent(dataDir);
    const job = await queue(first, { blendFile: slowScene, frames: { start: 1, end: 2 }, samples: 1500 });
    await first.waitJob(job.id, rendering, 'the render to be sampling');
    const pgid = await engineOf(first, job.id);
    await first.agent.stop();
    expect(groupPids(pgid)).toEqual([]);
    const second = await agent(dataDir);
    const done = await second.waitJob(job.id, inState('succeeded', 'failed'), 'the re-queued job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
  });
});
