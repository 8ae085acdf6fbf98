// The worker's one line to the agent. Under the headless agent the worker is a child_process.fork
// child (process.send / 'message' / 'disconnect'); inside the app main hands it a MessagePort in an
// {type:'agent-port'} message on process.parentPort. Both look the same from here on, and both
// say when the agent is gone, which is when the worker must stop everything and exit.
import { MainToWorker } from '../../protocol/index.js';

export interface AgentChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The agent is gone (its end closed or it died). */
  onClose(listener: () => void): void;
}

interface PortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start?(): void;
}

interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown; ports: unknown[] }) => void): unknown;
}

function ipcChannel(): AgentChannel {
  return {
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (l) => process.on('message', (m) => l(m)),
    onClose: (l) => process.on('disconnect', l),
  };
}

function portChannel(port: PortLike): AgentChannel {
  port.start?.();
  return {
    send: (m) => port.postMessage(m),
    onMessage: (l) => port.on('message', (e) => l(e.data)),
    onClose: (l) => port.on('close', l),
  };
}

/** Resolves once the channel exists: at once under fork, after main's agent-port in the app. */
export function connectToAgent(): Promise<AgentChannel> {
  if (typeof process.send === 'function') return Promise.resolve(ipcChannel());
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!parentPort) return Promise.reject(new Error('started without a channel to the agent (neither fork IPC nor a parent port)'));
  return new Promise((resolve) => {
    parentPort.on('message', (e) => {
      if (!MainToWorker.safeParse(e.data).success) return;
      const port = e.ports[0] as PortLike | undefined;
      if (port) resolve(portChannel(port));
    });
  });
}
