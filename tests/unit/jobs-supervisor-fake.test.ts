// The supervisor's decisions without Blender: a fake worker whose "engine" is a real process group
// (sleep), so pause and release are checked on real processes, and release hands framesDone over.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentToWorker, RenderResult, WorkerToAgent } from '../../protocol/index.js';
import type { WorkerConnection, WorkerStarter } from '../../agent/jobs/worker-starter.js';
import { gameEnds, gameStarts, idleAgain, inState, procStat, sleep, startAgent, userBack, waitFor, type TestAgent } from '../support/jobs.js';
import { useTempDirs } from '../support/tmp.js';
import WebSocket from 'ws';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../protocol/index.js';

class FakeWorker implements WorkerConnection {
  readonly pid: number;
  readonly sent: AgentToWorker[] = [];
  engine: ChildProcess | null = null;
  private listener: (m: WorkerToAgent) => void = () => undefined;
  private exitListener: (code: number | null, signal: string | null) => void = () => undefined;

  constructor(private readonly self: ChildProcess) {
    this.pid = self.pid!;
  }

  emit(m: WorkerToAgent) {
    setImmediate(() => this.listener(m));
  }

  send(m: AgentToWorker) {
    this.sent.push(m);
    if (m.type === 'ping') this.emit({ type: 'pong', seq: m.seq });
    if (m.type === 'start') {
      this.engine = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
      this.emit({ type: 'engine', pid: this.engine.pid!, sandbox: 'none', device: 'CPU' });
    }
    if (m.type === 'release' || m.type === 'cancel') {
      this.engine?.kill('SIGKILL');
      this.emit({ type: 'finished', released: m.type === 'release', result: result('failed', [1]) });
    }
  }
  onMessage(l: (m: WorkerToAgent) => void) {
    this.listener = l;
  }
  onInvalid() {}
  onExit(l: (code: number | null, signal: string | null) => void) {
    this.exitListener = l;
    this.self.once('exit', (c, s) => this.exitListener(c, s));
  }
  kill() {
    this.engine?.kill('SIGKILL');
    this.self.kill('SIGKILL');
  }
  get exited(): boolean {
    return this.self.exitCode !== null || this.self.signalCode !== null;
  }
}

function result(outcome: 'succeeded' | 'failed', frames: number[]): RenderResult {
  return {
    jobId: 'x',
    outcome,
    failure: outcome === 'failed' ? { code: 'aborted', text: 'stopped' } : null,
    device: 'CPU',
    sandbox: 'none',
    exit: { code: null, signal: 'SIGKILL' },
    frames: frames.map((frame) => ({ frame, file: `frame_000${frame}.png`, sha256: 'a'.repeat(64), width: 4, height: 4, bytes: 1 })),
    extraFiles: [],
    wallS: 1,
  };
}

