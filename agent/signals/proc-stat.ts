// Linux /proc readers shared by the CPU-load and process-list sources. Only small text files, read
// asynchronously; a process that exits between listing and reading is simply skipped.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PidStat {
  pid: number;
  /** The kernel's name for it, cut to 15 characters. */
  comm: string;
  state: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** cutime + cstime: children that exited and were waited for. */
  childTicks: number;
  /** Clock ticks after boot when it started; with the pid, it tells a reused pid from the old one. */
  starttime: number;
}

/** `/proc/<pid>/stat`. The name sits in parentheses and may itself hold spaces and ')', so the
 * fields are counted from the last ')'. */
export function parsePidStat(text: string): PidStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 1).trim().split(/\s+/);
  if (!Number.isInteger(pid) || f.length < 20) return null;
  const n = (i: number) => Number(f[i]);
  const stat: PidStat = { pid, comm: text.slice(open + 1, close), state: f[0]!, ppid: n(1), ticks: n(11) + n(12), childTicks: n(13) + n(14), starttime: n(19) };
  return [stat.ppid, stat.ticks, stat.childTicks, stat.starttime].every(Number.isFinite) ? stat : null;
}

export interface CpuTimes {
  /** All ticks of all CPUs (user, nice, system, idle, iowait, irq, softirq, steal). */
  total: number;
  /** idle + iowait. */
  idle: number;
}

/** The aggregate `cpu` line of /proc/stat. guest time is already inside user, so it is not added. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  const total = v.reduce((a, b) => a + b, 0);
  return { total, idle: v[3]! + (v[4] ?? 0) };
}

export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export async function listPids(procRoot: string): Promise<number[]> {
  try {
    return (await readdir(procRoot)).filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/** Every process's stat line, by pid. */
export async function readAllPidStats(procRoot: string): Promise<Map<number, PidStat>> {
  const out = new Map<number, PidStat>();
  await Promise.all(
    (await listPids(procRoot)).map(async (pid) => {
      const text = await readText(join(procRoot, String(pid), 'stat'));
      const stat = text === null ? null : parsePidStat(text);
      if (stat) out.set(pid, stat);
    }),
  );
  return out;
}

/** Seconds since boot, in clock ticks (USER_HZ, 100 on every Linux ABI Node runs on). */
export async function uptimeTicks(procRoot: string): Promise<number | null> {
  const text = await readText(join(procRoot, 'uptime'));
  const s = text === null ? NaN : Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(s) ? Math.round(s * CLOCK_TICKS_PER_SECOND) : null;
}

export const CLOCK_TICKS_PER_SECOND = 100;
