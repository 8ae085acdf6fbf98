// What the agent knows about electricity, in one place: the live power sampler, the price now (from
// the active tariff, or the Schedule page's flat price), the ledger entries for every run's energy
// and every finished job's earning, and the hourly profit figures the profit guard and the Power
// page read. The supervisor tells it when a run starts and ends on a device; it tells the policy the
// price (a signal that stays fresh until the price changes) and the profit per device.
import { join } from 'node:path';
import {
  CalibrationFactor,
  DATA_FILES,
  decimalToMicros,
  microsToDecimal,
  mulDivRound,
  type CalibrationRequest,
  type DeviceId,
  type EnergySettings,
  type HourlyProfit,
  type JobEnergy,
  type LedgerEntry,
  type Price,
  type PriceQuote,
  type PowerView,
  type ReadingUpdate,
  type Tariff,
} from '../../protocol/index.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../logger.js';
import type { SignalSink } from '../signals/source.js';
import { calibrationFactor } from './integrate.js';
import type { MeterResult, PowerSampler } from './power-sampler.js';
import { costOfInterval, priceAt } from './tariff-price.js';
import type { TariffStore } from './tariff-store.js';

/** ISO 4217's "no currency": an energy entry made while no price was known (cost 0, not a guess). */
export const NO_CURRENCY = 'XXX';
/** Local renders are the user's own: they earn nothing, in the stablecoin networks pay in. */
export const LOCAL_NETWORK = 'local';
export const LOCAL_TOKEN = 'USDC';
const RECENT_RUNS = 100;
/** How far back the hourly earnings of a device are averaged. */
const PROFIT_WINDOW_MS = 7 * 86_400_000;
/** How often the profit figures go to the policy (they move with the power draw). */
const PROFIT_PERIOD_MS = 5_000;

export interface EnergyServiceOptions {
  dataDir: string;
  sampler: PowerSampler;
  ledger: Ledger;
  tariffs: TariffStore;
  settings: () => EnergySettings;
  /** The Schedule page's flat price, used when no tariff is active. */
  flatPrice: () => Price | null;
  timeZone: () => string;
  sink: SignalSink;
  /** The devices our work runs on now. */
  busy: () => ReadonlySet<string>;
  log: Logger;
  now?: () => Date;
}

export interface RunEnd {
  jobId: string;
  title: string | null;
  device: DeviceId;
  succeeded: boolean;
  /** The user's own job (earns nothing) rather than a network's. */
  local: boolean;
  /** A benchmark run: its energy is booked, but it is not a job that earns. */
  benchmark: boolean;
  /** The network (hub's network key) a leased run worked for, so its cost is set against that
   * network's earnings; absent for local runs. */
  network?: string | null;
}

/** One run of a job on a device, as the Power page lists it and the profit figures average it. */
interface RecentRun extends JobEnergy {
  /** What the run earned, in the currency of its cost (local runs: 0). */
  earned: string | null;
}

export class EnergyService {
  private readonly now: () => Date;
  private recent: RecentRun[];
  private readonly recentPath: string;
  private priceTimer: NodeJS.Timeout | undefined;
  private profitTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly offTariffs: () => void;

  constructor(private readonly o: EnergyServiceOptions) {
    this.now = o.now ?? (() => new Date());
    this.recentPath = join(o.dataDir, DATA_FILES.recentRuns);
    this.recent = readJsonFile<RecentRun[]>(this.recentPath, (v) => (Array.isArray(v) ? (v as RecentRun[]) : null)) ?? [];
    this.offTariffs = o.tariffs.onChange(() => this.publishPrice());
  }

