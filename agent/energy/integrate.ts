// Energy from a stream of power samples, and the idle baseline that billing subtracts.
//
// Time is a monotonic millisecond clock the caller supplies (performance.now(), hrtime): the wall
// clock jumps (NTP, DST bugs, a user changing it, resume from sleep) and a jump must neither bill
// an hour that never ran nor a negative interval. An interval with dt <= 0 adds nothing; its end
// sample becomes the new starting point, so a clock that restarted does not stop the count.
//
// Gaps: an interval longer than maxGapMs (the sampler stalled, the machine slept, the sensor
// stopped) is not bridged by a straight line. Policy: HOLD LAST FOR AT MOST maxGapMs — the first
// maxGapMs of the gap count at the power of the sample before it, the rest counts nothing and is
// reported as uncoveredMs. Holding covers a short stall while a job keeps running; the cap keeps a
// night of sleep from being billed at the last load figure.
//
// Marginal energy: only the power above the device's idle baseline (the machine would draw that
// anyway), never negative, divided by PSU efficiency (sensors see device power, the meter the
// wall), times the user's wall-meter calibration factor.
import { DEFAULT_PSU_EFFICIENCY, type PowerBasis } from '../../protocol/index.js';

export const DEFAULT_MAX_GAP_MS = 5_000;
const JOULES_PER_MWH = 3.6;

export interface PowerPoint {
  /** Monotonic milliseconds. */
  t: number;
  watts: number;
  basis: PowerBasis;
  /** 'point': the power at t (nvidia-smi, hwmon), joined to the previous point by a trapezoid.
   * 'average': the mean power since the previous sample (a RAPL counter difference), exact as a
   * rectangle over that interval. */
  kind?: 'point' | 'average';
}

export interface IntegratorOptions {
  maxGapMs?: number;
  /** Idle watts of this device by the same sensor; 0 bills everything (no baseline known). */
  baselineWatts?: number;
  /** An estimated baseline makes the result estimated too. */
  baselineBasis?: PowerBasis;
  psuEfficiency?: number;
  calibrationFactor?: number;
}

export interface EnergyResult {
  /** Wall energy above idle: after PSU efficiency and calibration. What a job is billed. */
  mwhMarginal: bigint;
  /** Device energy as the sensor saw it, idle included, before PSU efficiency (for display). */
  mwhDevice: bigint;
  /** 'estimated' as soon as any sample or the baseline was. */
  basis: PowerBasis;
  coveredMs: number;
  /** Time inside gaps that counted nothing. */
  uncoveredMs: number;
  samples: number;
}

function checkFactors(psu: number, calibration: number): void {
  if (!(psu > 0 && psu <= 1)) throw new RangeError(`PSU efficiency must be in (0, 1], got ${psu}`);
  if (!(calibration > 0 && Number.isFinite(calibration))) throw new RangeError(`calibration factor must be positive, got ${calibration}`);
}

/** Joules to integer mWh, half away from zero (energy here is never negative). */
export function joulesToMwh(joules: number): bigint {
  return BigInt(Math.round(joules / JOULES_PER_MWH));
}

export class EnergyIntegrator {
  private last: PowerPoint | null = null;
  private deviceJ = 0;
  private marginalJ = 0;
  private covered = 0;
  private uncovered = 0;
  private count = 0;
  private estimated: boolean;
  private readonly maxGapMs: number;
  private readonly baseline: number;
  private readonly psu: number;
  private readonly calibration: number;

  constructor(opts: IntegratorOptions = {}) {
    this.maxGapMs = opts.maxGapMs ?? DEFAULT_MAX_GAP_MS;
    this.baseline = Math.max(0, opts.baselineWatts ?? 0);
    this.psu = opts.psuEfficiency ?? DEFAULT_PSU_EFFICIENCY;
    this.calibration = opts.calibrationFactor ?? 1;
    checkFactors(this.psu, this.calibration);
    this.estimated = opts.baselineBasis === 'estimated';
  }

  /** The newest sample taken in, e.g. to hold it until a meter stops. */
  get lastPoint(): PowerPoint | null {
    return this.last;
  }

  add(p: PowerPoint): void {
    // A sensor glitch (NaN, a negative value) is dropped rather than poisoning the sum.
    if (!Number.isFinite(p.watts) || p.watts < 0 || !Number.isFinite(p.t)) return;
    this.count++;
    if (p.basis === 'estimated') this.estimated = true;
    const prev = this.last;
    this.last = p;
    if (!prev) return;
    const dt = p.t - prev.t;
    if (!(dt > 0)) return;
    const marginal = (w: number) => Math.max(0, w - this.baseline);
    let span = dt;
    let deviceW: number;
    let marginalW: number;
    if (dt > this.maxGapMs) {
      span = this.maxGapMs;
      this.uncovered += dt - this.maxGapMs;
      deviceW = prev.watts;
      marginalW = marginal(prev.watts);
    } else if (p.kind === 'average') {
      deviceW = p.watts;
      marginalW = marginal(p.watts);
    } else {
      deviceW = (prev.watts + p.watts) / 2;
      marginalW = (marginal(prev.watts) + marginal(p.watts)) / 2;
    }
    this.covered += span;
    this.deviceJ += (deviceW * span) / 1000;
    this.marginalJ += (marginalW * span) / 1000;
  }

