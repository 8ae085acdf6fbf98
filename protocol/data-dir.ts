// The one data-directory resolver, shared by main, the CLI and the agent so that the app's agent
// and `offhours status` always find the same directory. Pure (no Node built-ins): the caller
// passes in the platform, environment and home directory.

export type Platform = 'linux' | 'darwin' | 'win32' | (string & {});

export interface DataDirInput {
  /** `--data-dir` from the command line, if given. */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  platform: Platform;
  home: string;
}

export interface ResolvedDataDir {
  path: string;
  source: 'flag' | 'env' | 'default';
}

function isAbsolute(p: string, platform: Platform): boolean {
  if (platform === 'win32') return /^[a-zA-Z]:[\\/]/.test(p) || p.startsWith('\\\\');
  return p.startsWith('/');
}

function join(platform: Platform, ...parts: string[]): string {
  const sep = platform === 'win32' ? '\\' : '/';
  return parts
    .map((part, i) => {
      let s = part;
      if (i > 0) s = s.replace(/^[\\/]+/, '');
      if (i < parts.length - 1) s = s.replace(/[\\/]+$/, '');
      return s;
    })
    .filter((s) => s.length > 0)
    .join(sep);
}

/** Expands a leading `~` and makes relative paths explicit errors: a relative data dir would
 * silently differ between the app (cwd = install dir) and a shell. */
function normalise(p: string, input: DataDirInput, what: string): string {
  let out = p.trim();
  if (out === '') throw new Error(`${what} is empty`);
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) out = join(input.platform, input.home, out.slice(1));
  if (!isAbsolute(out, input.platform)) throw new Error(`${what} must be an absolute path, got "${p}"`);
  return out;
}

export function defaultDataDir(input: Omit<DataDirInput, 'flag'>): string {
  const { env, platform, home } = input;
  if (platform === 'win32') {
    // Local, not Roaming: pieces and logs can be large and must not sync with a domain profile.
    const base = env.LOCALAPPDATA && env.LOCALAPPDATA.trim() !== '' ? env.LOCALAPPDATA : join(platform, home, 'AppData', 'Local');
    return join(platform, base, 'Offhours');
  }
  if (platform === 'darwin') return join(platform, home, 'Library', 'Application Support', 'Offhours');
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && isAbsolute(xdg, platform) ? xdg : join(platform, home, '.local', 'share');
  return join(platform, base, 'offhours');
}

export function resolveDataDir(input: DataDirInput): ResolvedDataDir {
  if (input.flag !== undefined) return { path: normalise(input.flag, input, '--data-dir'), source: 'flag' };
  const fromEnv = input.env.OFFHOURS_DATA_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return { path: normalise(fromEnv, input, 'OFFHOURS_DATA_DIR'), source: 'env' };
  return { path: defaultDataDir(input), source: 'default' };
}
