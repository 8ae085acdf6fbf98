// On battery, and the charge, every 10 s. Electron's powerMonitor tells the shell about AC/battery
// on macOS and Windows but gives no charge level, and has no battery events on Linux; the headless
// agent has no powerMonitor at all.
// Linux: /sys/class/power_supply read here, because systeminformation's battery() only knows the
// adapter names AC and AC0 — a laptop whose adapter is ADP1 or ACAD, full and plugged in, would
// read as on battery. macOS and Windows: systeminformation battery() (pmset/ioreg, PowerShell).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadingUpdate } from '../../protocol/index.js';
import { readText } from './proc-stat.js';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { clampPercent, maxAgeFor, unavailable } from './readings.js';
import type { Detector, SignalSource, SourceContext } from './source.js';

export interface BatteryState {
  hasBattery: boolean;
  isCharging: boolean;
  acConnected: boolean;
  percent: number | null;
}

export type BatteryReader = () => Promise<BatteryState>;

export const systeminformationBattery: BatteryReader = async () => (await import('systeminformation')).battery();

/** Linux power supplies: system batteries (not a mouse's: scope Device) and mains adapters. */
export function linuxBatteryReader(sysRoot = '/sys'): BatteryReader {
  return async () => {
    const dir = join(sysRoot, 'class', 'power_supply');
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {}
    const batteries: Array<{ status: string; percent: number | null }> = [];
    const mains: boolean[] = [];
    for (const name of names) {
      const read = async (f: string) => (await readText(join(dir, name, f)))?.trim() ?? null;
      const type = await read('type');
      if (type === 'Battery' && (await read('scope')) !== 'Device') {
        const capacity = await read('capacity');
        batteries.push({ status: (await read('status')) ?? 'Unknown', percent: capacity !== null && /^\d+$/.test(capacity) ? Number(capacity) : null });
      } else if (type === 'Mains' || type?.startsWith('USB')) {
        const online = await read('online');
        if (online !== null) mains.push(online === '1');
      }
    }
    const charging = batteries.some((b) => b.status === 'Charging');
    const percents = batteries.map((b) => b.percent).filter((p): p is number => p !== null);
    return {
      hasBattery: batteries.length > 0,
      isCharging: charging,
      // Without an adapter entry, a battery that is not discharging is on mains.
      acConnected: mains.length > 0 ? mains.some(Boolean) : batteries.some((b) => b.status !== 'Discharging'),
      percent: percents.length > 0 ? percents.reduce((a, b) => a + b, 0) / percents.length : null,
    };
  };
}

export interface BatterySourceOptions {
  periodMs?: number;
  /** Defaults by platform: sysfs on Linux, systeminformation elsewhere. */
  reader?: BatteryReader;
  sysRoot?: string;
  /** Leave onBattery to the Electron shell where its powerMonitor has on-ac/on-battery events
   * (macOS, Windows), so two sources do not race for one signal. */
  publishOnBattery?: boolean;
}

export function batteryReadings(state: BatteryState, publishOnBattery: boolean): ReadingUpdate[] {
  const readings: ReadingUpdate[] = [];
  if (!state.hasBattery) {
    // A desktop is never on battery (a UPS is not a battery here: the machine sees mains power).
    if (publishOnBattery) readings.push({ name: 'onBattery', value: false });
    readings.push(unavailable('batteryPercent', 'no battery'));
    return readings;
  }
  if (publishOnBattery) readings.push({ name: 'onBattery', value: !state.acConnected && !state.isCharging });
  readings.push(state.percent !== null && Number.isFinite(state.percent) ? { name: 'batteryPercent', value: clampPercent(state.percent) } : unavailable('batteryPercent', 'the battery reports no charge level'));
  return readings;
}

export class BatterySource implements SignalSource {
  readonly name = 'battery';
  private loop: PollLoop | null = null;
  private last: BatteryState | null = null;
  private how = 'systeminformation battery()';
  private readonly periodMs: number;
  private readonly publishOnBattery: boolean;

  constructor(private readonly opts: BatterySourceOptions = {}) {
    this.periodMs = opts.periodMs ?? 10_000;
    this.publishOnBattery = opts.publishOnBattery ?? true;
  }

  start(ctx: SourceContext): void {
    const reader = this.opts.reader ?? (ctx.platform === 'linux' ? linuxBatteryReader(this.opts.sysRoot) : systeminformationBattery);
    this.how = ctx.platform === 'linux' ? '/sys/class/power_supply' : 'systeminformation battery()';
    this.loop = startPollLoop({
      name: this.name,
      periodMs: this.periodMs,
      log: ctx.log,
      tick: async () => {
        this.last = await reader();
        ctx.sink.publish(this.name, batteryReadings(this.last, this.publishOnBattery), maxAgeFor(this.periodMs));
      },
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  detectors(): Detector[] {
    const how = `${this.how}, every ${this.periodMs / 1000} s`;
    const out: Detector[] = [];
    if (this.publishOnBattery) out.push({ signal: 'onBattery', available: true, how: this.last && !this.last.hasBattery ? `${how}: no battery, so never on battery` : how });
    out.push({ signal: 'batteryPercent', available: this.last ? this.last.hasBattery : true, how: this.last && !this.last.hasBattery ? 'no battery' : how });
    return out;
  }
}
