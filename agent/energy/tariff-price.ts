// What a kWh costs at an instant, and what an interval's energy cost. Times of day are wall-clock
// in the tariff's zone and the price is a function of that wall clock alone: on the night clocks
// go forward a 01:00–03:00 band lasts one hour, on the night they go back it lasts three, exactly
// as the supplier's meter sees it. Money stays in integer micros throughout.
import {
  bandSpans,
  dayOfYearIndex,
  DAYS,
  decimalToMicros,
  LEAP_DAY_INDEX,
  microsToDecimal,
  minutesOf,
  mulDivRound,
  seasonHolds,
  type PriceQuote,
  type PriceSource,
  type Tariff,
} from '../../protocol/index.js';
import { wallClock } from '../policy/local-time.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far to look for the next or previous change before calling a price open-ended. */
const HORIZON = 400 * DAY;

interface Quote {
  source: PriceSource;
  label: string;
  micros: bigint;
}

interface Span {
  start: number;
  end: number;
  micros: bigint;
  label: string;
}

interface CompiledSeason {
  from: string;
  to: string;
  name: string;
  defaultMicros: bigint;
  /** Per weekday (0 = Monday), the minute spans of its bands. */
  days: Span[][];
}

interface Compiled {
  tariff: Tariff;
  flat: bigint | null;
  seasons: CompiledSeason[] | null;
  dynamic: { starts: number[]; ends: number[]; micros: bigint[]; fallback: bigint } | null;
  solar: { micros: bigint; windows: { from: number; to: number; months: readonly number[] | null }[] } | null;
  /** Sorted minutes of the day at which a wall-clock price may change; empty if none depends on the wall clock. */
  edges: number[];
}

// Settings are replaced, not mutated, so a tariff object can be compiled once and reused.
const compiledCache = new WeakMap<Tariff, Compiled>();

function compile(tariff: Tariff): Compiled {
  const cached = compiledCache.get(tariff);
  if (cached) return cached;
  const plan = tariff.plan;
  const edges = new Set<number>();
  let seasons: CompiledSeason[] | null = null;
  let dynamic: Compiled['dynamic'] = null;
  if (plan.kind === 'timeOfUse') {
    // One season without bands is a flat price: no edges, so no year-long walk to find none.
    if (plan.seasons.length > 1 || plan.seasons.some((s) => s.bands.length > 0)) edges.add(0).add(1440);
    seasons = plan.seasons.map((s) => {
      const days: Span[][] = DAYS.map(() => []);
      for (const band of s.bands) {
        const label = band.name ?? `${band.from}–${band.to}`;
        for (const span of bandSpans(band)) {
          days[span.day]!.push({ start: span.start, end: span.end, micros: decimalToMicros(band.perKwh), label });
          edges.add(span.start).add(span.end);
        }
      }
      return { from: s.from, to: s.to, name: s.name, defaultMicros: decimalToMicros(s.defaultPerKwh), days };
    });
  } else if (plan.kind === 'dynamic') {
    dynamic = {
      starts: plan.slots.map((s) => Date.parse(s.start)),
      ends: plan.slots.map((s) => Date.parse(s.end)),
      micros: plan.slots.map((s) => decimalToMicros(s.perKwh)),
      fallback: decimalToMicros(plan.fallbackPerKwh),
    };
  }
  let solar: Compiled['solar'] = null;
  if (tariff.solar) {
    edges.add(0).add(1440);
    const windows = tariff.solar.windows.map((w) => ({ from: minutesOf(w.from), to: minutesOf(w.to), months: w.months ?? null }));
    for (const w of windows) edges.add(w.from).add(w.to);
    solar = { micros: decimalToMicros(tariff.solar.perKwh), windows };
  }
  const compiled: Compiled = {
    tariff,
    flat: plan.kind === 'flat' ? decimalToMicros(plan.perKwh) : null,
    seasons,
    dynamic,
    solar,
    edges: [...edges].sort((a, b) => a - b),
  };
  compiledCache.set(tariff, compiled);
  return compiled;
}

// ---- wall clock --------------------------------------------------------------------------------

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dateFormatters.set(timeZone, f);
  }
  return f;
}

