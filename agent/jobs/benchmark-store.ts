// Each device's last benchmark, kept in a small JSON file next to the settings: the earnings and
// power estimates read it, and it must survive restarts. One entry per device, so it never grows.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { DeviceBenchmark } from '../../protocol/index.js';
import { writeFileAtomic } from '../fs-util.js';
import type { Logger } from '../logger.js';

const File = z.object({ version: z.literal(1), benchmarks: z.array(DeviceBenchmark) });

export class BenchmarkStore {
  private readonly byDevice = new Map<string, DeviceBenchmark>();

  constructor(
    private readonly path: string,
    log: Logger,
  ) {
    if (!existsSync(path)) return;
    try {
      const parsed = File.parse(JSON.parse(readFileSync(path, 'utf8')));
      for (const b of parsed.benchmarks) this.byDevice.set(b.device, b);
    } catch (err) {
      // Only measurements: a damaged file costs a re-run of the benchmark, nothing more.
      log.warn('the benchmark file could not be read; benchmarks will be run again', { path, err });
    }
  }

  list(): DeviceBenchmark[] {
    return [...this.byDevice.values()].sort((a, b) => a.device.localeCompare(b.device));
  }

  get(device: string): DeviceBenchmark | undefined {
    return this.byDevice.get(device);
  }

  put(b: DeviceBenchmark): void {
    this.byDevice.set(b.device, b);
    writeFileAtomic(this.path, `${JSON.stringify({ version: 1, benchmarks: this.list() }, null, 2)}\n`);
  }
}
