// AMD GPU board power from Linux hwmon (amdgpu driver): power1_average (the driver's average over
// its sampling window) where it exists, else power1_input (instantaneous; the only one on some
// RDNA3 cards and newer kernels). Both are microwatts. power1_cap, the board power limit, serves
// the estimate when neither can be read.
//
// Numbering is the one hwmon.ts uses for temperatures, so a GPU's power and temperature share a
// device id: NVIDIA GPUs keep nvidia-smi's indices 0..n-1, AMD GPUs follow in PCI bus order (the
// order the kernel numbers DRM cards in) as gpu:n, gpu:n+1…; `amdGpuDevice` does the arithmetic.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DeviceId } from '../../protocol/index.js';

export interface AmdGpuPower {
  /** PCI address, or the hwmon folder name when it has none. */
  busId: string;
  watts: number | null;
  sensor: 'power1_average' | 'power1_input' | null;
  capWatts: number | null;
  /** device/gpu_busy_percent, for the estimate. */
  utilizationPercent: number | null;
}

async function text(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function microwatts(path: string): Promise<number | null> {
  const t = await text(path);
  if (t === null || !/^\d+$/.test(t)) return null;
  const watts = Number(t) / 1e6;
  // amdgpu reports 0 on some cards while the GPU sleeps in runtime PM; that is a real 0, but a
  // figure above any board's reach is a bad read.
  return watts <= 2_000 ? watts : null;
}

export async function readAmdGpuPower(sysRoot = '/sys'): Promise<AmdGpuPower[]> {
  const hwmonDir = join(sysRoot, 'class', 'hwmon');
  let entries: string[];
  try {
    entries = await readdir(hwmonDir);
  } catch {
    return [];
  }
  const out: AmdGpuPower[] = [];
  for (const entry of entries.sort()) {
    const dir = join(hwmonDir, entry);
    if ((await text(join(dir, 'name'))) !== 'amdgpu') continue;
    let busId = entry;
    try {
      busId = basename(await realpath(join(dir, 'device')));
    } catch {}
    let sensor: AmdGpuPower['sensor'] = null;
    let watts: number | null = null;
    for (const file of ['power1_average', 'power1_input'] as const) {
      watts = await microwatts(join(dir, file));
      if (watts !== null) {
        sensor = file;
        break;
      }
    }
    const busy = await text(join(dir, 'device', 'gpu_busy_percent'));
    const utilizationPercent = busy !== null && /^\d+$/.test(busy) ? Math.min(100, Number(busy)) : null;
    out.push({ busId, watts, sensor, capWatts: await microwatts(join(dir, 'power1_cap')), utilizationPercent });
  }
  return out.sort((a, b) => a.busId.localeCompare(b.busId));
}

/** The device id of the i-th AMD GPU (PCI order) after `nvidiaCount` NVIDIA GPUs. */
export function amdGpuDevice(i: number, nvidiaCount: number): DeviceId {
  return `gpu:${nvidiaCount + i}`;
}
