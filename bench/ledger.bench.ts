// The ledger: appending 1,000,000 entries (against raw appends of the same JSON lines without
// checksums, ids or aggregates), startup with a year of hourly history (against an empty ledger;
// goal <= 300 ms; and the whole agent's startup, against the agent's with an empty ledger) and a
// year-long daily report (against a one-hour report; goal <= 20 ms).
import './define-globals.js';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent } from '../agent/agent.js';
import { Ledger, ledgerPaths } from '../agent/ledger/ledger.js';
import type { EarningsQuery, LedgerEntry } from '../protocol/index.js';
import { emit } from './lib.mjs';

const HOUR = 3_600_000;
const YEAR_START = Date.UTC(2025, 0, 1);
const BATCH = 1000;

/** Entry n of a stream spread over a year: earnings and energy for two devices, a job per hour. */
function entry(n: number, perHour: number): LedgerEntry {
  const hour = YEAR_START + Math.floor(n / perHour) * HOUR;
  const device = n % 4 < 2 ? 'gpu:0' : 'cpu';
  const jobId = `job-${Math.floor(n / perHour)}-${device}`;
  const at = new Date(hour + (n % perHour) * Math.floor(HOUR / perHour)).toISOString();
  if (n % 2 === 1) {
    return { type: 'energy', id: `en-${n}`, from: at, at: new Date(hour + HOUR - 1000).toISOString(), network: 'nosana', jobId, device, mwh: 180_000 + (n % 1000), basis: 'measured', cost: '0.054', currency: 'EUR', tariffId: 'day' };
  }
  return { type: 'earning', id: `ea-${n}`, at, network: n % 8 < 4 ? 'nosana' : 'akash', jobId, device, amount: `0.${String(n % 100_000).padStart(5, '0')}`, token: 'USDC', fiatValue: n % 10 === 0 ? null : { currency: 'EUR', amount: '0.0921' }, proof: { kind: 'voucher', ref: `voucher-${n}`, status: 'verified' } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fresh = () => mkdtempSync(join(tmpdir(), 'offhours-ledger-bench-'));

function appendRate(total: number): { ledger: number; raw: number } {
  const perHour = Math.ceil(total / 8760);
  // Batches are made outside the timed part and not all kept, so neither side pays for them.
  const batch = (i: number) => Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => entry(i + k, perHour));

  const rawDir = fresh();
  const fd = openSync(join(rawDir, 'raw.jsonl'), 'a');
  let spent = 0;
  for (let i = 0; i < total; i += BATCH) {
    const b = batch(i);
    const t = performance.now();
    writeSync(fd, b.map((e) => `${JSON.stringify(e)}\n`).join(''));
    fsyncSync(fd);
    spent += performance.now() - t;
  }
  const raw = total / (spent / 1000);
  closeSync(fd);
  rmSync(rawDir, { recursive: true, force: true });

  const dir = fresh();
  const ledger = Ledger.open(dir);
  spent = 0;
  for (let i = 0; i < total; i += BATCH) {
    const b = batch(i);
    const t = performance.now();
    ledger.appendMany(b);
    spent += performance.now() - t;
  }
  const rate = total / (spent / 1000);
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return { ledger: rate, raw };
}

function openMs(dir: string, runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const l = Ledger.open(dir);
    times.push(performance.now() - t);
    l.close();
  }
  return median(times);
}

/** A year of hourly history: per hour and device one earning and one energy entry. */
function yearLedger(): { dir: string; count: number } {
  const dir = fresh();
  const l = Ledger.open(dir);
  const count = 8760 * 4;
  for (let i = 0; i < count; i += BATCH) l.appendMany(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => entry(i + k, 4)));
  l.close();
  return { dir, count };
}

const empty = fresh();
Ledger.open(empty).close();
const { dir: year } = yearLedger();
const emptyMs = openMs(empty);
emit('ledger_startup_year_ms', openMs(year), 'ms to open a year of hourly history (35,040 entries, snapshot current), median', emptyMs);
/** runAgent -> listening, on a data directory (the agent's own startup: lock, settings, ledger,
 * tariffs, sampler, API), without sensors; median of five, the agent stopped in between. */
async function agentStartMs(dataDir: string, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const agent = await runAgent({ dataDir, port: 0, sources: [], rendererDir: join(dataDir, 'no-renderer') });
    times.push(performance.now() - t);
    await agent.stop();
  }
  return median(times);
}
const emptyAgent = fresh();
Ledger.open(emptyAgent).close();
emit('agent_startup_year_ledger_ms', await agentStartMs(year), 'ms, runAgent -> listening with a year of hourly history in the ledger (goal <= 300 ms; baseline: the agent with an empty ledger)', await agentStartMs(emptyAgent));
rmSync(emptyAgent, { recursive: true, force: true });
emit('ledger_snapshot_year_bytes', statSync(ledgerPaths(year).snapshot).size, 'bytes of snapshot for that year', statSync(ledgerPaths(year).log).size);

// The worst regular case: the snapshot lags by thousands of entries (as after a crash, before the
// next one is written). The lagging snapshot is put back after each open, since closing refreshes it.
{
  const l = Ledger.open(year, { snapshotEveryBytes: 64 * 1024 * 1024 });
  l.appendMany(Array.from({ length: 4000 }, (_, k) => entry(8760 * 4 + k, 4)));
  const lagging = readFileSync(ledgerPaths(year).snapshot);
  const times: number[] = [];
  let replayed = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const reopened = Ledger.open(year, { snapshotEveryBytes: 64 * 1024 * 1024 });
    times.push(performance.now() - t);
    replayed = reopened.recovered.replayed;
    reopened.close();
    writeFileSync(ledgerPaths(year).snapshot, lagging);
  }
  emit('ledger_startup_year_with_tail_ms', median(times), `ms to open with a ${replayed}-entry log tail after the snapshot, median`, emptyMs);
  l.close();
}
{
  rmSync(ledgerPaths(year).snapshot);
  const t = performance.now();
  Ledger.open(year).close();
  emit('ledger_startup_year_full_replay_ms', performance.now() - t, 'ms to open with no snapshot (full replay, then a snapshot is written)', emptyMs);
}

{
  const l = Ledger.open(year);
  const q: EarningsQuery = { from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', groupBy: 'day', timeZone: 'Europe/London' };
  const trivial: EarningsQuery = { from: '2025-06-01T12:00:00Z', to: '2025-06-01T13:00:00Z', groupBy: 'hour', timeZone: 'Europe/London' };
  let t = performance.now();
  l.query(q);
  const cold = performance.now() - t;
  const time = (query: EarningsQuery) => {
    const xs: number[] = [];
    for (let i = 0; i < 15; i++) {
      t = performance.now();
      l.query(query);
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const trivialMs = time(trivial);
  emit('ledger_query_year_daily_ms', time(q), 'ms for a year of daily buckets (Europe/London), median', trivialMs);
  emit('ledger_query_year_daily_by_job_ms', time({ ...q, by: 'job' }), 'ms for a year of daily buckets per job, median', trivialMs);
  emit('ledger_query_year_daily_cold_ms', cold, 'ms for the first year-long query (zone offsets not yet cached)', trivialMs);
  l.close();
}
rmSync(year, { recursive: true, force: true });
rmSync(empty, { recursive: true, force: true });

const total = Number(process.env.LEDGER_BENCH_ENTRIES ?? 1_000_000);
const rates = appendRate(total);
emit('ledger_append_entries_per_s', rates.ledger, `entries/s appending ${total.toLocaleString('en')} entries in batches of ${BATCH}`, rates.raw);
