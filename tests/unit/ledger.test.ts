import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger, ledgerPaths } from '../../agent/ledger/ledger.js';
import { csvChunks, csvField } from '../../agent/ledger/csv.js';
import { encodeJournalLine } from '../../agent/journal.js';
import { EarningsReport, type EarningsQuery, type LedgerEntry } from '../../protocol/index.js';
import { firstById, logEntries, oracleReport, reportBuckets } from '../support/ledger-oracle.js';
import { useTempDirs } from '../support/tmp.js';

const earning = (id: string, at: string, over: Partial<Extract<LedgerEntry, { type: 'earning' }>> = {}): LedgerEntry => ({
  type: 'earning',
  id,
  at,
  network: 'nosana',
  jobId: 'job-1',
  device: 'gpu:0',
  amount: '1.25',
  token: 'USDC',
  fiatValue: { currency: 'EUR', amount: '1.15' },
  proof: { kind: 'voucher', ref: `v-${id}`, status: 'verified' },
  ...over,
});
const energy = (id: string, from: string, over: Partial<Extract<LedgerEntry, { type: 'energy' }>> = {}): LedgerEntry => ({
  type: 'energy',
  id,
  from,
  at: new Date(Date.parse(from) + 600_000).toISOString(),
  jobId: 'job-1',
  device: 'gpu:0',
  mwh: 120_000,
  basis: 'measured',
  cost: '0.036',
  currency: 'EUR',
  tariffId: null,
  ...over,
});

const YEAR: EarningsQuery = { from: '2020-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z', groupBy: 'day', by: 'job', timeZone: 'Europe/London' };

/** The ledger's report for `q` equals a recomputation from its raw log and from `expected`. */
function expectMatchesLog(dir: string, ledger: Ledger, q: EarningsQuery, expected?: readonly LedgerEntry[]): void {
  const report = ledger.query(q);
  expect(EarningsReport.safeParse(report).success).toBe(true);
  const fromLog = oracleReport(logEntries(ledgerPaths(dir).log), q);
  expect(reportBuckets(report)).toEqual(fromLog.buckets);
  expect(report.totals).toEqual(fromLog.totals);
  if (expected) expect(report.totals).toEqual(oracleReport(firstById(expected), q).totals);
}

