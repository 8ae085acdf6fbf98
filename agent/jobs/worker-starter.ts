// How the agent gets a worker process: forked from the built worker bundle under the headless
// agent, or asked of Electron main inside the app (only main can create utility processes). Either
// way the supervisor sees one connection: send, messages, exit, kill.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Serializable } from 'node:child_process';
import { AgentToSealWorker, AgentToWorker, SealWorkerToAgent, WorkerToAgent, type WorkerKind } from '../../protocol/index.js';
import type { ParentChannel } from '../parent-channel.js';

/** A worker process, speaking one kind's protocol (render by default, seal for storage). */
export interface WorkerConnection<In = WorkerToAgent, Out = AgentToWorker> {
  readonly pid: number;
  send(message: Out): void;
  onMessage(listener: (message: In) => void): void;
  /** Invalid messages: the worker is not speaking the protocol. */
  onInvalid(listener: (issue: string) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type SealConnection = WorkerConnection<SealWorkerToAgent, AgentToSealWorker>;

export interface WorkerStarter {
  start(jobId: string): Promise<WorkerConnection>;
  /** A seal worker (piece commitments, proofs, scrubs); absent where a test's starter has none. */
  startSeal?(jobId: string): Promise<SealConnection>;
}

interface Schema<T> {
  parse(v: unknown): T;
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } };
}

interface KindSchemas<In, Out> {
  kind: WorkerKind;
  incoming: Schema<In>;
  outgoing: Schema<Out>;
}

const RENDER: KindSchemas<WorkerToAgent, AgentToWorker> = { kind: 'render', incoming: WorkerToAgent, outgoing: AgentToWorker };
const SEAL: KindSchemas<SealWorkerToAgent, AgentToSealWorker> = { kind: 'seal', incoming: SealWorkerToAgent, outgoing: AgentToSealWorker };

/** dist/workers/worker.js next to the bundled agent, or the checkout's build when the agent runs
 * from source (tests). */
export function defaultWorkerScript(): string {
  const candidates = [new URL('../workers/worker.js', import.meta.url), new URL('../../dist/workers/worker.js', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** The worker needs no secrets: no token, no keys, no credentials of any tool. */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = ['PATH', 'LANG', 'LC_ALL', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'SystemRoot', 'USERPROFILE', 'LOCALAPPDATA', 'APPDATA', 'XDG_RUNTIME_DIR', 'BLENDER_PATH'];
  const out: NodeJS.ProcessEnv = {};
  for (const k of keep) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

function lowerPriority(pid: number): void {
  try {
    setPriority(pid, process.platform === 'win32' ? osConstants.priority.PRIORITY_LOW : 19);
  } catch {}
}

export function forkStarter(script = defaultWorkerScript()): WorkerStarter {
  const start = <In, Out>(k: KindSchemas<In, Out>): Promise<WorkerConnection<In, Out>> =>
    new Promise((resolve, reject) => {
      if (!existsSync(script)) {
        reject(new Error(`the worker bundle is missing (${script}); run "npm run build"`));
        return;
      }
      const child = fork(script, ['--kind', k.kind], {
        env: workerEnv(process.env),
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'json',
        execArgv: [],
      });
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        child.on('error', () => undefined);
        lowerPriority(child.pid!);
        const invalid: Array<(issue: string) => void> = [];
        resolve({
          pid: child.pid!,
          send: (m) => {
            if (child.connected) child.send(k.outgoing.parse(m) as Serializable);
          },
          onMessage: (l) =>
            child.on('message', (raw) => {
              const parsed = k.incoming.safeParse(raw);
              if (parsed.success) l(parsed.data);
              else for (const i of invalid) i(parsed.error.issues[0]?.message ?? 'invalid message');
            }),
          onInvalid: (l) => invalid.push(l),
          onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
          kill: () => child.kill('SIGKILL'),
        });
      });
    });
  return { start: () => start(RENDER), startSeal: () => start(SEAL) };
}

interface MessagePortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  start?(): void;
  close?(): void;
}

/** Inside the app: main starts a utility process and hands over a MessagePort to it. */
export function parentChannelStarter(channel: ParentChannel): WorkerStarter {
  const exitListeners = new Map<number, (code: number | null, signal: string | null) => void>();
  channel.onWorkerExit((pid, code) => {
    exitListeners.get(pid)?.(code, null);
    exitListeners.delete(pid);
  });
  const start = async <In, Out>(k: KindSchemas<In, Out>, jobId: string): Promise<WorkerConnection<In, Out>> => {
    const started = await channel.startWorker(k.kind, jobId);
    const port = started.port as MessagePortLike;
    port.start?.();
    lowerPriority(started.pid);
    const invalid: Array<(issue: string) => void> = [];
    return {
      pid: started.pid,
      send: (m) => port.postMessage(k.outgoing.parse(m)),
      onMessage: (l) =>
        port.on('message', (e) => {
          const parsed = k.incoming.safeParse(e.data);
          if (parsed.success) l(parsed.data);
          else for (const i of invalid) i(parsed.error.issues[0]?.message ?? 'invalid message');
        }),
      onInvalid: (l) => invalid.push(l),
      onExit: (l) => exitListeners.set(started.pid, l),
      kill: () => {
        channel.stopWorker(started.pid);
        // Main may be slow or gone; the worker is this user's process either way.
        try {
          process.kill(started.pid, 'SIGKILL');
        } catch {}
        port.close?.();
      },
    };
  };
  return { start: (jobId) => start(RENDER, jobId), startSeal: (jobId) => start(SEAL, jobId) };
}

/** Inside the app the channel to main exists only once the agent is up; a job that starts before
 * then waits for it. */
export function deferredParentChannelStarter(): WorkerStarter & { attach(channel: ParentChannel): void } {
  let attach!: (s: WorkerStarter) => void;
  const ready = new Promise<WorkerStarter>((resolve) => (attach = resolve));
  return {
    attach: (channel) => attach(parentChannelStarter(channel)),
    start: async (jobId) => (await ready).start(jobId),
    startSeal: async (jobId) => (await ready).startSeal!(jobId),
  };
}
