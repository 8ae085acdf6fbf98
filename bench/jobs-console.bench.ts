// Console throughput through the real agent path: a job whose "Blender" (AgentOptions.jobs.blender)
// is a stand-in Perl script that prints N Blender 3.4-style status lines as fast as it can. The
// worker runs it exactly as it runs Blender (nice, bubblewrap when the probe passes: the stand-in
// answers `--version` like Blender 3.4.1), parses every line for progress, batches the console to
// the agent (~16 ms), and the agent pushes it on the events WebSocket to a client in another process
// (bench/jobs-console-client.mjs), which counts lines from the first console message to the last.
// Meanwhile the agent's event-loop delay (this process: the agent runs here) is sampled with
// perf_hooks.monitorEventLoopDelay; the goal is lag under 50 ms.
// Baseline: lines/s of the same stand-in printing straight into a pipe read in this process (first
// chunk to last line). The job itself ends "failed" (the stand-in writes no frame): expected.
//
//   BENCH_JOBS_CONSOLE_LINES (200000)
import './define-globals.js';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../protocol/index.js';
import { calm, startBenchAgent, workDir } from './jobs-common.js';
import { emit } from './lib.mjs';

if (process.platform !== 'linux') {
  process.stderr.write('jobs-console: Linux only; skipped\n');
  process.exit(0);
}

const LINES = Number(process.env.BENCH_JOBS_CONSOLE_LINES ?? 200_000);
// `status`: Blender status lines, each one progress for the worker to parse and report; `plain`:
// lines of the same length that are no progress (to tell the parsing apart from the transport).
const TEXT = process.env.BENCH_JOBS_CONSOLE_TEXT === 'plain' ? 'plain' : 'status';
const dir = workDir('bench-jobs-console-');

// The stand-in. The engine's environment is scrubbed, so the line count is written into it.
const fakeDir = join(dir, 'fake-blender');
mkdirSync(fakeDir);
const standIn = join(fakeDir, 'blender');
writeFileSync(
  standIn,
  `#!/usr/bin/perl
if (grep { $_ eq '--version' } @ARGV) { print "Blender 3.4.1\\n\\tbuild date: bench stand-in\\n"; exit 0; }
my $n = ${LINES};
for my $i (1 .. $n) {
  printf "${TEXT === 'status' ? 'Fra:1 Mem:15.62M (Peak 15.69M) | Time:00:%02d.%02d | Remaining:00:02.10 | Mem:1.23M, Peak:1.23M | Scene, ViewLayer | Sample %d/%d' : 'bench stand-in console line, no progress in it: %02d.%02d, line %d of %d, padding padding padding padding'}\\n", int($i / 100) % 60, $i % 100, $i, $n;
}
exit 0;
`,
);
chmodSync(standIn, 0o755);
const scene = join(dir, 'dummy.blend');
writeFileSync(scene, 'BLENDER-v304 stand-in: never opened\n');

// Through the agent. No readings yet: the job waits in the queue until the client is subscribed.
const a = await startBenchAgent(join(dir, 'agent'), { blender: () => standIn }, { calm: false });
const job = await a.queue({ kind: 'render', blendFile: scene, frames: { start: 1, end: 1 }, device: 'CPU', resolution: { width: 64, height: 64 }, samples: LINES });
const client = spawn(
  process.execPath,
  [fileURLToPath(new URL('./jobs-console-client.mjs', import.meta.url)), String(a.agent.port), WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${a.agent.token}`, job.id, String(LINES)],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const out = createInterface({ input: client.stdout! });
const lines = out[Symbol.asyncIterator]();
if ((await lines.next()).value !== 'ready') throw new Error('the WebSocket client did not subscribe');
await new Promise((r) => setTimeout(r, 200));

const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();
await a.signals(calm);
const res = (await lines.next()).value;
lag.disable();
if (!res) throw new Error('the WebSocket client reported nothing');
const got = JSON.parse(res) as { lines: number; messages: number; firstAt: number | null; lastAt: number | null; closed: number | null; tail: string };
const done = await a.waitJob(job.id, (j) => ['succeeded', 'failed', 'canceled'].includes(j.state), 'the stand-in job to end', 60_000);
process.stderr.write(
  `jobs-console: client got ${got.lines}/${LINES} lines in ${got.messages} messages${got.closed !== null ? `, socket closed ${got.closed}` : ''}; job ${done.state} (${done.failure?.code ?? 'no failure'}: ${(done.failure?.text ?? '').slice(0, 120)})\n`,
);
if (got.lines !== LINES) {
  process.stderr.write(`jobs-console: the last characters the client got: ${JSON.stringify(got.tail.slice(-160))}\n`);
  process.stderr.write(`jobs-console: the last line in the job's console ring: ${JSON.stringify(done.consoleTail.at(-1)?.slice(-80))}\n`);
}
await a.agent.stop();
const viaAgent = got.firstAt !== null && got.lastAt !== null && got.lastAt > got.firstAt ? got.lines / ((got.lastAt - got.firstAt) / 1000) : 0;

// Baseline: the same stand-in into a pipe read here.
const direct = await new Promise<number>((resolve, reject) => {
  const child = spawn(standIn, [], { stdio: ['ignore', 'pipe', 'ignore'] });
  let n = 0;
  let first: number | null = null;
  let last = 0;
  child.stdout!.on('data', (buf: Buffer) => {
    const now = performance.now();
    first ??= now;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    last = now;
  });
  child.once('error', reject);
  child.once('close', () => (n === LINES && first !== null ? resolve(n / ((last - first) / 1000)) : reject(new Error(`the stand-in printed ${n} of ${LINES} lines`))));
});

const ms = (ns: number) => ns / 1e6;
const complete = got.lines === LINES ? '' : `; INCOMPLETE: ${got.lines} of ${LINES} lines arrived`;
emit(
  'jobs_console_throughput_lines_per_s',
  viaAgent,
  `lines/s, stand-in engine -> worker -> agent -> events WebSocket -> client in another process (${LINES} ${TEXT === 'status' ? 'Blender status lines (each one progress)' : 'plain lines'} of ~120 chars, first to last line${complete}; agent event-loop delay p99 ${ms(lag.percentile(99)).toFixed(1)} ms, max ${ms(lag.max).toFixed(1)} ms; baseline: the stand-in into a pipe read in-process)`,
  direct,
);
emit('jobs_console_agent_event_loop_lag_max_ms', ms(lag.max), `ms, the agent's event-loop delay while it streamed that console (monitorEventLoopDelay, 5 ms resolution; p99 ${ms(lag.percentile(99)).toFixed(1)} ms; goal < 50 ms)`, null);

rmSync(dir, { recursive: true, force: true });
process.exit(0);
