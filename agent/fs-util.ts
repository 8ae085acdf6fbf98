import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
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

/** Copies to a path that must not exist yet and fsyncs the copy, so it is on the disk before it is recorded. */
export async function copyDurably(from: string, to: string): Promise<void> {
  await copyFile(from, to, fsConstants.COPYFILE_EXCL);
  const fd = await open(to, 'r+');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** Creates a file readable by its owner only holding 32 fresh random bytes as hex (and a newline),
 * and returns them; null when the file already exists (it is left as it is). */
export function createSecretFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  const secret = randomBytes(32).toString('hex');
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  return secret;
}

/** Narrows a file that others may read to its owner only; whether it had to (never on Windows). */
export function makeOwnerOnly(path: string): boolean {
  if (process.platform === 'win32' || (statSync(path).mode & 0o077) === 0) return false;
  chmodSync(path, 0o600);
  return true;
}
