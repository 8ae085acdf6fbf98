// The nvidia-smi parsers. Recorded input: tests/fixtures/signals/nvidia-smi-lms-recorded.txt (a
// real `-lms` stream, see the README there). Everything else here is synthetic, written in the
// tool's documented layout, and says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foreignGpuLoad, GPU_QUERY_FIELDS, LineSplitter, nvidiaUnavailableNote, parseComputeApps, parseGpuLine, parsePmon, parseQueryValue } from '../../agent/signals/nvidia-smi-parse.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'signals', name), 'utf8');

describe('nvidia-smi --query-gpu lines', () => {
  it('reads a recorded -lms stream (with units and a header, as printed without nounits)', () => {
    const lines = fixture('nvidia-smi-lms-recorded.txt').split('\n');
    const fields = ['utilization.gpu', 'power.draw'];
    const samples = lines.map((l) => parseGpuLine(l, fields)).filter((s) => s !== null);
    expect(parseGpuLine(lines[0]!, fields)).toBeNull(); // the header
    expect(samples).toHaveLength(33);
    expect(samples[0]).toMatchObject({ index: 0, utilizationPercent: 42, powerDrawW: 10.23 });
    expect(samples.at(-1)).toMatchObject({ utilizationPercent: 2, powerDrawW: 3.24 });
    // The recording's own "AVG=15.9578125" is the mean of its first 32 power samples.
    const first32 = samples.slice(0, 32).map((s) => s.powerDrawW!);
    expect(first32.reduce((a, b) => a + b, 0) / 32).toBeCloseTo(15.9578125, 6);
  });

  it('reads the sampler query (synthetic lines in the nounits layout)', () => {
    expect(parseGpuLine('0, NVIDIA GeForce RTX 3080, GPU-6b1e8f2a-0000-4000-8000-000000000001, 64, 97, 301.52, 9120')).toEqual({
      index: 0,
      name: 'NVIDIA GeForce RTX 3080',
      uuid: 'GPU-6b1e8f2a-0000-4000-8000-000000000001',
      temperatureC: 64,
      utilizationPercent: 97,
      powerDrawW: 301.52,
      memoryUsedMiB: 9120,
    });
    expect(GPU_QUERY_FIELDS).toEqual(['index', 'name', 'uuid', 'temperature.gpu', 'utilization.gpu', 'power.draw', 'memory.used']);
  });

  it('turns [N/A], [Not Supported] and bare N/A into null, not 0 (synthetic)', () => {
    const s = parseGpuLine('1, NVIDIA GeForce GTX 1650 with Max-Q Design, GPU-1, 51, 3, [N/A], 5');
    expect(s).toMatchObject({ index: 1, temperatureC: 51, utilizationPercent: 3, powerDrawW: null, memoryUsedMiB: 5 });
    expect(parseGpuLine('0, Tesla T4, GPU-2, [Not Supported], N/A, 27.1, [Unknown Error]')).toMatchObject({ temperatureC: null, utilizationPercent: null, memoryUsedMiB: null });
  });

  it('keeps a comma inside the GPU name', () => {
    expect(parseGpuLine('0, Weird, Name GPU, GPU-3, 40, 1, 10.5, 12')).toMatchObject({ name: 'Weird, Name GPU', uuid: 'GPU-3', temperatureC: 40 });
  });

  it('drops what is not a data line', () => {
    for (const bad of ['', 'index, name, uuid, temperature.gpu, utilization.gpu [%], power.draw [W], memory.used [MiB]', '0, NVIDIA GeForce RTX 3080, GPU-1, 64', 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.', 'x, name, GPU-1, 1, 2, 3, 4', '0, name, GPU-1, hot, 2, 3, 4']) {
      expect(parseGpuLine(bad), bad).toBeNull();
    }
  });

  it('field values', () => {
    expect(parseQueryValue(' 42 %')).toBe(42);
    expect(parseQueryValue('16.67 W')).toBe(16.67);
    expect(parseQueryValue('1 MiB')).toBe(1);
    expect(parseQueryValue('[N/A]')).toBeNull();
    expect(parseQueryValue('12 apples')).toBeUndefined();
  });
});

describe('line splitting of a stream', () => {
  it('gives the same lines however the pipe cuts the chunks (property)', () => {
    const text = fixture('nvidia-smi-lms-recorded.txt').replace(/\n/g, '\r\n');
    const whole = text.split(/\r?\n/).slice(0, -1);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 40 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const splitter = new LineSplitter();
        const out: string[] = [];
        let from = 0;
        for (const p of [...points, text.length]) {
          out.push(...splitter.push(text.slice(from, p)));
          from = p;
        }
        expect(out).toEqual(whole);
      }),
    );
  });

  it('holds an unfinished line until its end arrives, and drops it on reset', () => {
    const s = new LineSplitter();
    expect(s.push('0, GPU, GPU-1, 5')).toEqual([]);
    expect(s.push('0, 10, 30.5, 100\n1, GPU')).toEqual(['0, GPU, GPU-1, 50, 10, 30.5, 100']);
    s.reset();
    expect(s.push('\n')).toEqual(['']);
  });
});

