// Earnings per network from the ledger, all time: summed from the monthly buckets of one query, in
// micro-units so no decimal is rounded on the way.
import { decimalToMicros, microsToDecimal, type EarningsQuery, type EarningsReport } from '../../protocol/index.js';

/** From before Offhours existed: "all time" without a special case in the ledger. */
const EPOCH = '2020-01-01T00:00:00.000Z';

export function earningsByNetwork(query: (q: EarningsQuery) => EarningsReport, now: Date): Map<string, Record<string, string>> {
  const report = query({ from: EPOCH, to: new Date(now.getTime() + 3_600_000).toISOString(), groupBy: 'month', by: 'network' });
  const sums = new Map<string, Map<string, bigint>>();
  for (const b of report.buckets) {
    let per = sums.get(b.key);
    if (!per) sums.set(b.key, (per = new Map()));
    for (const [token, amount] of Object.entries(b.gross)) per.set(token, (per.get(token) ?? 0n) + decimalToMicros(amount));
  }
  const out = new Map<string, Record<string, string>>();
  for (const [key, per] of sums) out.set(key, Object.fromEntries([...per].map(([t, v]) => [t, microsToDecimal(v)])));
  return out;
}
