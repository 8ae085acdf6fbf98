// The running processes with their parents, for game detection and game-list suggestions.
// Linux: /proc/<pid>/stat and /proc/<pid>/cmdline, read asynchronously (a few ms; the command line
// is read once per process and kept while that process lives). Elsewhere: systeminformation
// processes() — ps on macOS, PowerShell on Windows, 80–230 ms and more, async either way; that is
// why the games source polls every 5 s, not faster.
import { join } from 'node:path';
import { readAllPidStats, readText } from './proc-stat.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's file name as the user knows it ("Cyberpunk2077.exe", "steam"). */
  name: string;
  /** The executable's full path where known (Windows/Proton paths keep their backslashes). */
  path: string | null;
}

export type ProcessLister = () => Promise<ProcessInfo[]>;

/** The last part of a path, whichever separator it uses (Wine passes Windows paths on Linux). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/**
 * The name to show for a Linux process. comm is the executable's (or script's) file name, but cut
 * to 15 characters ("Cyberpunk2077.e"); then argv[0] has the whole name, as long as it starts the
 * same way (a process may rewrite argv[0] into a title with arguments: those are cut off).
 */
export function processName(comm: string, argv0: string): string {
  if (comm.length < 15 || argv0 === '') return comm;
  const full = baseName(argv0).split(' -')[0]!.trim();
  return full.toLowerCase().startsWith(comm.toLowerCase()) ? full : comm;
}

/** Linux /proc reader. Kernel threads (no command line, children of kthreadd) are left out. */
export function linuxProcessLister(procRoot = '/proc'): ProcessLister {
  const cmdlines = new Map<number, { starttime: number; argv0: string }>();
  return async () => {
    const stats = await readAllPidStats(procRoot);
    const out: ProcessInfo[] = [];
    await Promise.all(
      [...stats.values()].map(async (s) => {
        if (s.pid === 2 || s.ppid === 2) return;
        let cached = cmdlines.get(s.pid);
        if (!cached || cached.starttime !== s.starttime) {
          const raw = await readText(join(procRoot, String(s.pid), 'cmdline'));
          cached = { starttime: s.starttime, argv0: (raw ?? '').split('\0')[0] ?? '' };
          cmdlines.set(s.pid, cached);
        }
        out.push({ pid: s.pid, ppid: s.ppid, name: processName(s.comm, cached.argv0), path: /[\\/]/.test(cached.argv0) ? cached.argv0 : null });
      }),
    );
    for (const pid of cmdlines.keys()) if (!stats.has(pid)) cmdlines.delete(pid);
    return out.sort((a, b) => a.pid - b.pid);
  };
}

/** macOS and Windows, through systeminformation. */
export const systeminformationProcessLister: ProcessLister = async () => {
  const si = await import('systeminformation');
  const { list } = await si.processes();
  return list.map((p) => ({ pid: p.pid, ppid: p.parentPid, name: p.name || baseName(p.path || p.command || ''), path: p.path ? p.path : null }));
};

export function defaultProcessLister(platform: NodeJS.Platform, procRoot?: string): ProcessLister {
  return platform === 'linux' ? linuxProcessLister(procRoot) : systeminformationProcessLister;
}
