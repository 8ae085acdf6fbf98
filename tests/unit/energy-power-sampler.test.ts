// The power sampler with every source faked (named as such: there is no GPU and no readable RAPL
// here) and both clocks driven by the test, so nothing sleeps.
import { describe, expect, it } from 'vitest';
import { PowerSnapshot } from '../../protocol/index.js';
import { PowerSampler, type GpuSampleFeed, type PowerSamplerOptions } from '../../agent/energy/power-sampler.js';
import type { AmdGpuPower } from '../../agent/energy/hwmon-power.js';
import type { RaplPower } from '../../agent/energy/rapl.js';
import type { GpuSample, GpuSamplerEvent, GpuSamplerListener } from '../../agent/signals/nvidia-smi-sampler.js';
import { NO_NVIDIA_NOTE } from '../../agent/signals/nvidia-smi-sampler.js';

class FakeNvidia implements GpuSampleFeed {
  listeners = new Set<GpuSamplerListener>();
  subscribe(l: GpuSamplerListener) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: GpuSamplerEvent) {
    for (const l of this.listeners) l(e);
  }
}

function gpu(index: number, powerDrawW: number | null, extra: Partial<GpuSample> = {}): GpuSample {
  return { index, name: 'NVIDIA GeForce RTX 3080', uuid: `GPU-${index}`, temperatureC: 60, utilizationPercent: 50, powerDrawW, memoryUsedMiB: 100, ...extra };
}

function rig(opts: Partial<PowerSamplerOptions> & { raplQueue?: RaplPower[]; amd?: AmdGpuPower[] } = {}) {
  const clock = { t: 0 };
  const nvidia = new FakeNvidia();
  const raplQueue = opts.raplQueue ?? [];
  const sampler = new PowerSampler({
    nvidia,
    readAmd: async () => opts.amd ?? [],
    rapl: { sample: async () => raplQueue.shift() ?? { state: 'unavailable', note: 'fake RAPL: none' } },
    cpu: { logicalCores: 16 },
    settings: () => ({ psuEfficiency: 1, calibrationFactor: 1 }),
    baseline: { minSamples: 5, settleMs: 5000 },
    monotonicMs: () => clock.t,
    now: () => new Date(Date.UTC(2026, 0, 1) + clock.t),
    ...opts,
  });
  const gpuAt = (t: number, s: GpuSample) => {
    clock.t = t;
    nvidia.emit({ type: 'sample', sample: s, at: new Date(Date.UTC(2026, 0, 1) + t) });
  };
  return { clock, nvidia, sampler, gpuAt };
}

