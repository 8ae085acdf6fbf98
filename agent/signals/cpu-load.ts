// CPU load not caused by our own workers, in percent of the whole machine, every 2 s.
//
// Linux: the busy ticks of /proc/stat since the last look, minus the ticks our processes spent —
// the pids in ctx.ownPids() and all their descendants (an engine's helper processes), each from
// /proc/<pid>/stat (utime + stime, plus cutime + cstime for children that exited in between).
// While nothing of ours runs, nothing but /proc/stat is read.
// Other systems: os.cpus() deltas with nothing subtracted — an approximation that counts our own
// workers as foreign, so a "foreign load below N %" rule there sees our load too.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { parseProcStat, readAllPidStats, readText, uptimeTicks, type CpuTimes } from './proc-stat.js';
import { clampPercent, maxAgeFor } from './readings.js';
import type { Detector, SignalSource, SourceContext } from './source.js';

export interface CpuAccounting {
  /** Foreign load since the previous call, or null on the first call (no interval yet). */
  sample(own: ReadonlySet<number>): Promise<number | null>;
}

interface Tracked {
  /** ticks + childTicks */
  spent: number;
  ppid: number;
  starttime: number;
}

export class LinuxCpuAccounting implements CpuAccounting {
  private prev: { cpu: CpuTimes; uptime: number; tracked: Map<number, Tracked> } | null = null;

  constructor(private readonly procRoot = '/proc') {}

  async sample(own: ReadonlySet<number>): Promise<number | null> {
    const statText = await readText(join(this.procRoot, 'stat'));
    const cpu = statText === null ? null : parseProcStat(statText);
    if (!cpu) throw new Error(`cannot read ${join(this.procRoot, 'stat')}`);
    const uptime = (await uptimeTicks(this.procRoot)) ?? 0;
    const tracked = own.size > 0 ? await this.ourProcesses(own) : new Map<number, Tracked>();
    const prev = this.prev;
    this.prev = { cpu, uptime, tracked };
    if (!prev) return null;

    const total = cpu.total - prev.cpu.total;
    if (total <= 0) return null;
    const busy = total - (cpu.idle - prev.cpu.idle);
    let ours = 0;
    for (const [pid, now] of tracked) {
      const before = prev.tracked.get(pid);
      if (before && before.starttime === now.starttime) ours += Math.max(0, now.spent - before.spent);
      // New since the last look: all it spent is in this interval. Older but newly ours (a pid
      // just added to ownPids): its past is not, so it counts from the next interval.
      else if (now.starttime >= prev.uptime) ours += now.spent;
    }
    for (const [pid, before] of prev.tracked) {
      const now = tracked.get(pid);
      if (now && now.starttime === before.starttime) continue;
      // Gone: once its parent (also ours) has waited for it, its whole life shows up again in the
      // parent's cutime/cstime, of which the part up to the last look was already counted.
      if (tracked.has(before.ppid)) ours -= before.spent;
    }
    return clampPercent(((busy - Math.max(0, ours)) / total) * 100);
  }

  private async ourProcesses(own: ReadonlySet<number>): Promise<Map<number, Tracked>> {
    const all = await readAllPidStats(this.procRoot);
    const children = new Map<number, number[]>();
    for (const s of all.values()) {
      const list = children.get(s.ppid);
      if (list) list.push(s.pid);
      else children.set(s.ppid, [s.pid]);
    }
    const out = new Map<number, Tracked>();
    const queue = [...own].filter((pid) => all.has(pid));
    while (queue.length > 0) {
      const pid = queue.pop()!;
      if (out.has(pid)) continue;
      const s = all.get(pid)!;
      out.set(pid, { spent: s.ticks + s.childTicks, ppid: s.ppid, starttime: s.starttime });
      queue.push(...(children.get(pid) ?? []));
    }
    return out;
  }
}

/** macOS and Windows: the machine's busy share from os.cpus(), nothing subtracted. */
export class OsCpuAccounting implements CpuAccounting {
  private prev: CpuTimes | null = null;

  constructor(private readonly read: () => CpuTimes = osCpuTimes) {}

  async sample(): Promise<number | null> {
    const now = this.read();
    const prev = this.prev;
    this.prev = now;
    if (!prev || now.total <= prev.total) return null;
    return clampPercent((1 - (now.idle - prev.idle) / (now.total - prev.total)) * 100);
  }
}

function osCpuTimes(): CpuTimes {
  let total = 0;
  let idle = 0;
  for (const c of cpus()) {
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
    idle += c.times.idle;
  }
  return { total, idle };
}

export interface CpuLoadSourceOptions {
  periodMs?: number;
  /** Defaults by platform: /proc on Linux, os.cpus() elsewhere. */
  accounting?: CpuAccounting;
  procRoot?: string;
}

export class CpuLoadSource implements SignalSource {
  readonly name = 'cpu-load';
  private loop: PollLoop | null = null;
  private linux = true;
  private readonly periodMs: number;
  private accounting: CpuAccounting | null;

  constructor(private readonly opts: CpuLoadSourceOptions = {}) {
    this.periodMs = opts.periodMs ?? 2_000;
    this.accounting = opts.accounting ?? null;
  }

  start(ctx: SourceContext): void {
    this.linux = ctx.platform === 'linux';
    const accounting = (this.accounting ??= this.linux ? new LinuxCpuAccounting(this.opts.procRoot) : new OsCpuAccounting());
    this.loop = startPollLoop({
      name: this.name,
      periodMs: this.periodMs,
      log: ctx.log,
      tick: async () => {
        const load = await accounting.sample(ctx.ownPids());
        if (load !== null) ctx.sink.publish(this.name, [{ name: 'cpuForeignLoad', value: load }], maxAgeFor(this.periodMs));
      },
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  detectors(): Detector[] {
    return [
      {
        signal: 'cpuForeignLoad',
        available: true,
        how: this.linux
          ? `Linux /proc: machine load minus our workers and their children, every ${this.periodMs / 1000} s`
          : `whole-machine load from the OS every ${this.periodMs / 1000} s; our own workers are not subtracted on this system`,
      },
    ];
  }
}
