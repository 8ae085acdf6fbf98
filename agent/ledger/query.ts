// Reports from the hourly cells: each UTC hour is mapped once to its local bucket (hour, day or
// month in the query's zone), then its cells are summed into that bucket. A year of daily buckets
// touches each of the ~9,000 hours once.
import { ALL_KEY, NONE_KEY, microsToDecimal, type EarningsFigures, type EarningsQuery, type EarningsReport } from '../../protocol/index.js';
import { addFigures, emptyFigures, type Amounts, type Figures, type HourAggregates, type HourCell } from './aggregates.js';
import { dayLabel, hourLabel, localParts, localToUtc, monthLabel, offsetSegments } from './zone.js';

const DAY = 86_400_000;

const keyOf = (c: HourCell, by: EarningsQuery['by']): string => {
  if (!by) return ALL_KEY;
  const v = by === 'network' ? c.network : by === 'device' ? c.device : c.jobId;
  return v ?? NONE_KEY;
};

const decimals = (a: Amounts): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = microsToDecimal(a[k]!);
  return out;
};

export function figuresOut(f: Figures): EarningsFigures {
  const net: Amounts = {};
  for (const k in f.fiatValue) net[k] = f.fiatValue[k]!;
  for (const k in f.energyCost) net[k] = (net[k] ?? 0n) - f.energyCost[k]!;
  return {
    gross: decimals(f.gross),
    fiatValue: decimals(f.fiatValue),
    unvalued: decimals(f.unvalued),
    unvaluedCount: f.unvaluedCount,
    energyCost: decimals(f.energyCost),
    energyMwh: f.energyMwh,
    net: decimals(net),
    payouts: decimals(f.payouts),
    earnings: f.earnings,
  };
}

interface Bucket {
  start: number;
  label: string;
  key: string;
  figures: Figures;
}

export function runQuery(agg: HourAggregates, q: EarningsQuery): EarningsReport {
  const tz = q.timeZone ?? 'UTC';
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const segments = offsetSegments(tz, from, Math.max(from, to));
  const starts = new Map<string, number>();
  const byStart = new Map<number, Map<string, Bucket>>();
  const buckets: Bucket[] = [];
  const totals = emptyFigures();
  let seg = 0;
  // The local bucket changes at most once per local day (or every hour when grouping by hour), so
  // labels and starts are worked out only then, not for every hour.
  let current = NaN;
  let group = new Map<string, Bucket>();
  let label = '';
  let start = 0;
  for (const slot of agg.range(from, to)) {
    const hour = slot.all.hour;
    while (seg + 1 < segments.length && segments[seg + 1]!.from <= hour) seg++;
    const offset = segments[seg]!.offset;
    const index = q.groupBy === 'hour' ? hour : Math.floor((hour + offset * 60_000) / DAY);
    if (index !== current) {
      current = index;
      const parts = localParts(hour, offset);
      if (q.groupBy === 'hour') {
        label = hourLabel(parts);
        start = hour;
      } else {
        label = q.groupBy === 'day' ? dayLabel(parts) : monthLabel(parts);
        const known = starts.get(label);
        if (known === undefined) {
          start = localToUtc(tz, parts.year, parts.month, q.groupBy === 'day' ? parts.day : 1);
          starts.set(label, start);
        } else start = known;
      }
      // By start, not label: the hour repeated when clocks go back has one label but two starts.
      let g = byStart.get(start);
      if (!g) byStart.set(start, (g = new Map()));
      group = g;
    }
    const cells = !q.by ? [slot.all] : q.by === 'network' ? slot.byNetwork : q.by === 'device' ? slot.byDevice : slot.cells;
    for (const cell of cells) {
      const key = keyOf(cell, q.by);
      let b = group.get(key);
      if (!b) {
        group.set(key, (b = { start, label, key, figures: emptyFigures() }));
        buckets.push(b);
      }
      addFigures(b.figures, cell);
    }
  }
  // Totals from the buckets, not the cells: a few hundred additions instead of thousands.
  for (const b of buckets) addFigures(totals, b.figures);
  const out = buckets.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    query: q,
    buckets: out.map((b) => ({ start: new Date(b.start).toISOString(), label: b.label, key: b.key, ...figuresOut(b.figures) })),
    totals: figuresOut(totals),
    hourAligned: segments.every((s) => s.offset % 60 === 0),
  };
}
