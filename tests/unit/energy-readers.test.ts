// Power readers against fake sysfs trees in a temp dir (synthetic: the layout of
// /sys/class/powercap and /sys/class/hwmon as the kernel documents it, values made up), and
// nvidia-smi power.draw from synthetic lines through the existing parser.
import { chmodSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { amdGpuDevice, readAmdGpuPower } from '../../agent/energy/hwmon-power.js';
import { NO_RAPL_NOTE, RAPL_ROOT_ONLY_NOTE, RaplMeter, readRapl } from '../../agent/energy/rapl.js';
import { integrate } from '../../agent/energy/integrate.js';
import { estimateCpu, estimateGpu, gpuTdpWatts } from '../../agent/energy/estimate.js';
import { LineSplitter, parseGpuLine } from '../../agent/signals/nvidia-smi-parse.js';
import { writeSysfs } from '../support/sysfs.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

const sysfs = (files: Record<string, string>, links: Record<string, string> = {}): string => writeSysfs(tempDir(), files, links);

const RANGE = 262143328850;
const rapl = (pkg0: number, pkg1?: number) => ({
  'class/powercap/intel-rapl/enabled': '1',
  'class/powercap/intel-rapl:0/name': 'package-0',
  'class/powercap/intel-rapl:0/energy_uj': String(pkg0),
  'class/powercap/intel-rapl:0/max_energy_range_uj': String(RANGE),
  'class/powercap/intel-rapl:0:0/name': 'core',
  'class/powercap/intel-rapl:0:0/energy_uj': '5',
  'class/powercap/intel-rapl:0:0/max_energy_range_uj': String(RANGE),
  ...(pkg1 !== undefined
    ? { 'class/powercap/intel-rapl:1/name': 'package-1', 'class/powercap/intel-rapl:1/energy_uj': String(pkg1), 'class/powercap/intel-rapl:1/max_energy_range_uj': String(RANGE) }
    : { 'class/powercap/intel-rapl:1/name': 'psys', 'class/powercap/intel-rapl:1/energy_uj': '999', 'class/powercap/intel-rapl:1/max_energy_range_uj': String(RANGE) }),
});

function write(root: string, path: string, value: number): void {
  writeFileSync(join(root, path), `${value}\n`);
}

describe('RAPL', () => {
  it('reads package domains only (not core sub-zones, not psys)', async () => {
    const r = await readRapl(sysfs(rapl(1000)));
    expect(r).toEqual({ ok: true, packages: [{ zone: 'intel-rapl:0', name: 'package-0', energyUj: 1000, rangeUj: RANGE }] });
  });

  it('power = energy difference / time; the first read only warms up', async () => {
    const root = sysfs(rapl(1_000_000, 5_000_000));
    const meter = new RaplMeter(root);
    expect(await meter.sample(0)).toEqual({ state: 'warming' });
    write(root, 'class/powercap/intel-rapl:0/energy_uj', 1_000_000 + 30_000_000);
    write(root, 'class/powercap/intel-rapl:1/energy_uj', 5_000_000 + 15_000_000);
    // 45 J in 1.5 s over two packages.
    expect(await meter.sample(1500)).toEqual({ state: 'ok', watts: 30, packages: 2 });
  });

  it('handles the counter wrapping at max_energy_range_uj', async () => {
    const root = sysfs(rapl(RANGE - 10_000_000));
    const meter = new RaplMeter(root);
    await meter.sample(0);
    write(root, 'class/powercap/intel-rapl:0/energy_uj', 40_000_000);
    expect(await meter.sample(1000)).toEqual({ state: 'ok', watts: 50, packages: 1 });
  });

  it('a counter that jumps implausibly (reset, resume) gives no figure rather than a spike', async () => {
    const root = sysfs(rapl(1000));
    const meter = new RaplMeter(root);
    await meter.sample(0);
    write(root, 'class/powercap/intel-rapl:0/energy_uj', 1000 + 100_000_000_000);
    expect(await meter.sample(1000)).toEqual({ state: 'warming' });
    write(root, 'class/powercap/intel-rapl:0/energy_uj', 1000 + 100_020_000_000);
    expect(await meter.sample(2000)).toEqual({ state: 'ok', watts: 20, packages: 1 });
  });

  it('root-only energy_uj (EACCES, Linux >= 5.10) is a clear "not available"', async () => {
    const root = sysfs(rapl(1000));
    const denied = async (path: string) => {
      if (path.endsWith('energy_uj')) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
      return readFile(path, 'utf8');
    };
    expect(await readRapl(root, denied)).toEqual({ ok: false, note: RAPL_ROOT_ONLY_NOTE });
    const meter = new RaplMeter(root, (r) => readRapl(r, denied));
    expect(await meter.sample(0)).toEqual({ state: 'unavailable', note: RAPL_ROOT_ONLY_NOTE });
    expect(RAPL_ROOT_ONLY_NOTE).toMatch(/root only/);
  });

  it.skipIf(process.getuid?.() === 0)('real file permissions: a mode-0400 root file read by a user', async () => {
    const root = sysfs(rapl(1000));
    chmodSync(join(root, 'class/powercap/intel-rapl:0/energy_uj'), 0o000);
    expect(await readRapl(root)).toEqual({ ok: false, note: RAPL_ROOT_ONLY_NOTE });
  });

  it('no powercap folder, or no package zone: not available', async () => {
    expect(await readRapl(tempDir())).toEqual({ ok: false, note: NO_RAPL_NOTE });
    expect(await readRapl(sysfs({ 'class/powercap/intel-rapl:0/name': 'psys', 'class/powercap/intel-rapl:0/energy_uj': '1' }))).toEqual({ ok: false, note: NO_RAPL_NOTE });
  });

  it('a non-numeric counter is reported, not read as 0', async () => {
    const r = await readRapl(sysfs({ ...rapl(1000), 'class/powercap/intel-rapl:0/energy_uj': 'garbage' }));
    expect(r.ok).toBe(false);
  });
});

describe('AMD GPU power from hwmon', () => {
  const tree = {
    'class/hwmon/hwmon0/name': 'k10temp',
    'class/hwmon/hwmon0/power1_average': '99000000',
    // Later on the PCI bus, first in hwmon order; power1_average preferred over power1_input.
    'class/hwmon/hwmon1/name': 'amdgpu',
    'class/hwmon/hwmon1/power1_average': '215500000',
    'class/hwmon/hwmon1/power1_input': '230000000',
    'class/hwmon/hwmon1/power1_cap': '263000000',
    // Only power1_input (some RDNA3 cards on newer kernels).
    'class/hwmon/hwmon2/name': 'amdgpu',
    'class/hwmon/hwmon2/power1_input': '12250000',
    // An APU with no power sensor at all.
    'class/hwmon/hwmon3/name': 'amdgpu',
    'class/hwmon/hwmon3/power1_average': 'N/A',
  };
  const links = {
    'class/hwmon/hwmon1/device': 'devices/pci0000:00/0000:0b:00.0',
    'class/hwmon/hwmon2/device': 'devices/pci0000:00/0000:03:00.0',
    'class/hwmon/hwmon3/device': 'devices/pci0000:00/0000:0e:00.0',
  };

  it('microwatts to watts, in PCI order, average preferred, with cap and busy percent', async () => {
    const root = sysfs(tree, links);
    writeFileSync(join(root, 'devices/pci0000:00/0000:0b:00.0/gpu_busy_percent'), '97\n');
    expect(await readAmdGpuPower(root)).toEqual([
      { busId: '0000:03:00.0', watts: 12.25, sensor: 'power1_input', capWatts: null, utilizationPercent: null },
      { busId: '0000:0b:00.0', watts: 215.5, sensor: 'power1_average', capWatts: 263, utilizationPercent: 97 },
      { busId: '0000:0e:00.0', watts: null, sensor: null, capWatts: null, utilizationPercent: null },
    ]);
  });

  it('numbers AMD GPUs after the NVIDIA ones, like the temperature source', () => {
    expect(amdGpuDevice(0, 0)).toBe('gpu:0');
    expect(amdGpuDevice(1, 2)).toBe('gpu:3');
  });

  it('no hwmon at all: no GPUs', async () => {
    expect(await readAmdGpuPower(tempDir())).toEqual([]);
  });
});

describe('nvidia-smi power.draw through the existing parser', () => {
  it('a synthetic -lms stream, split mid-line, integrates to the expected energy', () => {
    // Synthetic lines in the sampler's nounits layout, one per second: 100 W then 280 W.
    const text = [100, 100, 280, 280, 280].map((w) => `0, NVIDIA GeForce RTX 3080, GPU-1, 60, 90, ${w.toFixed(2)}, 8000\n`).join('');
    const splitter = new LineSplitter();
    const lines = [...splitter.push(text.slice(0, 77)), ...splitter.push(text.slice(77))];
    const samples = lines.map((l) => parseGpuLine(l)).filter((s) => s !== null);
    expect(samples.map((s) => s.powerDrawW)).toEqual([100, 100, 280, 280, 280]);
    const r = integrate(
      samples.map((s, i) => ({ t: i * 1000, watts: s.powerDrawW!, basis: 'measured' as const })),
      { psuEfficiency: 1, baselineWatts: 100 },
    );
    // Device: 100 + 190 + 280 + 280 = 850 J; above 100 W: 0 + 90 + 180 + 180 = 450 J = 125 mWh.
    expect(r.mwhDevice).toBe(236n);
    expect(r.mwhMarginal).toBe(125n);
  });

  it('a GPU without power.draw parses to null (then the estimate takes over)', () => {
    expect(parseGpuLine('0, NVIDIA GeForce RTX 3060 Laptop GPU, GPU-2, 51, 40, [N/A], 900')?.powerDrawW).toBeNull();
  });
});

describe('the estimate', () => {
  it('model table, most specific first; driver cap beats the table; unknown models get a generic figure', () => {
    expect(gpuTdpWatts('NVIDIA GeForce RTX 4070 Ti SUPER').watts).toBe(285);
    expect(gpuTdpWatts('NVIDIA GeForce RTX 4070').watts).toBe(200);
    expect(gpuTdpWatts('AMD Radeon RX 7900 XTX').watts).toBe(355);
    expect(gpuTdpWatts('AMD Radeon RX 7900 XT').watts).toBe(315);
    expect(gpuTdpWatts('NVIDIA GeForce RTX 3060 Laptop GPU').watts).toBe(80);
    expect(gpuTdpWatts('Mystery GPU').watts).toBe(200);
    expect(gpuTdpWatts(null, 263).watts).toBe(263);
  });

  it('idle + (tdp - idle) x utilisation, full load assumed only while our work runs', () => {
    const idle = estimateGpu('NVIDIA GeForce RTX 3080', 0, false);
    expect(idle).toMatchObject({ watts: 22.4, idleWatts: 22.4, tdpWatts: 320, basis: 'estimated', source: 'estimate' });
    expect(estimateGpu('NVIDIA GeForce RTX 3080', 50, false).watts).toBeCloseTo(171.2, 6);
    expect(estimateGpu('NVIDIA GeForce RTX 3080', null, true).watts).toBe(320);
    expect(estimateGpu('NVIDIA GeForce RTX 3080', null, false).watts).toBe(22.4);
    expect(estimateCpu(16, 100, true)).toMatchObject({ watts: 125, tdpWatts: 125, basis: 'estimated' });
    expect(estimateCpu(null, null, false).idleWatts).toBeCloseTo(7.8, 6);
    expect(estimateCpu(8, 0, false, true).tdpWatts).toBe(28);
    expect(estimateGpu('NVIDIA GeForce RTX 3080', null, true).note).toMatch(/estimated from .*320 W.* 100 % load assumed/);
  });
});
