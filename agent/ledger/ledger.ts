// The ledger: earnings, energy costs and payouts in an append-only, checksummed log (the record),
// with hourly aggregates in memory (for reports) and a snapshot of them now and then (for a fast
// start). Appends are idempotent by entry id, so a caller that is unsure whether an append landed
// (a crash, a retry) simply appends again.
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DATA_FILES, EarningsQuery, LedgerEntry, type EarningsReport } from '../../protocol/index.js';
import { Journal, journalEntries, type JournalEntry } from '../journal.js';
import { HourAggregates, deserializeCell, serializeCell } from './aggregates.js';
import { csvChunks } from './csv.js';
import { fingerprint } from './fingerprint.js';
import { runQuery } from './query.js';
import { decodeFingerprints, encodeFingerprints, lastLineSum, readSnapshot, writeSnapshot } from './snapshot.js';

export interface LedgerOptions {
  now?: () => Date;
  /** Write a snapshot once this many log bytes (or a quarter of the log, if more) are not in one. */
  snapshotEveryBytes?: number;
}

export interface LedgerRecovery {
  tornTail: boolean;
  damagedLines: number[];
  /** ok: started from it; none: there was none; damaged/stale: ignored, the whole log was replayed. */
  snapshot: 'ok' | 'none' | 'damaged' | 'stale';
  /** Entries read from the log at startup (the tail after the snapshot, or all of it). */
  replayed: number;
}

export const ledgerPaths = (dataDir: string) => ({
  log: join(dataDir, DATA_FILES.historyDir, 'ledger.jsonl'),
  snapshot: join(dataDir, DATA_FILES.historyDir, 'ledger.snapshot'),
});

