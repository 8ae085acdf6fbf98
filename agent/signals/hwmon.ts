// Temperatures from Linux sysfs: the CPU package (k10temp/zenpower on AMD, coretemp on Intel, a CPU
// thermal zone otherwise) and AMD GPUs (amdgpu). Small file reads every few seconds; no shelling
// out (systeminformation's Linux cpuTemperature() runs a synchronous `cat` of the thermal zones,
// and this covers everything it reads).
//
// AMD GPU numbering: NVIDIA GPUs keep nvidia-smi's indices (gpu:0..n-1); AMD GPUs come after them,
// in PCI bus order (the order the kernel numbers DRM cards in), as gpu:n, gpu:n+1… `gpuIndexOffset`
// gives n, the number of NVIDIA GPUs. An AMD APU's integrated GPU is an amdgpu too, and is listed.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DeviceId, ReadingUpdate } from '../../protocol/index.js';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { inRange, maxAgeFor, unavailable } from './readings.js';
import type { Detector, DiscoveredDevice, SignalSource, SourceContext } from './source.js';

export interface HwmonGpu {
  /** PCI address, e.g. 0000:03:00.0, or the hwmon folder name when it has none. */
  busId: string;
  temperatureC: number | null;
}

export interface HwmonReading {
  cpu: { sensor: string; temperatureC: number } | null;
  amdGpus: HwmonGpu[];
}

export const NO_CPU_SENSOR_NOTE = 'no readable CPU temperature sensor (no k10temp, zenpower or coretemp hwmon, no CPU thermal zone)';