describe('NVIDIA power from the shared stream', () => {
  it('learns the idle baseline, then bills only the job above it', () => {
    const { clock, sampler, gpuAt } = rig();
    sampler.start({ poll: false });
    for (let t = 0; t <= 9000; t += 1000) gpuAt(t, gpu(0, 30 + (t === 4000 ? 100 : 0)));
    expect(sampler.snapshot().devices[0]).toMatchObject({ device: 'gpu:0', watts: 30, basis: 'measured', source: 'nvidia-smi', idleBaselineWatts: 30 });
    clock.t = 10_000;
    sampler.startMeter('job-1', 'gpu:0');
    for (let t = 11_000; t <= 20_000; t += 1000) gpuAt(t, gpu(0, 210));
    // The job's own load never moves the baseline.
    expect(sampler.snapshot().devices[0]!.idleBaselineWatts).toBe(30);
    clock.t = 20_000;
    const r = sampler.stopMeter('job-1', 'gpu:0');
    // (10-11 s) trapezoid 0 -> 180 W = 90 J; (11-20 s) 9 x 180 W = 1620 J; 1710 J = 475 mWh.
    expect(r).toEqual({
      jobId: 'job-1',
      device: 'gpu:0',
      mwhMarginal: 475n,
      mwhDevice: joulesMwh(30 * 0 + 120 + 9 * 210),
      basis: 'measured',
      from: '2026-01-01T00:00:10.000Z',
      to: '2026-01-01T00:00:20.000Z',
      coveredMs: 10_000,
      uncoveredMs: 0,
    });
    expect(sampler.stopMeter('job-1', 'gpu:0')).toBeNull();
    void sampler.stop();
  });

  it('holds the last reading until the meter stops, capped at the gap limit', () => {
    const { clock, sampler, gpuAt } = rig({ maxGapMs: 5000 });
    sampler.start({ poll: false });
    for (let t = 0; t <= 5000; t += 1000) gpuAt(t, gpu(0, 20));
    sampler.startMeter('j', 'gpu:0');
    gpuAt(6000, gpu(0, 200));
    clock.t = 60_000; // the stream stalled
    const r = sampler.stopMeter('j', 'gpu:0')!;
    // 5-6 s: (0 + 180)/2 = 90 J; then 180 W held for 5 s = 900 J; 990 J = 275 mWh.
    expect(r.mwhMarginal).toBe(275n);
    expect(r.uncoveredMs).toBe(49_000);
    void sampler.stop();
  });

  it('applies PSU efficiency and calibration from the settings at meter start', () => {
    const { clock, sampler, gpuAt } = rig({ settings: () => ({ psuEfficiency: 0.8, calibrationFactor: 1.2 }) });
    sampler.start({ poll: false });
    for (let t = 0; t <= 5000; t += 1000) gpuAt(t, gpu(0, 10));
    sampler.startMeter('j', 'gpu:0');
    for (let t = 6000; t <= 9600; t += 3600) gpuAt(t, gpu(0, 100));
    gpuAt(9600, gpu(0, 100));
    clock.t = 9600;
    // 5-6 s: 45 J; 6-9.6 s: 90 W x 3.6 s = 324 J; 369 J / 0.8 x 1.2 = 553.5 J = 153.75 mWh.
    expect(sampler.stopMeter('j', 'gpu:0')!.mwhMarginal).toBe(154n);
    void sampler.stop();
  });

  it('a GPU without power.draw is estimated from its model and utilisation, and says so', () => {
    const { clock, sampler, gpuAt } = rig();
    sampler.start({ poll: false });
    gpuAt(0, gpu(0, null, { name: 'NVIDIA GeForce RTX 3080', utilizationPercent: 0 }));
    const reading = sampler.snapshot().devices[0]!;
    expect(reading).toMatchObject({ basis: 'estimated', source: 'estimate', watts: 22.4, idleBaselineWatts: 22.4 });
    expect(reading.note).toMatch(/no power.draw/);
    sampler.startMeter('j', 'gpu:0');
    gpuAt(3600, gpu(0, null, { utilizationPercent: 100 }));
    clock.t = 3600;
    const r = sampler.stopMeter('j', 'gpu:0')!;
    expect(r.basis).toBe('estimated');
    // (0 + 297.6)/2 W x 3.6 s = 535.68 J = 148.8 mWh.
    expect(r.mwhMarginal).toBe(149n);
    void sampler.stop();
  });

  it('a meter opened before any baseline was learned uses the estimated idle and is estimated', () => {
    const { clock, sampler, gpuAt } = rig();
    sampler.start({ poll: false });
    sampler.startMeter('j', 'gpu:0');
    gpuAt(1000, gpu(0, 200));
    gpuAt(2000, gpu(0, 200));
    clock.t = 2000;
    const r = sampler.stopMeter('j', 'gpu:0')!;
    expect(r.basis).toBe('estimated');
    // Estimated idle of a 320 W card: 22.4 W. 2 s x 177.6 W (the first reading stands for 0-1 s).
    expect(r.mwhMarginal).toBe(joulesMwh(2 * 177.6));
    void sampler.stop();
  });

  it('a meter with no reading at all is zero and estimated, never a throw', () => {
    const { clock, sampler } = rig();
    sampler.startMeter('j', 'gpu:3');
    clock.t = 4000;
    expect(sampler.stopMeter('j', 'gpu:3')).toMatchObject({ mwhMarginal: 0n, basis: 'estimated', uncoveredMs: 4000 });
  });
});