/** A crash while a snapshot was being written leaves its temp file; nothing else will remove it. */
function removeStaleTemps(snapshotPath: string): void {
  const prefix = `${basename(snapshotPath)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(snapshotPath));
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix) && n.endsWith('.tmp')) rmSync(join(dirname(snapshotPath), n), { force: true });
}

export class Ledger {
  private agg = new HourAggregates();
  private readonly fps = new Set<number>();
  /** Exact ids of entries after `coveredOffset`; older ids are confirmed by scanning the log. */
  private recent = new Set<string>();
  private coveredOffset = 0;
  private entryCount = 0;
  private journal!: Journal<LedgerEntry>;
  readonly recovered: LedgerRecovery;

  private constructor(
    private readonly paths: { log: string; snapshot: string },
    private readonly opts: Required<LedgerOptions>,
  ) {
    removeStaleTemps(paths.snapshot);
    const snap = readSnapshot(paths.snapshot, paths.log);
    let resumeAt: { offset: number; lastSeq: number } | undefined;
    if (snap.status === 'ok') {
      const b = snap.body;
      this.agg = HourAggregates.fromCells(b.cells.map(deserializeCell));
      for (const fp of decodeFingerprints(b.ids)) this.fps.add(fp);
      this.entryCount = b.count;
      this.coveredOffset = b.offset;
      resumeAt = { offset: b.offset, lastSeq: b.lastSeq };
    }
    const tail: LedgerEntry[] = [];
    const onReplay = (e: JournalEntry<LedgerEntry>) => tail.push(e.data);
    this.journal = new Journal<LedgerEntry>(paths.log, opts.now, resumeAt ? { resumeAt, onReplay } : { onReplay });
    this.commit(this.fresh(tail));
    this.recovered = { ...this.journal.recovered, snapshot: snap.status, replayed: tail.length };
    if (this.journal.size - this.coveredOffset > this.snapshotThreshold() || (snap.status !== 'ok' && this.entryCount > 0)) this.snapshot();
  }

  /** Opens (creating if needed) the ledger under `dataDir`, replaying what the snapshot lacks. */
  static open(dataDir: string, options: LedgerOptions = {}): Ledger {
    return new Ledger(ledgerPaths(dataDir), { now: options.now ?? (() => new Date()), snapshotEveryBytes: options.snapshotEveryBytes ?? 1024 * 1024 });
  }

  get count(): number {
    return this.entryCount;
  }

  /** Aggregate cells held in memory: what "small" is measured by. */
  get cellCount(): number {
    return this.agg.cellCount;
  }

  /** True if it was new; appending an id the ledger holds already is a no-op. */
  append(entry: LedgerEntry): boolean {
    return this.appendMany([entry]).length === 1;
  }

  /**
   * Validates all, then writes the new ones with one write and one fsync. On return they are
   * durable; after a crash mid-call each entry is on disk whole or not at all, and appending the
   * same batch again adds only what is missing. Returns the entries that were new.
   */
  appendMany(entries: readonly LedgerEntry[]): LedgerEntry[] {
    const parsed = entries.map((e) => LedgerEntry.parse(e));
    const fresh = this.fresh(parsed);
    this.journal.appendMany(fresh);
    this.commit(fresh);
    if (this.journal.size - this.coveredOffset > this.snapshotThreshold()) this.snapshot();
    return fresh;
  }

  has(id: string): boolean {
    if (!this.fps.has(fingerprint(id))) return false;
    return this.recent.has(id) || this.inCoveredLog(new Set([id])).has(id);
  }

  query(query: EarningsQuery): EarningsReport {
    return runQuery(this.agg, EarningsQuery.parse(query));
  }

  /** CSV of entries with from <= at < to, times also shown in `timeZone`, in chunks. */
  *exportCsv(from: string, to: string, timeZone = 'UTC'): Generator<string> {
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new Error('exportCsv: from and to must be ISO date-times');
    // Only what is durable now: later appends may land while the caller is still reading.
    const end = this.journal.size;
    const entries = journalEntries<LedgerEntry>(this.paths.log, 0, end);
    yield* csvChunks((function* () {
      for (const e of entries) yield e.data;
    })(), fromMs, toMs, timeZone);
  }

  /** Writes the aggregates and fingerprints with the log offset they cover (atomically). */
  snapshot(): void {
    const offset = this.journal.size;
    writeSnapshot(this.paths.snapshot, {
      v: 1,
      offset,
      lastSeq: this.journal.lastSeq,
      lastLine: lastLineSum(this.paths.log, offset) ?? '',
      count: this.entryCount,
      cells: [...this.agg.all()].map(serializeCell),
      ids: encodeFingerprints(this.fps),
    });
    this.coveredOffset = offset;
    this.recent = new Set();
  }

  close(): void {
    if (this.journal.size > this.coveredOffset) this.snapshot();
    this.journal.close();
  }

  private snapshotThreshold(): number {
    return Math.max(this.opts.snapshotEveryBytes, this.coveredOffset / 4);
  }

  /** The entries, in order, whose ids are neither held already nor earlier in the same list. */
  private fresh(entries: readonly LedgerEntry[]): LedgerEntry[] {
    const seen = new Set<string>();
    const maybe = new Set<string>();
    for (const e of entries) if (this.fps.has(fingerprint(e.id)) && !this.recent.has(e.id)) maybe.add(e.id);
    const held = maybe.size > 0 ? this.inCoveredLog(maybe) : maybe;
    return entries.filter((e) => {
      if (seen.has(e.id) || held.has(e.id) || this.recent.has(e.id)) return false;
      seen.add(e.id);
      return true;
    });
  }

  private commit(entries: readonly LedgerEntry[]): void {
    for (const e of entries) {
      this.fps.add(fingerprint(e.id));
      this.recent.add(e.id);
      this.agg.add(e);
    }
    this.entryCount += entries.length;
  }

  /** Which of `ids` are in the log before `coveredOffset`: the rare path after a fingerprint match. */
  private inCoveredLog(ids: Set<string>): Set<string> {
    const found = new Set<string>();
    if (this.coveredOffset === 0) return found;
    for (const e of journalEntries<LedgerEntry>(this.paths.log, 0, this.coveredOffset)) {
      if (ids.has(e.data.id)) found.add(e.data.id);
      if (found.size === ids.size) break;
    }
    return found;
  }
}