describe('per-process GPU users', () => {
  it('reads pmon -s u (synthetic), including a GPU with no process and "-" shares', () => {
    expect(parsePmon(fixture('pmon-synthetic.txt'))).toEqual([
      { gpu: 0, pid: 4242, type: 'C', smPercent: 60, name: 'blender' },
      { gpu: 0, pid: 5000, type: 'G', smPercent: 25, name: 'Cyberpunk2077.exe' },
      { gpu: 0, pid: 1234, type: 'G', smPercent: null, name: 'Xorg' },
    ]);
  });

  it('finds sm by its header when columns move (pmon -s um on newer drivers, synthetic)', () => {
    expect(parsePmon(fixture('pmon-um-synthetic.txt'))).toEqual([
      { gpu: 0, pid: 4242, type: 'C', smPercent: 71, name: 'blender' },
      { gpu: 0, pid: 2210, type: 'C+G', smPercent: 4, name: 'chrome --type=gpu-process' },
    ]);
  });

  it('reads --query-compute-apps rows by GPU uuid (synthetic)', () => {
    const uuids = new Map([['GPU-a', 0], ['GPU-b', 1]]);
    expect(parseComputeApps('GPU-a, 4242, 8123\nGPU-b, 77, [N/A]\nGPU-zz, 9, 1\n\n', uuids)).toEqual([
      { gpu: 0, pid: 4242, type: null, smPercent: null, name: null },
      { gpu: 1, pid: 77, type: null, smPercent: null, name: null },
    ]);
  });

  it('recognises nvidia-smi saying there is no driver or no GPU', () => {
    expect(nvidiaUnavailableNote("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.")).toMatch(/cannot reach the NVIDIA driver/);
    expect(nvidiaUnavailableNote('No devices were found')).toBe('nvidia-smi found no NVIDIA GPU');
    expect(nvidiaUnavailableNote('Segmentation fault')).toBeNull();
  });
});

describe('foreign GPU load', () => {
  const rows = parsePmon(fixture('pmon-synthetic.txt')).filter((r) => r.gpu === 0);
  const ours = new Set([4242]);
  it.each([
    ['nothing of ours on the GPU: all of it is foreign', rows, new Set([1]), true, 90, 90],
    ['pmon shares: only the others count', rows, ours, true, 90, 25],
    ['only ours and an idle compositor', rows.filter((r) => r.pid !== 5000), ours, true, 90, 0],
    ['compute list without shares, someone else computes: the whole utilization', [...rows.filter((r) => r.pid === 4242), { gpu: 0, pid: 9, type: null, smPercent: null, name: null }], ours, false, 90, 90],
    ['compute list with only ours: 0 (graphics users are invisible there)', rows.filter((r) => r.pid === 4242), ours, false, 90, 0],
    ['no process list, nothing of ours running', null, new Set<number>(), false, 55, 55],
    ['no process list while ours runs: unknown', null, ours, false, 55, null],
    ['no utilization figure', rows, ours, true, null, null],
  ] as const)('%s', (_what, users, own, perProcess, utilization, expected) => {
    expect(foreignGpuLoad(utilization, users, own, perProcess)).toBe(expected);
  });
  it('never goes above 100', () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ gpu: 0, pid: 100 + i, type: 'G', smPercent: 40, name: 'x' }));
    expect(foreignGpuLoad(100, [...many, { gpu: 0, pid: 4242, type: 'C', smPercent: 1, name: 'ours' }], ours, true)).toBe(100);
  });
});
