// The D-Bus idle reader: answer parsing, a fake `gdbus` on PATH for the desktops we cannot run
// here (GNOME, KDE), and the real gdbus against a real, empty session bus for "nothing answers".
// Recorded: "(uint32 N,)" and "(true,)" are the formats this machine's gdbus printed for the bus's
// own methods; the two error lines in the fake are what it printed with no bus / no service.
// Synthetic: "(uint64 N,)", Mutter's GetIdletime answer (GVariant text format).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DbusIdleSource, needsDbusIdle, parseGdbusBool, parseGdbusUint } from '../../agent/signals/dbus-idle.js';
import { useTempDirs } from '../support/tmp.js';
import { fakeExecutable, recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('gdbus answers', () => {
  it.each([
    ['(uint64 12345,)', 12345],
    ['(uint32 27217,)\n', 27217],
    ['(uint64 0,)', 0],
    ['(true,)', null],
    ['Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name x was not provided by any .service files', null],
    ['(int32 -1,)', null],
    ['', null],
  ])('%j -> %j', (out, value) => {
    expect(parseGdbusUint(out)).toBe(value);
  });
  it('booleans', () => {
    expect(parseGdbusBool('(true,)\n')).toBe(true);
    expect(parseGdbusBool('(false,)')).toBe(false);
    expect(parseGdbusBool('(uint32 1,)')).toBeNull();
  });
});

describe('when the agent needs it', () => {
  it.each([
    ['linux', false, {}, true],
    ['linux', true, { XDG_SESSION_TYPE: 'wayland' }, true],
    ['linux', true, { WAYLAND_DISPLAY: 'wayland-0' }, true],
    // Electron has no lock events on Linux: the D-Bus reader gives screen lock on X11 too.
    ['linux', true, { XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' }, true],
    ['win32', false, {}, false],
    ['darwin', true, {}, false],
  ] as const)('%s, electron %s, %j -> %s', (platform, electron, env, expected) => {
    expect(needsDbusIdle({ platform, electron, env })).toBe(expected);
  });
});

// Answers by destination from files; no file = the service is not there, as gdbus says it.
const FAKE_GDBUS = `
dir=$(dirname "$0")
dest=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--dest" ]; then dest="$2"; fi
  shift
done
echo "$dest" >> "$dir/calls"
if [ -f "$dir/nobus" ]; then echo 'Error connecting: Cannot autolaunch D-Bus without X11 $DISPLAY' >&2; exit 1; fi
if [ -f "$dir/$dest" ]; then cat "$dir/$dest"; exit 0; fi
echo "Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name $dest was not provided by any .service files" >&2
exit 1
`;

async function run(files: Record<string, string>, opts: { periodMs?: number } = {}) {
  const dir = tempDir();
  fakeExecutable(dir, 'gdbus', FAKE_GDBUS);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const sink = recordingSink();
  const source = new DbusIdleSource({ periodMs: opts.periodMs ?? 50, retryMs: 50 });
  source.start(testContext({ sink, env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } }));
  stops.push(() => source.stop());
  return { dir, sink, source, write: (name: string, text: string) => writeFileSync(join(dir, name), text) };
}

describe('D-Bus idle source', () => {
  it('GNOME: idle time from Mutter (milliseconds -> seconds) and the lock from org.gnome.ScreenSaver', async () => {
    const { sink, source, write } = await run({ 'org.gnome.Mutter.IdleMonitor': '(uint64 754321,)\n', 'org.gnome.ScreenSaver': '(false,)\n' });
    await waitFor(() => sink.last('idleSeconds'), 'idle time');
    expect(sink.last('idleSeconds')).toMatchObject({ value: 754, maxAgeMs: 10_000, source: 'dbus-idle' });
    expect(sink.last('screenLocked')).toMatchObject({ value: false });
    write('org.gnome.Mutter.IdleMonitor', '(uint64 1200,)');
    write('org.gnome.ScreenSaver', '(true,)');
    await waitFor(() => sink.last('screenLocked')?.value === true, 'the lock');
    await waitFor(() => sink.last('idleSeconds')?.value === 1, 'the new idle time');
    expect(source.detectors()).toEqual([
      { signal: 'idleSeconds', available: true, how: 'D-Bus: GNOME Mutter IdleMonitor, every 0.05 s' },
      { signal: 'screenLocked', available: true, how: 'D-Bus: GNOME ScreenSaver, every 0.05 s' },
    ]);
  });

  it('KDE: falls back to org.freedesktop.ScreenSaver and then asks it first', async () => {
    const { sink, dir } = await run({ 'org.freedesktop.ScreenSaver': '(uint32 30000,)' });
    await waitFor(() => sink.published.length >= 3, 'three rounds');
    // The shared file answers both methods; the bool parser refuses "(uint32 …)", so the lock is
    // not available while the idle time is.
    expect(sink.last('idleSeconds')).toMatchObject({ value: 30 });
    expect(sink.last('screenLocked')).toMatchObject({ notAvailable: true, note: expect.stringContaining('unreadable answer') });
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    // Round 1 tries Mutter then ScreenSaver for idle; later rounds go straight to ScreenSaver.
    expect(calls.slice(0, 2)).toEqual(['org.gnome.Mutter.IdleMonitor', 'org.freedesktop.ScreenSaver']);
    expect(calls.slice(4, 5)).toEqual(['org.freedesktop.ScreenSaver']);
  });

  it('says why when there is no session bus (headless, over SSH)', async () => {
    const { sink, source } = await run({ nobus: '' });
    await waitFor(() => sink.last('idleSeconds'), 'a reading');
    expect(sink.last('idleSeconds')).toMatchObject({ notAvailable: true, note: expect.stringContaining('no session bus') });
    expect(sink.last('screenLocked')).toMatchObject({ notAvailable: true, note: expect.stringContaining('no session bus') });
    expect(source.detectors().every((d) => !d.available)).toBe(true);
  });

  it('says gdbus is missing when it is not installed', async () => {
    const dir = tempDir();
    const sink = recordingSink();
    const source = new DbusIdleSource({ periodMs: 50 });
    source.start(testContext({ sink, env: { ...process.env, PATH: dir } }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('screenLocked'), 'a reading');
    expect(sink.last('idleSeconds')).toMatchObject({ notAvailable: true, note: expect.stringMatching(/^gdbus is not installed/) });
    expect(sink.last('screenLocked')).toMatchObject({ notAvailable: true, note: expect.stringMatching(/^gdbus is not installed/) });
  });
});

const haveRealDbus = spawnSync('sh', ['-c', 'command -v gdbus && command -v dbus-daemon']).status === 0;

describe.skipIf(!haveRealDbus)('with the real gdbus and a real session bus that has no idle service', () => {
  it('publishes not available, naming the services it tried', async () => {
    const dir = tempDir();
    const address = `unix:path=${join(dir, 'bus')}`;
    const daemon = spawn('dbus-daemon', ['--session', '--nofork', `--address=${address}`, '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    stops.push(() => daemon.kill());
    await new Promise<void>((resolve, reject) => {
      daemon.stdout.once('data', () => resolve());
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
    });
    const sink = recordingSink();
    const source = new DbusIdleSource({ periodMs: 100 });
    source.start(testContext({ sink, env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address } }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('screenLocked'), 'a reading', 20_000);
    expect(sink.last('idleSeconds')).toMatchObject({
      notAvailable: true,
      note: 'no D-Bus idle-time service answered: not running in this session (tried GNOME Mutter IdleMonitor, org.freedesktop.ScreenSaver)',
    });
    expect(sink.last('screenLocked')).toMatchObject({ notAvailable: true, note: expect.stringContaining('not running in this session') });
  });

  it('and without any bus address: no session bus', async () => {
    const sink = recordingSink();
    const source = new DbusIdleSource({ periodMs: 100 });
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    delete env.DISPLAY;
    env.XDG_RUNTIME_DIR = tempDir();
    source.start(testContext({ sink, env }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('screenLocked'), 'a reading', 20_000);
    expect(sink.last('idleSeconds')).toMatchObject({ notAvailable: true, note: expect.stringContaining('no session bus') });
  });
});
