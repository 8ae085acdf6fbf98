// The agent supervisor with a fake fork and fake timers: backoff, reset after a healthy run, the
// degraded state, the lock-held exit (attach, don't loop), clean shutdown, and message checks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AGENT_EXIT } from '../../protocol/constants.js';
import { AgentSupervisor, backoffDelay, DEFAULT_BACKOFF, type SupervisorState, type WorkerRequest } from '../../main/agent-supervisor.js';
import type { ChildHandle } from '../../main/child-handle.js';

class FakeChild implements ChildHandle<string> {
  static nextPid = 1000;
  readonly pidValue = FakeChild.nextPid++;
  posted: Array<{ message: unknown; transfer?: string[] }> = [];
  killed = false;
  private messageListeners: Array<(m: unknown) => void> = [];
  private exitListeners: Array<(code: number) => void> = [];
  pid = () => this.pidValue;
  post = (message: unknown, transfer?: string[]) => void this.posted.push({ message, ...(transfer ? { transfer } : {}) });
  onSpawn = () => {};
  onMessage = (l: (m: unknown) => void) => void this.messageListeners.push(l);
  onExit = (l: (code: number) => void) => void this.exitListeners.push(l);
  kill = () => {
    this.killed = true;
  };
  send(message: unknown) {
    for (const l of this.messageListeners) l(message);
  }
  exit(code: number) {
    for (const l of this.exitListeners) l(code);
  }
}

function setup(opts: { runtime?: () => unknown } = {}) {
  const children: FakeChild[] = [];
  const states: SupervisorState[] = [];
  const workerRequests: WorkerRequest[] = [];
  const agentExits: number[] = [];
  const logs: string[] = [];
  const supervisor = new AgentSupervisor<string>({
    fork: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    readRuntimeFile: async () => (opts.runtime ? opts.runtime() : null),
    timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    now: () => Date.now(),
    onState: (s) => states.push(s),
    onWorkerRequest: (r) => workerRequests.push(r),
    onAgentExit: (code) => agentExits.push(code),
    log: (m) => logs.push(m),
  });
  const last = () => children.at(-1)!;
  return { supervisor, children, states, workerRequests, agentExits, logs, last };
}

