// Hourly aggregates: one cell per UTC hour x network x device x job, holding sums only (bigint
// micros, integer mWh), so a year of history stays a few thousand small cells however many entries
// it took. Applying the same entries in any order gives the same cells, which is what lets a
// snapshot plus a log tail stand in for the whole log.
import { decimalToMicros, type LedgerEntry } from '../../protocol/index.js';

export const HOUR_MS = 3_600_000;

export type Amounts = Record<string, bigint>;

export interface Figures {
  gross: Amounts;
  fiatValue: Amounts;
  unvalued: Amounts;
  unvaluedCount: number;
  energyCost: Amounts;
  energyMwh: number;
  payouts: Amounts;
  earnings: number;
}

export interface HourCell extends Figures {
  hour: number;
  network: string | null;
  device: string | null;
  jobId: string | null;
}

export const emptyFigures = (): Figures => ({ gross: {}, fiatValue: {}, unvalued: {}, unvaluedCount: 0, energyCost: {}, energyMwh: 0, payouts: {}, earnings: 0 });

export function addAmount(into: Amounts, key: string, micros: bigint): void {
  into[key] = (into[key] ?? 0n) + micros;
}

function addAmounts(into: Amounts, from: Amounts): void {
  for (const k in from) into[k] = (into[k] ?? 0n) + from[k]!;
}

export function addFigures(into: Figures, from: Figures): void {
  addAmounts(into.gross, from.gross);
  addAmounts(into.fiatValue, from.fiatValue);
  addAmounts(into.unvalued, from.unvalued);
  addAmounts(into.energyCost, from.energyCost);
  addAmounts(into.payouts, from.payouts);
  into.unvaluedCount += from.unvaluedCount;
  into.energyMwh += from.energyMwh;
  into.earnings += from.earnings;
}

export const hourOf = (iso: string) => Math.floor(Date.parse(iso) / HOUR_MS) * HOUR_MS;

/** Where an entry is counted: energy in the hour its span starts, the rest in the hour of `at`. */
export function cellOf(e: LedgerEntry): Pick<HourCell, 'hour' | 'network' | 'device' | 'jobId'> {
  switch (e.type) {
    case 'earning':
      return { hour: hourOf(e.at), network: e.network, device: e.device, jobId: e.jobId };
    case 'energy':
      return { hour: hourOf(e.from), network: e.network ?? null, device: e.device, jobId: e.jobId };
    case 'payout':
      return { hour: hourOf(e.at), network: e.network, device: null, jobId: null };
  }
}

export function applyEntry(cell: Figures, e: LedgerEntry): void {
  switch (e.type) {
    case 'earning': {
      const micros = decimalToMicros(e.amount);
      addAmount(cell.gross, e.token, micros);
      cell.earnings++;
      if (e.fiatValue) addAmount(cell.fiatValue, e.fiatValue.currency, decimalToMicros(e.fiatValue.amount));
      else {
        addAmount(cell.unvalued, e.token, micros);
        cell.unvaluedCount++;
      }
      return;
    }
    case 'energy':
      cell.energyMwh += e.mwh;
      addAmount(cell.energyCost, e.currency, decimalToMicros(e.cost));
      return;
    case 'payout':
      addAmount(cell.payouts, e.token, decimalToMicros(e.amount));
      return;
  }
}

/** One literal with every field in one order, so all cells share one hidden class (fast, small). */
function newCell(hour: number, network: string | null, device: string | null, jobId: string | null): HourCell {
  return { hour, network, device, jobId, gross: {}, fiatValue: {}, unvalued: {}, unvaluedCount: 0, energyCost: {}, energyMwh: 0, payouts: {}, earnings: 0 };
}

const cellKey = (c: Pick<HourCell, 'hour' | 'network' | 'device' | 'jobId'>) => `${c.hour}\u0000${c.network ?? ''}\u0000${c.device ?? ''}\u0000${c.jobId ?? ''}`;

/**
 * One UTC hour: its cells, plus roll-ups of them for all, per network and per device, so a report
 * that is not per job touches one or a few roll-ups per hour instead of every cell.
 */
export interface HourSlot {
  cells: HourCell[];
  all: HourCell;
  byNetwork: HourCell[];
  byDevice: HourCell[];
}

function rollup(list: HourCell[], hour: number, network: string | null, device: string | null): HourCell {
  for (const c of list) if (c.network === network && c.device === device) return c;
  const c = newCell(hour, network, device, null);
  list.push(c);
  return c;
}

