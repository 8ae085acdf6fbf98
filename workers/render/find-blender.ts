// Finds a Blender this worker can drive: the user's setting first, then PATH, then where installers
// and Steam put it on each OS. Each candidate is run with `--version` (asynchronously, with a time
// limit) and refused when its version is outside the range the worker understands.
//
// Supported: 3.0 <= version < 6.0. Below 3.0 Cycles had no `--cycles-device` for every backend we
// pass and the tiling/progress lines differ (Cycles X arrived in 3.0); 3.x/4.x status lines and
// 5.x's prefixed log lines are parsed (progress.ts); anything newer is refused until someone checks
// its output, rather than reported as progress we cannot read.
import { execFile } from 'node:child_process';
import { access, constants, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export const SUPPORTED_BLENDER = { min: { major: 3, minor: 0 }, belowMajor: 6, text: '3.0 up to 5.x' } as const;

export interface BlenderVersion {
  major: number;
  minor: number;
  patch: number;
  /** As Blender printed it, e.g. "Blender 4.2.3 LTS". */
  text: string;
}

export interface FoundBlender {
  ok: true;
  path: string;
  version: BlenderVersion;
  /** Where it came from: 'setting', 'PATH' or the install location's name. */
  source: string;
}

export interface BlenderProblem {
  ok: false;
  code: 'blender_not_found' | 'blender_unsupported';
  message: string;
  /** Every candidate looked at and why it was passed over. */
  rejected: { path: string; reason: string }[];
}

export interface VersionRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** What findBlender touches, injectable for tests. */
export interface FindBlenderDeps {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  home: string;
  isExecutable(p: string): Promise<boolean>;
  listDir(p: string): Promise<string[]>;
  runVersion(p: string): Promise<VersionRun>;
}

const VERSION_TIMEOUT_MS = 30_000;

export const realDeps = (): FindBlenderDeps => ({
  platform: process.platform,
  env: process.env,
  home: homedir(),
  isExecutable: (p) =>
    access(p, process.platform === 'win32' ? constants.F_OK : constants.X_OK).then(
      () => true,
      () => false,
    ),
  listDir: (p) => readdir(p).catch(() => []),
  runVersion: (p) =>
    new Promise((resolve) => {
      execFile(
        p,
        ['--version'],
        { timeout: VERSION_TIMEOUT_MS, windowsHide: true, maxBuffer: 1024 * 1024, env: process.env },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : null) : 0;
          resolve({ stdout: String(stdout), stderr: err && !stdout ? `${stderr}${err.message}` : String(stderr), code });
        },
      );
    }),
});

/** Reads "Blender 3.4.1", "Blender 4.2.3 LTS", "Blender 5.0.0" (also behind a 5.x log prefix). */
export function parseBlenderVersion(output: string): BlenderVersion | null {
  const m = /\bBlender (\d+)\.(\d+)(?:\.(\d+))?(?:[ \t]+(LTS|Alpha|Beta|Release Candidate))?/.exec(output);
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: m[3] === undefined ? 0 : Number(m[3]),
    text: m[0],
  };
}

export function unsupportedReason(v: BlenderVersion): string | null {
  const { min, belowMajor, text } = SUPPORTED_BLENDER;
  if (v.major < min.major || (v.major === min.major && v.minor < min.minor)) {
    return `${v.text} is too old: Offhours drives Blender ${text}. Install a newer Blender (blender.org, Steam or your package manager).`;
  }
  if (v.major >= belowMajor) {
    return `${v.text} is newer than Offhours understands (Blender ${text}); its progress lines have not been checked yet. Use a ${text} release, or update Offhours.`;
  }
  return null;
}

