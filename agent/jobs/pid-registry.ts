// <data>/pids.json: the workers and engine process groups this agent started, rewritten atomically
// on every change. An agent that died without cleaning up (kill -9, power loss) leaves it behind;
// the next start kills what still runs of it, checking each pid is still ours (a pid can be reused).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-util.js';

export interface PidEntry {
  pid: number;
  kind: 'worker' | 'engine';
  jobId: string;
}

const isLinux = process.platform === 'linux';

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** Live (not zombie) members of a process group. Linux only; elsewhere the leader if it runs. */
export function groupMembers(pgid: number): number[] {
  if (!isLinux) return alive(pgid) ? [pgid] : [];
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {}
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const stat = readProc(Number(e), 'stat');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function looksOurs(pid: number, kind: PidEntry['kind']): boolean {
  if (!isLinux) return alive(pid);
  const cmd = readProc(pid, 'cmdline')?.split('\0').join(' ') ?? '';
  return kind === 'worker' ? /worker/.test(cmd) && /--kind/.test(cmd) : /blender|bwrap|nice/i.test(cmd);
}

export class PidRegistry {
  private entries: PidEntry[] = [];
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'pids.json');
  }

  /** Kills what a previous agent left running; returns the job ids that were affected. */
  reap(): { killed: PidEntry[] } {
    let old: PidEntry[] = [];
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { entries?: PidEntry[] };
      old = (parsed.entries ?? []).filter((e) => Number.isInteger(e.pid) && e.pid > 1 && (e.kind === 'worker' || e.kind === 'engine'));
    } catch {}
    const killed: PidEntry[] = [];
    // Engines first: a worker killed first could not take its engine with it anyway.
    for (const e of [...old.filter((x) => x.kind === 'engine'), ...old.filter((x) => x.kind === 'worker')]) {
      if (e.kind === 'engine') {
        const members = groupMembers(e.pid).filter((p) => looksOurs(p, 'engine'));
        if (members.length === 0) continue;
        try {
          process.kill(isLinux ? -e.pid : e.pid, 'SIGKILL');
        } catch {}
        killed.push(e);
      } else if (alive(e.pid) && looksOurs(e.pid, 'worker')) {
        try {
          process.kill(e.pid, 'SIGKILL');
        } catch {}
        killed.push(e);
      }
    }
    this.entries = [];
    this.write();
    return { killed };
  }

  add(entry: PidEntry): void {
    this.entries.push(entry);
    this.write();
  }

  remove(pid: number): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.pid !== pid);
    if (this.entries.length !== before) this.write();
  }

  list(): readonly PidEntry[] {
    return this.entries;
  }

  private write(): void {
    writeFileAtomic(this.path, `${JSON.stringify({ entries: this.entries })}\n`);
  }
}