async function text(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function millidegrees(path: string): Promise<number | null> {
  const t = await text(path);
  if (t === null || !/^-?\d+$/.test(t)) return null;
  return inRange(Math.round(Number(t) / 100) / 10, -40, 150);
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Temperatures by label (`temp3_label` = "Tccd1" -> reads temp3_input); unlabelled inputs by
 * their file name ("temp1"). */
async function temperatures(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of await list(dir)) {
    const m = /^(temp\d+)_input$/.exec(f);
    if (!m) continue;
    const value = await millidegrees(join(dir, f));
    if (value === null) continue;
    out.set(m[1]!, value);
    const label = await text(join(dir, `${m[1]}_label`));
    if (label) out.set(label, value);
  }
  return out;
}

/** The CPU package temperature from one hwmon chip, or null if it is not a CPU sensor. */
function cpuTemperatureOf(chip: string, temps: Map<string, number>): { sensor: string; temperatureC: number } | null {
  if (chip === 'k10temp' || chip === 'zenpower') {
    // Tdie is the die temperature; Tctl carries a fan-control offset on some Ryzen/Threadripper.
    for (const label of ['Tdie', 'Tctl', 'temp1']) {
      const v = temps.get(label);
      if (v !== undefined) return { sensor: `${chip} ${label}`, temperatureC: v };
    }
  }
  if (chip === 'coretemp') {
    const packages = [...temps].filter(([k]) => /^Package id \d+$/.test(k)).map(([, v]) => v);
    if (packages.length > 0) return { sensor: 'coretemp Package id', temperatureC: Math.max(...packages) };
    const v = temps.get('temp1');
    if (v !== undefined) return { sensor: 'coretemp temp1', temperatureC: v };
  }
  if (chip === 'cpu_thermal') {
    const v = temps.get('temp1');
    if (v !== undefined) return { sensor: 'cpu_thermal', temperatureC: v };
  }
  return null;
}

const CPU_CHIP_ORDER = ['k10temp', 'zenpower', 'coretemp', 'cpu_thermal'];

export async function readHwmon(sysRoot = '/sys'): Promise<HwmonReading> {
  const hwmonDir = join(sysRoot, 'class', 'hwmon');
  const cpus: Array<{ chip: string; sensor: string; temperatureC: number }> = [];
  const amdGpus: HwmonGpu[] = [];
  for (const entry of (await list(hwmonDir)).sort()) {
    const dir = join(hwmonDir, entry);
    const chip = await text(join(dir, 'name'));
    if (chip === null) continue;
    if (chip === 'amdgpu') {
      const temps = await temperatures(dir);
      let busId = entry;
      try {
        busId = basename(await realpath(join(dir, 'device')));
      } catch {}
      amdGpus.push({ busId, temperatureC: temps.get('edge') ?? temps.get('temp1') ?? null });
    } else if (CPU_CHIP_ORDER.includes(chip)) {
      const cpu = cpuTemperatureOf(chip, await temperatures(dir));
      if (cpu) cpus.push({ chip, ...cpu });
    }
  }
  amdGpus.sort((a, b) => a.busId.localeCompare(b.busId));
  cpus.sort((a, b) => CPU_CHIP_ORDER.indexOf(a.chip) - CPU_CHIP_ORDER.indexOf(b.chip) || b.temperatureC - a.temperatureC);
  let cpu: HwmonReading['cpu'] = cpus[0] ? { sensor: cpus[0].sensor, temperatureC: cpus[0].temperatureC } : null;
  if (!cpu) cpu = await cpuThermalZone(sysRoot);
  return { cpu, amdGpus };
}

/** Where no hwmon chip is a CPU sensor (some Intel laptops, ARM boards): the thermal zone. */
async function cpuThermalZone(sysRoot: string): Promise<HwmonReading['cpu']> {
  const dir = join(sysRoot, 'class', 'thermal');
  for (const zone of (await list(dir)).filter((z) => z.startsWith('thermal_zone')).sort()) {
    const type = await text(join(dir, zone, 'type'));
    if (type === null || !(type === 'x86_pkg_temp' || /cpu/i.test(type))) continue;
    const value = await millidegrees(join(dir, zone, 'temp'));
    if (value !== null) return { sensor: `thermal zone ${type}`, temperatureC: value };
  }
  return null;
}

export interface HwmonSourceOptions {
  sysRoot?: string;
  periodMs?: number;
  /** How many NVIDIA GPUs come first (see the numbering note above); null while that is not known
   * yet, and then AMD GPUs wait rather than take an NVIDIA GPU's number. */
  gpuIndexOffset?: () => number | null;
}

export class HwmonSource implements SignalSource {
  readonly name = 'hwmon';
  private loop: PollLoop | null = null;
  private last: HwmonReading | null = null;
  /** The NVIDIA count the AMD GPUs are numbered after, once known. */
  private numbered: number | null = null;
  private readonly sysRoot: string;
  private readonly periodMs: number;
  private readonly offset: () => number | null;

  constructor(opts: HwmonSourceOptions = {}) {
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.periodMs = opts.periodMs ?? 5_000;
    this.offset = opts.gpuIndexOffset ?? (() => 0);
  }

  start(ctx: SourceContext): void {
    this.loop = startPollLoop({
      name: this.name,
      periodMs: this.periodMs,
      log: ctx.log,
      tick: async () => {
        const r = await readHwmon(this.sysRoot);
        this.last = r;
        const readings: ReadingUpdate[] = [r.cpu ? { name: 'cpuTemperature', value: r.cpu.temperatureC } : unavailable('cpuTemperature', NO_CPU_SENSOR_NOTE)];
        const offset = this.offset();
        if (offset !== null) this.numbered = offset;
        if (this.numbered !== null) r.amdGpus.forEach((gpu, i) => {
          const device = this.deviceId(i);
          readings.push(gpu.temperatureC !== null ? { name: 'gpuTemperature', device, value: gpu.temperatureC } : unavailable('gpuTemperature', 'this AMD GPU exposes no readable temperature in hwmon', device));
        });
        ctx.sink.publish(this.name, readings, maxAgeFor(this.periodMs));
      },
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  devices(): DiscoveredDevice[] {
    if (this.numbered === null) return [];
    return (this.last?.amdGpus ?? []).map((gpu, i) => ({ id: this.deviceId(i), kind: 'gpu' as const, label: `AMD GPU (${gpu.busId})` }));
  }

  detectors(): Detector[] {
    const out: Detector[] = [
      this.last?.cpu
        ? { signal: 'cpuTemperature', available: true, how: `Linux hwmon: ${this.last.cpu.sensor}, every ${this.periodMs / 1000} s` }
        : { signal: 'cpuTemperature', available: false, how: this.last ? NO_CPU_SENSOR_NOTE : 'Linux hwmon: not read yet' },
    ];
    if ((this.last?.amdGpus.length ?? 0) > 0) out.push({ signal: 'gpuTemperature', available: true, how: 'AMD: Linux hwmon amdgpu edge sensor' });
    return out;
  }

  private deviceId(i: number): DeviceId {
    return `gpu:${(this.numbered ?? 0) + i}` as DeviceId;
  }
}
