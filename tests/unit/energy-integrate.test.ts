// Energy integration against synthetic sample streams whose integrals are known by hand.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrationFactor, counterDelta, EnergyIntegrator, IdleBaseline, integrate, joulesToMwh, type PowerPoint } from '../../agent/energy/integrate.js';

const pts = (watts: number[], stepMs = 1000, basis: PowerPoint['basis'] = 'measured'): PowerPoint[] => watts.map((w, i) => ({ t: i * stepMs, watts: w, basis }));
const raw = { psuEfficiency: 1, calibrationFactor: 1 };

describe('trapezoid integration', () => {
  it('constant 360 W for an hour is 360 Wh', () => {
    const points = pts(Array.from({ length: 3601 }, () => 360));
    const r = integrate(points, raw);
    expect(r).toMatchObject({ mwhMarginal: 360_000n, mwhDevice: 360_000n, basis: 'measured', coveredMs: 3_600_000, uncoveredMs: 0, samples: 3601 });
  });

  it('a linear ramp 0 -> 100 W over 36 s is 0.5 Wh (trapezoids are exact on lines)', () => {
    const r = integrate(pts(Array.from({ length: 37 }, (_, i) => (100 * i) / 36)), raw);
    expect(r.mwhDevice).toBe(500n);
  });

  it("'average' samples are rectangles over the interval before them", () => {
    const r = integrate(
      [
        { t: 0, watts: 0, basis: 'measured' },
        { t: 3600, watts: 100, basis: 'measured', kind: 'average' },
        { t: 7200, watts: 300, basis: 'measured', kind: 'average' },
      ],
      raw,
    );
    // 100 W x 3.6 s + 300 W x 3.6 s = 1440 J = 400 mWh.
    expect(r.mwhDevice).toBe(400n);
  });

  it('one sample or none is no energy', () => {
    expect(integrate([], raw).mwhDevice).toBe(0n);
    expect(integrate(pts([500]), raw).mwhDevice).toBe(0n);
  });

  it('drops NaN and negative samples instead of poisoning the sum', () => {
    const r = integrate([...pts([100, 100]), { t: 1500, watts: Number.NaN, basis: 'measured' }, { t: 1800, watts: -5, basis: 'measured' }, { t: 2000, watts: 100, basis: 'measured' }], raw);
    expect(r.mwhDevice).toBe(joulesToMwh(200));
    expect(r.samples).toBe(3);
  });
});

describe('gaps and clocks', () => {
  it('a gap longer than maxGap holds the last power for maxGap only, and reports the rest', () => {
    const points: PowerPoint[] = [
      { t: 0, watts: 360, basis: 'measured' },
      { t: 1000, watts: 360, basis: 'measured' },
      { t: 601_000, watts: 36, basis: 'measured' },
      { t: 602_000, watts: 36, basis: 'measured' },
    ];
    const r = integrate(points, { ...raw, maxGapMs: 5000 });
    // 360 J + 360 W x 5 s + 36 J = 2196 J = 610 mWh.
    expect(r.mwhDevice).toBe(610n);
    expect(r.coveredMs).toBe(7000);
    expect(r.uncoveredMs).toBe(595_000);
  });

  it('an interval exactly maxGap long is still a trapezoid', () => {
    expect(integrate(pts([0, 72], 5000), { ...raw, maxGapMs: 5000 }).mwhDevice).toBe(50n);
  });

  it('time going backwards adds nothing and restarts from the new sample', () => {
    const points: PowerPoint[] = [
      { t: 10_000, watts: 360, basis: 'measured' },
      { t: 11_000, watts: 360, basis: 'measured' },
      { t: 2_000, watts: 360, basis: 'measured' },
      { t: 2_000, watts: 360, basis: 'measured' },
      { t: 3_000, watts: 360, basis: 'measured' },
    ];
    const r = integrate(points, raw);
    expect(r.mwhDevice).toBe(200n);
    expect(r.coveredMs).toBe(2000);
  });

  it('a forward jump of an hour is a gap, not an hour of load', () => {
    const r = integrate([{ t: 0, watts: 300, basis: 'measured' }, { t: 3_600_000, watts: 300, basis: 'measured' }], { ...raw, maxGapMs: 5000 });
    expect(r.mwhDevice).toBe(joulesToMwh(300 * 5));
  });
});

