// The engine runs in a process group of its own (node-pty's child calls setsid(); a pipe child is
// spawned detached, which does the same); signals go to the whole group, so Blender's helpers
// and, under bubblewrap, the sandbox's processes go with it.
import { readFileSync, readdirSync } from 'node:fs';

const isWindows = process.platform === 'win32';

export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    if (isWindows) process.kill(pid, signal);
    else process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Members of the group that still run. Zombies do not count: they hold no memory and no GPU, and
 * where PID 1 does not reap orphans (some containers) they would never go away.
 */
export function liveGroupMembers(pgid: number): number[] {
  if (process.platform !== 'linux') return signalGroup(pgid, 0) ? [pgid] : [];
  const live: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalGroup(pgid, 0) ? [pgid] : [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') live.push(Number(entry));
  }
  return live;
}

/** SIGKILLs the group and waits (bounded) until none of it runs, so that "done" means gone. */
export async function killGroupAndWait(pgid: number, timeoutMs = 5_000): Promise<boolean> {
  if (isWindows) {
    signalGroup(pgid, 'SIGKILL');
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signalGroup(pgid, 'SIGKILL');
    if (liveGroupMembers(pgid).length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Asks the engine to stop: SIGTERM to every member of the group except bubblewrap, then SIGCONT so
 * a paused engine sees it. bubblewrap must not get it: it would die at once and, with
 * --die-with-parent, take the engine with it by SIGKILL, before the engine could finish writing.
 * Once the engine exits, bubblewrap exits on its own.
 */
export function askGroupToStop(pgid: number): void {
  if (process.platform !== 'linux') {
    signalGroup(pgid, 'SIGTERM');
    signalGroup(pgid, 'SIGCONT');
    return;
  }
  for (const pid of liveGroupMembers(pgid)) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'bwrap') continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  signalGroup(pgid, 'SIGCONT');
}