describe('polled sources', () => {
  const amd: AmdGpuPower[] = [
    { busId: '0000:03:00.0', watts: 150, sensor: 'power1_average', capWatts: 263, utilizationPercent: 90 },
    { busId: '0000:0b:00.0', watts: null, sensor: null, capWatts: 200, utilizationPercent: 50 },
  ];

  it('CPU from RAPL (mean power over the interval), AMD GPUs numbered after the NVIDIA ones', async () => {
    const { clock, sampler, gpuAt } = rig({ amd, raplQueue: [{ state: 'warming' }, { state: 'ok', watts: 40, packages: 1 }, { state: 'ok', watts: 80, packages: 1 }] });
    sampler.start({ poll: false });
    await sampler.tick();
    // The NVIDIA count is not known yet, so AMD GPUs wait rather than take gpu:0.
    expect(sampler.snapshot().devices).toEqual([]);
    gpuAt(500, gpu(0, 25));
    gpuAt(500, gpu(1, 26));
    clock.t = 1000;
    await sampler.tick();
    const snap = sampler.snapshot();
    expect(() => PowerSnapshot.parse(snap)).not.toThrow();
    expect(snap.devices.map((d) => [d.device, d.source, d.basis, d.watts])).toEqual([
      ['cpu', 'rapl', 'measured', 40],
      ['gpu:0', 'nvidia-smi', 'measured', 25],
      ['gpu:1', 'nvidia-smi', 'measured', 26],
      ['gpu:2', 'hwmon', 'measured', 150],
      ['gpu:3', 'estimate', 'estimated', 107],
    ]);
    expect(snap.devices[4]!.name).toBe('AMD GPU (0000:0b:00.0)');
    sampler.startMeter('j', 'cpu');
    clock.t = 4600;
    await sampler.tick();
    // RAPL's 80 W is the mean over 1-4.6 s: a rectangle, 288 J = 80 mWh device energy.
    expect(sampler.stopMeter('j', 'cpu')).toMatchObject({ mwhDevice: 80n, basis: 'estimated' });
  });

  it('RAPL unavailable: CPU estimated, with the reason among the notes', async () => {
    const { sampler, nvidia } = rig({ cpu: { logicalCores: 8, utilizationPercent: () => 25 } });
    sampler.start({ poll: false });
    nvidia.emit({ type: 'unavailable', note: NO_NVIDIA_NOTE });
    await sampler.tick();
    const snap = sampler.snapshot();
    expect(snap.devices).toEqual([expect.objectContaining({ device: 'cpu', basis: 'estimated', source: 'estimate', watts: 22.1 })]);
    // Not having NVIDIA is no problem to report; RAPL being unreadable is.
    expect(snap.notes).toEqual(['fake RAPL: none']);
    expect(() => PowerSnapshot.parse(snap)).not.toThrow();
    await sampler.stop();
  });

  it('a NVIDIA driver problem is a note; AMD GPUs then start at gpu:0', async () => {
    const { sampler, nvidia } = rig({ amd: amd.slice(0, 1) });
    sampler.start({ poll: false });
    nvidia.emit({ type: 'unavailable', note: 'nvidia-smi found no NVIDIA GPU' });
    await sampler.tick();
    const snap = sampler.snapshot();
    expect(snap.devices.map((d) => d.device)).toEqual(['cpu', 'gpu:0']);
    expect(snap.notes).toContain('nvidia-smi found no NVIDIA GPU');
    await sampler.stop();
  });

  it('readings older than the gap limit leave the snapshot', async () => {
    const { clock, sampler, gpuAt } = rig({ maxGapMs: 5000 });
    sampler.start({ poll: false });
    gpuAt(0, gpu(0, 30));
    expect(sampler.snapshot().devices).toHaveLength(1);
    clock.t = 6000;
    expect(sampler.snapshot().devices).toHaveLength(0);
  });

  it('start() runs the loop on real timers without blocking, and stop() ends it', async () => {
    let reads = 0;
    const { sampler, nvidia } = rig({ periodMs: 5, idlePeriodMs: 5, rapl: { sample: async () => (reads++, { state: 'warming' }) } });
    sampler.start();
    expect(nvidia.listeners.size).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    await sampler.stop();
    const after = reads;
    expect(after).toBeGreaterThan(1);
    expect(nvidia.listeners.size).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(after);
  });
});

describe('power sampler cadence', () => {
  it('polls slowly while nothing of ours runs, and every period while a meter is open', async () => {
    let reads = 0;
    const { sampler } = rig({ periodMs: 5, idlePeriodMs: 400, rapl: { sample: async () => (reads++, { state: 'ok', watts: 20, packages: 1 }) } });
    sampler.start();
    await new Promise((r) => setTimeout(r, 150));
    const idleReads = reads;
    // One read at start, then nothing for the idle period.
    expect(idleReads).toBe(1);
    sampler.startMeter('job', 'cpu');
    // The slow timer is already set; the next tick comes at its end, then the fast cadence holds.
    await new Promise((r) => setTimeout(r, 600));
    expect(reads - idleReads).toBeGreaterThan(10);
    sampler.stopMeter('job', 'cpu');
    await sampler.stop();
  });
});

function joulesMwh(j: number): bigint {
  return BigInt(Math.round(j / 3.6));
}