const ready = { type: 'ready', url: 'http://127.0.0.1:47823/', port: 47_823 };

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, DEFAULT_BACKOFF))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe('AgentSupervisor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the agent and reports where it listens once it is ready', () => {
    const t = setup();
    t.supervisor.start();
    expect(t.children).toHaveLength(1);
    expect(t.supervisor.state).toEqual({ kind: 'starting', attempt: 1 });
    t.last().send(ready);
    expect(t.supervisor.state).toEqual({ kind: 'running', endpoint: { origin: 'http://127.0.0.1:47823', url: 'http://127.0.0.1:47823/' } });
  });

  it('ignores a ready message that names anything but a loopback http origin', () => {
    const t = setup();
    t.supervisor.start();
    for (const url of ['http://evil.example:47823/', 'https://127.0.0.1:47823/', 'http://localhost:47823/', 'http://127.0.0.1:1/']) {
      t.last().send({ type: 'ready', url, port: 47_823 });
    }
    expect(t.supervisor.state.kind).toBe('starting');
    expect(t.logs.filter((l) => l.includes('non-loopback'))).toHaveLength(4);
  });

  it('ignores invalid messages instead of crashing, and passes worker requests on', () => {
    const t = setup();
    t.supervisor.start();
    t.last().send('hello');
    t.last().send({ type: 'start-worker', requestId: 'r1', kind: 'render', jobId: 'j1', modulePath: '/tmp/evil.js' });
    t.last().send({ type: 'start-worker', requestId: 'r1', kind: 'shell', jobId: 'j1' });
    t.last().send({ type: 'start-worker', requestId: '../x', kind: 'render', jobId: 'j1' });
    expect(t.workerRequests).toEqual([]);
    expect(t.logs.filter((l) => l.startsWith('ignoring an invalid message'))).toHaveLength(4);

    t.last().send({ type: 'start-worker', requestId: 'r2', kind: 'seal', jobId: 'job-7' });
    t.last().send({ type: 'stop-worker', pid: 77 });
    expect(t.workerRequests).toEqual([
      { type: 'start-worker', requestId: 'r2', kind: 'seal', jobId: 'job-7' },
      { type: 'stop-worker', pid: 77 },
    ]);
  });

  it('restarts a dying agent with exponential backoff and goes degraded after 5 quick deaths', async () => {
    const t = setup();
    t.supervisor.start();
    const delays: number[] = [];
    for (let death = 1; death <= 4; death++) {
      t.last().exit(1);
      const state = t.supervisor.state;
      expect(state.kind).toBe('backing-off');
      if (state.kind !== 'backing-off') return;
      delays.push(state.delayMs);
      await vi.advanceTimersByTimeAsync(state.delayMs - 1);
      expect(t.children).toHaveLength(death);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.children).toHaveLength(death + 1);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);

    t.last().exit(1);
    expect(t.supervisor.state).toMatchObject({ kind: 'degraded' });
    expect((t.supervisor.state as { reason: string }).reason).toMatch(/5 times in a row.*exit code 1/);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(t.children).toHaveLength(5);
    expect(t.agentExits).toEqual([1, 1, 1, 1, 1]);
  });

  it('resets the backoff after the agent has been up a while', async () => {
    const t = setup();
    t.supervisor.start();
    t.last().exit(1);
    await vi.advanceTimersByTimeAsync(1000);
    t.last().exit(1);
    expect(t.supervisor.state).toMatchObject({ kind: 'backing-off', delayMs: 2000, quickDeaths: 2 });
    await vi.advanceTimersByTimeAsync(2000);
    t.last().send(ready);
    await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.stableAfterMs);
    t.last().exit(1);
    expect(t.supervisor.state).toMatchObject({ kind: 'backing-off', delayMs: 1000, quickDeaths: 1 });
  });

  it('restart from degraded starts again with a fresh budget', async () => {
    const t = setup();
    t.supervisor.start();
    for (let i = 0; i < 5; i++) {
      t.last().exit(1);
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(t.supervisor.state.kind).toBe('degraded');
    t.supervisor.retry();
    expect(t.children).toHaveLength(6);
    t.last().exit(1);
    expect(t.supervisor.state).toMatchObject({ kind: 'backing-off', delayMs: 1000 });
  });

  it('a fork that throws counts as a failed start, not a crash of main', async () => {
    let calls = 0;
    const states: SupervisorState[] = [];
    const supervisor = new AgentSupervisor({
      fork: () => {
        calls++;
        throw new Error('no such file');
      },
      readRuntimeFile: async () => null,
      timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
      now: () => Date.now(),
      onState: (s) => states.push(s),
      onWorkerRequest: () => {},
      onAgentExit: () => {},
      log: () => {},
    });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls).toBe(5);
    expect(supervisor.state.kind).toBe('degraded');
  });

  describe('when another agent holds the data directory (exit code lockHeld)', () => {
    const runtime = { pid: 555, port: 47_900, url: 'http://127.0.0.1:47900/', startedAt: '2025-01-01T00:00:00Z', version: '0.1.0' };

    it('attaches to the running agent from agent.json and does not restart', async () => {
      const t = setup({ runtime: () => runtime });
      t.supervisor.start();
      t.last().exit(AGENT_EXIT.lockHeld);
      await vi.advanceTimersByTimeAsync(0);
      expect(t.supervisor.state).toEqual({
        kind: 'attached',
        endpoint: { origin: 'http://127.0.0.1:47900', url: 'http://127.0.0.1:47900/', pid: 555 },
      });
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      expect(t.children).toHaveLength(1);
    });

    it('waits for agent.json a few times, then says what is wrong', async () => {
      let reads = 0;
      const t = setup({
        runtime: () => {
          reads++;
          return reads < 3 ? null : runtime;
        },
      });
      t.supervisor.start();
      t.last().exit(AGENT_EXIT.lockHeld);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(t.supervisor.state.kind).toBe('attached');
      expect(reads).toBe(3);

      const u = setup({ runtime: () => ({ ...runtime, url: 'http://192.168.1.5:47900/' }) });
      u.supervisor.start();
      u.last().exit(AGENT_EXIT.lockHeld);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(u.supervisor.state).toMatchObject({ kind: 'degraded', reason: expect.stringMatching(/has not said where it listens/) });
      expect(u.children).toHaveLength(1);
    });

    it('runs its own agent (with backoff) when the attached one goes away', async () => {
      const t = setup({ runtime: () => runtime });
      t.supervisor.start();
      t.last().exit(AGENT_EXIT.lockHeld);
      await vi.advanceTimersByTimeAsync(0);
      t.supervisor.attachedAgentLost();
      expect(t.supervisor.state).toMatchObject({ kind: 'backing-off', delayMs: 1000 });
      await vi.advanceTimersByTimeAsync(1000);
      expect(t.children).toHaveLength(2);
    });
  });

  describe('stop()', () => {
    it('asks the agent to shut down and resolves when it exits; no restart afterwards', async () => {
      const t = setup();
      t.supervisor.start();
      t.last().send(ready);
      const stopped = t.supervisor.stop();
      expect(t.last().posted).toEqual([{ message: { type: 'shutdown' } }]);
      expect(t.supervisor.state.kind).toBe('stopping');
      t.last().exit(0);
      await stopped;
      expect(t.supervisor.state.kind).toBe('stopped');
      expect(t.last().killed).toBe(false);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(t.children).toHaveLength(1);
      expect(t.agentExits).toEqual([0]);
    });

    it('kills an agent that does not exit within the grace period', async () => {
      const t = setup();
      t.supervisor.start();
      const stopped = t.supervisor.stop();
      await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.shutdownGraceMs);
      expect(t.last().killed).toBe(true);
      t.last().exit(143);
      await stopped;
      expect(t.supervisor.state.kind).toBe('stopped');
    });

    it('cancels a pending restart', async () => {
      const t = setup();
      t.supervisor.start();
      t.last().exit(1);
      await t.supervisor.stop();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(t.children).toHaveLength(1);
      expect(t.supervisor.state.kind).toBe('stopped');
    });
  });

  it('send() validates what goes to the agent', () => {
    const t = setup();
    expect(t.supervisor.send({ type: 'shutdown' })).toBe(false);
    t.supervisor.start();
    expect(t.supervisor.send({ type: 'worker-started', requestId: 'r1', pid: 9 }, ['port2'])).toBe(true);
    expect(t.supervisor.send({ type: 'worker-started', requestId: 'r1', pid: -1 })).toBe(false);
    expect(t.supervisor.send({ type: 'launch', path: '/bin/sh' } as never)).toBe(false);
    expect(t.last().posted).toEqual([{ message: { type: 'worker-started', requestId: 'r1', pid: 9 }, transfer: ['port2'] }]);
  });

  it('ignores messages and exits from a previous agent process', async () => {
    const t = setup();
    t.supervisor.start();
    const first = t.last();
    first.exit(1);
    await vi.advanceTimersByTimeAsync(1000);
    first.send(ready);
    first.exit(1);
    expect(t.supervisor.state).toEqual({ kind: 'starting', attempt: 2 });
  });
});
