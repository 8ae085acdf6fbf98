// Shared bench helpers: start a real agent from the build, read process counters, print results.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function emit(metric, value, unit, baseline) {
  const ratio = baseline ? Number((value / baseline).toFixed(3)) : null;
  process.stdout.write(`${JSON.stringify({ metric, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio })}\n`);
}

const round = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(4)));

export async function startAgent(extraArgs = []) {
  const cli = join(root, 'dist', 'cli', 'offhours.js');
  if (!existsSync(cli)) throw new Error('build first: npm run build');
  const dataDir = mkdtempSync(join(tmpdir(), 'offhours-bench-'));
  const child = spawn(process.execPath, [cli, 'agent', '--data-dir', dataDir, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Open the dashboard')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
  });
  const runtime = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8'));
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  return { child, pid: child.pid, port: runtime.port, token, dataDir, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
