// An append-only journal for state that grows without bound (activity now; job history and the
// ledger later): one line per entry, `<sha256-prefix> <json>`, fsync'd, never rewritten. A torn
// last line (a crash mid-write) is tolerated and reported; a damaged line elsewhere is reported
// and skipped, never silently accepted.
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';

export interface JournalEntry<T> {
  seq: number;
  t: string;
  data: T;
}

export interface JournalReadResult<T> {
  entries: JournalEntry<T>[];
  /** A last line without its newline or checksum: the write was cut short. */
  tornTail: boolean;
  /** 1-based line numbers (counted from where reading began) of damaged lines that were skipped. */
  damagedLines: number[];
}

export interface JournalScanResult {
  tornTail: boolean;
  damagedLines: number[];
  /** Byte offset just past the last complete line: where the next append belongs. */
  endOffset: number;
}

const checksum = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, 16);

export function encodeJournalLine(entry: JournalEntry<unknown>): string {
  const json = JSON.stringify(entry);
  return `${checksum(json)} ${json}\n`;
}

const CHUNK = 8 * 1024 * 1024;

/**
 * Every good entry from byte `fromOffset` on, in file order, read in chunks so a log far larger
 * than one string can hold is still readable, and a caller can stop early. Duplicated seqs come
 * once. Reading stops at `toOffset` if given (a line end), and the return value says how the
 * file ended.
 */
export function* journalEntries<T>(path: string, fromOffset = 0, toOffset = Infinity): Generator<JournalEntry<T>, JournalScanResult> {
  const result: JournalScanResult = { tornTail: false, damagedLines: [], endOffset: fromOffset };
  if (!existsSync(path)) return result;
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, toOffset);
    const seen = new Set<number>();
    let pos = fromOffset;
    let carry = Buffer.alloc(0);
    let lineNo = 0;
    while (pos < size) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) break;
      pos += n;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        lineNo++;
        const lineStart = start;
        start = nl + 1;
        result.endOffset = pos - buf.length + start;
        if (nl === lineStart) continue;
        const line = buf.toString('utf8', lineStart, nl);
        const space = line.indexOf(' ');
        const json = line.slice(space + 1);
        if (space !== 16 || checksum(json) !== line.slice(0, space)) {
          result.damagedLines.push(lineNo);
          continue;
        }
        const entry = JSON.parse(json) as JournalEntry<T>;
        // A replayed or duplicated line must not count twice.
        if (seen.has(entry.seq)) continue;
        seen.add(entry.seq);
        yield entry;
      }
      carry = Buffer.from(buf.subarray(start));
    }
    if (carry.length > 0) result.tornTail = true;
  } finally {
    closeSync(fd);
  }
  return result;
}

/** Visits every good entry from byte `fromOffset` on; see `journalEntries`. */
export function scanJournal<T>(path: string, fromOffset: number, visit: (entry: JournalEntry<T>) => void): JournalScanResult {
  const it = journalEntries<T>(path, fromOffset);
  for (let r = it.next(); ; r = it.next()) {
    if (r.done) return r.value;
    visit(r.value);
  }
}

export function readJournal<T>(path: string, fromOffset = 0): JournalReadResult<T> {
  const entries: JournalEntry<T>[] = [];
  const { tornTail, damagedLines } = scanJournal<T>(path, fromOffset, (e) => entries.push(e));
  return { entries, tornTail, damagedLines };
}

export interface JournalOptions<T> {
  /**
   * Start from a point already known to be a clean line end (e.g. from a snapshot) instead of
   * reading the whole file: only the tail after `offset` is read, and seqs continue after `lastSeq`.
   */
  resumeAt?: { offset: number; lastSeq: number };
  /** Sees every entry read while opening, so a caller can rebuild its state in the same pass. */
  onReplay?: (entry: JournalEntry<T>) => void;
}

export class Journal<T> {
  private fd: number;
  private nextSeq: number;
  private bytes: number;
  readonly recovered: { tornTail: boolean; damagedLines: number[] };

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
    options: JournalOptions<T> = {},
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let maxSeq = options.resumeAt?.lastSeq ?? 0;
    const scan = scanJournal<T>(path, options.resumeAt?.offset ?? 0, (e) => {
      maxSeq = Math.max(maxSeq, e.seq);
      options.onReplay?.(e);
    });
    this.recovered = { tornTail: scan.tornTail, damagedLines: scan.damagedLines };
    this.nextSeq = maxSeq + 1;
    // A torn last entry was never acknowledged to anyone: cut it off so the next entry starts on
    // a clean line and the file reads back without damage.
    if (scan.tornTail) truncateSync(path, scan.endOffset);
    this.fd = openSync(path, 'a', 0o600);
    this.bytes = fstatSync(this.fd).size;
  }

  /** Bytes in the file, all of them complete lines: a point a later `resumeAt` may start from. */
  get size(): number {
    return this.bytes;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  append(data: T): JournalEntry<T> {
    return this.appendMany([data])[0]!;
  }

  /** One write and one fsync for the whole batch; each line is still whole or absent after a crash. */
  appendMany(data: readonly T[]): JournalEntry<T>[] {
    if (data.length === 0) return [];
    const t = this.now().toISOString();
    const entries = data.map((d) => ({ seq: this.nextSeq++, t, data: d }));
    const buf = Buffer.from(entries.map(encodeJournalLine).join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    fsyncSync(this.fd);
    this.bytes += buf.length;
    return entries;
  }

  close(): void {
    closeSync(this.fd);
  }
}
