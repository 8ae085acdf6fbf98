// Starts worker processes when the agent asks (only Electron main can create utility processes)
// and wires each to the agent with a MessagePort pair. The agent names a worker kind, never a
// path or arguments: a compromised agent must not turn this channel into "run any module".
import { join } from 'node:path';
import { WorkerKind } from '../protocol/worker-channel.js';
import type { MainToAgent, MainToWorker } from '../protocol/worker-channel.js';
import type { WorkerRequest } from './agent-supervisor.js';
import type { ChildHandle } from './child-handle.js';

/** Path of the bundled worker entry, relative to the app root (vite.config.ts builds it). */
export const WORKER_ENTRY = 'dist/workers/worker.js';

/** What main posts to a new worker, with the agent's end of the channel as the one transferred
 * port. The worker takes its MessagePort from the message event's `ports[0]`. */
export const WORKER_PORT_MESSAGE: MainToWorker = { type: 'agent-port' };

export interface WorkerLaunch {
  modulePath: string;
  args: string[];
  serviceName: string;
}

/** The only modules a worker request can start: the shipped entry, with the kind as its argument. */
export function workerLaunchFor(appRoot: string, kind: WorkerKind, jobId: string): WorkerLaunch {
  const checkedKind = WorkerKind.parse(kind);
  return {
    modulePath: join(appRoot, WORKER_ENTRY),
    args: ['--kind', checkedKind],
    serviceName: `Offhours ${checkedKind} worker ${jobId}`,
  };
}

export interface PortPair<P> {
  /** Goes to the worker. */
  port1: P;
  /** Goes to the agent. */
  port2: P;
}

export interface WorkerStarterDeps<P> {
  appRoot: string;
  fork(launch: WorkerLaunch): ChildHandle<P>;
  createChannel(): PortPair<P>;
  /** Sends to the agent; main's supervisor validates the message before posting it. */
  sendToAgent(message: MainToAgent, transfer?: P[]): void;
  log(message: string): void;
}

export class WorkerStarter<P = unknown> {
  private readonly workers = new Map<number, ChildHandle<P>>();
  /** Started but not yet spawned: they have no pid, and still must die with the agent. */
  private readonly pending = new Set<ChildHandle<P>>();

  constructor(private readonly deps: WorkerStarterDeps<P>) {}

  get runningPids(): number[] {
    return [...this.workers.keys()];
  }

  /** Takes a request the supervisor has already validated with the AgentToMain schema. */
  handle(request: WorkerRequest): void {
    if (request.type === 'stop-worker') {
      // Only pids this starter created: the agent must not be able to kill any process by pid.
      const worker = this.workers.get(request.pid);
      if (worker === undefined) this.deps.log(`stop-worker for unknown pid ${request.pid} ignored`);
      else worker.kill();
      return;
    }
    this.start(request.requestId, request.kind, request.jobId);
  }

  /** The agent is gone, or the app quits: no worker may outlive it. */
  killAll(): void {
    for (const worker of [...this.workers.values(), ...this.pending]) worker.kill();
  }

  private start(requestId: string, kind: WorkerKind, jobId: string): void {
    let child: ChildHandle<P>;
    try {
      child = this.deps.fork(workerLaunchFor(this.deps.appRoot, kind, jobId));
    } catch (error) {
      this.deps.sendToAgent({ type: 'worker-start-failed', requestId, error: `could not start the ${kind} worker: ${String(error)}` });
      return;
    }
    this.pending.add(child);
    let spawnedPid: number | undefined;

    child.onSpawn(() => {
      this.pending.delete(child);
      const pid = child.pid();
      if (pid === undefined) {
        child.kill();
        this.deps.sendToAgent({ type: 'worker-start-failed', requestId, error: 'the worker started without a pid' });
        return;
      }
      spawnedPid = pid;
      this.workers.set(pid, child);
      const { port1, port2 } = this.deps.createChannel();
      child.post(WORKER_PORT_MESSAGE, [port1]);
      this.deps.sendToAgent({ type: 'worker-started', requestId, pid }, [port2]);
    });

    child.onExit((code) => {
      if (this.pending.delete(child)) {
        this.deps.sendToAgent({ type: 'worker-start-failed', requestId, error: `the ${kind} worker exited with code ${code} before it started` });
        return;
      }
      if (spawnedPid === undefined) return;
      this.workers.delete(spawnedPid);
      this.deps.sendToAgent({ type: 'worker-exited', pid: spawnedPid, code: Number.isInteger(code) ? code : null });
    });
  }
}
