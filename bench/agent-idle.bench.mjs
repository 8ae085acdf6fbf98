// The agent's CPU share and memory while idle (no job running), against a bare Node process that
// does nothing, measured side by side over the same window.
import { spawn } from 'node:child_process';
import { cpuSeconds, emit, rssBytes, startAgent } from './lib.mjs';

if (process.platform !== 'linux') {
  process.stderr.write('agent-idle: reads /proc, so it runs on Linux only\n');
  process.exit(0);
}
const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const agent = await startAgent();
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 2000)); // let start-up work settle before measuring

const t0 = performance.now();
const cpu0 = { agent: cpuSeconds(agent.pid), bare: cpuSeconds(bare.pid) };
const rss = { agent: [], bare: [] };
for (let i = 0; i < seconds; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  rss.agent.push(rssBytes(agent.pid));
  rss.bare.push(rssBytes(bare.pid));
}
const wall = (performance.now() - t0) / 1000;
const share = (pid, c0) => ((cpuSeconds(pid) - c0) / wall) * 100;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const agentShare = share(agent.pid, cpu0.agent);
const bareShare = share(bare.pid, cpu0.bare);
// A share of zero would make the ratio meaningless; report the floor of what /proc can resolve.
const floor = 1 / 100 / wall * 100;
emit('agent_idle_cpu_percent', agentShare, `% of one core over ${seconds}s`, Math.max(bareShare, floor));
emit('agent_idle_rss_mib', mean(rss.agent) / 2 ** 20, 'MiB', mean(rss.bare) / 2 ** 20);
bare.kill();
await agent.stop();