describe('supervisor decisions (fake worker)', () => {
  const tmp = useTempDirs();
  const agents: TestAgent[] = [];
  const workers: FakeWorker[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.agent.stop();
    for (const w of workers.splice(0)) w.kill();
  });

  // The workers that were given a job (a spare forked ahead of time gets one only when taken).
  const started = () => workers.filter((w) => w.sent.some((m) => m.type === 'start'));

  const starter: WorkerStarter = {
    start: async () => {
      const w = new FakeWorker(spawn('sleep', ['60'], { stdio: 'ignore' }));
      workers.push(w);
      return w;
    },
  };

  async function setup() {
    const dataDir = tmp();
    const a = await startAgent(dataDir, { workerStarter: starter });
    agents.push(a);
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const r = await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 3 }, device: 'CPU' });
    expect(r.status).toBe(201);
    return { a, id: r.json.id as string };
  }

  it('pauses the engine group with SIGSTOP, resumes it, and a release re-queues with the frames done', async () => {
    const { a, id } = await setup();
    await a.waitJob(id, inState('running'), 'running');
    const first = started()[0]!;
    const engine = first.engine!.pid!;
    await a.signals(userBack);
    await a.waitJob(id, inState('paused'), 'paused');
    await waitFor(() => procStat(engine)?.state === 'T', 'the engine to be stopped');
    await a.signals(idleAgain);
    await a.waitJob(id, inState('running'), 'running again');
    await waitFor(() => procStat(engine)?.state !== 'T', 'the engine to run again');
    await a.signals(gameStarts);
    const queued = await a.waitJob(id, inState('queued'), 'released');
    expect(queued.reason?.code).toBe('released');
    expect(first.sent.some((m) => m.type === 'release')).toBe(true);
    await a.signals(gameEnds);
    await waitFor(() => started().length === 2, 'a second start');
    const start = started()[1]!.sent.find((m) => m.type === 'start') as Extract<AgentToWorker, { type: 'start' }>;
    expect(start.framesDone).toEqual([1]);
    expect(start.jobDir).toBe(join(a.dataDir, 'jobs', id));
  });

  it('counts its workers and engines as its own load', async () => {
    const { a, id } = await setup();
    await a.waitJob(id, inState('running'), 'running');
    const own = a.agent.jobs!.ownPids();
    expect(own.has(started()[0]!.pid)).toBe(true);
    expect(own.has(started()[0]!.engine!.pid!)).toBe(true);
  });

  it('skips console output for a client that stops reading, without dropping it or the fast one', async () => {
    const { a, id } = await setup();
    await a.waitJob(id, inState('running'), 'running');
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${a.agent.port}/api/v1/events`, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${a.agent.token}`]);
      let bytes = 0;
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type === 'console') bytes += (m.data as string).length;
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'console-subscribe', jobId: id }));
      await new Promise((r) => setTimeout(r, 100));
      return { ws, bytes: () => bytes };
    };
    const fast = await open();
    const slow = await open();
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const chunk = 'x'.repeat(256 * 1024);
    const total = 64 * chunk.length;
    for (let i = 0; i < 64; i++) {
      started()[0]!.emit({ type: 'console', data: chunk });
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => fast.bytes() === total, 'the fast client to get everything');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await new Promise((r) => setTimeout(r, 300));
    expect(slow.ws.readyState).toBe(WebSocket.OPEN);
    expect(slow.bytes()).toBeLessThan(total);
    fast.ws.close();
    slow.ws.close();
  });

  it('keeps one spare worker while work may start and nothing runs, hands it the next job, and stops it when a game starts', async () => {
    const a = await startAgent(tmp(), { workerStarter: starter });
    agents.push(a);
    // Idle and allowed to work: one worker waits, with nothing to do.
    await waitFor(() => workers.length === 1, 'a spare worker');
    const spare = workers[0]!;
    expect(spare.sent).toEqual([]);
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const id = (await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 3 }, device: 'CPU' })).json.id as string;
    await a.waitJob(id, inState('running'), 'running');
    // The job went to the spare; no other worker boots while it renders.
    expect(started()).toEqual([spare]);
    await sleep(300);
    expect(workers.filter((w) => !w.exited)).toEqual([spare]);
    await a.signals(gameStarts);
    await a.waitJob(id, inState('queued'), 'released');
    // Nothing may start while the game runs: no worker waits beside it.
    await waitFor(() => workers.every((w) => w.exited), 'every worker to be gone while the game runs');
    await sleep(300);
    expect(workers.every((w) => w.exited)).toBe(true);
    await a.signals(gameEnds);
    await a.waitJob(id, inState('running'), 'running again');
    expect(started().length).toBe(2);
  });

  it('deletes a finished job and its folder for good, and refuses one that may still run', async () => {
    const dataDir = tmp();
    const a = await startAgent(dataDir, { workerStarter: starter });
    agents.push(a);
    await a.call('POST', '/sharing', { mode: 'drain' });
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const id = (await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 1 }, device: 'CPU' })).json.id as string;
    expect(existsSync(join(dataDir, 'jobs', id, 'scene.blend'))).toBe(true);
    const active = await a.call('DELETE', `/jobs/${id}`);
    expect(active.status).toBe(409);
    expect(active.json.error.code).toBe('job_active');
    expect((await a.call('POST', `/jobs/${id}/cancel`)).json.state).toBe('canceled');
    expect((await a.call('DELETE', `/jobs/${id}`)).status).toBe(204);
    expect(existsSync(join(dataDir, 'jobs', id))).toBe(false);
    expect((await a.call('GET', `/jobs/${id}`)).status).toBe(404);
    expect((await a.call('GET', '/jobs')).json.jobs).toEqual([]);
    expect((await a.call('DELETE', `/jobs/${id}`)).status).toBe(404);
    expect((await a.call('DELETE', '/jobs/..%2F..%2Fetc')).status).toBe(400);
    // Gone after a restart too: the journal says so.
    await a.agent.stop();
    agents.splice(agents.indexOf(a), 1);
    const b = await startAgent(dataDir, { workerStarter: starter });
    agents.push(b);
    expect((await b.call('GET', '/jobs')).json.jobs).toEqual([]);
  });

  it('starts nothing while draining', async () => {
    const dataDir = tmp();
    const a = await startAgent(dataDir, { workerStarter: starter });
    agents.push(a);
    await a.call('POST', '/sharing', { mode: 'drain' });
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const r = await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 1 }, device: 'CPU' });
    await new Promise((res) => setTimeout(res, 300));
    expect((await a.job(r.json.id)).state).toBe('queued');
    expect(started()).toEqual([]);
    // Nothing may start, so no spare waits either.
    await waitFor(() => workers.every((w) => w.exited), 'any spare worker to be stopped');
    await a.call('POST', '/sharing', { mode: 'on' });
    await a.waitJob(r.json.id, inState('running'), 'running once sharing is on');
  });
});