  start(): void {
    this.o.sampler.start();
    this.publishPrice();
    this.profitTimer = setInterval(() => this.publishProfit(), PROFIT_PERIOD_MS);
    this.profitTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.priceTimer);
    clearInterval(this.profitTimer);
    this.offTariffs();
    await this.o.sampler.stop();
  }

  /** The tariff prices come from: the active one, else the flat price as a one-line tariff. */
  tariff(): Tariff | null {
    const t = this.o.tariffs.get();
    const active = t.active !== null ? t.tariffs.find((x) => x.id === t.active) : undefined;
    if (active) return active;
    const flat = this.o.flatPrice();
    return flat ? { id: 'flat-price', name: 'Flat price (Schedule page)', currency: flat.currency, timeZone: null, plan: { kind: 'flat', perKwh: flat.perKwh } } : null;
  }

  priceNow(): PriceQuote | null {
    const t = this.tariff();
    return t ? priceAt(t, this.now(), this.o.timeZone()) : null;
  }

  /**
   * The price as a policy signal, fresh until it changes; published again then (and whenever the
   * tariffs or the flat price change). With no price known the signal is not available, so rules
   * with a price cap say so instead of guessing.
   */
  publishPrice(): void {
    if (this.stopped) return;
    clearTimeout(this.priceTimer);
    const quote = this.priceNow();
    const day = 86_400_000;
    if (!quote) {
      this.o.sink.publish('tariff', [{ name: 'price', notAvailable: true, note: 'no electricity price is set (Power page)' }], day);
      this.priceTimer = setTimeout(() => this.publishPrice(), day);
    } else {
      const until = quote.validUntil ? Date.parse(quote.validUntil) - this.now().getTime() : day;
      const update: ReadingUpdate = { name: 'price', value: { currency: quote.currency, perKwh: quote.perKwh } };
      // Fresh a little past the change, so the reading never lapses between two prices.
      this.o.sink.publish('tariff', [update], Math.max(1_000, Math.min(until, day) + 5_000));
      this.priceTimer = setTimeout(() => this.publishPrice(), Math.max(250, Math.min(until, day)));
    }
    this.priceTimer.unref();
  }

  /** The profit guard's signal, per device: both figures, or why one is missing. */
  publishProfit(): void {
    if (this.stopped) return;
    const updates: ReadingUpdate[] = [];
    const profit = this.profit(this.o.busy());
    if (profit.length === 0) {
      for (const d of this.o.sampler.snapshot().devices) updates.push({ name: 'hourlyNet', device: d.device, notAvailable: true, note: 'no electricity price is set (Power page)' });
    }
    for (const p of profit) {
      if (p.earnPerHour !== null && p.costPerHour !== null) {
        updates.push({ name: 'hourlyNet', device: p.device, value: { currency: p.currency, earnPerHour: p.earnPerHour, costPerHour: p.costPerHour } });
      } else {
        const why = p.costPerHour === null ? 'no power figure for this device yet' : 'no paid work on this device in the last 7 days to say what work pays';
        updates.push({ name: 'hourlyNet', device: p.device, notAvailable: true, note: why });
      }
    }
    if (updates.length > 0) this.o.sink.publish('profit', updates, PROFIT_PERIOD_MS * 6);
  }

  // ---- runs ------------------------------------------------------------------------------------

  runStarted(jobId: string, device: DeviceId): void {
    this.o.sampler.startMeter(jobId, device);
  }

  /**
   * Closes the run's meter and books its energy at the tariff in force (split wherever the price
   * changed during the run). A finished local job also books its earning: zero, valued at zero in
   * the cost's currency, so its net shows what it cost.
   */
  runEnded(run: RunEnd): JobEnergy | null {
    const m = this.o.sampler.stopMeter(run.jobId, run.device);
    if (!m) return null;
    const tariff = this.tariff();
    const cost = tariff ? costOfInterval(tariff, new Date(m.from), new Date(m.to), m.mwhMarginal, this.o.timeZone()) : null;
    const currency = tariff?.currency ?? NO_CURRENCY;
    const entries: LedgerEntry[] = [
      {
        type: 'energy',
        id: `energy:${run.jobId}:${run.device}:${m.from}`,
        at: m.to,
        from: m.from,
        // A key too long for the ledger's field is left unattributed rather than failing the entry.
        network: run.local ? LOCAL_NETWORK : run.network && run.network.length <= 100 ? run.network : null,
        jobId: run.jobId,
        device: run.device,
        mwh: Number(m.mwhMarginal),
        basis: m.basis,
        cost: microsToDecimal(cost ?? 0n),
        currency,
        tariffId: tariff?.id ?? null,
      },
    ];
    const earns = run.local && run.succeeded && !run.benchmark;
    if (earns) {
      entries.push({
        type: 'earning',
        id: `earning:${run.jobId}`,
        at: m.to,
        network: LOCAL_NETWORK,
        jobId: run.jobId,
        device: run.device,
        amount: '0',
        token: LOCAL_TOKEN,
        fiatValue: tariff ? { currency, amount: '0' } : null,
        proof: { kind: 'local', ref: run.jobId, status: 'verified' },
      });
    }
    try {
      this.o.ledger.appendMany(entries);
    } catch (err) {
      this.o.log.error('could not write the energy of a run to the ledger', { jobId: run.jobId, err });
    }
    const energy = jobEnergy(run, m, cost, tariff);
    // A local run is not offered work: it tells nothing about what work pays, so it stays out of
    // the earnings per hour (its electricity still counts in the cost per hour).
    this.remember({ ...energy, earned: null });
    return energy;
  }

  private remember(r: RecentRun): void {
    this.recent = [r, ...this.recent].slice(0, RECENT_RUNS);
    try {
      writeFileAtomic(this.recentPath, `${JSON.stringify(this.recent)}\n`);
    } catch (err) {
      this.o.log.warn('could not save the recent runs', { err });
    }
  }

  // ---- the Power page and the profit guard --------------------------------------------------------

  view(busyDevices: ReadonlySet<string>): PowerView {
    return {
      snapshot: this.o.sampler.snapshot(),
      settings: this.o.settings(),
      price: this.priceNow(),
      profit: this.profit(busyDevices),
      recentJobs: this.recent.map(({ earned: _earned, ...r }) => r),
    };
  }

  /**
   * Per device: what work paid per hour over the last week of runs, and what an hour costs now
   * (marginal watts while working: measured now when a run is going, else the recent runs' mean,
   * else the sensor's or the table's figure above idle).
   */
  profit(busyDevices: ReadonlySet<string>): HourlyProfit[] {
    const quote = this.priceNow();
    if (!quote) return [];
    const price = decimalToMicros(quote.perKwh);
    const since = this.now().getTime() - PROFIT_WINDOW_MS;
    const out: HourlyProfit[] = [];
    for (const reading of this.o.sampler.snapshot().devices) {
      const runs = this.recent.filter((r) => r.device === reading.device && Date.parse(r.to) >= since);
      const hours = runs.reduce((s, r) => s + (Date.parse(r.to) - Date.parse(r.from)) / 3_600_000, 0);
      const paid = runs.filter((r) => r.earned !== null && r.currency === quote.currency);
      const earnMicros = paid.reduce((s, r) => s + decimalToMicros(r.earned!), 0n);
      const paidHours = paid.reduce((s, r) => s + (Date.parse(r.to) - Date.parse(r.from)) / 3_600_000, 0);
      const earnPerHour = paidHours > 0 ? microsToDecimal(BigInt(Math.round(Number(earnMicros) / paidHours))) : null;

      let watts: number | null = null;
      let how: string;
      const settings = this.o.settings();
      const toWall = (w: number) => (w / settings.psuEfficiency) * settings.calibrationFactor;
      if (busyDevices.has(reading.device) && reading.idleBaselineWatts !== null) {
        watts = toWall(Math.max(0, reading.watts - reading.idleBaselineWatts));
        how = 'measured now, above idle';
      } else if (hours > 0) {
        watts = (runs.reduce((s, r) => s + r.mwh, 0) / 1000 / hours) || 0;
        how = `the mean of ${runs.length} recent run${runs.length === 1 ? '' : 's'}`;
      } else {
        how = 'no run yet to measure';
      }
      const costPerHour = watts === null ? null : microsToDecimal(mulDivRound(BigInt(Math.round(watts * 1000)), price, 1_000_000n));
      out.push({
        device: reading.device,
        currency: quote.currency,
        earnPerHour,
        costPerHour,
        watts: watts === null ? null : Math.round(watts * 10) / 10,
        basis: reading.basis,
        note: `Cost: ${how} at ${quote.perKwh} ${quote.currency}/kWh. Earnings: ${paidHours > 0 ? `${paid.length} run${paid.length === 1 ? '' : 's'} in the last 7 days` : 'none in the last 7 days'}.`,
      });
    }
    return out;
  }

  /**
   * The wall-meter calibration: what the meter added while work ran, against our own marginal
   * figure for that device now (through the PSU, before any earlier calibration).
   */
  calibrate(req: CalibrationRequest, busyDevices: ReadonlySet<string>): number {
    const reading = this.o.sampler.snapshot().devices.find((d) => d.device === req.device);
    if (!busyDevices.has(req.device) || !reading) throw new CalibrationError('not_running', `Nothing runs on ${req.device} now: start the benchmark on it (Jobs page), then read the meter while it runs.`);
    if (reading.idleBaselineWatts === null) throw new CalibrationError('no_baseline', `The idle draw of ${req.device} is not known yet: leave the machine idle for a minute first.`);
    const marginal = reading.watts - reading.idleBaselineWatts;
    if (marginal <= 0) throw new CalibrationError('no_load', `${req.device} draws no more than at idle right now; wait until the benchmark is rendering.`);
    const factor = calibrationFactor({ meterIdleWatts: req.meterIdleWatts, meterLoadWatts: req.meterLoadWatts, marginalDeviceWatts: marginal, psuEfficiency: this.o.settings().psuEfficiency });
    return CalibrationFactor.parse(factor);
  }
}

export class CalibrationError extends Error {
  constructor(
    readonly code: 'not_running' | 'no_baseline' | 'no_load',
    message: string,
  ) {
    super(message);
  }
}

function jobEnergy(run: { jobId: string; title: string | null; device: DeviceId }, m: MeterResult, cost: bigint | null, tariff: Tariff | null): JobEnergy {
  return {
    jobId: run.jobId,
    title: run.title,
    device: run.device,
    from: m.from,
    to: m.to,
    mwh: Number(m.mwhMarginal),
    basis: m.basis,
    cost: cost === null ? null : microsToDecimal(cost),
    currency: tariff?.currency ?? null,
    tariffId: tariff?.id ?? null,
  };
}
