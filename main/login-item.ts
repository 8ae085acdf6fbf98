// Start at login, following the agent's `startAtLogin` setting. macOS and Windows have login items
// (app.setLoginItemSettings); Linux has none in Electron, so we write or remove an XDG autostart
// entry, which GNOME, KDE, Xfce and the others read at session start.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HIDDEN_ARG = '--hidden';
export const AUTOSTART_FILE = 'offhours.desktop';

export interface LoginItemSettings {
  openAtLogin: boolean;
  path?: string;
  args?: string[];
}

export interface LoginItemBoundary {
  platform: string;
  /** process.execPath: the app's executable (Electron itself in development). */
  execPath: string;
  /** Set when running unpackaged (`electron .`): the executable then needs the app folder. */
  devAppPath?: string;
  /** Flags the login launch must repeat, e.g. a `--data-dir` the user chose. */
  extraArgs?: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  setLoginItemSettings(settings: LoginItemSettings): void;
}

export function autostartPath(env: LoginItemBoundary['env'], home: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(home, '.config');
  return join(base, 'autostart', AUTOSTART_FILE);
}

/** Quotes one Exec argument as the Desktop Entry spec asks: reserved characters force double
 * quotes, inside which `"`, `` ` ``, `$` and `\` are backslash-escaped; `%` is doubled because
 * Exec reserves it for field codes. The key's value is then a string, whose own escape rules
 * turn every backslash into two. */
export function quoteExecArg(arg: string): string {
  const escapedPercent = arg.replace(/%/g, '%%');
  const needsQuotes = /[\s"'\\><~|&;$*?#()`]/.test(escapedPercent) || escapedPercent === '';
  const quoted = needsQuotes ? `"${escapedPercent.replace(/(["`$\\])/g, '\\$1')}"` : escapedPercent;
  return quoted.replace(/\\/g, '\\\\');
}

export function autostartEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Offhours',
    'Comment=Shares this computer’s idle time, only when you allow it',
    `Exec=${command.map(quoteExecArg).join(' ')}`,
    'Icon=offhours',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** The command a login should run. An AppImage runs from a temporary mount whose path changes at
 * every start, so its own file ($APPIMAGE) is what must be launched. */
export function launchCommand(boundary: Pick<LoginItemBoundary, 'platform' | 'execPath' | 'devAppPath' | 'extraArgs' | 'env'>): string[] {
  const appImage = boundary.platform === 'linux' ? boundary.env.APPIMAGE : undefined;
  const executable = appImage !== undefined && appImage !== '' ? appImage : boundary.execPath;
  return [executable, ...(boundary.devAppPath !== undefined ? [boundary.devAppPath] : []), ...(boundary.extraArgs ?? []), HIDDEN_ARG];
}

/** Electron joins Windows login-item args with spaces as they are ("take care to wrap paths in
 * quotes"), so an argument with a space or a quote is quoted here. */
export function quoteWindowsArg(arg: string): string {
  return /[\s"]/.test(arg) || arg === '' ? `"${arg.replace(/"/g, '\\"')}"` : arg;
}

export async function applyStartAtLogin(enabled: boolean, boundary: LoginItemBoundary): Promise<void> {
  const [executable, ...args] = launchCommand(boundary);
  if (boundary.platform === 'linux') {
    const file = autostartPath(boundary.env, boundary.home);
    if (enabled) {
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, autostartEntry([executable!, ...args]), { mode: 0o644 });
    } else {
      await rm(file, { force: true });
    }
    return;
  }
  if (boundary.platform === 'win32') {
    // Windows matches the entry by path and args: removal must pass the same ones as creation.
    boundary.setLoginItemSettings({ openAtLogin: enabled, path: executable!, args: args.map(quoteWindowsArg) });
    return;
  }
  // macOS (13+) registers the app bundle itself and cannot pass arguments; main detects a login
  // launch with app.getLoginItemSettings().wasOpenedAtLogin instead of `--hidden`.
  boundary.setLoginItemSettings({ openAtLogin: enabled, args });
}
