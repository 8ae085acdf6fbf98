// An exclusive lock on the hub's data directory, so two hubs never open the same PGlite files
// (PGlite is single-process: a second writer would corrupt them). A lock file created with O_EXCL
// holds the owner's pid and its kernel start time; a lock whose owner is gone (kill -9) is stale
// and taken over.
//
// This duplicates agent/data-dir-lock.ts on purpose: hub/ may not import agent/ (DESIGN.md,
// "Allowed imports"). Should a third user appear, the shared part belongs in a package both may
// import, not in either folder.
import { hostname } from 'node:os';
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';

interface Owner {
  pid: number;
  host: string;
  startedAt: string;
  procStart: string | null;
}

export class HubLockHeldError extends Error {
  readonly code = 'lock_held';
  constructor(dir: string, owner: Owner | null) {
    super(
      owner
        ? `Another hub (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}) is using ${dir}. Stop it first, or use another --data-dir.`
        : `Another hub is starting in ${dir}; try again.`,
    );
  }
}

export interface HubDirLock {
  release(): void;
}

/** Linux's start time of a pid, so a pid reused by another process is not taken for the owner. */
function procStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(o: Owner): boolean {
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = o.procStart === null ? null : procStart(o.pid);
  return now === null || now === o.procStart;
}

function read(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string') {
      return { pid: o.pid, host: o.host, startedAt: String(o.startedAt), procStart: typeof o.procStart === 'string' ? o.procStart : null };
    }
  } catch {
    // Missing or half-written (killed between create and write): no owner to respect.
  }
  return null;
}

export function acquireHubDirLock(path: string): HubDirLock {
  const self: Owner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), procStart: procStart(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(self));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const o = read(path);
          if (o?.pid === self.pid && o.host === self.host) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = read(path);
    // A lock from another host (a network share) cannot be checked, so it is never stolen.
    if (owner && (owner.host !== self.host || alive(owner))) throw new HubLockHeldError(path, owner);
    // Stale: move it aside atomically, and if what was moved is not the stale one (another hub
    // locked in between), put it back and go round again.
    const aside = `${path}.stale.${self.pid}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = read(aside);
    if (moved && alive(moved) && !(owner && moved.pid === owner.pid && moved.startedAt === owner.startedAt)) renameSync(aside, path);
    else unlinkSync(aside);
  }
  throw new HubLockHeldError(path, read(path));
}
