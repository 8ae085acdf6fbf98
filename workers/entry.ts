// Entry of the worker bundle (dist/workers/worker.js), one process per job: forked by the headless
// agent, or a utility process started by Electron main. Render and seal exist; infer says plainly
// that it is not part of this build rather than pretending to run anything.
import { parseArgs } from 'node:util';
import { WorkerKind } from '../protocol/index.js';
import { connectToAgent } from './runtime/channel.js';
import { runRenderWorker } from './runtime/render-worker.js';
import { runSealWorker } from './runtime/seal-worker.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { kind: { type: 'string' } }, strict: true });
const kind = WorkerKind.safeParse(values.kind);
if (!kind.success) {
  process.stderr.write(`offhours worker: --kind must be one of ${WorkerKind.options.join(', ')}\n`);
  process.exit(2);
}
if (kind.data === 'infer') {
  process.stderr.write(`offhours worker: the ${kind.data} worker is not part of this build yet\n`);
  process.exit(3);
}
try {
  const channel = await connectToAgent();
  if (kind.data === 'seal') {
    runSealWorker(channel, (code) => process.exit(code));
  } else {
    runRenderWorker(channel, (code) => process.exit(code));
    channel.send({ type: 'hello', pid: process.pid, kind: 'render' });
  }
} catch (err) {
  process.stderr.write(`offhours worker: ${String(err)}\n`);
  process.exit(1);
}
