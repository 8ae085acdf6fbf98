import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes a whole file or nothing: temp file in the same directory, fsync, rename. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A timestamp safe in file names on every OS (no colons). */
export function fileStamp(date: Date): string {
  return date.toISOString().replace(/:/g, '-').replace(/\.\d{3}Z$/, 'Z');
}

/** A small JSON file, or null when it is missing, unreadable or fails `check` (which returns the
 * value, or null to refuse it). For files the agent can rebuild: nothing is reported. */
export function readJsonFile<T>(path: string, check: (value: unknown) => T | null): T | null {
  try {
    return check(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}