describe('ledger', () => {
  const tmp = useTempDirs();

  it('is idempotent by id: in a batch, across batches, after a snapshot and after reopening', () => {
    const dir = tmp();
    let l = Ledger.open(dir);
    expect(l.appendMany([earning('a', '2026-05-01T10:00:00Z'), earning('a', '2026-05-01T10:00:00Z'), earning('b', '2026-05-01T11:00:00Z')]).map((e) => e.id)).toEqual(['a', 'b']);
    expect(l.append(earning('a', '2026-05-01T10:00:00Z'))).toBe(false);
    l.snapshot();
    // Older than the snapshot: only a fingerprint is in memory, confirmed against the log.
    expect(l.append({ type: 'payout', id: 'b', at: '2026-05-02T00:00:00Z', network: 'x', token: 'USDC', amount: '9', txRef: '0x1' })).toBe(false);
    expect(l.append(earning('c', '2026-05-01T12:00:00Z'))).toBe(true);
    l.close();
    l = Ledger.open(dir);
    expect(l.recovered.snapshot).toBe('ok');
    expect(l.has('a') && l.has('b') && l.has('c')).toBe(true);
    expect(l.has('d')).toBe(false);
    expect(l.appendMany([earning('a', '2026-05-01T10:00:00Z'), earning('c', '2026-05-01T12:00:00Z'), earning('d', '2026-05-01T12:00:00Z')])).toHaveLength(1);
    expect(l.count).toBe(4);
    expect(logEntries(ledgerPaths(dir).log)).toHaveLength(4);
    expect(l.query(YEAR).totals.gross).toEqual({ USDC: '5' });
    l.close();
  });

  it('rejects an invalid entry without writing any of its batch', () => {
    const dir = tmp();
    const l = Ledger.open(dir);
    expect(() => l.appendMany([earning('ok', '2026-05-01T10:00:00Z'), earning('bad', '2026-05-01T10:00:00Z', { amount: '1.5e3' })])).toThrow();
    expect(l.count).toBe(0);
    l.close();
  });

  it('keeps net honest: earnings without a fiat value are reported, not priced', () => {
    const dir = tmp();
    const l = Ledger.open(dir);
    l.appendMany([
      earning('a', '2026-05-01T10:00:00Z', { amount: '2', fiatValue: { currency: 'EUR', amount: '1.80' } }),
      earning('b', '2026-05-01T10:30:00Z', { amount: '0.5', token: 'FIL', fiatValue: null }),
      earning('local', '2026-05-01T10:40:00Z', { amount: '0', network: 'local', jobId: null, fiatValue: null, proof: { kind: 'local', ref: '', status: 'verified' } }),
      energy('e', '2026-05-01T10:00:00Z', { cost: '0.30' }),
    ]);
    const r = l.query({ from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z', groupBy: 'day' });
    expect(r.buckets).toHaveLength(1);
    expect(r.totals).toMatchObject({ gross: { FIL: '0.5', USDC: '2' }, fiatValue: { EUR: '1.8' }, unvalued: { FIL: '0.5', USDC: '0' }, unvaluedCount: 2, energyCost: { EUR: '0.3' }, energyMwh: 120_000, net: { EUR: '1.5' }, earnings: 3 });
    l.close();
  });

  it('groups by local day and month across both London DST changes, as an independent recomputation does', () => {
    const windows = [Date.UTC(2026, 2, 27), Date.UTC(2026, 9, 23)];
    const at = fc.tuple(fc.constantFrom(...windows), fc.integer({ min: 0, max: 10 * 24 * 3600 - 1 })).map(([w, s]) => new Date(w + s * 1000).toISOString());
    const id = fc.integer({ min: 0, max: 40 }).map((n) => `id-${n}`);
    const network = fc.constantFrom('n1', 'n2');
    const device = fc.constantFrom('cpu', 'gpu:0', 'gpu:1');
    const job = fc.constantFrom('j1', 'j2', null);
    const money = fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999_999 })).map(([w, f]) => `${w}.${String(f).padStart(6, '0')}`);
    const entryArb: fc.Arbitrary<LedgerEntry> = fc.oneof(
      fc.record({ id, at, network, jobId: job, device, amount: money, token: fc.constantFrom('USDC', 'FIL'), fiat: fc.option(money) }).map(({ fiat, ...e }) => earning(e.id, e.at, { ...e, fiatValue: fiat === null ? null : { currency: 'EUR', amount: fiat } })),
      fc.record({ id, at, network: fc.option(network), jobId: job, device, mwh: fc.nat(5_000_000), cost: money }).map(({ at: from, ...e }) => energy(e.id, from, e)),
      fc.record({ id, at, network, amount: money }).map((e) => ({ type: 'payout' as const, token: 'USDC', txRef: '0xabc', ...e })),
    );
    const step = fc.oneof(fc.array(entryArb, { minLength: 1, maxLength: 8 }).map((batch) => ({ batch })), fc.constantFrom({ op: 'snapshot' as const }, { op: 'reopen' as const }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), fc.constantFrom<EarningsQuery['groupBy']>('hour', 'day', 'month'), fc.constantFrom<EarningsQuery['by']>(undefined, 'network', 'device', 'job'), (steps, groupBy, by) => {
        const dir = tmp();
        let l = Ledger.open(dir, { snapshotEveryBytes: 2048 });
        const all: LedgerEntry[] = [];
        for (const s of steps) {
          if ('batch' in s) {
            l.appendMany(s.batch);
            all.push(...s.batch);
          } else if (s.op === 'snapshot') l.snapshot();
          else {
            l.close();
            l = Ledger.open(dir, { snapshotEveryBytes: 2048 });
          }
        }
        const q: EarningsQuery = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', groupBy, ...(by ? { by } : {}), timeZone: 'Europe/London' };
        expectMatchesLog(dir, l, q, all);
        expect(l.count).toBe(firstById(all).length);
        l.close();
      }),
      { numRuns: 80 },
    );
  });

  it('puts the day boundary at local midnight, also on the days the clocks change', () => {
    const dir = tmp();
    const l = Ledger.open(dir);
    // 23:30 UTC on 28 March is 23:30 GMT (28th); 23:30 UTC on 29 March is 00:30 BST (30th).
    l.appendMany([earning('a', '2026-03-28T23:30:00Z'), earning('b', '2026-03-29T23:30:00Z'), earning('c', '2026-10-25T00:30:00Z'), earning('d', '2026-10-25T01:30:00Z')]);
    const r = l.query({ from: '2026-03-01T00:00:00Z', to: '2026-11-01T00:00:00Z', groupBy: 'day', timeZone: 'Europe/London' });
    expect(r.buckets.map((b) => [b.label, b.start, b.earnings])).toEqual([
      ['2026-03-28', '2026-03-28T00:00:00.000Z', 1],
      ['2026-03-30', '2026-03-29T23:00:00.000Z', 1],
      ['2026-10-25', '2026-10-24T23:00:00.000Z', 2],
    ]);
    const hours = l.query({ from: '2026-10-25T00:00:00Z', to: '2026-10-25T02:00:00Z', groupBy: 'hour', timeZone: 'Europe/London' });
    // 01:00 local happens twice that night: two buckets, one label.
    expect(hours.buckets.map((b) => b.label)).toEqual(['2026-10-25T01:00', '2026-10-25T01:00']);
    expect(l.query({ ...YEAR, timeZone: 'Asia/Kolkata' }).hourAligned).toBe(false);
    expect(l.query(YEAR).hourAligned).toBe(true);
    l.close();
  });

  it('drops a torn last line, reports it, and keeps going', () => {
    const dir = tmp();
    let l = Ledger.open(dir);
    l.appendMany([earning('a', '2026-05-01T10:00:00Z'), energy('e', '2026-05-01T10:00:00Z')]);
    l.snapshot();
    l.append(earning('b', '2026-05-01T11:00:00Z'));
    l.close();
    const torn = encodeJournalLine({ seq: 99, t: 'x', data: earning('torn', '2026-05-01T12:00:00Z') });
    appendFileSync(ledgerPaths(dir).log, torn.slice(0, torn.length - 20));
    l = Ledger.open(dir);
    expect(l.recovered).toMatchObject({ tornTail: true, snapshot: 'ok' });
    expect(l.has('torn')).toBe(false);
    expect(l.append(earning('c', '2026-05-01T12:00:00Z'))).toBe(true);
    expect(l.count).toBe(4);
    expectMatchesLog(dir, l, YEAR);
    l.close();
  });

  it('ignores a damaged or stale snapshot and replays the whole log', () => {
    const dir = tmp();
    const { log, snapshot } = ledgerPaths(dir);
    let l = Ledger.open(dir);
    for (let i = 0; i < 50; i++) l.append(earning(`e${i}`, new Date(Date.UTC(2026, 4, 1) + i * 1_800_000).toISOString()));
    l.close();
    const good = readFileSync(snapshot);

    const damaged = Buffer.from(good);
    damaged[damaged.length - 10]! ^= 1;
    writeFileSync(snapshot, damaged);
    l = Ledger.open(dir);
    expect(l.recovered).toMatchObject({ snapshot: 'damaged', replayed: 50 });
    expect(l.count).toBe(50);
    expectMatchesLog(dir, l, YEAR);
    l.close();

    // A log shorter than the snapshot says (restored from an older backup, say).
    writeFileSync(snapshot, good);
    const size = statSync(log).size;
    const lines = readFileSync(log, 'utf8').split('\n');
    truncateSync(log, size - lines[lines.length - 2]!.length - 1);
    l = Ledger.open(dir);
    expect(l.recovered).toMatchObject({ snapshot: 'stale', replayed: 49 });
    expect(l.count).toBe(49);
    expectMatchesLog(dir, l, YEAR);
    l.close();

    writeFileSync(snapshot, 'not a snapshot');
    l = Ledger.open(dir);
    expect(l.recovered.snapshot).toBe('damaged');
    expect(l.count).toBe(49);
    l.close();
  });

  it('starts from the snapshot and reads only the log tail after it', () => {
    const dir = tmp();
    let l = Ledger.open(dir);
    for (let i = 0; i < 30; i++) l.append(earning(`e${i}`, new Date(Date.UTC(2026, 4, 1) + i * 3_600_000).toISOString()));
    l.snapshot();
    for (let i = 30; i < 35; i++) l.append(energy(`e${i}`, new Date(Date.UTC(2026, 4, 1) + i * 3_600_000).toISOString()));
    // Not closed: as after a crash, the snapshot lags the log.
    l = Ledger.open(dir);
    expect(l.recovered).toMatchObject({ snapshot: 'ok', replayed: 5, tornTail: false });
    expect(l.count).toBe(35);
    expect(l.append(earning('e3', '2026-05-01T03:00:00Z'))).toBe(false);
    expect(l.append(energy('e33', '2026-05-01T03:00:00Z'))).toBe(false);
    expectMatchesLog(dir, l, YEAR);
    l.close();
  });

  it('exports CSV with proper quoting, local times and a formula guard', () => {
    const dir = tmp();
    const l = Ledger.open(dir);
    l.appendMany([
      earning('a,1', '2026-07-01T10:15:00Z', { network: 'net "quoted", with comma', jobId: 'line\nbreak' }),
      earning('=cmd', '2026-07-01T10:20:00Z', { fiatValue: null }),
      energy('e', '2026-07-01T10:00:00Z', { mwh: 1_234_567, cost: '0.5' }),
      { type: 'payout', id: 'p', at: '2026-07-02T00:00:00Z', network: 'nosana', token: 'USDC', amount: '10', txRef: '0xdead' },
      earning('outside', '2027-07-01T10:00:00Z'),
    ]);
    const csv = [...l.exportCsv('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'Europe/London')].join('');
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual(['date_time_utc', 'date_time_local', 'type', 'network', 'job', 'device', 'gross', 'token', 'fiat_value', 'energy_kwh', 'energy_cost', 'net', 'currency', 'reference_id', 'proof_ref']);
    expect(rows).toHaveLength(5);
    expect(rows[1]).toEqual(['2026-07-01T10:15:00.000Z', '2026-07-01T11:15:00+01:00', 'earning', 'net "quoted", with comma', 'line\nbreak', 'gpu:0', '1.25', 'USDC', '1.15', '', '', '1.15', 'EUR', 'a,1', 'v-a,1']);
    expect(rows[2]![13]).toBe("'=cmd");
    expect(rows[2]![11]).toBe('');
    expect(rows[3]!.slice(9, 13)).toEqual(['1.234567', '0.5', '-0.5', 'EUR']);
    expect(rows[4]!.slice(2, 4)).toEqual(['payout', 'nosana']);
    l.close();
  });

  it('yields CSV in chunks rather than one string', () => {
    const many = Array.from({ length: 2000 }, (_, i) => earning(`e${i}`, new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()));
    const chunks = [...csvChunks(many, 0, Date.UTC(2030, 0, 1), 'UTC', 16 * 1024)];
    expect(chunks.length).toBeGreaterThan(5);
    expect(parseCsv(chunks.join(''))).toHaveLength(2001);
    expect(csvField(' lead')).toBe('" lead"');
    expect(csvField('-1.5', false)).toBe('-1.5');
    expect(csvField('-x')).toBe("'-x");
  });
});

/** A small RFC 4180 reader, to check the writer by reading its output back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    }
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}