interface Local {
  /** 0 = Monday. */
  weekday: number;
  month: number;
  date: number;
  /** Milliseconds since local midnight. */
  msOfDay: number;
  /** Local wall time minus UTC, in ms. */
  offset: number;
}

function local(at: number, zone: string): Local {
  // wallClock has the weekday and minute; the calendar date (for seasons and the offset) comes from here.
  const clock = wallClock(new Date(at), zone);
  const parts = dateFormatter(zone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const year = get('year');
  const month = get('month');
  const date = get('day');
  // Zone offsets have been whole minutes since the early 20th century, so the seconds match UTC's.
  const msOfDay = clock.minute * MINUTE + (((at % MINUTE) + MINUTE) % MINUTE);
  const wallUtc = Date.UTC(year, month - 1, date) + msOfDay;
  return { weekday: DAYS.indexOf(clock.day), month, date, msOfDay, offset: wallUtc - at };
}

function offsetAt(at: number, zone: string): number {
  return local(at, zone).offset;
}

/** The first instant in (lo, hi] whose offset differs from lo's (there is one: hi's differs). */
function transitionAfter(lo: number, hi: number, zone: string): number {
  const offset = offsetAt(lo, zone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, zone) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The first instant after `at` at which the wall clock reaches a price edge or jumps (a DST change). */
function nextWallEdge(c: Compiled, at: number, zone: string): number {
  const here = local(at, zone);
  const edge = c.edges.find((e) => e * MINUTE > here.msOfDay) ?? 1440;
  const candidate = at + edge * MINUTE - here.msOfDay;
  return offsetAt(candidate, zone) === here.offset ? candidate : transitionAfter(at, candidate, zone);
}

/** The last instant at or before `at` at which the wall clock reached a price edge or jumped. */
function previousWallEdge(c: Compiled, at: number, zone: string): number {
  const here = local(at, zone);
  const edge = c.edges.findLast((e) => e * MINUTE <= here.msOfDay) ?? 0;
  const candidate = at - (here.msOfDay - edge * MINUTE);
  if (offsetAt(candidate, zone) === here.offset) return candidate;
  // The first instant of the current offset: binary search from the other side.
  let lo = candidate;
  let hi = at;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, zone) === here.offset) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---- evaluation --------------------------------------------------------------------------------

/** Index of the last slot starting at or before `at`, or -1. */
function slotIndex(starts: number[], at: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function evaluate(c: Compiled, at: number, zone: string): Quote {
  const wall = c.edges.length > 0 ? local(at, zone) : null;
  if (c.solar && wall) {
    const minute = wall.msOfDay / MINUTE;
    const inside = c.solar.windows.some((w) => minute >= w.from && minute < w.to && (w.months === null || w.months.includes(wall.month)));
    if (inside) return { source: 'solar', label: 'Solar', micros: c.solar.micros };
  }
  if (c.flat !== null) return { source: 'flat', label: c.tariff.name, micros: c.flat };
  if (c.dynamic) {
    const d = c.dynamic;
    const i = slotIndex(d.starts, at);
    if (i >= 0 && at < d.ends[i]!) return { source: 'dynamic', label: c.tariff.name, micros: d.micros[i]! };
    return { source: 'dynamic-fallback', label: `${c.tariff.name} (no published price)`, micros: d.fallback };
  }
  const w = wall ?? local(at, zone);
  const season = seasonOf(c.seasons!, w.month, w.date);
  const minute = w.msOfDay / MINUTE;
  const band = season.days[w.weekday]!.find((s) => minute >= s.start && minute < s.end);
  if (band) return { source: 'band', label: band.label, micros: band.micros };
  return { source: 'season-default', label: season.name, micros: season.defaultMicros };
}

function seasonOf(seasons: CompiledSeason[], month: number, date: number): CompiledSeason {
  const index = dayOfYearIndex(month, date);
  const found = seasons.find((s) => seasonHolds(s, index)) ?? (index === LEAP_DAY_INDEX ? seasons.find((s) => seasonHolds(s, index - 1)) : undefined);
  // Validation makes the seasons cover the year; an unvalidated tariff falls back to its first.
  return found ?? seasons[0]!;
}

/** The next instant after `at` at which the price might change, or null if it never will. */
function nextEdge(c: Compiled, at: number, zone: string): number | null {
  let next = c.edges.length > 0 ? nextWallEdge(c, at, zone) : null;
  if (c.dynamic) {
    const d = c.dynamic;
    const i = slotIndex(d.starts, at);
    const slotEdge = i >= 0 && at < d.ends[i]! ? d.ends[i]! : i + 1 < d.starts.length ? d.starts[i + 1]! : null;
    if (slotEdge !== null && (next === null || slotEdge < next)) next = slotEdge;
  }
  return next;
}

/** The last instant at or before `at` at which the price might have changed, or null. */
function previousEdge(c: Compiled, at: number, zone: string): number | null {
  let previous = c.edges.length > 0 ? previousWallEdge(c, at, zone) : null;
  if (c.dynamic) {
    const d = c.dynamic;
    const i = slotIndex(d.starts, at);
    const slotEdge = i < 0 ? null : at < d.ends[i]! ? d.starts[i]! : d.ends[i]!;
    if (slotEdge !== null && (previous === null || slotEdge > previous)) previous = slotEdge;
  }
  return previous;
}

function same(a: Quote, b: Quote): boolean {
  return a.micros === b.micros && a.source === b.source && a.label === b.label;
}

/** The instant the quote in force at `at` stops applying; null if not within the horizon. */
function changeAfter(c: Compiled, at: number, zone: string, quote: Quote): number | null {
  let t = at;
  for (;;) {
    const next = nextEdge(c, t, zone);
    if (next === null || next > at + HORIZON) return null;
    if (!same(evaluate(c, next, zone), quote)) return next;
    t = next;
  }
}

/** The instant the quote in force at `at` started applying; null if not within the horizon. */
function changeBefore(c: Compiled, at: number, zone: string, quote: Quote): number | null {
  let t = at;
  for (;;) {
    const previous = previousEdge(c, t, zone);
    if (previous === null || previous < at - HORIZON) return null;
    if (!same(evaluate(c, previous - 1, zone), quote)) return previous;
    t = previous - 1;
  }
}

// ---- public ------------------------------------------------------------------------------------

/** The price in force at `at`, with the instants it started and stops applying. `systemZone` is
 * used when the tariff has no zone of its own. */
export function priceAt(tariff: Tariff, at: Date, systemZone: string): PriceQuote {
  const c = compile(tariff);
  const zone = tariff.timeZone ?? systemZone;
  const t = at.getTime();
  const quote = evaluate(c, t, zone);
  const from = changeBefore(c, t, zone, quote);
  const until = changeAfter(c, t, zone, quote);
  return {
    currency: tariff.currency,
    perKwh: microsToDecimal(quote.micros),
    source: quote.source,
    label: quote.label,
    validFrom: from === null ? null : new Date(from).toISOString(),
    validUntil: until === null ? null : new Date(until).toISOString(),
  };
}

/** The cost in micros of `mwh` milliwatt-hours used evenly over [from, to), priced piece by piece
 * wherever the price changes inside it, and rounded once (half away from zero) at the end. */
export function costOfInterval(tariff: Tariff, from: Date, to: Date, mwh: bigint, systemZone: string): bigint {
  const c = compile(tariff);
  const zone = tariff.timeZone ?? systemZone;
  const start = from.getTime();
  const end = to.getTime();
  if (end < start) throw new RangeError('costOfInterval: the interval ends before it starts');
  if (end === start) return mulDivRound(mwh, evaluate(c, start, zone).micros, 1_000_000n);
  // Sum of duration x price over the pieces; one division by total duration keeps it exact.
  let weighted = 0n;
  let t = start;
  while (t < end) {
    const quote = evaluate(c, t, zone);
    const until = changeAfter(c, t, zone, quote);
    // No change within the horizon means none before it, so the next piece can start there.
    const pieceEnd = Math.min(end, until ?? t + HORIZON);
    weighted += BigInt(pieceEnd - t) * quote.micros;
    t = pieceEnd;
  }
  return mulDivRound(mwh, weighted, BigInt(end - start) * 1_000_000n);
}