/** The cells, indexed by key for appends and by hour (sorted) for range queries. */
export class HourAggregates {
  private readonly cells = new Map<string, HourCell>();
  private readonly byHour = new Map<number, HourSlot>();
  /** Sorted ascending; entries arrive mostly in time order, so inserts are nearly always pushes. */
  private readonly hours: number[] = [];

  get cellCount(): number {
    return this.cells.size;
  }

  add(e: LedgerEntry): void {
    const where = cellOf(e);
    const key = cellKey(where);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = newCell(where.hour, where.network, where.device, where.jobId);
      this.insert(key, cell);
    }
    applyEntry(cell, e);
    const slot = this.byHour.get(where.hour)!;
    applyEntry(slot.all, e);
    applyEntry(rollup(slot.byNetwork, where.hour, where.network, null), e);
    applyEntry(rollup(slot.byDevice, where.hour, null, where.device), e);
  }

  private insert(key: string, cell: HourCell): HourSlot {
    this.cells.set(key, cell);
    const slot = this.byHour.get(cell.hour);
    if (slot) {
      slot.cells.push(cell);
      return slot;
    }
    const fresh: HourSlot = { cells: [cell], all: newCell(cell.hour, null, null, null), byNetwork: [], byDevice: [] };
    this.byHour.set(cell.hour, fresh);
    const last = this.hours[this.hours.length - 1];
    if (last === undefined || cell.hour > last) this.hours.push(cell.hour);
    else this.hours.splice(lowerBound(this.hours, cell.hour), 0, cell.hour);
    return fresh;
  }

  /** Every hour h with from <= h < to that has cells, in time order. */
  *range(from: number, to: number): Generator<HourSlot> {
    for (let i = lowerBound(this.hours, from); i < this.hours.length && this.hours[i]! < to; i++) yield this.byHour.get(this.hours[i]!)!;
  }

  all(): IterableIterator<HourCell> {
    return this.cells.values();
  }

  /** From snapshot cells; the roll-ups are derived, so they are rebuilt rather than stored. */
  static fromCells(cells: Iterable<HourCell>): HourAggregates {
    const agg = new HourAggregates();
    const sorted = [...cells].sort((a, b) => a.hour - b.hour);
    for (const c of sorted) {
      const slot = agg.insert(cellKey(c), c);
      addFigures(slot.all, c);
      addFigures(rollup(slot.byNetwork, c.hour, c.network, null), c);
      addFigures(rollup(slot.byDevice, c.hour, null, c.device), c);
    }
    return agg;
  }
}

export function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Snapshot form: bigints as decimal text of micros, empty fields left out so a cell stays short.
type SerialAmounts = Record<string, string>;
export interface SerialCell {
  h: number;
  n?: string;
  d?: string;
  j?: string;
  g?: SerialAmounts;
  f?: SerialAmounts;
  u?: SerialAmounts;
  uc?: number;
  c?: SerialAmounts;
  m?: number;
  p?: SerialAmounts;
  e?: number;
}

const outAmounts = (a: Amounts): SerialAmounts | undefined => {
  let out: SerialAmounts | undefined;
  for (const k in a) (out ??= {})[k] = a[k]!.toString();
  return out;
};
const inAmounts = (a: SerialAmounts | undefined): Amounts => {
  const out: Amounts = {};
  if (a) for (const k in a) out[k] = BigInt(a[k]!);
  return out;
};

export function serializeCell(c: HourCell): SerialCell {
  const s: SerialCell = { h: c.hour };
  if (c.network !== null) s.n = c.network;
  if (c.device !== null) s.d = c.device;
  if (c.jobId !== null) s.j = c.jobId;
  const put = <K extends keyof SerialCell>(k: K, v: SerialCell[K] | undefined) => {
    if (v !== undefined && v !== 0) s[k] = v;
  };
  put('g', outAmounts(c.gross));
  put('f', outAmounts(c.fiatValue));
  put('u', outAmounts(c.unvalued));
  put('uc', c.unvaluedCount);
  put('c', outAmounts(c.energyCost));
  put('m', c.energyMwh);
  put('p', outAmounts(c.payouts));
  put('e', c.earnings);
  return s;
}

export function deserializeCell(s: SerialCell): HourCell {
  const c = newCell(s.h, s.n ?? null, s.d ?? null, s.j ?? null);
  c.gross = inAmounts(s.g);
  c.fiatValue = inAmounts(s.f);
  c.unvalued = inAmounts(s.u);
  c.unvaluedCount = s.uc ?? 0;
  c.energyCost = inAmounts(s.c);
  c.energyMwh = s.m ?? 0;
  c.payouts = inAmounts(s.p);
  c.earnings = s.e ?? 0;
  return c;
}
