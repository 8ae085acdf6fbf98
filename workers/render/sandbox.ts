// The OS sandbox around Blender. What each OS gets:
//   Linux   bubblewrap (Debian's `bubblewrap`), whenever it is installed and a probe run works
//           (it needs unprivileged user namespaces, or runs as root): the whole filesystem
//           read-only; the user's home, the data directory, /home, /root, /run, /tmp, /var/tmp,
//           /media, /mnt and /srv replaced by empty tmpfs; only the job directory writable; no
//           network, no IPC with the host, its own PID namespace, no capabilities, and it dies
//           with its parent.
//   Windows no OS sandbox yet: only the reference check in the setup script (and the scrubbed
//   environment and job directory) stand between a scene and the user's files.
//   macOS   the same as Windows (sandbox-exec is deprecated; an App Sandbox profile is future work).
// Why each piece:
//   - /run is hidden because filesystem sockets ignore network namespaces: /run/docker.sock is
//     root, /run/user/<uid> holds the session bus, keyring and gpg-agent.
//   - `--cap-drop ALL` matters when the agent runs as root: with capabilities the sandboxed
//     process could unmount the tmpfs over a hidden directory and read what is under it.
//   - No `--new-session`: the engine stays in the caller's process group, so the supervisor can
//     stop (SIGSTOP) and kill the whole group; the engine's terminal is a pty of its own (or none),
//     so there is no shared terminal to inject keystrokes into.
//   - `--dev /dev` gives a minimal /dev; GPU renders bind the GPU device nodes back in.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { parseBlenderVersion } from './find-blender.js';

export interface SandboxPlan {
  bwrap: string;
  /** The only writable place; also the working directory. Absolute. */
  jobDir: string;
  /** Directories replaced by an empty tmpfs. */
  hide: string[];
  /** Directories bound back read-only inside a hidden one (a Blender installed under the home). */
  readOnly: string[];
  /** Bind GPU device nodes (NVIDIA, DRM render nodes, AMD KFD) into the minimal /dev. */
  gpu: boolean;
}

/** Places people keep their files, and places with sockets to the rest of the system. */
export function defaultHiddenPaths(home: string = homedir(), dataDir?: string): string[] {
  return ['/home', '/root', '/run', '/tmp', '/var/tmp', '/media', '/mnt', '/srv', home, ...(dataDir ? [dataDir] : [])];
}

const isUnder = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);

/** The install directory of a Blender that would be hidden by the plan, so it can be bound back. */
export function blenderDirsToExpose(blender: string, hide: string[], realpath: (p: string) => string = realpathSync): string[] {
  let real: string;
  try {
    real = realpath(blender);
  } catch {
    real = blender;
  }
  const dir = path.posix.dirname(real);
  return hide.some((h) => isUnder(dir, h)) ? [dir] : [];
}

const GPU_NODES = /^(nvidia.*|kfd|dri)$/;

/** bwrap's arguments, up to and including the `--` before the command. */
export function bwrapArgs(plan: SandboxPlan, deps: { exists: (p: string) => boolean; listDev: () => string[] } = realFs): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  // Parents first, and nothing inside an already hidden directory twice.
  const hide = [...new Set(plan.hide.map((p) => path.posix.normalize(p)))].filter((p) => p !== '/' && deps.exists(p)).sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const h of hide) if (!kept.some((k) => isUnder(h, k))) kept.push(h);
  for (const h of kept) args.push('--tmpfs', h);
  for (const r of plan.readOnly) args.push('--ro-bind', r, r);
  if (plan.gpu) for (const name of deps.listDev().filter((n) => GPU_NODES.test(n))) args.push('--dev-bind-try', `/dev/${name}`, `/dev/${name}`);
  args.push('--bind', plan.jobDir, plan.jobDir, '--chdir', plan.jobDir);
  args.push('--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
  args.push('--die-with-parent', '--cap-drop', 'ALL', '--');
  return args;
}

const realFs = {
  exists: (p: string) => existsSync(p),
  listDev: () => {
    try {
      return readdirSync('/dev');
    } catch {
      return [];
    }
  },
};

export function findBubblewrap(platform: NodeJS.Platform = process.platform, exists: (p: string) => boolean = existsSync): string | null {
  if (platform !== 'linux') return null;
  return ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((p) => exists(p)) ?? null;
}

export type SandboxProbe = { ok: true } | { ok: false; reason: string };

const probes = new Map<string, Promise<SandboxProbe>>();

/**
 * Does Blender start inside bubblewrap on this machine? Run once per (bwrap, blender, hidden set)
 * and remembered: user namespaces may be disabled (sysctl, AppArmor), a flatpak or AppImage Blender
 * cannot nest its own sandbox in ours, and a Blender under a hidden directory must be bound back.
 */
export function probeBubblewrap(bwrap: string, blender: string, hide: string[]): Promise<SandboxProbe> {
  const key = JSON.stringify([bwrap, blender, hide]);
  let p = probes.get(key);
  if (!p) {
    p = runProbe(bwrap, blender, hide);
    probes.set(key, p);
  }
  return p;
}

async function runProbe(bwrap: string, blender: string, hide: string[]): Promise<SandboxProbe> {
  const dir = mkdtempSync(path.join(tmpdir(), 'offhours-bwrap-probe-'));
  try {
    const plan: SandboxPlan = { bwrap, jobDir: dir, hide, readOnly: blenderDirsToExpose(blender, hide), gpu: false };
    const args = [...bwrapArgs(plan), blender, '--version'];
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(bwrap, args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: unknown }).code as number | null) : 0, out: `${stdout}${stderr}` });
      });
    });
    if (run.code === 0 && parseBlenderVersion(run.out)) return { ok: true };
    return { ok: false, reason: `Blender did not start under bubblewrap (exit ${String(run.code)}): ${run.out.trim().slice(0, 300)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
