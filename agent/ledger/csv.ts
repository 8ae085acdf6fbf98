// The ledger as CSV for a tax return: one row per entry, in log order, produced in chunks from a
// streaming read of the log so a year of entries never becomes one giant string.
import { microsToDecimal, decimalToMicros, type LedgerEntry } from '../../protocol/index.js';
import { localIso } from './zone.js';

export const CSV_COLUMNS = [
  'date_time_utc',
  'date_time_local',
  'type',
  'network',
  'job',
  'device',
  'gross',
  'token',
  'fiat_value',
  'energy_kwh',
  'energy_cost',
  'net',
  'currency',
  'reference_id',
  'proof_ref',
] as const;

/** RFC 4180 quoting; text that a spreadsheet would run as a formula is defused with a quote mark. */
export function csvField(value: string, text = true): string {
  let v = value;
  if (text && /^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvRow(e: LedgerEntry, timeZone: string): string {
  const ms = Date.parse(e.at);
  const utc = new Date(ms).toISOString();
  const local = localIso(timeZone, ms);
  const num = (v: string) => csvField(v, false);
  const txt = (v: string | null | undefined) => csvField(v ?? '');
  switch (e.type) {
    case 'earning': {
      const fiat = e.fiatValue ?? null;
      return [utc, local, 'earning', txt(e.network), txt(e.jobId), txt(e.device), num(e.amount), txt(e.token), num(fiat?.amount ?? ''), '', '', num(fiat?.amount ?? ''), txt(fiat?.currency), txt(e.id), txt(e.proof.ref)].join(',');
    }
    case 'energy': {
      const kwh = microsToDecimal(BigInt(e.mwh));
      return [utc, local, 'energy', txt(e.network), txt(e.jobId), txt(e.device), '', '', '', num(kwh), num(e.cost), num(microsToDecimal(-decimalToMicros(e.cost))), txt(e.currency), txt(e.id), txt(e.tariffId)].join(',');
    }
    case 'payout':
      return [utc, local, 'payout', txt(e.network), '', '', num(e.amount), txt(e.token), '', '', '', '', '', txt(e.id), txt(e.txRef)].join(',');
  }
}

/** Rows of entries with from <= at < to, header first, about `chunkBytes` per yielded string. */
export function* csvChunks(entries: Iterable<LedgerEntry>, from: number, to: number, timeZone: string, chunkBytes = 64 * 1024): Generator<string> {
  let buf = `${CSV_COLUMNS.join(',')}\r\n`;
  for (const e of entries) {
    const at = Date.parse(e.at);
    if (at < from || at >= to) continue;
    buf += `${csvRow(e, timeZone)}\r\n`;
    if (buf.length >= chunkBytes) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}
