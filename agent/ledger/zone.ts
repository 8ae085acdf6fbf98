// Local calendar for report buckets. Aggregates are kept per UTC hour; a report groups them into
// local days and months, so it needs the zone's offset for every hour in range. Intl is slow per
// call, so offsets are sampled once a day and a change inside a day is found by bisection: a year
// costs a few hundred Intl calls the first time and none after (memoized).
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Minutes east of UTC in `timeZone` at instant `ms`. */
export function offsetMinutes(timeZone: string, ms: number): number {
  if (timeZone === 'UTC') return 0;
  let memo = offsets.get(timeZone);
  if (!memo) offsets.set(timeZone, (memo = new Map()));
  const known = memo.get(ms);
  if (known !== undefined) return known;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const floored = ms - (((ms % 1000) + 1000) % 1000);
  const off = Math.round((wall - floored) / 60_000);
  // Only whole hours are memoized: CSV rows ask for arbitrary instants and must not grow the memo.
  if (ms % HOUR === 0) memo.set(ms, off);
  return off;
}

export interface OffsetSegment {
  /** First UTC hour (ms) this offset applies to. */
  from: number;
  offset: number;
}

/** The zone's offsets over whole UTC hours in [from, to), as segments in time order. */
export function offsetSegments(timeZone: string, from: number, to: number): OffsetSegment[] {
  const start = Math.floor(from / HOUR) * HOUR;
  const segments: OffsetSegment[] = [{ from: start, offset: offsetMinutes(timeZone, start) }];
  // Samples on UTC-day boundaries so repeated queries hit the memo.
  for (let t = Math.floor(start / DAY) * DAY + DAY; t < to + DAY; t += DAY) {
    const prev = segments[segments.length - 1]!;
    const off = offsetMinutes(timeZone, t);
    if (off === prev.offset) continue;
    // Zones change offset at most once a day: find the first hour with the new offset.
    let lo = Math.max(prev.from, t - DAY);
    let hi = t;
    while (hi - lo > HOUR) {
      const mid = lo + Math.floor((hi - lo) / 2 / HOUR) * HOUR;
      if (offsetMinutes(timeZone, mid) === prev.offset) lo = mid;
      else hi = mid;
    }
    segments.push({ from: hi, offset: off });
  }
  return segments;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function localParts(ms: number, offset: number): LocalParts {
  const d = new Date(ms + offset * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

export const dayLabel = (p: LocalParts) => `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
export const monthLabel = (p: LocalParts) => `${pad(p.year, 4)}-${pad(p.month)}`;
export const hourLabel = (p: LocalParts) => `${dayLabel(p)}T${pad(p.hour)}:${pad(p.minute)}`;

/** The UTC instant of a local wall-clock time; a wall time skipped by DST maps to just after the gap. */
export function localToUtc(timeZone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  const guess = wall - offsetMinutes(timeZone, wall) * 60_000;
  return wall - offsetMinutes(timeZone, guess) * 60_000;
}

/** Local wall time with its offset, e.g. `2026-03-29T03:00:00+01:00`, for people and tax forms. */
export function localIso(timeZone: string, ms: number): string {
  const off = offsetMinutes(timeZone, ms);
  const d = new Date(ms + off * 60_000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${d.toISOString().slice(0, 19)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
