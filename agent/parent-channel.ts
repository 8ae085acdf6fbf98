// Inside the Electron app the agent is a utility process: it talks to main over process.parentPort
// (Electron sets it; no electron import needed). Messages are validated both ways.
import { AgentToMain, MainToAgent, type WorkerKind } from '../protocol/index.js';
import type { Logger } from './logger.js';

/** The part of Electron's parentPort the agent uses. */
export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown; ports: unknown[] }) => void): unknown;
}

export interface StartedWorker {
  pid: number;
  /** The MessagePort main created for this worker. */
  port: unknown;
}

export interface ParentChannel {
  ready(url: string, port: number): void;
  /** Asks main to start a worker process (only main can create utility processes). */
  startWorker(kind: WorkerKind, jobId: string, timeoutMs?: number): Promise<StartedWorker>;
  /** Asks main to kill a worker it started. */
  stopWorker(pid: number): void;
  /** Asks main for the node keystore's secret (kept with Electron's safeStorage). */
  requestNodeKeySecret(create: boolean, timeoutMs?: number): Promise<string>;
  onShutdown(listener: () => void): void;
  onWorkerExit(listener: (pid: number, code: number | null) => void): void;
}

export function createParentChannel(port: ParentPortLike, log: Logger): ParentChannel {
  let nextId = 1;
  const pending = new Map<string, { resolve: (w: StartedWorker) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const secrets = new Map<string, { resolve: (secret: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const shutdownListeners: Array<() => void> = [];
  const exitListeners: Array<(pid: number, code: number | null) => void> = [];

  const send = (msg: AgentToMain) => port.postMessage(AgentToMain.parse(msg));

  port.on('message', (e) => {
    const parsed = MainToAgent.safeParse(e.data);
    if (!parsed.success) {
      log.warn('ignored an invalid message from main', { issues: parsed.error.issues.slice(0, 3) });
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'shutdown':
        for (const l of shutdownListeners) l();
        break;
      case 'worker-exited':
        for (const l of exitListeners) l(msg.pid, msg.code);
        break;
      case 'node-key-secret':
      case 'node-key-secret-failed': {
        const p = secrets.get(msg.requestId);
        if (!p) return;
        secrets.delete(msg.requestId);
        clearTimeout(p.timer);
        if (msg.type === 'node-key-secret') p.resolve(msg.secret);
        else p.reject(new Error(msg.error));
        break;
      }
      case 'worker-started':
      case 'worker-start-failed': {
        const p = pending.get(msg.requestId);
        if (!p) return;
        pending.delete(msg.requestId);
        clearTimeout(p.timer);
        if (msg.type === 'worker-start-failed') p.reject(new Error(`main could not start the worker: ${msg.error}`));
        else if (e.ports[0] === undefined) p.reject(new Error('main started the worker but sent no port'));
        else p.resolve({ pid: msg.pid, port: e.ports[0] });
        break;
      }
    }
  });

  return {
    ready: (url, p) => send({ type: 'ready', url, port: p }),
    startWorker(kind, jobId, timeoutMs = 15_000) {
      const requestId = `w${nextId++}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(requestId);
          reject(new Error(`main did not start the ${kind} worker within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(requestId, { resolve, reject, timer });
        send({ type: 'start-worker', requestId, kind, jobId });
      });
    },
    stopWorker: (pid) => send({ type: 'stop-worker', pid }),
    requestNodeKeySecret(create, timeoutMs = 30_000) {
      const requestId = `k${nextId++}`;
      return new Promise((resolve, reject) => {
        // Generous: the OS keychain may be asking the user to unlock it.
        const timer = setTimeout(() => {
          secrets.delete(requestId);
          reject(new Error(`main did not answer within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        secrets.set(requestId, { resolve, reject, timer });
        send({ type: 'node-key-secret-request', requestId, create });
      });
    },
    onShutdown: (l) => shutdownListeners.push(l),
    onWorkerExit: (l) => exitListeners.push(l),
  };
}
