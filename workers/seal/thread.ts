// Entry of a CommP worker thread: hashes the subtrees it is sent, one at a time. Reached only by a
// dynamic import from commp.ts, so the bundler gives it a chunk of its own whose URL a Worker can
// start (and which pulls in no entry point with side effects).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { hashSubtree, type SubtreeTask } from './subtree.js';

export const THREAD_URL = import.meta.url;

export interface ThreadRequest {
  id: number;
  task: SubtreeTask;
}
export type ThreadReply = { id: number; root: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (!isMainThread && port && (workerData as { offhoursSeal?: number } | undefined)?.offhoursSeal === 1) {
  port.on('message', (req: ThreadRequest) => {
    hashSubtree(req.task).then(
      (root) => port.postMessage({ id: req.id, root } satisfies ThreadReply),
      (err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies ThreadReply),
    );
  });
}
