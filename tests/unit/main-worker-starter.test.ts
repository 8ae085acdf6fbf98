// The worker starter with fake utility processes and ports: only the shipped worker entry is ever
// started, each worker and the agent get one end of a fresh channel, exits are reported, and
// workers die with the agent.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentToMain, MainToAgent } from '../../protocol/worker-channel.js';
import type { ChildHandle } from '../../main/child-handle.js';
import { WORKER_ENTRY, WORKER_PORT_MESSAGE, WorkerStarter, workerLaunchFor, type WorkerLaunch } from '../../main/worker-starter.js';

class FakeWorker implements ChildHandle<string> {
  pidValue: number | undefined;
  posted: Array<{ message: unknown; transfer?: string[] }> = [];
  killed = false;
  private spawnListeners: Array<() => void> = [];
  private exitListeners: Array<(code: number) => void> = [];
  constructor(readonly launch: WorkerLaunch) {}
  pid = () => this.pidValue;
  post = (message: unknown, transfer?: string[]) => void this.posted.push({ message, ...(transfer ? { transfer } : {}) });
  onSpawn = (l: () => void) => void this.spawnListeners.push(l);
  onMessage = () => {};
  onExit = (l: (code: number) => void) => void this.exitListeners.push(l);
  kill = () => {
    this.killed = true;
  };
  spawn(pid: number | undefined) {
    this.pidValue = pid;
    for (const l of this.spawnListeners) l();
  }
  exit(code: number) {
    for (const l of this.exitListeners) l(code);
  }
}

function setup(opts: { forkThrows?: boolean } = {}) {
  const workers: FakeWorker[] = [];
  const toAgent: Array<{ message: MainToAgent; transfer?: string[] }> = [];
  let channels = 0;
  const starter = new WorkerStarter<string>({
    appRoot: '/opt/Offhours/resources/app.asar',
    fork: (launch) => {
      if (opts.forkThrows) throw new Error('spawn failed');
      const w = new FakeWorker(launch);
      workers.push(w);
      return w;
    },
    createChannel: () => {
      channels++;
      return { port1: `worker-end-${channels}`, port2: `agent-end-${channels}` };
    },
    sendToAgent: (message, transfer) => {
      // Everything main sends must pass the schema the agent checks it with.
      expect(MainToAgent.safeParse(message).success).toBe(true);
      toAgent.push({ message, ...(transfer ? { transfer } : {}) });
    },
    log: () => {},
  });
  return { starter, workers, toAgent };
}

const startRequest = (kind: 'render' | 'infer' | 'seal', requestId = 'r1', jobId = 'job-1') => {
  const parsed = AgentToMain.parse({ type: 'start-worker', requestId, kind, jobId });
  if (parsed.type !== 'start-worker') throw new Error('unreachable');
  return parsed;
};

describe('workerLaunchFor', () => {
  it('maps every kind to the one shipped entry, with the kind as its only argument', () => {
    for (const kind of ['render', 'infer', 'seal'] as const) {
      expect(workerLaunchFor('/app', kind, 'job-9')).toEqual({
        modulePath: join('/app', WORKER_ENTRY),
        args: ['--kind', kind],
        serviceName: `Offhours ${kind} worker job-9`,
      });
    }
    expect(WORKER_ENTRY).toBe('dist/workers/worker.js');
  });

  it('refuses a kind outside the schema, even when called without validation', () => {
    expect(() => workerLaunchFor('/app', '../../evil' as never, 'j')).toThrow();
  });
});

describe('the channel schema main relies on', () => {
  it('rejects anything that could carry a path, arguments or an unknown kind', () => {
    const bad = [
      { type: 'start-worker', requestId: 'r1', kind: 'render', jobId: 'j', modulePath: '/tmp/x.js' },
      { type: 'start-worker', requestId: 'r1', kind: 'render', jobId: 'j', args: ['--inspect'] },
      { type: 'start-worker', requestId: 'r1', kind: 'bash', jobId: 'j' },
      { type: 'start-worker', requestId: 'r1', kind: 'render', jobId: '../../etc' },
      { type: 'start-worker', requestId: 'a b', kind: 'render', jobId: 'j' },
      { type: 'stop-worker', pid: 0 },
      { type: 'stop-worker', pid: '12' },
      { type: 'exec', command: 'rm -rf /' },
      null,
      'start-worker',
    ];
    for (const message of bad) expect(AgentToMain.safeParse(message).success, JSON.stringify(message)).toBe(false);
  });
});

describe('WorkerStarter', () => {
  it('forks the shipped entry and hands one port to the worker and the other to the agent', () => {
    const t = setup();
    t.starter.handle(startRequest('render', 'r1', 'job-1'));
    expect(t.workers).toHaveLength(1);
    expect(t.workers[0]!.launch).toEqual(workerLaunchFor('/opt/Offhours/resources/app.asar', 'render', 'job-1'));
    // Nothing is reported before the process exists and has a pid.
    expect(t.toAgent).toEqual([]);

    t.workers[0]!.spawn(4321);
    expect(t.workers[0]!.posted).toEqual([{ message: WORKER_PORT_MESSAGE, transfer: ['worker-end-1'] }]);
    expect(t.toAgent).toEqual([{ message: { type: 'worker-started', requestId: 'r1', pid: 4321 }, transfer: ['agent-end-1'] }]);
    expect(t.starter.runningPids).toEqual([4321]);
  });

  it('reports worker exits with the pid and exit code', () => {
    const t = setup();
    t.starter.handle(startRequest('seal'));
    t.workers[0]!.spawn(77);
    t.workers[0]!.exit(3);
    expect(t.toAgent.at(-1)).toEqual({ message: { type: 'worker-exited', pid: 77, code: 3 } });
    expect(t.starter.runningPids).toEqual([]);
  });

  it('reports a worker that dies before it spawns, or cannot be forked, as a failed start', () => {
    const t = setup();
    t.starter.handle(startRequest('infer', 'r9'));
    t.workers[0]!.exit(1);
    expect(t.toAgent).toEqual([{ message: { type: 'worker-start-failed', requestId: 'r9', error: expect.stringMatching(/exited with code 1 before it started/) } }]);

    const u = setup({ forkThrows: true });
    u.starter.handle(startRequest('render', 'r2'));
    expect(u.toAgent).toEqual([{ message: { type: 'worker-start-failed', requestId: 'r2', error: expect.stringMatching(/spawn failed/) } }]);
  });

  it('stops only workers it started', () => {
    const t = setup();
    t.starter.handle(startRequest('render'));
    t.workers[0]!.spawn(500);
    t.starter.handle({ type: 'stop-worker', pid: 1 });
    expect(t.workers[0]!.killed).toBe(false);
    t.starter.handle({ type: 'stop-worker', pid: 500 });
    expect(t.workers[0]!.killed).toBe(true);
  });

  it('killAll() kills running workers and ones still starting', () => {
    const t = setup();
    t.starter.handle(startRequest('render', 'r1'));
    t.starter.handle(startRequest('seal', 'r2'));
    t.workers[0]!.spawn(600);
    t.starter.killAll();
    expect(t.workers.map((w) => w.killed)).toEqual([true, true]);
  });

  it('gives every worker its own channel', () => {
    const t = setup();
    t.starter.handle(startRequest('render', 'r1'));
    t.starter.handle(startRequest('render', 'r2'));
    t.workers[0]!.spawn(1);
    t.workers[1]!.spawn(2);
    expect(t.toAgent.map((m) => m.transfer)).toEqual([['agent-end-1'], ['agent-end-2']]);
  });
});
