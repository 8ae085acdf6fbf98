// An exclusive lock on the data directory, so two agents never write the same settings, logs or
// pieces. A lock file created with O_EXCL holds the owner's pid; a lock whose owner is gone
// (crash, kill -9) is stale and taken over.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { DATA_FILES } from '../protocol/index.js';
import { UserFacingError } from './errors.js';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  /** The kernel's start time of that pid (Linux), so a pid reused after a reboot or crash is not
   * taken for the agent that held the lock. */
  procStart?: string | undefined;
}

/** When the process with this pid started, as the kernel counts it; null where unknown. */
export function processStartTime(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export class LockHeldError extends UserFacingError {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `Another Offhours agent (pid ${owner.pid}, started ${owner.startedAt}) is already using the data directory ${dataDir}. ` +
        'Stop it first, or start this one with a different --data-dir.',
      'lock_held',
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Same pid, different process: the owner is gone and its pid was given to someone else.
  if (owner.procStart !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== null && now !== owner.procStart) return false;
  }
  return true;
}

function readOwner(path: string): LockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt ?? 'unknown'), procStart: typeof parsed.procStart === 'string' ? parsed.procStart : undefined };
    }
  } catch {
    // Unreadable or half-written: treated as no owner below.
  }
  return null;
}

function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

export function acquireDataDirLock(
  dataDir: string,
  self: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), procStart: processStartTime(process.pid) ?? undefined },
): DataDirLock {
  const path = join(dataDir, DATA_FILES.lock);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, self)) {
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          const owner = readOwner(path);
          if (owner && owner.pid === self.pid && owner.host === self.host) unlinkSync(path);
        },
      };
    }
    const owner = readOwner(path);
    // A lock from another host (a data dir on a network share) can't be checked: never steal it.
    if (owner && (owner.host !== self.host || isAlive(owner))) throw new LockHeldError(dataDir, owner);
    // Stale. Move it aside atomically, then check we moved the stale one and not a lock another
    // starting agent created in between; if not, put it back and try again.
    const aside = `${path}.stale.${self.pid}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = readOwner(aside);
    if (moved && owner && moved.pid === owner.pid && moved.startedAt === owner.startedAt) {
      unlinkSync(aside);
    } else if (moved && isAlive(moved)) {
      renameSync(aside, path);
    } else {
      unlinkSync(aside);
    }
  }
  const owner = readOwner(path);
  throw new LockHeldError(dataDir, owner ?? { pid: -1, host: 'unknown', startedAt: 'unknown' });
}