/** Install locations per OS, most likely first. Windows version folders are listed newest first. */
export async function candidatePaths(deps: FindBlenderDeps): Promise<{ path: string; source: string }[]> {
  const { platform, env, home } = deps;
  const out: { path: string; source: string }[] = [];
  const add = (p: string, source: string) => out.push({ path: p, source });
  if (platform === 'win32') {
    const win = path.win32;
    const programDirs = [env.ProgramFiles ?? 'C:\\Program Files', env['ProgramFiles(x86)'] ?? 'C:\\Program Files (x86)'];
    for (const pf of programDirs) {
      const foundation = win.join(pf, 'Blender Foundation');
      const versions = (await deps.listDir(foundation)).filter((d) => /^Blender( \d+\.\d+)?$/i.test(d)).sort(byVersionDesc);
      for (const d of versions) add(win.join(foundation, d, 'blender.exe'), 'Blender Foundation installer');
    }
    for (const steam of [win.join(programDirs[1]!, 'Steam'), win.join(programDirs[0]!, 'Steam')]) {
      add(win.join(steam, 'steamapps', 'common', 'Blender', 'blender.exe'), 'Steam');
    }
  } else if (platform === 'darwin') {
    const mac = 'Blender.app/Contents/MacOS/Blender';
    add(`/Applications/${mac}`, 'Applications');
    add(path.posix.join(home, 'Applications', mac), 'Applications');
    add(path.posix.join(home, 'Library/Application Support/Steam/steamapps/common/Blender', mac), 'Steam');
  } else {
    add('/usr/bin/blender', 'system package');
    add('/usr/local/bin/blender', 'local install');
    add('/snap/bin/blender', 'snap');
    add('/var/lib/flatpak/exports/bin/org.blender.Blender', 'flatpak');
    add(path.posix.join(home, '.local/share/flatpak/exports/bin/org.blender.Blender'), 'flatpak (user)');
    add(path.posix.join(home, '.steam/steam/steamapps/common/Blender/blender'), 'Steam');
    add(path.posix.join(home, '.local/share/Steam/steamapps/common/Blender/blender'), 'Steam');
  }
  return out;
}

function byVersionDesc(a: string, b: string): number {
  const v = (s: string) => (/(\d+)\.(\d+)/.exec(s) ?? [0, 0, 0]).slice(1).map(Number);
  const [am, an] = v(a);
  const [bm, bn] = v(b);
  return bm! - am! || bn! - an!;
}

async function onPath(deps: FindBlenderDeps): Promise<string[]> {
  const isWin = deps.platform === 'win32';
  const p = isWin ? path.win32 : path.posix;
  const dirs = (deps.env.PATH ?? deps.env.Path ?? '').split(isWin ? ';' : ':').filter(Boolean);
  const names = isWin ? ['blender.exe'] : ['blender'];
  const out: string[] = [];
  for (const dir of dirs) for (const n of names) out.push(p.join(dir, n));
  return out;
}

async function tryCandidate(deps: FindBlenderDeps, p: string, source: string): Promise<FoundBlender | { path: string; reason: string; unsupported?: true }> {
  if (!(await deps.isExecutable(p))) return { path: p, reason: 'not there' };
  const run = await deps.runVersion(p);
  const version = parseBlenderVersion(`${run.stdout}\n${run.stderr}`);
  if (!version) {
    return { path: p, reason: `\`${p} --version\` did not print a Blender version (exit ${run.code ?? 'none'}${run.stderr ? `: ${run.stderr.trim().slice(0, 200)}` : ''})` };
  }
  const bad = unsupportedReason(version);
  if (bad) return { path: p, reason: bad, unsupported: true };
  return { ok: true, path: p, version, source };
}

/**
 * The first Blender that runs and is supported. A path the user set is the only one tried when
 * set: they chose it, and quietly using another would render with a Blender they did not pick.
 */
export async function findBlender(settingPath: string | null | undefined, deps: FindBlenderDeps = realDeps()): Promise<FoundBlender | BlenderProblem> {
  const rejected: { path: string; reason: string }[] = [];
  let sawUnsupported = false;
  const candidates = settingPath
    ? [{ path: settingPath, source: 'setting' }]
    : [...(await onPath(deps)).map((p) => ({ path: p, source: 'PATH' })), ...(await candidatePaths(deps))];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.path)) continue;
    seen.add(c.path);
    const r = await tryCandidate(deps, c.path, c.source);
    if ('ok' in r) return r;
    if (r.reason !== 'not there' || settingPath) rejected.push({ path: r.path, reason: r.reason });
    if ('unsupported' in r) sawUnsupported = true;
  }
  if (sawUnsupported) {
    return { ok: false, code: 'blender_unsupported', message: rejected.map((r) => r.reason).join(' '), rejected };
  }
  const where = settingPath ? `at ${settingPath} (your setting)` : 'on PATH or in the usual install locations';
  const detail = rejected.length ? ` Tried: ${rejected.map((r) => `${r.path} (${r.reason})`).join('; ')}.` : '';
  return {
    ok: false,
    code: 'blender_not_found',
    message: `No usable Blender found ${where}. Install Blender ${SUPPORTED_BLENDER.text} or set its path in Settings.${detail}`,
    rejected,
  };
}
