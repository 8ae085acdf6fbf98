// The benchmark scene builds inside the real Blender and renders through the engine path; the
// result is a speed, so the test checks its shape, never a threshold.
import { describe, expect, it } from 'vitest';
import { runBenchmark } from '../../workers/render/benchmark.js';
import { blender } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { useTempDirs } from '../support/tmp.js';

const found = blender();
const enabled = requireProgram(found, 'render benchmark (real Blender)');

describe.runIf(enabled)('render benchmark', () => {
  const tempDir = useTempDirs();

  it('renders the bundled scene on the CPU and reports samples per second', async () => {
    const result = await runBenchmark({
      blender: found.found!,
      workDir: tempDir(),
      device: 'CPU',
      threads: 1,
      resolution: 32,
      samples: 8,
      sandbox: 'off',
    });
    expect(result).toMatchObject({ ok: true, device: 'CPU', width: 32, height: 32, samples: 8 });
    if (!result.ok) return;
    expect(result.renderS).toBeGreaterThan(0);
    expect(result.samplesPerSecond).toBe(Math.round((32 * 32 * 8) / result.renderS));
  });
});
