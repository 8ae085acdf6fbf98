// A snapshot of the hourly aggregates and the id fingerprints, with the log offset it covers, so
// startup reads it plus the log tail instead of the whole log. It is only a cache: written whole
// or not at all (temp file + rename), checked by checksum, and ignored (the log is replayed in
// full) when damaged or when the log no longer matches it.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../fs-util.js';
import type { SerialCell } from './aggregates.js';

export interface SnapshotBody {
  v: 1;
  /** Log bytes covered: always a line end. */
  offset: number;
  lastSeq: number;
  /** Checksum field of the last line covered, so a log that was replaced or rewritten is noticed. */
  lastLine: string;
  count: number;
  cells: SerialCell[];
  /** The id fingerprints, as a base64 Float64Array. */
  ids: string;
}

export type SnapshotLoad = { status: 'ok'; body: SnapshotBody } | { status: 'none' | 'damaged' | 'stale'; body?: undefined };

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

export function writeSnapshot(path: string, body: SnapshotBody): void {
  const json = JSON.stringify(body);
  writeFileAtomic(path, `${sha(json)}\n${json}`);
}

/** The checksum field of the line that ends at `offset` ('' at 0), or null if there is none. */
export function lastLineSum(logPath: string, offset: number): string | null {
  if (offset === 0) return '';
  if (!existsSync(logPath)) return null;
  const fd = openSync(logPath, 'r');
  try {
    if (fstatSync(fd).size < offset) return null;
    // Lines are short; a line longer than this window is treated as a mismatch (safe: full replay).
    const len = Math.min(offset, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, offset - len);
    if (buf[len - 1] !== 0x0a) return null;
    const prev = buf.lastIndexOf(0x0a, len - 2);
    if (prev === -1 && len < offset) return null;
    return buf.toString('utf8', prev + 1, prev + 17);
  } finally {
    closeSync(fd);
  }
}

export function readSnapshot(path: string, logPath: string): SnapshotLoad {
  if (!existsSync(path)) return { status: 'none' };
  let body: SnapshotBody;
  try {
    const text = readFileSync(path, 'utf8');
    const nl = text.indexOf('\n');
    const json = text.slice(nl + 1);
    if (nl !== 64 || sha(json) !== text.slice(0, nl)) return { status: 'damaged' };
    body = JSON.parse(json) as SnapshotBody;
    if (body.v !== 1) return { status: 'damaged' };
  } catch {
    return { status: 'damaged' };
  }
  if (lastLineSum(logPath, body.offset) !== body.lastLine) return { status: 'stale' };
  return { status: 'ok', body };
}

export function encodeFingerprints(fps: Iterable<number>): string {
  return Buffer.from(Float64Array.from(fps).buffer).toString('base64');
}

export function decodeFingerprints(b64: string): Float64Array {
  const buf = Buffer.from(b64, 'base64');
  // Copied so the array is aligned whatever offset Buffer's pool gave.
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return new Float64Array(copy.buffer, 0, Math.floor(buf.length / 8));
}
