// The one narrow channel between the agent and Electron main: the agent asks main to start a
// worker process (only main can create utility processes) and main answers with its pid and a
// MessagePort to it. Main never takes a path or an argument list from this channel: it maps a
// worker kind to an entry it ships.
import { z } from 'zod';

export const WorkerKind = z.enum(['render', 'infer', 'seal']);
export type WorkerKind = z.infer<typeof WorkerKind>;

const requestId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** Agent -> main. */
export const AgentToMain = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), url: z.url(), port: z.number().int().min(1).max(65_535) }).strict(),
  z
    .object({
      type: z.literal('start-worker'),
      requestId,
      kind: WorkerKind,
      /** Shown in the OS's process list and Electron's crash reports. */
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    })
    .strict(),
  z.object({ type: z.literal('stop-worker'), pid: z.number().int().positive() }).strict(),
  /** The node keystore's secret, which main keeps with Electron's safeStorage. `create` is false
   * when a keystore already exists: a new secret could never open it, so main must not make one. */
  z.object({ type: z.literal('node-key-secret-request'), requestId, create: z.boolean() }).strict(),
]);
export type AgentToMain = z.infer<typeof AgentToMain>;

/** Main -> agent. `worker-started` carries the MessagePort as a transferred port, not in the body. */
export const MainToAgent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('worker-started'), requestId, pid: z.number().int().positive() }).strict(),
  z.object({ type: z.literal('worker-start-failed'), requestId, error: z.string() }).strict(),
  z.object({ type: z.literal('worker-exited'), pid: z.number().int().positive(), code: z.number().int().nullable() }).strict(),
  z.object({ type: z.literal('shutdown') }).strict(),
  z.object({ type: z.literal('node-key-secret'), requestId, secret: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  z.object({ type: z.literal('node-key-secret-failed'), requestId, error: z.string().max(2000) }).strict(),
]);
export type MainToAgent = z.infer<typeof MainToAgent>;

/** Main -> a new worker process: its end of the agent channel, as the message's one transferred
 * port (the worker reads it from `ports[0]`). Jobs and heartbeats then flow on that port. */
export const MainToWorker = z.discriminatedUnion('type', [z.object({ type: z.literal('agent-port') }).strict()]);
export type MainToWorker = z.infer<typeof MainToWorker>;
