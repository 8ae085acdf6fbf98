// Start at login per OS, with Electron's app faked and a temporary XDG config directory.
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyStartAtLogin,
  autostartEntry,
  autostartPath,
  quoteExecArg,
  quoteWindowsArg,
  type LoginItemBoundary,
  type LoginItemSettings,
} from '../../main/login-item.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offhours-login-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function boundary(over: Partial<LoginItemBoundary>): LoginItemBoundary & { calls: LoginItemSettings[] } {
  const calls: LoginItemSettings[] = [];
  return {
    platform: 'linux',
    execPath: '/opt/Offhours/offhours',
    env: { XDG_CONFIG_HOME: join(dir, 'config') },
    home: join(dir, 'home'),
    setLoginItemSettings: (s) => void calls.push(s),
    ...over,
    calls,
  };
}

/** Reads a desktop entry's keys the way the spec says (string escapes, then Exec quoting). */
function parseExec(entry: string): string[] {
  const line = entry.split('\n').find((l) => l.startsWith('Exec='))!;
  const value = line.slice('Exec='.length).replace(/\\(.)/g, (_m, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c] ?? `\\${c}`);
  const args: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === ' ') {
      i++;
      continue;
    }
    let arg = '';
    if (value[i] === '"') {
      i++;
      while (value[i] !== '"') {
        if (value[i] === '\\') i++;
        arg += value[i++];
      }
      i++;
    } else {
      while (i < value.length && value[i] !== ' ') arg += value[i++];
    }
    args.push(arg.replace(/%%/g, '%'));
  }
  return args;
}

describe('Linux: XDG autostart file', () => {
  it('writes $XDG_CONFIG_HOME/autostart/offhours.desktop that starts the app hidden', async () => {
    const b = boundary({});
    await applyStartAtLogin(true, b);
    const file = join(dir, 'config', 'autostart', 'offhours.desktop');
    const entry = await readFile(file, 'utf8');
    expect(entry.startsWith('[Desktop Entry]\n')).toBe(true);
    expect(entry).toContain('Type=Application\n');
    expect(entry).toContain('X-GNOME-Autostart-enabled=true\n');
    expect(parseExec(entry)).toEqual(['/opt/Offhours/offhours', '--hidden']);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(b.calls).toEqual([]);
  });

  it('defaults to ~/.config, and ignores a relative XDG_CONFIG_HOME as the spec says', () => {
    expect(autostartPath({}, '/home/ada')).toBe('/home/ada/.config/autostart/offhours.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: 'cfg' }, '/home/ada')).toBe('/home/ada/.config/autostart/offhours.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/ada')).toBe('/x/cfg/autostart/offhours.desktop');
  });

  it('launches the AppImage file, not its temporary mount', async () => {
    await applyStartAtLogin(true, boundary({ env: { XDG_CONFIG_HOME: join(dir, 'config'), APPIMAGE: '/home/ada/Apps/Offhours-0.1.0.AppImage' }, execPath: '/tmp/.mount_OffhouXYZ/offhours' }));
    const entry = await readFile(join(dir, 'config', 'autostart', 'offhours.desktop'), 'utf8');
    expect(parseExec(entry)).toEqual(['/home/ada/Apps/Offhours-0.1.0.AppImage', '--hidden']);
  });

  it('repeats a chosen data directory, and the app folder when unpackaged', async () => {
    await applyStartAtLogin(true, boundary({ execPath: '/usr/lib/electron/electron', devAppPath: '/src/offhours', extraArgs: ['--data-dir', '/srv/oh'] }));
    const entry = await readFile(join(dir, 'config', 'autostart', 'offhours.desktop'), 'utf8');
    expect(parseExec(entry)).toEqual(['/usr/lib/electron/electron', '/src/offhours', '--data-dir', '/srv/oh', '--hidden']);
  });

  it('quotes paths with spaces and reserved characters so they survive both escape layers', () => {
    const tricky = ['/home/ada/My Apps/Off"hours$`\\ 100%.AppImage', '--hidden'];
    expect(parseExec(autostartEntry(tricky))).toEqual(tricky);
    expect(quoteExecArg('/plain/path')).toBe('/plain/path');
    expect(quoteExecArg('50%')).toBe('50%%');
  });

  it('removes the file when turned off, and does not mind when it is already gone', async () => {
    const b = boundary({});
    await applyStartAtLogin(true, b);
    await applyStartAtLogin(false, b);
    await expect(stat(join(dir, 'config', 'autostart', 'offhours.desktop'))).rejects.toThrow(/ENOENT/);
    await applyStartAtLogin(false, b);
  });

  it('leaves other autostart entries alone', async () => {
    await mkdir(join(dir, 'config', 'autostart'), { recursive: true });
    await writeFile(join(dir, 'config', 'autostart', 'other.desktop'), 'x');
    await applyStartAtLogin(true, boundary({}));
    await applyStartAtLogin(false, boundary({}));
    expect(await readFile(join(dir, 'config', 'autostart', 'other.desktop'), 'utf8')).toBe('x');
  });
});

describe('Windows: login item', () => {
  it('registers the executable with --hidden, and removes it with the same path and args', async () => {
    const b = boundary({ platform: 'win32', execPath: 'C:\\Users\\ada\\AppData\\Local\\Programs\\Offhours\\Offhours.exe' });
    await applyStartAtLogin(true, b);
    await applyStartAtLogin(false, b);
    expect(b.calls).toEqual([
      { openAtLogin: true, path: 'C:\\Users\\ada\\AppData\\Local\\Programs\\Offhours\\Offhours.exe', args: ['--hidden'] },
      { openAtLogin: false, path: 'C:\\Users\\ada\\AppData\\Local\\Programs\\Offhours\\Offhours.exe', args: ['--hidden'] },
    ]);
  });

  it('quotes arguments with spaces, since Electron joins them as they are', async () => {
    const b = boundary({ platform: 'win32', execPath: 'C:\\Offhours\\Offhours.exe', extraArgs: ['--data-dir', 'D:\\Off hours'] });
    await applyStartAtLogin(true, b);
    expect(b.calls[0]!.args).toEqual(['--data-dir', '"D:\\Off hours"', '--hidden']);
    expect(quoteWindowsArg('a"b c')).toBe('"a\\"b c"');
  });

  it('writes no file', async () => {
    await applyStartAtLogin(true, boundary({ platform: 'win32' }));
    await expect(stat(join(dir, 'config'))).rejects.toThrow(/ENOENT/);
  });
});

describe('macOS: login item', () => {
  it('uses the login item API and writes no file', async () => {
    const b = boundary({ platform: 'darwin', execPath: '/Applications/Offhours.app/Contents/MacOS/Offhours' });
    await applyStartAtLogin(true, b);
    await applyStartAtLogin(false, b);
    expect(b.calls.map((c) => c.openAtLogin)).toEqual([true, false]);
    expect(b.calls[0]!.args).toEqual(['--hidden']);
    expect(b.calls[0]!.path).toBeUndefined();
    await expect(stat(join(dir, 'config'))).rejects.toThrow(/ENOENT/);
  });
});
