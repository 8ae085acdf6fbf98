// CPU package power from Linux RAPL (powercap): /sys/class/powercap/intel-rapl:N/energy_uj is a
// cumulative microjoule counter per package (AMD Zen exposes the same interface). Power is the
// counter difference over the time between two reads, so the first read gives no figure.
//
// Only package domains are summed (name "package-N"): the sub-zones (core, uncore, dram,
// intel-rapl:N:M) are parts of a package or outside it, and "psys" (whole platform, some laptops)
// would count the package twice.
//
// Since Linux 5.10 energy_uj is readable by root only (the PLATYPUS power side channel), so on
// most desktops this is unavailable and the CPU falls back to an estimate, with a note that says so.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { counterDelta } from './integrate.js';

export interface RaplPackage {
  /** The powercap zone, e.g. intel-rapl:0. */
  zone: string;
  /** Its name file: package-0. */
  name: string;
  energyUj: number;
  rangeUj: number;
}

export type RaplRead = { ok: true; packages: RaplPackage[] } | { ok: false; note: string };

export const RAPL_ROOT_ONLY_NOTE =
  'RAPL energy counters are readable by root only on this kernel (Linux 5.10 and later), so CPU power is estimated; a udev rule or `chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj` at boot makes it measured';
export const NO_RAPL_NOTE = 'no RAPL package counters (/sys/class/powercap/intel-rapl:N): not an x86 Linux machine, or the intel_rapl driver is not loaded';

export type ReadText = (path: string) => Promise<string>;

const readText: ReadText = (path) => readFile(path, 'utf8');

function integer(raw: string, what: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`${what} is not a counter: ${raw.slice(0, 40)}`);
  return Number(raw);
}

/** One read of every package counter. `read` is replaceable because root (CI, containers) can read
 * any file, so a permission error cannot be staged on disk there. */
export async function readRapl(sysRoot = '/sys', read: ReadText = readText): Promise<RaplRead> {
  const text = async (path: string) => (await read(path)).trim();
  const dir = join(sysRoot, 'class', 'powercap');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return { ok: false, note: NO_RAPL_NOTE };
  }
  const packages: RaplPackage[] = [];
  for (const zone of entries.filter((e) => /^intel-rapl:\d+$/.test(e)).sort()) {
    let name: string;
    try {
      name = await text(join(dir, zone, 'name'));
    } catch {
      continue;
    }
    if (!/^package-\d+$/.test(name)) continue;
    try {
      const energyUj = integer(await text(join(dir, zone, 'energy_uj')), 'energy_uj');
      const rangeUj = integer(await text(join(dir, zone, 'max_energy_range_uj')), 'max_energy_range_uj');
      packages.push({ zone, name, energyUj, rangeUj });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return { ok: false, note: RAPL_ROOT_ONLY_NOTE };
      return { ok: false, note: `RAPL ${zone} could not be read: ${(err as Error).message}` };
    }
  }
  return packages.length > 0 ? { ok: true, packages } : { ok: false, note: NO_RAPL_NOTE };
}

export type RaplPower =
  | { state: 'ok'; watts: number; packages: number }
  /** The first read, or a counter reset: a figure comes with the next read. */
  | { state: 'warming' }
  | { state: 'unavailable'; note: string };

/** A package draws far less than this; a larger figure is a counter reset, not power. */
const MAX_PLAUSIBLE_WATTS = 2_000;

/** Turns successive counter reads into mean package power over each interval. */
export class RaplMeter {
  private prev: { t: number; byZone: Map<string, number> } | null = null;

  constructor(
    private readonly sysRoot = '/sys',
    private readonly read: (sysRoot: string) => Promise<RaplRead> = readRapl,
  ) {}

  /** `t`: monotonic milliseconds at the read. */
  async sample(t: number): Promise<RaplPower> {
    const r = await this.read(this.sysRoot);
    if (!r.ok) {
      this.prev = null;
      return { state: 'unavailable', note: r.note };
    }
    const prev = this.prev;
    this.prev = { t, byZone: new Map(r.packages.map((p) => [p.zone, p.energyUj])) };
    if (!prev || !(t > prev.t)) return { state: 'warming' };
    let uj = 0;
    for (const p of r.packages) {
      const before = prev.byZone.get(p.zone);
      const delta = before === undefined ? null : counterDelta(before, p.energyUj, p.rangeUj);
      if (delta === null) return { state: 'warming' };
      uj += delta;
    }
    // µJ per ms is mW.
    const watts = uj / (t - prev.t) / 1000;
    if (watts > MAX_PLAUSIBLE_WATTS * r.packages.length) return { state: 'warming' };
    return { state: 'ok', watts, packages: r.packages.length };
  }
}
