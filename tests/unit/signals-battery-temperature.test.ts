// Battery and the systeminformation CPU-temperature fallback, with injected readers (synthetic
// states), fake /sys/class/power_supply trees (synthetic, the kernel's attribute files), and the
// real readers on this machine (a VM: no battery).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatterySource, batteryReadings, linuxBatteryReader, systeminformationBattery, type BatteryState } from '../../agent/signals/battery.js';
import { CpuTemperatureSource, noCpuSensorNote } from '../../agent/signals/cpu-temperature.js';
import { useTempDirs } from '../support/tmp.js';
import { recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();

function powerSupply(supplies: Record<string, Record<string, string>>): string {
  const root = tempDir();
  for (const [name, attrs] of Object.entries(supplies)) {
    mkdirSync(join(root, 'class', 'power_supply', name), { recursive: true });
    for (const [attr, value] of Object.entries(attrs)) writeFileSync(join(root, 'class', 'power_supply', name, attr), `${value}\n`);
  }
  return root;
}

const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const state = (s: Partial<BatteryState>): BatteryState => ({ hasBattery: true, isCharging: false, acConnected: false, percent: 80, ...s });

describe('battery readings', () => {
  it('a desktop is never on battery and has no charge level', () => {
    expect(batteryReadings(state({ hasBattery: false, percent: 0 }), true)).toEqual([
      { name: 'onBattery', value: false },
      { name: 'batteryPercent', notAvailable: true, note: 'no battery' },
    ]);
  });
  it.each([
    [{ acConnected: false, isCharging: false }, true],
    [{ acConnected: true, isCharging: false }, false], // full, on mains
    [{ acConnected: false, isCharging: true }, false],
  ])('%j -> onBattery %s', (s, onBattery) => {
    expect(batteryReadings(state({ ...s, percent: 57.4 }), true)).toEqual([
      { name: 'onBattery', value: onBattery },
      { name: 'batteryPercent', value: 57.4 },
    ]);
  });
  it('leaves onBattery to the Electron shell where it has events', () => {
    expect(batteryReadings(state({}), false).map((r) => r.name)).toEqual(['batteryPercent']);
  });
  it('clamps a charge reported above 100', () => {
    expect(batteryReadings(state({ percent: 104 }), true)[1]).toEqual({ name: 'batteryPercent', value: 100 });
  });
});

describe('Linux power supplies', () => {
  it('a laptop, full and plugged in through an adapter named ADP1, is not on battery', async () => {
    const root = powerSupply({ ADP1: { type: 'Mains', online: '1' }, BAT0: { type: 'Battery', status: 'Not charging', capacity: '100', scope: 'System' } });
    expect(await linuxBatteryReader(root)()).toEqual({ hasBattery: true, isCharging: false, acConnected: true, percent: 100 });
  });
  it('unplugged: on battery; a wireless mouse battery is not the system battery', async () => {
    const root = powerSupply({
      ACAD: { type: 'Mains', online: '0' },
      BAT1: { type: 'Battery', status: 'Discharging', capacity: '41' },
      'hidpp_battery_0': { type: 'Battery', status: 'Discharging', capacity: '5', scope: 'Device' },
    });
    const state = await linuxBatteryReader(root)();
    expect(state).toEqual({ hasBattery: true, isCharging: false, acConnected: false, percent: 41 });
    expect(batteryReadings(state, true)).toEqual([
      { name: 'onBattery', value: true },
      { name: 'batteryPercent', value: 41 },
    ]);
  });
  it('a desktop (only a mouse battery, or nothing) has no battery', async () => {
    expect((await linuxBatteryReader(powerSupply({ mouse: { type: 'Battery', scope: 'Device', capacity: '80', status: 'Discharging' } }))()).hasBattery).toBe(false);
    expect(await linuxBatteryReader(tempDir())()).toEqual({ hasBattery: false, isCharging: false, acConnected: false, percent: null });
  });
  it('agrees with systeminformation on this machine about having a battery', async () => {
    expect((await linuxBatteryReader()()).hasBattery).toBe((await systeminformationBattery()).hasBattery);
  });
});

describe('battery source', () => {
  it('publishes what the reader says, fresh for 30 s at a 10 s period', async () => {
    const sink = recordingSink();
    const source = new BatterySource({ periodMs: 10_000, reader: async () => state({ percent: 90 }) });
    source.start(testContext({ sink }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('batteryPercent'), 'a reading');
    expect(sink.last('onBattery')).toMatchObject({ value: true, maxAgeMs: 30_000, source: 'battery' });
    expect(sink.last('batteryPercent')).toMatchObject({ value: 90 });
    expect(source.detectors().map((d) => d.signal)).toEqual(['onBattery', 'batteryPercent']);
  });

  it("this machine's real power supplies: a value or 'no battery'", async () => {
    const sink = recordingSink();
    const source = new BatterySource({ periodMs: 10_000 });
    source.start(testContext({ sink }));
    stops.push(() => source.stop());
    const r = await waitFor(() => sink.last('batteryPercent'), 'a reading', 20_000);
    expect(sink.last('onBattery')?.value).toEqual(expect.any(Boolean));
    if (r.notAvailable) expect(r.note).toBe('no battery');
    else expect(r.value).toEqual(expect.any(Number));
  });
});

describe('CPU temperature through systeminformation', () => {
  it.each([
    [{ main: 63.5 }, { value: 63.5 }],
    [{ main: null }, { notAvailable: true, note: noCpuSensorNote('win32') }],
    [{ main: -1 }, { notAvailable: true, note: noCpuSensorNote('win32') }],
    [{ main: 0 }, { notAvailable: true, note: noCpuSensorNote('win32') }],
    [{ main: 300 }, { notAvailable: true, note: noCpuSensorNote('win32') }],
  ])('%j -> %j', async (reading, expected) => {
    const sink = recordingSink();
    const source = new CpuTemperatureSource({ reader: async () => reading });
    source.start(testContext({ sink, platform: 'win32' }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('cpuTemperature'), 'a reading');
    expect(sink.last('cpuTemperature')).toMatchObject({ ...expected, maxAgeMs: 90_000 });
  });
  it('never polls faster than every 10 s', async () => {
    const sink = recordingSink();
    let calls = 0;
    const source = new CpuTemperatureSource({ periodMs: 1, reader: async () => ({ main: 50 + calls++ }) });
    expect(source.detectors()[0]!.how).toMatch(/not read yet/);
    source.start(testContext({ sink, platform: 'darwin' }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('cpuTemperature'), 'a reading');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(1);
    expect(sink.last('cpuTemperature')).toMatchObject({ value: 50, maxAgeMs: 30_000 });
    expect(source.detectors()[0]).toEqual({ signal: 'cpuTemperature', available: true, how: 'systeminformation cpuTemperature(), every 10 s' });
    expect(noCpuSensorNote('darwin')).toMatch(/native sensor module/);
  });
});
