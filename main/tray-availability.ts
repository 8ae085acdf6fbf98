// Whether this desktop will show our tray icon. Windows and macOS always do. On Linux, Electron's
// tray is a StatusNotifierItem: it shows only when a StatusNotifier host (the panel) is
// registered with org.kde.StatusNotifierWatcher on the session bus. Stock GNOME has none. Any
// doubt (no D-Bus tools, no session bus, a timeout) answers "no tray": a visible window in the
// task bar is safer than an app with no way back to it.

/** Runs a command and resolves with its stdout; rejects on a non-zero exit, a spawn error or the timeout. */
export type RunCommand = (file: string, args: readonly string[], options: { timeoutMs: number }) => Promise<string>;

const WATCHER = 'org.kde.StatusNotifierWatcher';
const PROPERTY = 'IsStatusNotifierHostRegistered';

// Two tools, because distributions ship one or the other: gdbus comes with GLib, dbus-send with dbus.
const PROBES: ReadonlyArray<{ file: string; args: string[]; says: (stdout: string) => boolean }> = [
  {
    file: 'gdbus',
    args: ['call', '--session', '--dest', WATCHER, '--object-path', '/StatusNotifierWatcher', '--method',
      'org.freedesktop.DBus.Properties.Get', WATCHER, PROPERTY],
    // "(<true>,)"
    says: (out) => /<\s*true\s*>/.test(out),
  },
  {
    file: 'dbus-send',
    args: ['--session', '--print-reply', `--dest=${WATCHER}`, '/StatusNotifierWatcher',
      'org.freedesktop.DBus.Properties.Get', `string:${WATCHER}`, `string:${PROPERTY}`],
    // "variant       boolean true"
    says: (out) => /boolean\s+true/.test(out),
  },
];

export async function trayAvailable(platform: string, run: RunCommand, timeoutMs = 2_000): Promise<boolean> {
  if (platform !== 'linux') return true;
  for (const probe of PROBES) {
    let stdout: string;
    try {
      stdout = await run(probe.file, probe.args, { timeoutMs });
    } catch {
      // Missing tool, no watcher (the call errors), or no session bus: try the other tool.
      continue;
    }
    return probe.says(stdout);
  }
  return false;
}
