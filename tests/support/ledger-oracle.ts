// An independent recomputation of ledger reports straight from entries, one Intl call per entry
// and no hourly cells, to check the ledger's aggregates and local-time grouping against.
import { ALL_KEY, NONE_KEY, decimalToMicros, microsToDecimal, type EarningsFigures, type EarningsQuery, type LedgerEntry } from '../../protocol/index.js';
import { readJournal } from '../../agent/journal.js';

/** Entries as the ledger should hold them: first occurrence of each id, in log order. */
export function logEntries(logPath: string): LedgerEntry[] {
  const seen = new Set<string>();
  return readJournal<LedgerEntry>(logPath).entries.map((e) => e.data).filter((e) => !seen.has(e.id) && seen.add(e.id));
}

export function firstById(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

type Acc = { gross: Map<string, bigint>; fiat: Map<string, bigint>; unvalued: Map<string, bigint>; uc: number; cost: Map<string, bigint>; mwh: number; payouts: Map<string, bigint>; earnings: number };
const acc = (): Acc => ({ gross: new Map(), fiat: new Map(), unvalued: new Map(), uc: 0, cost: new Map(), mwh: 0, payouts: new Map(), earnings: 0 });
const add = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
const out = (m: Map<string, bigint>) => Object.fromEntries([...m.keys()].sort().map((k) => [k, microsToDecimal(m.get(k)!)]));

function figures(a: Acc): EarningsFigures {
  const net = new Map(a.fiat);
  for (const [k, v] of a.cost) add(net, k, -v);
  return { gross: out(a.gross), fiatValue: out(a.fiat), unvalued: out(a.unvalued), unvaluedCount: a.uc, energyCost: out(a.cost), energyMwh: a.mwh, net: out(net), payouts: out(a.payouts), earnings: a.earnings };
}

const formats = new Map<string, Intl.DateTimeFormat>();

function localLabel(ms: number, timeZone: string, groupBy: EarningsQuery['groupBy']): string {
  let f = formats.get(timeZone);
  if (!f) formats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  if (groupBy === 'month') return `${p.year}-${p.month}`;
  if (groupBy === 'day') return `${p.year}-${p.month}-${p.day}`;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}@${Math.floor(ms / 3_600_000)}`;
}

/** label (+ UTC hour for hourly buckets, which can repeat a label) and key -> figures. */
export function oracleReport(entries: readonly LedgerEntry[], q: EarningsQuery): { buckets: Map<string, EarningsFigures>; totals: EarningsFigures } {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const tz = q.timeZone ?? 'UTC';
  const buckets = new Map<string, Acc>();
  const total = acc();
  for (const e of entries) {
    const t = Date.parse(e.type === 'energy' ? e.from : e.at);
    const hour = Math.floor(t / 3_600_000) * 3_600_000;
    if (hour < from || hour >= to) continue;
    const network = e.type === 'energy' ? (e.network ?? null) : e.network;
    const device = e.type === 'payout' ? null : e.device;
    const job = e.type === 'payout' ? null : e.jobId;
    const key = !q.by ? ALL_KEY : ((q.by === 'network' ? network : q.by === 'device' ? device : job) ?? NONE_KEY);
    const id = `${localLabel(q.groupBy === 'hour' ? hour : t, tz, q.groupBy)}|${key}`;
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = acc()));
    for (const a of [b, total]) {
      if (e.type === 'earning') {
        const m = decimalToMicros(e.amount);
        add(a.gross, e.token, m);
        a.earnings++;
        if (e.fiatValue) add(a.fiat, e.fiatValue.currency, decimalToMicros(e.fiatValue.amount));
        else {
          add(a.unvalued, e.token, m);
          a.uc++;
        }
      } else if (e.type === 'energy') {
        a.mwh += e.mwh;
        add(a.cost, e.currency, decimalToMicros(e.cost));
      } else add(a.payouts, e.token, decimalToMicros(e.amount));
    }
  }
  return { buckets: new Map([...buckets].map(([k, v]) => [k, figures(v)])), totals: figures(total) };
}

/** The same shape from a ledger report, to compare with `oracleReport`. */
export function reportBuckets(report: { buckets: Array<EarningsFigures & { label: string; key: string; start: string }>; query: EarningsQuery }): Map<string, EarningsFigures> {
  const m = new Map<string, EarningsFigures>();
  for (const b of report.buckets) {
    const { label, key, start, ...fig } = b;
    const id = report.query.groupBy === 'hour' ? `${label}@${Math.floor(Date.parse(start) / 3_600_000)}` : label;
    m.set(`${id}|${key}`, fig);
  }
  return m;
}
