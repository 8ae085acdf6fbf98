// The agent's side of the narrow channel to Electron main, with main's parentPort faked at the
// boundary (a real utility process needs the Electron binary, which cannot be installed here).
import { describe, expect, it, vi } from 'vitest';
import { createParentChannel, type ParentPortLike } from '../../agent/parent-channel.js';
import type { Logger } from '../../agent/logger.js';

function fakeParentPort() {
  const sent: unknown[] = [];
  let listener: ((e: { data: unknown; ports: unknown[] }) => void) | undefined;
  const port: ParentPortLike = {
    postMessage: (m) => sent.push(m),
    on: (_event, l) => {
      listener = l;
    },
  };
  return { port, sent, deliver: (data: unknown, ports: unknown[] = []) => listener?.({ data, ports }) };
}

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => log, close: vi.fn() } as unknown as Logger;

describe('parent channel (agent <-> Electron main)', () => {
  it('announces readiness with the validated message', () => {
    const p = fakeParentPort();
    createParentChannel(p.port, log).ready('http://127.0.0.1:5000/', 5000);
    expect(p.sent).toEqual([{ type: 'ready', url: 'http://127.0.0.1:5000/', port: 5000 }]);
  });

  it('asks main to start a worker and resolves with the pid and the transferred port', async () => {
    const p = fakeParentPort();
    const ch = createParentChannel(p.port, log);
    const started = ch.startWorker('render', 'job-1');
    const req = p.sent[0] as { requestId: string; type: string; kind: string };
    expect(req).toMatchObject({ type: 'start-worker', kind: 'render', jobId: 'job-1' });
    const messagePort = { fake: 'port' };
    p.deliver({ type: 'worker-started', requestId: req.requestId, pid: 4242 }, [messagePort]);
    await expect(started).resolves.toEqual({ pid: 4242, port: messagePort });
  });

  it('rejects when main reports a failure or sends no port', async () => {
    const p = fakeParentPort();
    const ch = createParentChannel(p.port, log);
    const a = ch.startWorker('seal', 'j2');
    const b = ch.startWorker('infer', 'j3');
    const [ra, rb] = p.sent as Array<{ requestId: string }>;
    p.deliver({ type: 'worker-start-failed', requestId: ra!.requestId, error: 'no such entry' });
    p.deliver({ type: 'worker-started', requestId: rb!.requestId, pid: 7 });
    await expect(a).rejects.toThrow(/no such entry/);
    await expect(b).rejects.toThrow(/no port/);
  });

  it('times out when main never answers', async () => {
    vi.useFakeTimers();
    const p = fakeParentPort();
    const pending = createParentChannel(p.port, log).startWorker('render', 'j4', 1000);
    vi.advanceTimersByTime(1001);
    await expect(pending).rejects.toThrow(/within 1000 ms/);
    vi.useRealTimers();
  });

  it('ignores invalid messages from main and still handles shutdown', () => {
    const p = fakeParentPort();
    const ch = createParentChannel(p.port, log);
    const onShutdown = vi.fn();
    ch.onShutdown(onShutdown);
    p.deliver({ type: 'start-worker', path: '/bin/sh' });
    p.deliver('garbage');
    expect(onShutdown).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalled();
    p.deliver({ type: 'shutdown' });
    expect(onShutdown).toHaveBeenCalledOnce();
  });

  it('refuses to send a malformed request (a job id that could be a path)', () => {
    const p = fakeParentPort();
    const pending = createParentChannel(p.port, log).startWorker('render', '../../etc');
    return expect(pending).rejects.toThrow();
  });
});
