// Exact sums of the report's amounts (decimal text keyed by token or currency), for the split
// table. Numbers appear only in chartSeries, which feeds the plot and nothing else.
import { decimalToMicros, microsToDecimal, type EarningsBucket, type EarningsFigures } from '../../protocol/index.js';

export type Amounts = Record<string, string>;

export function addAmounts(a: Amounts, b: Amounts): Amounts {
  const out: Record<string, bigint> = {};
  for (const src of [a, b]) for (const [k, v] of Object.entries(src)) out[k] = (out[k] ?? 0n) + decimalToMicros(v);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, microsToDecimal(v)]));
}

export interface KeyTotals {
  key: string;
  gross: Amounts;
  energyCost: Amounts;
  net: Amounts;
  unvaluedCount: number;
  energyMwh: number;
  earnings: number;
}

/** The buckets summed per split key (network, device or job), largest count of earnings first. */
export function totalsByKey(buckets: readonly EarningsBucket[]): KeyTotals[] {
  const byKey = new Map<string, KeyTotals>();
  for (const b of buckets) {
    const t = byKey.get(b.key) ?? { key: b.key, gross: {}, energyCost: {}, net: {}, unvaluedCount: 0, energyMwh: 0, earnings: 0 };
    byKey.set(b.key, {
      key: b.key,
      gross: addAmounts(t.gross, b.gross),
      energyCost: addAmounts(t.energyCost, b.energyCost),
      net: addAmounts(t.net, b.net),
      unvaluedCount: t.unvaluedCount + b.unvaluedCount,
      energyMwh: t.energyMwh + b.energyMwh,
      earnings: t.earnings + b.earnings,
    });
  }
  return [...byKey.values()].sort((a, b) => b.earnings - a.earnings || a.key.localeCompare(b.key));
}

/** "12.5 USDC · 3 FIL", or a dash when there is nothing. */
export function amountsText(amounts: Amounts): string {
  const parts = Object.entries(amounts).map(([k, v]) => `${v} ${k}`);
  return parts.length > 0 ? parts.join(' · ') : '—';
}

/** The currencies the report has fiat figures in, the most used first. */
export function currenciesOf(figures: EarningsFigures): string[] {
  return [...new Set([...Object.keys(figures.net), ...Object.keys(figures.energyCost), ...Object.keys(figures.fiatValue)])];
}

/** Plot data, one point per bucket start (split buckets added up): x in Unix seconds, then the
 * value of what was earned, the energy cost and the net, in one currency. Floats from here on. */
export interface ChartSeries {
  currency: string;
  x: number[];
  earned: number[];
  cost: number[];
  net: number[];
}

export function chartSeries(buckets: readonly EarningsBucket[], currency: string): ChartSeries {
  const index = new Map<string, number>();
  const s: ChartSeries = { currency, x: [], earned: [], cost: [], net: [] };
  for (const b of buckets) {
    let i = index.get(b.start);
    if (i === undefined) {
      i = s.x.length;
      index.set(b.start, i);
      s.x.push(Date.parse(b.start) / 1000);
      s.earned.push(0);
      s.cost.push(0);
      s.net.push(0);
    }
    s.earned[i]! += Number(b.fiatValue[currency] ?? 0);
    s.cost[i]! += Number(b.energyCost[currency] ?? 0);
    s.net[i]! += Number(b.net[currency] ?? 0);
  }
  // The agent sends buckets in time order per key; a split interleaves keys, so sort once.
  if (index.size > 1 && s.x.some((x, i) => i > 0 && x < s.x[i - 1]!)) {
    const order = s.x.map((_, i) => i).sort((a, b) => s.x[a]! - s.x[b]!);
    return { currency, x: order.map((i) => s.x[i]!), earned: order.map((i) => s.earned[i]!), cost: order.map((i) => s.cost[i]!), net: order.map((i) => s.net[i]!) };
  }
  return s;
}
