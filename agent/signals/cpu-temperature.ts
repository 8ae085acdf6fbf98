// CPU temperature through systeminformation, for Windows and macOS (Linux reads hwmon itself, see
// hwmon.ts: systeminformation's Linux path starts with a synchronous shell call). At most every
// 30 s: on Windows each read starts PowerShell.
//
// What users get: Windows answers only where the firmware exposes an ACPI thermal zone and often
// only to administrators (MSAcpi_ThermalZoneTemperature); macOS needs a native sensor module that
// systeminformation loads if present and Offhours does not ship. Both end up "not available" on
// many machines, and say so.
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { inRange, maxAgeFor, unavailable } from './readings.js';
import type { Detector, SignalSource, SourceContext } from './source.js';

export type CpuTemperatureReader = () => Promise<{ main: number | null }>;

const defaultReader: CpuTemperatureReader = async () => (await import('systeminformation')).cpuTemperature();

const PLATFORM_HINT: Partial<Record<NodeJS.Platform, string>> = {
  win32: 'Windows gives CPU temperature only through an ACPI thermal zone, often to administrators only',
  darwin: 'macOS needs a native sensor module that Offhours does not ship',
};

export function noCpuSensorNote(platform: NodeJS.Platform): string {
  const hint = PLATFORM_HINT[platform];
  return `no readable CPU temperature sensor${hint ? ` (${hint})` : ''}`;
}

export class CpuTemperatureSource implements SignalSource {
  readonly name = 'cpu-temperature';
  private loop: PollLoop | null = null;
  private value: number | null = null;
  private read = false;
  private platform: NodeJS.Platform = process.platform;
  private readonly periodMs: number;
  private readonly reader: CpuTemperatureReader;

  constructor(opts: { periodMs?: number; reader?: CpuTemperatureReader } = {}) {
    this.periodMs = Math.max(10_000, opts.periodMs ?? 30_000);
    this.reader = opts.reader ?? defaultReader;
  }

  start(ctx: SourceContext): void {
    this.platform = ctx.platform;
    this.loop = startPollLoop({
      name: this.name,
      periodMs: this.periodMs,
      log: ctx.log,
      tick: async () => {
        const t = await this.reader();
        // systeminformation reports a missing sensor as null, -1 or 0 depending on the platform.
        this.value = t.main !== null && t.main > 0 ? inRange(t.main, -40, 150) : null;
        this.read = true;
        ctx.sink.publish(this.name, [this.value !== null ? { name: 'cpuTemperature', value: this.value } : unavailable('cpuTemperature', noCpuSensorNote(ctx.platform))], maxAgeFor(this.periodMs));
      },
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  detectors(): Detector[] {
    if (this.value !== null) return [{ signal: 'cpuTemperature', available: true, how: `systeminformation cpuTemperature(), every ${this.periodMs / 1000} s` }];
    return [{ signal: 'cpuTemperature', available: false, how: this.read ? noCpuSensorNote(this.platform) : 'systeminformation cpuTemperature(): not read yet' }];
  }
}
