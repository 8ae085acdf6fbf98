// Games, not launchers: a fake /proc tree (synthetic, in the kernel's stat/cmdline layout) with a
// Steam -> reaper -> Proton -> game hierarchy, Steam's state files (synthetic fixtures, see
// tests/fixtures/signals/README.md), and one real process on this machine named like a listed game.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectGames, normalizeProcessName } from '../../agent/signals/game-detect.js';
import { FULLSCREEN_NOTES, GamesSource } from '../../agent/signals/games.js';
import { linuxProcessLister, processName, type ProcessInfo } from '../../agent/signals/process-list.js';
import { parseRegQuery, parseVdf, runningAppIdFromVdf, SteamReader } from '../../agent/signals/steam.js';
import { useTempDirs } from '../support/tmp.js';
import { recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'signals', name), 'utf8');
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

// pid, ppid, comm (as the kernel cuts it), argv
const TREE: Array<[number, number, string, string[]]> = [
  [1, 0, 'systemd', ['/sbin/init']],
  [2, 0, 'kthreadd', []],
  [50, 2, 'kworker/0:1', []],
  [1000, 1, 'steam', ['/home/u/.local/share/Steam/ubuntu12_32/steam', '-silent']],
  [1001, 1000, 'steamwebhelper', ['./steamwebhelper', '-lang=en']],
  [1002, 1000, 'fossilize_repla', ['/home/u/.local/share/Steam/ubuntu12_64/fossilize_replay']],
  [1010, 1000, 'reaper', ['/home/u/.local/share/Steam/ubuntu12_32/reaper', 'SteamLaunch', 'AppId=1091500']],
  [1011, 1010, 'steam-launch-wr', ['/home/u/.local/share/Steam/ubuntu12_32/steam-launch-wrapper', '--']],
  [1012, 1011, 'proton', ['python3', '/home/u/.local/share/Steam/steamapps/common/Proton 9.0/proton', 'waitforexitandrun']],
  [1013, 1012, 'wineserver', ['/home/u/.local/share/Steam/steamapps/common/Proton 9.0/files/bin/wineserver']],
  [1014, 1012, 'Cyberpunk2077.e', ['C:\\Games\\Cyberpunk 2077\\bin\\x64\\Cyberpunk2077.exe']],
  [1015, 1014, 'CrashReporter.e', ['C:\\Games\\Cyberpunk 2077\\bin\\x64\\CrashReporter.exe']],
  [2000, 1, 'heroic', ['/opt/Heroic/heroic']],
  [2001, 2000, 'heroic', ['/opt/Heroic/heroic --type=renderer']],
  [2002, 2000, 'SomeHelper.exe', ['Z:\\opt\\SomeHelper.exe']],
  [3000, 1, 'bash', ['/bin/bash']],
  [3001, 3000, 'mygame', ['./mygame']],
];

