// The render worker as the agent drives it: the built worker bundle, forked the way the headless
// agent forks it, spoken to in the worker protocol. Real Blender; a stand-in shell script in front
// of it where a test needs Blender to fail like a GPU does (no GPU here) or to show how it was
// stopped.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forkStarter, type WorkerConnection } from '../../agent/jobs/worker-starter.js';
import { RenderJobSpec, type AgentToWorker, type EngineEnvironment, type RenderResult, type WorkerToAgent } from '../../protocol/index.js';
import { blender, buildScene, useRepoTempDirs } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { WORKER_BUNDLE } from '../support/jobs.js';

const found = blender();
const enabled = requireProgram(found, 'render worker (real Blender)');
const BLENDER = found.found!;

type Start = Extract<AgentToWorker, { type: 'start' }>;

class Session {
  readonly messages: WorkerToAgent[] = [];
  console = '';
  private waiters: Array<() => void> = [];
  constructor(readonly conn: WorkerConnection) {
    conn.onMessage((m) => {
      this.messages.push(m);
      if (m.type === 'console') this.console += m.data;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async until<T extends WorkerToAgent['type']>(type: T, ms = 120_000): Promise<Extract<WorkerToAgent, { type: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.find((x) => x.type === type);
      if (m) return m as Extract<WorkerToAgent, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${this.messages.map((x) => x.type).join(', ')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  of<T extends WorkerToAgent['type']>(type: T): Extract<WorkerToAgent, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<WorkerToAgent, { type: T }>[];
  }
}

/** A stand-in for Blender that hands everything to the real one, except what `intercept` (shell)
 * does first. It lives outside /tmp so the sandbox binds it back like a Blender under a home. */
function standIn(dir: string, intercept: string): string {
  const file = path.join(dir, 'blender-stand-in.sh');
  writeFileSync(file, `#!/bin/sh\n${intercept}\nexec ${BLENDER} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe.runIf(enabled)('render worker', () => {
  const tempDir = useRepoTempDirs();
  const open: WorkerConnection[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.kill();
  });

  async function session(): Promise<Session> {
    const conn = await forkStarter(WORKER_BUNDLE).start('test');
    open.push(conn);
    return new Session(conn);
  }

  /** A data directory with a job directory in it (the worker hides the data directory's parent
   * levels from the sandbox the way the agent lays them out: <data>/jobs/<id>). */
  async function job(id: string, withScene = true): Promise<{ jobDir: string }> {
    const jobDir = path.join(tempDir(), 'data', 'jobs', id);
    mkdirSync(jobDir, { recursive: true });
    if (withScene) await buildScene(BLENDER, path.join(jobDir, 'scene.blend'));
    return { jobDir };
  }

  function start(jobDir: string, over: Partial<Omit<Start, 'spec'>> & { spec?: Partial<RenderJobSpec> }): Start {
    const { spec, ...rest } = over;
    return {
      type: 'start',
      spec: RenderJobSpec.parse({ jobId: path.basename(jobDir), frames: { start: 1, end: 1 }, device: 'CPU', resolution: { width: 32, height: 32 }, samples: 4, ...spec }),
      jobDir,
      scene: 'scene.blend',
      blender: BLENDER,
      known: null,
      gpus: [],
      framesDone: [],
      buildScene: null,
      ...rest,
    };
  }

  it('reports what it found once; a worker given that finding neither looks again nor reports it', async () => {
    const first = await session();
    const a = await job('env-a');
    first.conn.send(start(a.jobDir, {}));
    const env = (await first.until('environment')).environment;
    expect(env.blender).toMatchObject({ path: BLENDER, source: 'setting' });
    expect(env.blender.version).toMatch(/^Blender \d+\.\d+/);
    const done = await first.until('finished');
    expect(done.result.outcome, JSON.stringify(done.result.failure)).toBe('succeeded');

    const second = await session();
    const b = await job('env-b');
    second.conn.send(start(b.jobDir, { known: env }));
    const again = await second.until('finished');
    expect(again.result.outcome).toBe('succeeded');
    expect(again.result.sandbox).toBe(env.sandbox.kind);
    expect(second.of('environment')).toEqual([]);
  });

  it('looks again when the Blender it was told about is no longer the same file', async () => {
    const dir = tempDir();
    const wrapper = standIn(dir, '');
    const first = await session();
    const a = await job('changed-a');
    first.conn.send(start(a.jobDir, { blender: wrapper }));
    const env = (await first.until('environment')).environment;
    await first.until('finished');

    // An update replaces the file: other size and mtime.
    writeFileSync(wrapper, `#!/bin/sh\n# updated\nexec ${BLENDER} "$@"\n`);
    const stale: EngineEnvironment = env;
    const second = await session();
    const b = await job('changed-b');
    second.conn.send(start(b.jobDir, { blender: wrapper, known: stale }));
    const fresh = (await second.until('environment')).environment;
    expect(fresh.blender.fingerprint).not.toEqual(stale.blender.fingerprint);
    expect((await second.until('finished')).result.outcome).toBe('succeeded');
  });

  it('renders on the CPU what failed on the GPU, once, and says so in the console', async () => {
    const dir = tempDir();
    // Asked for CUDA, this "GPU" runs out of memory at once, the way Cycles reports it.
    const wrapper = standIn(dir, 'case "$*" in *"--cycles-device CUDA"*) echo "CUDA error: Out of memory in cuMemAlloc(&device_pointer, size)"; exit 1;; esac');
    const s = await session();
    const j = await job('gpu-fallback');
    s.conn.send(start(j.jobDir, { blender: wrapper, spec: { device: 'auto', frames: { start: 1, end: 2 } }, gpus: [{ model: 'NVIDIA GeForce GTX 1080' }] }));
    const done = (await s.until('finished')).result;
    expect(s.of('engine').map((e) => e.device)).toEqual(['CUDA', 'CPU']);
    expect(done.outcome, JSON.stringify(done.failure)).toBe('succeeded');
    expect(done.device).toBe('CPU');
    expect(done.frames.map((f) => f.frame)).toEqual([1, 2]);
    expect(s.console).toContain('Rendering the remaining frames on the CPU instead');
  });

  it('a failure that is not the device is not retried on the CPU', async () => {
    const dir = tempDir();
    const wrapper = standIn(dir, 'case "$*" in *"--cycles-device"*) echo "Error: Not freed memory blocks"; echo "std::bad_alloc"; exit 1;; esac');
    const s = await session();
    const j = await job('no-fallback');
    s.conn.send(start(j.jobDir, { blender: wrapper, spec: { device: 'auto' }, gpus: [{ model: 'NVIDIA GeForce GTX 1080' }] }));
    const done: RenderResult = (await s.until('finished')).result;
    expect(done.outcome).toBe('failed');
    expect(done.failure?.code).toBe('out_of_memory');
    expect(s.of('engine').map((e) => e.device)).toEqual(['CUDA']);
  });

  it('builds and renders the benchmark scene, and reports its speed', async () => {
    const s = await session();
    const j = await job('bench', false);
    s.conn.send(start(j.jobDir, { buildScene: 'benchmark', spec: { resolution: { width: 32, height: 32 }, samples: 8 } }));
    const done = (await s.until('finished')).result;
    expect(done.outcome, JSON.stringify(done.failure)).toBe('succeeded');
    expect(existsSync(path.join(j.jobDir, 'scene.blend'))).toBe(true);
    expect(done.speed?.renderS).toBeGreaterThan(0);
    expect(done.speed?.samplesPerSecond).toBe(Math.round((32 * 32 * 8) / done.speed!.renderS));
  });

  it('a cancel asks the engine to stop (SIGTERM) before anything is killed, even when it is paused', async () => {
    const dir = tempDir();
    // Renders nothing: waits, and says how it was stopped.
    const wrapper = standIn(dir, 'case "$*" in *"--cycles-device"*) trap \'echo "STAND-IN GOT SIGTERM"; exit 143\' TERM; echo "STAND-IN WAITING"; while :; do sleep 0.05; done;; esac');
    const s = await session();
    const j = await job('cancel');
    s.conn.send(start(j.jobDir, { blender: wrapper }));
    const engine = await s.until('engine');
    const deadline = Date.now() + 60_000;
    while (!s.console.includes('STAND-IN WAITING') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(s.console).toContain('STAND-IN WAITING');
    process.kill(-engine.pid, 'SIGSTOP');
    s.conn.send({ type: 'cancel' });
    const done = (await s.until('finished')).result;
    expect(s.console).toContain('STAND-IN GOT SIGTERM');
    expect(done.outcome).toBe('failed');
  });
});
