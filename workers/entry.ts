// Entry of the worker bundle (dist/workers/worker.js), started by Electron main as a utility
// process (`--kind render|infer|seal`), one per job. The kinds themselves arrive with the jobs and
// storage issues; until then this entry checks its arguments and says plainly that the kind is not
// part of this build, rather than pretending to run anything.
import { parseArgs } from 'node:util';
import { WorkerKind } from '../protocol/index.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { kind: { type: 'string' } }, strict: true });
const kind = WorkerKind.safeParse(values.kind);
if (!kind.success) {
  process.stderr.write(`offhours worker: --kind must be one of ${WorkerKind.options.join(', ')}\n`);
  process.exit(2);
}
process.stderr.write(`offhours worker: the ${kind.data} worker is not part of this build yet\n`);
process.exit(3);
