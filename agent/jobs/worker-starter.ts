// How the agent gets a worker process: forked from the built worker bundle under the headless
// agent, or asked of Electron main inside the app (only main can create utility processes). Either
// way the supervisor sees one connection: send, messages, exit, kill.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AgentToWorker, WorkerToAgent } from '../../protocol/index.js';
import type { ParentChannel } from '../parent-channel.js';

export interface WorkerConnection {
  readonly pid: number;
  send(message: AgentToWorker): void;
  onMessage(listener: (message: WorkerToAgent) => void): void;
  /** Invalid messages: the worker is not speaking the protocol. */
  onInvalid(listener: (issue: string) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export interface WorkerStarter {
  start(jobId: string): Promise<WorkerConnection>;
}

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
  return {
    start(_jobId) {
      return new Promise((resolve, reject) => {
        if (!existsSync(script)) {
          reject(new Error(`the worker bundle is missing (${script}); run "npm run build"`));
          return;
        }
        const child = fork(script, ['--kind', 'render'], {
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
              if (child.connected) child.send(AgentToWorker.parse(m));
            },
            onMessage: (l) =>
              child.on('message', (raw) => {
                const parsed = WorkerToAgent.safeParse(raw);
                if (parsed.success) l(parsed.data);
                else for (const i of invalid) i(parsed.error.issues[0]?.message ?? 'invalid message');
              }),
            onInvalid: (l) => invalid.push(l),
            onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
            kill: () => child.kill('SIGKILL'),
          });
        });
      });
    },
  };
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
  return {
    async start(jobId) {
      const started = await channel.startWorker('render', jobId);
      const port = started.port as MessagePortLike;
      port.start?.();
      lowerPriority(started.pid);
      const invalid: Array<(issue: string) => void> = [];
      return {
        pid: started.pid,
        send: (m) => port.postMessage(AgentToWorker.parse(m)),
        onMessage: (l) =>
          port.on('message', (e) => {
            const parsed = WorkerToAgent.safeParse(e.data);
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
    },
  };
}

/** Inside the app the channel to main exists only once the agent is up; a job that starts before
 * then waits for it. */
export function deferredParentChannelStarter(): WorkerStarter & { attach(channel: ParentChannel): void } {
  let attach!: (s: WorkerStarter) => void;
  const ready = new Promise<WorkerStarter>((resolve) => (attach = resolve));
  return {
    attach: (channel) => attach(parentChannelStarter(channel)),
    start: async (jobId) => (await ready).start(jobId),
  };
}
