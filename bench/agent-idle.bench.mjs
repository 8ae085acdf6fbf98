// The agent's CPU share and memory while idle (no job running), measured side by side over the
// same window: a bare Node process doing nothing (the floor), the agent with no sensors (the
// walking skeleton's figure), and the agent with every sensor of this platform polling at its
// default rate.
import { spawn } from 'node:child_process';
import { cpuSeconds, emit, rssBytes, startAgent } from './lib.mjs';

if (process.platform !== 'linux') {
  process.stderr.write('agent-idle: reads /proc, so it runs on Linux only\n');
  process.exit(0);
}
const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const quiet = await startAgent(['--sensors', 'off']);
const sensing = await startAgent();
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 3000)); // let start-up work settle before measuring

const procs = { bare: bare.pid, quiet: quiet.pid, sensing: sensing.pid };
const t0 = performance.now();
const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuSeconds(pid)]));
const rss = { bare: [], quiet: [], sensing: [] };
for (let i = 0; i < seconds; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  for (const [k, pid] of Object.entries(procs)) rss[k].push(rssBytes(pid));
}
const wall = (performance.now() - t0) / 1000;
// /proc counts CPU in 10 ms ticks: a share below one tick over the window reads as zero.
const floor = (0.01 / wall) * 100;
const share = (k) => Math.max(((cpuSeconds(procs[k]) - cpu0[k]) / wall) * 100, floor);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length / 2 ** 20;
emit('agent_idle_cpu_percent', share('quiet'), `% of one core over ${seconds}s, no sensors (baseline: bare Node)`, share('bare'));
emit('agent_idle_rss_mib', mean(rss.quiet), 'MiB, no sensors (baseline: bare Node)', mean(rss.bare));
emit('agent_sensors_cpu_percent', share('sensing'), `% of one core over ${seconds}s, all sensors at default rates (baseline: the same agent without sensors)`, share('quiet'));
emit('agent_sensors_rss_mib', mean(rss.sensing), 'MiB, all sensors (baseline: without sensors)', mean(rss.quiet));
bare.kill();
await quiet.stop();
await sensing.stop();
