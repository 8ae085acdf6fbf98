// Process state from Linux /proc, for tests and benches that check what the engine is doing.
// No vitest import: benches use it too.
import { readFileSync, readdirSync } from 'node:fs';

export function procStat(pid: number): { state: string; pgrp: number; cpuTicks: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the comm: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
  return { state: f[0]!, pgrp: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]) };
}

/** Live (not zombie) processes of a process group. */
export function groupPids(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const s = procStat(Number(e));
    if (s && s.pgrp === pgid && s.state !== 'Z') out.push(Number(e));
  }
  return out;
}