  result(): EnergyResult {
    return {
      mwhMarginal: joulesToMwh((this.marginalJ / this.psu) * this.calibration),
      mwhDevice: joulesToMwh(this.deviceJ),
      basis: this.estimated ? 'estimated' : 'measured',
      coveredMs: this.covered,
      uncoveredMs: this.uncovered,
      samples: this.count,
    };
  }
}

/** A whole stream at once. */
export function integrate(points: Iterable<PowerPoint>, opts: IntegratorOptions = {}): EnergyResult {
  const integrator = new EnergyIntegrator(opts);
  for (const p of points) integrator.add(p);
  return integrator.result();
}

/**
 * What a cumulative counter (RAPL energy_uj) advanced between two reads. It wraps to 0 after
 * `range` (max_energy_range_uj), so a smaller value is one wrap; a value above the range, or a
 * range we do not know, means the counter was reset (a driver reload) and the interval is unknown.
 * More than one wrap between reads cannot be seen: readers must read well within one wrap period
 * (minutes at full load for RAPL).
 */
export function counterDelta(prev: number, cur: number, range: number): number | null {
  if (cur >= prev) return cur - prev;
  if (!(range > 0) || prev > range || cur > range) return null;
  return range - prev + cur;
}

/**
 * factor = (meter watts under load - meter watts at idle) / (our marginal wall estimate for the
 * same moment), where our estimate is the sensors' marginal device watts / PSU efficiency. So a
 * calibrated figure is what the meter would have shown above idle. Out-of-range results mean the
 * readings were taken at different moments or of different things, and are refused.
 */
export function calibrationFactor(input: { meterIdleWatts: number; meterLoadWatts: number; marginalDeviceWatts: number; psuEfficiency: number }): number {
  const meterDelta = input.meterLoadWatts - input.meterIdleWatts;
  if (!(meterDelta > 0)) throw new RangeError('the meter must show more while the benchmark runs than at idle');
  if (!(input.marginalDeviceWatts > 0)) throw new RangeError('the sensors saw no load above idle during the benchmark; nothing to calibrate against');
  checkFactors(input.psuEfficiency, 1);
  const factor = meterDelta / (input.marginalDeviceWatts / input.psuEfficiency);
  if (factor < 0.2 || factor > 5) throw new RangeError(`the meter and the sensors disagree by a factor of ${factor.toFixed(2)}; check both readings were taken while the benchmark ran`);
  return factor;
}

export interface IdleBaselineOptions {
  /** How many recent idle samples are kept (count, not time: a long job must not empty it). */
  capacity?: number;
  /** The low percentile taken as idle: low enough to ignore a background spike, above the floor
   * of a single dip. */
  percentile?: number;
  /** No baseline until this many idle samples were seen. */
  minSamples?: number;
  /** After our work stops, a GPU keeps its clocks and fans up for a while: not idle yet. */
  settleMs?: number;
}

/** Learns a device's idle watts from samples taken while none of our work runs on it. */
export class IdleBaseline {
  private readonly samples: number[] = [];
  private next = 0;
  private cached: number | null | undefined;
  private busyUntil = -Infinity;
  private readonly capacity: number;
  private readonly percentile: number;
  private readonly minSamples: number;
  private readonly settleMs: number;

  constructor(opts: IdleBaselineOptions = {}) {
    this.capacity = opts.capacity ?? 600;
    this.percentile = opts.percentile ?? 0.1;
    this.minSamples = opts.minSamples ?? 20;
    this.settleMs = opts.settleMs ?? 15_000;
  }

  /** `busy`: our work runs on this device now. `t`: monotonic milliseconds. */
  observe(t: number, watts: number, busy: boolean): void {
    if (busy) {
      this.busyUntil = t + this.settleMs;
      return;
    }
    if (t < this.busyUntil || !Number.isFinite(watts) || watts < 0) return;
    if (this.samples.length < this.capacity) this.samples.push(watts);
    else this.samples[this.next] = watts;
    this.next = (this.next + 1) % this.capacity;
    this.cached = undefined;
  }

  get watts(): number | null {
    if (this.cached !== undefined) return this.cached;
    if (this.samples.length < this.minSamples) return (this.cached = null);
    const sorted = [...this.samples].sort((a, b) => a - b);
    return (this.cached = sorted[Math.floor(this.percentile * (sorted.length - 1))]!);
  }

  get sampleCount(): number {
    return this.samples.length;
  }
}
