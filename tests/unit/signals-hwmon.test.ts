// hwmon temperatures against fake sysfs trees (synthetic: the layout of /sys/class/hwmon and
// /sys/class/thermal, values in millidegrees), and once against this machine's real /sys.
import { afterEach, describe, expect, it } from 'vitest';
import { HwmonSource, NO_CPU_SENSOR_NOTE, readHwmon } from '../../agent/signals/hwmon.js';
import { writeSysfs } from '../support/sysfs.js';
import { useTempDirs } from '../support/tmp.js';
import { recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const sysfs = (files: Record<string, string>, links: Record<string, string> = {}): string => writeSysfs(tempDir(), files, links);

const AMD_DESKTOP = {
  'class/hwmon/hwmon0/name': 'nvme',
  'class/hwmon/hwmon0/temp1_input': '38850',
  'class/hwmon/hwmon1/name': 'k10temp',
  'class/hwmon/hwmon1/temp1_input': '71250',
  'class/hwmon/hwmon1/temp1_label': 'Tctl',
  'class/hwmon/hwmon1/temp3_input': '66000',
  'class/hwmon/hwmon1/temp3_label': 'Tccd1',
  // Second card first in hwmon order, later on the PCI bus.
  'class/hwmon/hwmon2/name': 'amdgpu',
  'class/hwmon/hwmon2/temp1_input': '48000',
  'class/hwmon/hwmon2/temp1_label': 'edge',
  'class/hwmon/hwmon2/temp2_input': '55000',
  'class/hwmon/hwmon2/temp2_label': 'junction',
  'class/hwmon/hwmon3/name': 'amdgpu',
  'class/hwmon/hwmon3/temp1_input': '62000',
  'class/hwmon/hwmon3/temp1_label': 'edge',
};
const AMD_LINKS = {
  'class/hwmon/hwmon2/device': 'devices/pci0000:00/0000:0b:00.0',
  'class/hwmon/hwmon3/device': 'devices/pci0000:00/0000:03:00.0',
};

describe('reading hwmon', () => {
  it('AMD desktop: Tctl for the CPU, amdgpu edge sensors in PCI order', async () => {
    expect(await readHwmon(sysfs(AMD_DESKTOP, AMD_LINKS))).toEqual({
      cpu: { sensor: 'k10temp Tctl', temperatureC: 71.3 },
      amdGpus: [
        { busId: '0000:03:00.0', temperatureC: 62 },
        { busId: '0000:0b:00.0', temperatureC: 48 },
      ],
    });
  });

  it('prefers Tdie to Tctl (Tctl carries an offset on some Ryzen)', async () => {
    const r = await readHwmon(sysfs({ 'class/hwmon/hwmon0/name': 'k10temp', 'class/hwmon/hwmon0/temp1_input': '95000', 'class/hwmon/hwmon0/temp1_label': 'Tctl', 'class/hwmon/hwmon0/temp2_input': '68000', 'class/hwmon/hwmon0/temp2_label': 'Tdie' }));
    expect(r.cpu).toEqual({ sensor: 'k10temp Tdie', temperatureC: 68 });
  });

  it('Intel: the hottest "Package id N" of coretemp', async () => {
    const r = await readHwmon(
      sysfs({
        'class/hwmon/hwmon4/name': 'coretemp',
        'class/hwmon/hwmon4/temp1_input': '55000',
        'class/hwmon/hwmon4/temp1_label': 'Package id 0',
        'class/hwmon/hwmon4/temp2_input': '58000',
        'class/hwmon/hwmon4/temp2_label': 'Core 0',
        'class/hwmon/hwmon5/name': 'coretemp',
        'class/hwmon/hwmon5/temp1_input': '61000',
        'class/hwmon/hwmon5/temp1_label': 'Package id 1',
      }),
    );
    expect(r.cpu).toEqual({ sensor: 'coretemp Package id', temperatureC: 61 });
  });

  it('falls back to the x86_pkg_temp thermal zone, and ignores broken values', async () => {
    const r = await readHwmon(
      sysfs({
        'class/hwmon/hwmon0/name': 'coretemp',
        'class/hwmon/hwmon0/temp1_input': '-273000',
        'class/thermal/thermal_zone0/type': 'acpitz',
        'class/thermal/thermal_zone0/temp': '27800',
        'class/thermal/thermal_zone1/type': 'x86_pkg_temp',
        'class/thermal/thermal_zone1/temp': '49000',
      }),
    );
    expect(r.cpu).toEqual({ sensor: 'thermal zone x86_pkg_temp', temperatureC: 49 });
  });

  it('finds nothing in an empty tree', async () => {
    expect(await readHwmon(tempDir())).toEqual({ cpu: null, amdGpus: [] });
  });
});

describe('hwmon source', () => {
  it('publishes cpuTemperature and AMD GPUs numbered after the NVIDIA ones', async () => {
    const sink = recordingSink();
    const source = new HwmonSource({ sysRoot: sysfs(AMD_DESKTOP, AMD_LINKS), periodMs: 50, gpuIndexOffset: () => 1 });
    source.start(testContext({ sink }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('gpuTemperature', 'gpu:2'), 'the second AMD GPU');
    expect(sink.last('cpuTemperature')).toMatchObject({ value: 71.3, maxAgeMs: 10_000, source: 'hwmon' });
    expect(sink.last('gpuTemperature', 'gpu:1')).toMatchObject({ value: 62 });
    expect(sink.last('gpuTemperature', 'gpu:2')).toMatchObject({ value: 48 });
    expect(sink.last('gpuTemperature', 'gpu:0')).toBeUndefined();
    expect(source.devices()).toEqual([
      { id: 'gpu:1', kind: 'gpu', label: 'AMD GPU (0000:03:00.0)' },
      { id: 'gpu:2', kind: 'gpu', label: 'AMD GPU (0000:0b:00.0)' },
    ]);
    expect(source.detectors().map((d) => [d.signal, d.available])).toEqual([
      ['cpuTemperature', true],
      ['gpuTemperature', true],
    ]);
  });

  it("this machine's real /sys: a reading or a note, never nothing", async () => {
    const sink = recordingSink();
    const source = new HwmonSource({ periodMs: 50 });
    source.start(testContext({ sink }));
    stops.push(() => source.stop());
    const r = await waitFor(() => sink.last('cpuTemperature'), 'a CPU temperature reading');
    if (r.notAvailable) expect(r.note).toBe(NO_CPU_SENSOR_NOTE);
    else expect(r.value).toEqual(expect.any(Number));
  });
});