function fakeProc(tree = TREE): string {
  const root = tempDir();
  writeFileSync(join(root, 'stat'), 'cpu  1 0 0 1 0 0 0 0 0 0\n');
  for (const [pid, ppid, comm, argv] of tree) {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 10 5 0 0 20 0 1 0 ${pid * 10} 0 0\n`);
    writeFileSync(join(root, String(pid), 'cmdline'), argv.length ? `${argv.join('\0')}\0` : '');
  }
  return root;
}

function steamHome(registry: string): string {
  const home = tempDir();
  const library = join(home, 'games-ssd');
  mkdirSync(join(home, '.steam', 'steam', 'steamapps'), { recursive: true });
  mkdirSync(join(library, 'steamapps'), { recursive: true });
  writeFileSync(join(home, '.steam', 'registry.vdf'), fixture(registry));
  // The game lives in a second library, listed by libraryfolders.vdf (synthetic).
  writeFileSync(join(home, '.steam', 'steam', 'steamapps', 'libraryfolders.vdf'), `"libraryfolders"\n{\n\t"0"\n\t{\n\t\t"path"\t\t"${join(home, '.steam', 'steam')}"\n\t}\n\t"1"\n\t{\n\t\t"path"\t\t"${library}"\n\t}\n}\n`);
  writeFileSync(join(library, 'steamapps', 'appmanifest_1091500.acf'), fixture('appmanifest_1091500-synthetic.acf'));
  return home;
}

describe('process list from /proc', () => {
  it('names processes by their full executable name, leaves kernel threads out', async () => {
    const list = await linuxProcessLister(fakeProc())();
    const byPid = new Map(list.map((p) => [p.pid, p]));
    expect(byPid.has(50)).toBe(false);
    expect(byPid.has(2)).toBe(false);
    expect(byPid.get(1014)).toEqual({ pid: 1014, ppid: 1012, name: 'Cyberpunk2077.exe', path: 'C:\\Games\\Cyberpunk 2077\\bin\\x64\\Cyberpunk2077.exe' });
    expect(byPid.get(1002)!.name).toBe('fossilize_replay');
    expect(byPid.get(1012)!.name).toBe('proton');
    expect(byPid.get(2001)!.name).toBe('heroic');
  });
  it('processName keeps comm unless it was cut at 15 characters', () => {
    expect(processName('steam-launch-wr', '/x/steam-launch-wrapper')).toBe('steam-launch-wrapper');
    expect(processName('python3', '/usr/bin/python3')).toBe('python3');
    expect(processName('GameThreadNam15', '/opt/other/binary')).toBe('GameThreadNam15');
    expect(normalizeProcessName(' Battle.net.EXE ')).toBe('battle.net');
  });
});

describe('game rules', () => {
  const steamIdle = { state: 'idle' } as const;
  const list = async () => linuxProcessLister(fakeProc())();

  it('a launcher alone is not a game; what it starts is, through Proton plumbing, once per branch', async () => {
    const procs = (await list()).filter((p) => p.pid < 2000);
    expect(detectGames(procs, steamIdle, { games: { extra: [], ignore: [] }, ownPids: new Set() })).toEqual([{ name: 'Cyberpunk2077.exe', pid: 1014, via: 'launcher' }]);
    const launcherOnly = procs.filter((p) => [1, 1000, 1001, 1002].includes(p.pid));
    expect(detectGames(launcherOnly, steamIdle, { games: { extra: [], ignore: [] }, ownPids: new Set() })).toEqual([]);
  });

  it('the user list matches any process, with or without .exe, in any case; the ignore list silences a launcher child', async () => {
    const procs = await list();
    const rules = { games: { extra: ['MyGame.exe'], ignore: [] }, ownPids: new Set<number>() };
    expect(detectGames(procs, steamIdle, rules)).toEqual([
      { name: 'mygame', pid: 3001, via: 'user-list' },
      { name: 'Cyberpunk2077.exe', pid: 1014, via: 'launcher' },
      { name: 'SomeHelper.exe', pid: 2002, via: 'launcher' },
    ]);
    const ignoring = { games: { extra: ['mygame'], ignore: ['somehelper'] }, ownPids: new Set<number>() };
    expect(detectGames(procs, steamIdle, ignoring).map((g) => g.pid)).toEqual([3001, 1014]);
  });

  it('never counts our own processes, even when listed', async () => {
    const procs = await list();
    expect(detectGames(procs, steamIdle, { games: { extra: ['mygame'], ignore: [] }, ownPids: new Set([3001, 1014]) }).map((g) => g.pid)).toEqual([2002]);
  });

  it("adds Steam's running game, but only while Steam runs (the value can outlive a crash)", async () => {
    const procs = await list();
    const running = { state: 'running', appId: 1091500, name: 'Cyberpunk 2077' } as const;
    expect(detectGames(procs, running, { games: { extra: [], ignore: ['somehelper'] }, ownPids: new Set() })).toContainEqual({ name: 'Cyberpunk 2077', via: 'steam' });
    const withoutSteam: ProcessInfo[] = procs.filter((p) => p.name !== 'steam');
    expect(detectGames(withoutSteam, running, { games: { extra: [], ignore: [] }, ownPids: new Set() }).filter((g) => g.via === 'steam')).toEqual([]);
  });
});

describe("Steam's state", () => {
  it('reads RunningAppID from registry.vdf (synthetic fixtures)', () => {
    expect(runningAppIdFromVdf(fixture('registry-running-synthetic.vdf'))).toBe(1091500);
    expect(runningAppIdFromVdf(fixture('registry-idle-synthetic.vdf'))).toBe(0);
    expect(runningAppIdFromVdf('"Registry" { }')).toBeNull();
    expect(parseVdf('"a" { "b" "c\\"d" // note\n "e" { } }')).toEqual({ a: { b: 'c"d', e: {} } });
  });

  it('Linux: the running game by name from the manifest in a second library', async () => {
    const reader = new SteamReader({ platform: 'linux', home: steamHome('registry-running-synthetic.vdf') });
    expect(await reader.read()).toEqual({ state: 'running', appId: 1091500, name: 'Cyberpunk 2077' });
    expect(await new SteamReader({ platform: 'linux', home: steamHome('registry-idle-synthetic.vdf') }).read()).toEqual({ state: 'idle' });
    expect(await new SteamReader({ platform: 'linux', home: tempDir() }).read()).toMatchObject({ state: 'absent' });
  });

  it('Windows: reg query output, REG_DWORD in hex (synthetic), name unknown without a manifest', async () => {
    const text = fixture('reg-query-steam-synthetic.txt');
    expect(parseRegQuery(text).get('runningappid')).toBe('1091500');
    expect(parseRegQuery(text).get('steampath')).toBe('c:/program files (x86)/steam');
    const calls: string[][] = [];
    const reader = new SteamReader({
      platform: 'win32',
      home: 'C:\\Users\\u',
      run: async (file, args) => {
        calls.push([file, ...args]);
        return { ok: true, stdout: text, stderr: '' };
      },
    });
    expect(await reader.read()).toEqual({ state: 'running', appId: 1091500, name: 'Steam game 1091500' });
    expect(calls).toEqual([['reg', 'query', 'HKCU\\Software\\Valve\\Steam']]);
  });
});

describe('games source', () => {
  it('publishes games and an honest full-screen note, and offers recent non-system processes', async () => {
    const sink = recordingSink();
    const source = new GamesSource({ periodMs: 50, procRoot: fakeProc() });
    source.start(testContext({ sink, home: steamHome('registry-running-synthetic.vdf'), games: () => ({ extra: ['mygame'], ignore: [] }) }));
    stops.push(() => source.stop());
    await waitFor(() => sink.last('gamesRunning'), 'a reading');
    expect(sink.last('gamesRunning')).toMatchObject({
      source: 'games',
      maxAgeMs: 10_000,
      value: [
        { name: 'mygame', pid: 3001, via: 'user-list' },
        { name: 'Cyberpunk2077.exe', pid: 1014, via: 'launcher' },
        { name: 'SomeHelper.exe', pid: 2002, via: 'launcher' },
        { name: 'Cyberpunk 2077', via: 'steam' },
      ],
    });
    expect(sink.last('fullscreen')).toMatchObject({ notAvailable: true, note: FULLSCREEN_NOTES.linux });
    expect(source.processesSeen()).toEqual(['CrashReporter.exe', 'Cyberpunk2077.exe', 'heroic', 'mygame', 'SomeHelper.exe', 'steam']);
    expect(source.detectors()).toEqual([
      { signal: 'gamesRunning', available: true, how: expect.stringContaining('RunningAppID') },
      { signal: 'fullscreen', available: false, how: 'Linux exposes no reliable full-screen state to an unprivileged process' },
    ]);
  });

  it.each(['win32', 'darwin', 'linux'] as const)('full-screen note on %s', (platform) => {
    const source = new GamesSource({ lister: async () => [] });
    source.start(testContext({ sink: recordingSink(), platform, games: () => ({ extra: [], ignore: [] }) }));
    stops.push(() => source.stop());
    expect(source.detectors()[1]).toEqual({ signal: 'fullscreen', available: false, how: FULLSCREEN_NOTES[platform] });
  });
});

describe.skipIf(process.platform !== 'linux')('a real process on this machine', () => {
  it('is seen while a listed game runs and gone after it exits', async () => {
    const dir = tempDir();
    const game = join(dir, 'mygame');
    try {
      symlinkSync('/bin/sleep', game);
    } catch {
      copyFileSync('/bin/sleep', game);
    }
    const sink = recordingSink();
    const source = new GamesSource({ periodMs: 100, steam: { read: async () => ({ state: 'absent', looked: 'test' }) } });
    source.start(testContext({ sink, games: () => ({ extra: ['MyGame.exe'], ignore: [] }) }));
    stops.push(() => source.stop());
    const child = spawn(game, ['30'], { stdio: 'ignore' });
    stops.push(() => child.kill('SIGKILL'));
    const seen = await waitFor(() => (sink.last('gamesRunning')?.value as any[] | undefined)?.find((g) => g.pid === child.pid), 'the game to be seen');
    expect(seen).toEqual({ name: 'mygame', pid: child.pid, via: 'user-list' });
    expect(source.processesSeen()).toContain('mygame');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await waitFor(() => !(sink.last('gamesRunning')?.value as any[]).some((g) => g.pid === child.pid), 'the game to be gone');
  });
});