describe('marginal wall energy', () => {
  it('subtracts the idle baseline, never below zero', () => {
    const r = integrate(pts([20, 20, 120, 120, 10, 10], 3600), { ...raw, baselineWatts: 30 });
    // Marginal per point: 0, 0, 90, 90, 0, 0 -> trapezoids 0 + 45 + 90 + 45 + 0 (x 3.6 s) = 180 mWh.
    expect(r.mwhMarginal).toBe(180n);
    expect(r.mwhDevice).toBe(285n);
  });

  it('divides by PSU efficiency (default 0.9) and multiplies by calibration', () => {
    const points = pts([90, 90], 3600);
    expect(integrate(points).mwhMarginal).toBe(100n);
    expect(integrate(points, { psuEfficiency: 0.8, calibrationFactor: 1.2 }).mwhMarginal).toBe(135n);
    expect(() => integrate(points, { psuEfficiency: 0 })).toThrow(RangeError);
    expect(() => integrate(points, { psuEfficiency: 1.1 })).toThrow(RangeError);
    expect(() => integrate(points, { calibrationFactor: -1 })).toThrow(RangeError);
  });

  it('is estimated as soon as one sample or the baseline is', () => {
    expect(integrate([...pts([10, 10]), { t: 2000, watts: 10, basis: 'estimated' }]).basis).toBe('estimated');
    expect(integrate(pts([10, 10]), { baselineWatts: 5, baselineBasis: 'estimated' }).basis).toBe('estimated');
    expect(integrate(pts([10, 10]), { baselineWatts: 5, baselineBasis: 'measured' }).basis).toBe('measured');
  });

  it('calibration factor = meter delta / our marginal wall estimate', () => {
    // Sensors: 180 W above idle -> 200 W at the wall at 0.9; the meter shows 330 - 80 = 250 W.
    expect(calibrationFactor({ meterIdleWatts: 80, meterLoadWatts: 330, marginalDeviceWatts: 180, psuEfficiency: 0.9 })).toBeCloseTo(1.25, 10);
    expect(() => calibrationFactor({ meterIdleWatts: 100, meterLoadWatts: 90, marginalDeviceWatts: 180, psuEfficiency: 0.9 })).toThrow(/more while the benchmark/);
    expect(() => calibrationFactor({ meterIdleWatts: 80, meterLoadWatts: 330, marginalDeviceWatts: 0, psuEfficiency: 0.9 })).toThrow(/no load/);
    expect(() => calibrationFactor({ meterIdleWatts: 80, meterLoadWatts: 3000, marginalDeviceWatts: 10, psuEfficiency: 0.9 })).toThrow(/disagree/);
  });
});

describe('properties', () => {
  const stream = fc
    .array(fc.record({ dt: fc.integer({ min: -2000, max: 20_000 }), watts: fc.double({ min: 0, max: 1000, noNaN: true }) }), { minLength: 2, maxLength: 200 })
    .map((steps) => {
      let t = 1_000_000;
      return steps.map((s) => ({ t: (t += s.dt), watts: s.watts, basis: 'measured' as const }));
    });

  it('splitting a stream at any sample gives the same total within rounding', () => {
    fc.assert(
      fc.property(stream, fc.nat(), fc.double({ min: 0, max: 500, noNaN: true }), (points, cut, baselineWatts) => {
        const k = cut % points.length;
        const opts = { baselineWatts, maxGapMs: 5000 };
        const whole = integrate(points, opts);
        const a = integrate(points.slice(0, k + 1), opts);
        const b = integrate(points.slice(k), opts);
        for (const field of ['mwhMarginal', 'mwhDevice'] as const) {
          const diff = whole[field] - a[field] - b[field];
          expect(diff >= -1n && diff <= 1n).toBe(true);
        }
        expect(a.coveredMs + b.coveredMs).toBe(whole.coveredMs);
      }),
    );
  });

  it('marginal never exceeds device energy / psu, and neither is negative', () => {
    fc.assert(
      fc.property(stream, fc.double({ min: 0, max: 500, noNaN: true }), (points, baselineWatts) => {
        const r = integrate(points, { baselineWatts, psuEfficiency: 1 });
        expect(r.mwhMarginal >= 0n && r.mwhMarginal <= r.mwhDevice + 1n).toBe(true);
      }),
    );
  });

  it('covered time is at most the forward time the stream spans', () => {
    fc.assert(
      fc.property(stream, (points) => {
        let forward = 0;
        for (let i = 1; i < points.length; i++) forward += Math.max(0, points[i]!.t - points[i - 1]!.t);
        const r = integrate(points);
        expect(r.coveredMs + r.uncoveredMs).toBe(forward);
      }),
    );
  });
});

describe('counter wrap', () => {
  it('a smaller value is one wrap at the range; an impossible one is a reset', () => {
    expect(counterDelta(100, 250, 1000)).toBe(150);
    expect(counterDelta(900, 50, 1000)).toBe(150);
    expect(counterDelta(900, 50, 0)).toBeNull();
    expect(counterDelta(2000, 50, 1000)).toBeNull();
  });
});

describe('idle baseline', () => {
  it('a low percentile of idle samples: one spike does not move it', () => {
    const b = new IdleBaseline({ minSamples: 10, percentile: 0.1 });
    for (let i = 0; i < 9; i++) b.observe(i * 1000, 20 + (i % 3), false);
    expect(b.watts).toBeNull();
    b.observe(9000, 250, false);
    expect(b.watts).toBe(20);
    for (let i = 10; i < 30; i++) b.observe(i * 1000, i === 15 ? 300 : 21, false);
    expect(b.watts).toBe(20);
  });

  it('ignores samples while our work runs and while the device settles after it', () => {
    const b = new IdleBaseline({ minSamples: 3, settleMs: 10_000 });
    for (let i = 0; i < 3; i++) b.observe(i * 1000, 30, false);
    expect(b.watts).toBe(30);
    b.observe(3000, 280, true);
    b.observe(4000, 280, true);
    b.observe(8000, 120, false); // still settling
    expect(b.sampleCount).toBe(3);
    b.observe(14_001, 31, false);
    expect(b.sampleCount).toBe(4);
    expect(b.watts).toBe(30);
  });

  it('forgets old idle samples beyond its capacity (a new idle level is learned)', () => {
    const b = new IdleBaseline({ capacity: 50, minSamples: 10 });
    for (let i = 0; i < 50; i++) b.observe(i, 40, false);
    for (let i = 50; i < 100; i++) b.observe(i, 15, false);
    expect(b.watts).toBe(15);
    expect(b.sampleCount).toBe(50);
  });

  it('the integrator uses a held sample', () => {
    const i = new EnergyIntegrator();
    i.add({ t: 5, watts: 7, basis: 'measured' });
    expect(i.lastPoint).toEqual({ t: 5, watts: 7, basis: 'measured' });
  });
});
