// What closing the window does, whether to start hidden, and how main finds out whether a Linux
// desktop shows tray icons (D-Bus tools faked at the process boundary).
import { describe, expect, it } from 'vitest';
import { closeAction, startHidden } from '../../main/close-behaviour.js';
import { trayAvailable, type RunCommand } from '../../main/tray-availability.js';
import { parseShellArgs } from '../../main/args.js';

describe('closeAction', () => {
  it('hides to the tray when there is one', () => {
    expect(closeAction({ quitting: false, trayAvailable: true })).toBe('hide');
  });
  it('minimises when there is no tray, so the app never becomes invisible', () => {
    expect(closeAction({ quitting: false, trayAvailable: false })).toBe('minimize');
  });
  it('lets the window close when quitting', () => {
    expect(closeAction({ quitting: true, trayAvailable: true })).toBe('close');
    expect(closeAction({ quitting: true, trayAvailable: false })).toBe('close');
  });
});

describe('startHidden', () => {
  it('starts hidden when launched at login and a tray can bring the window back', () => {
    expect(startHidden({ argv: ['/opt/Offhours/offhours', '--hidden'], openedAtLogin: false, trayAvailable: true })).toBe(true);
    expect(startHidden({ argv: ['/Applications/Offhours.app/Contents/MacOS/Offhours'], openedAtLogin: true, trayAvailable: true })).toBe(true);
  });
  it('shows the window on a normal launch, and always when there is no tray', () => {
    expect(startHidden({ argv: ['/opt/Offhours/offhours'], openedAtLogin: false, trayAvailable: true })).toBe(false);
    expect(startHidden({ argv: ['/opt/Offhours/offhours', '--hidden'], openedAtLogin: false, trayAvailable: false })).toBe(false);
  });
});

describe('parseShellArgs', () => {
  it('reads --data-dir in both forms and --hidden, and ignores switches it does not know', () => {
    expect(parseShellArgs(['.', '--data-dir', '/srv/oh', '--hidden', '--enable-logging'])).toEqual({ dataDir: '/srv/oh', hidden: true });
    expect(parseShellArgs(['--data-dir=/srv/x'])).toEqual({ dataDir: '/srv/x', hidden: false });
    expect(parseShellArgs(['--no-sandbox'])).toEqual({ hidden: false });
    expect(parseShellArgs(['--data-dir'])).toEqual({ hidden: false });
  });
});

describe('trayAvailable', () => {
  const calls: string[] = [];
  const runner = (answers: Record<string, string | Error>): RunCommand => async (file, args, options) => {
    calls.push(`${file} ${args.join(' ')}`);
    expect(options.timeoutMs).toBeGreaterThan(0);
    const answer = answers[file];
    if (answer === undefined) throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
    if (answer instanceof Error) throw answer;
    return answer;
  };

  it('is always true on Windows and macOS, without asking D-Bus', async () => {
    calls.length = 0;
    expect(await trayAvailable('win32', runner({}))).toBe(true);
    expect(await trayAvailable('darwin', runner({}))).toBe(true);
    expect(calls).toEqual([]);
  });

  it('asks the StatusNotifierWatcher whether a host is registered (gdbus)', async () => {
    calls.length = 0;
    expect(await trayAvailable('linux', runner({ gdbus: '(<true>,)\n' }))).toBe(true);
    expect(calls[0]).toContain('org.kde.StatusNotifierWatcher');
    expect(calls[0]).toContain('IsStatusNotifierHostRegistered');
    expect(await trayAvailable('linux', runner({ gdbus: '(<false>,)\n' }))).toBe(false);
  });

  it('falls back to dbus-send when gdbus is missing', async () => {
    const reply = 'method return time=1 sender=:1.5 -> destination=:1.9 serial=3 reply_serial=2\n   variant       boolean true\n';
    expect(await trayAvailable('linux', runner({ 'dbus-send': reply }))).toBe(true);
    expect(await trayAvailable('linux', runner({ 'dbus-send': reply.replace('true', 'false') }))).toBe(false);
  });

  it('fails safe to "no tray": no watcher on the bus, no session bus, no tools, a timeout', async () => {
    const noWatcher = new Error('Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name org.kde.StatusNotifierWatcher was not provided');
    expect(await trayAvailable('linux', runner({ gdbus: noWatcher, 'dbus-send': new Error('org.freedesktop.DBus.Error.ServiceUnknown') }))).toBe(false);
    expect(await trayAvailable('linux', runner({}))).toBe(false);
    expect(await trayAvailable('linux', runner({ gdbus: Object.assign(new Error('timeout'), { killed: true, signal: 'SIGTERM' }) }))).toBe(false);
    expect(await trayAvailable('linux', runner({ gdbus: 'garbage' }))).toBe(false);
  });
});
