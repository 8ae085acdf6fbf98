// An append-only journal for state that grows without bound (activity now; job history and the
// ledger later): one line per entry, `<sha256-prefix> <json>`, fsync'd, never rewritten. A torn
// last line (a crash mid-write) is tolerated and reported; a damaged line elsewhere is reported
// and skipped, never silently accepted.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
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
  /** 1-based line numbers of damaged lines that were skipped. */
  damagedLines: number[];
}

const checksum = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, 16);

export function encodeJournalLine(entry: JournalEntry<unknown>): string {
  const json = JSON.stringify(entry);
  return `${checksum(json)} ${json}\n`;
}

export function readJournal<T>(path: string): JournalReadResult<T> {
  const result: JournalReadResult<T> = { entries: [], tornTail: false, damagedLines: [] };
  if (!existsSync(path)) return result;
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || text === '';
  const seen = new Set<number>();
  lines.forEach((line, i) => {
    if (line === '') return;
    const isLast = i === lines.length - 1;
    const space = line.indexOf(' ');
    const sum = line.slice(0, space);
    const json = line.slice(space + 1);
    if (space !== 16 || checksum(json) !== sum) {
      if (isLast && !complete) result.tornTail = true;
      else result.damagedLines.push(i + 1);
      return;
    }
    const entry = JSON.parse(json) as JournalEntry<T>;
    // A replayed or duplicated line must not count twice.
    if (seen.has(entry.seq)) return;
    seen.add(entry.seq);
    result.entries.push(entry);
  });
  return result;
}

export class Journal<T> {
  private fd: number;
  private nextSeq: number;
  readonly recovered: { tornTail: boolean; damagedLines: number[] };

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const existing = readJournal<T>(path);
    this.recovered = { tornTail: existing.tornTail, damagedLines: existing.damagedLines };
    this.nextSeq = existing.entries.reduce((max, e) => Math.max(max, e.seq), 0) + 1;
    // A torn last entry was never acknowledged to anyone: cut it off so the next entry starts on
    // a clean line and the file reads back without damage.
    if (existing.tornTail) {
      const bytes = readFileSync(path);
      truncateSync(path, bytes.lastIndexOf(0x0a) + 1);
    }
    this.fd = openSync(path, 'a', 0o600);
  }

  append(data: T): JournalEntry<T> {
    const entry: JournalEntry<T> = { seq: this.nextSeq++, t: this.now().toISOString(), data };
    writeSync(this.fd, encodeJournalLine(entry));
    fsyncSync(this.fd);
    return entry;
  }

  close(): void {
    closeSync(this.fd);
  }
}
