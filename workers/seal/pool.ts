// A few worker threads that hash subtrees for one CommP, then exit. In development the sources are
// TypeScript, so the threads load tsx like the process that started them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SubtreeTask } from './subtree.js';
import type { ThreadReply, ThreadRequest } from './thread.js';

export async function runOnThreads(tasks: SubtreeTask[], threads: number): Promise<Uint8Array[]> {
  const { THREAD_URL } = await import('./thread.js');
  const url = new URL(THREAD_URL);
  // A worker does not inherit the parent's loader hooks: in development (TypeScript sources) it
  // registers tsx's ESM hooks itself before loading the entry.
  const start = (): Worker => {
    if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: { offhoursSeal: 1 } });
    const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(boot, { eval: true, workerData: { offhoursSeal: 1 } });
  };
  const roots: Uint8Array[] = new Array<Uint8Array>(tasks.length);
  let nextTask = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(threads, tasks.length) }, () => {
        const w = start();
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          const feed = () => {
            if (nextTask >= tasks.length) return resolve();
            const id = nextTask++;
            w.postMessage({ id, task: tasks[id]! } satisfies ThreadRequest);
          };
          w.on('message', (reply: ThreadReply) => {
            if ('error' in reply) return reject(new Error(reply.error));
            roots[reply.id] = reply.root;
            feed();
          });
          w.once('error', reject);
          w.once('exit', (code) => (nextTask < tasks.length || code !== 0 ? reject(new Error(`CommP thread exited with ${code}`)) : undefined));
          feed();
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return roots;
}
