// What counts as a game, from a process list: pure rules, no I/O.
//
// Games, not launchers. A launcher (Steam, Epic, Battle.net…) runs all day and must not block
// sharing by itself; what it starts is a game unless it is one of the launcher's own helpers (web
// views, crash handlers, updaters, Steam's Proton/Wine plumbing). Helpers and nested launchers are
// looked through: Steam -> reaper -> steam-launch-wrapper -> … -> Game.exe finds Game.exe, and the
// first non-helper on each branch is the game (its own children are not listed again).
// The user's list matches any process by name, launcher or not; the user's ignore list marks
// launcher children that are not games (an unknown helper that would otherwise block all day).
import type { GameSeen, Policy } from '../../protocol/index.js';
import type { ProcessInfo } from './process-list.js';
import type { SteamState } from './steam.js';

/** Lower case, without a trailing .exe: "Battle.net.exe" -> "battle.net". */
export function normalizeProcessName(name: string): string {
  return name.trim().toLowerCase().replace(/\.exe$/, '');
}

/** Launcher processes, by normalized name. A family name is for logs and docs only. */
export const LAUNCHERS: ReadonlyMap<string, string> = new Map([
  ['steam', 'Steam'],
  ['steam_osx', 'Steam'],
  ['epicgameslauncher', 'Epic Games'],
  ['battle.net', 'Battle.net'],
  ['eadesktop', 'EA app'],
  ['origin', 'EA app'],
  ['riotclientservices', 'Riot'],
  ['upc', 'Ubisoft Connect'],
  ['ubisoftconnect', 'Ubisoft Connect'],
  ['uplay', 'Ubisoft Connect'],
  ['galaxyclient', 'GOG Galaxy'],
  ['amazon games', 'Amazon Games'],
  ['playnite.desktopapp', 'Playnite'],
  ['playnite.fullscreenapp', 'Playnite'],
  ['lutris', 'Lutris'],
  ['heroic', 'Heroic'],
  ['legendary', 'Heroic'],
  ['gogdl', 'Heroic'],
  ['nile', 'Heroic'],
  ['bottles', 'Bottles'],
]);

/** Launcher helpers and launch plumbing, by normalized name: never a game, looked through. */
export const LAUNCHER_HELPERS: ReadonlySet<string> = new Set([
  // Steam (Windows, macOS, Linux) and its Linux runtime / Proton chain
  'steamwebhelper', 'steamservice', 'steamerrorreporter', 'steamerrorreporter64', 'gameoverlayui', 'gameoverlayui64',
  'gldriverquery', 'gldriverquery64', 'vulkandriverquery', 'vulkandriverquery64', 'fossilize_replay', 'reaper',
  'steam-launch-wrapper', 'steam-runtime-launcher-service', 'steam-runtime-launch-client', 'steam-runtime-check-requirements',
  'steam-runtime-system-info', 'srt-logger', 'pressure-vessel-wrap', 'pressure-vessel-adverb', 'pressure-vessel-launcher',
  'pv-bwrap', 'pv-adverb', 'bwrap', 'srt-bwrap', 'proton', 'x86_64-linux-gnu-capsule-capture-libs', 'i386-linux-gnu-capsule-capture-libs',
  'steam.sh', 'ipcserver', 'steamtours',
  // Wine, as every Proton/Lutris/Heroic game runs it
  'wineserver', 'wine', 'wine64', 'wine-preloader', 'wine64-preloader', 'services', 'winedevice', 'explorer', 'plugplay',
  'rpcss', 'svchost', 'tabtip', 'conhost', 'start', 'rundll32', 'winemenubuilder', 'mscorsvw', 'umu-run', 'lutris-wrapper',
  'gamemoderun', 'gamescope',
  // Epic
  'epicwebhelper', 'epiconlineserviceshost', 'epiconlineservicesuserhelper', 'unrealcefsubprocess', 'epicgameslauncher-helper',
  // Battle.net
  'agent', 'battle.net helper', 'blizzard browser', 'blizzarderror', 'blizzard update agent',
  // EA app / Origin
  'eabackgroundservice', 'ealocalhostsvc', 'eacefsubprocess', 'eaconnect_microsoft', 'link2ea', 'eacrashreporter', 'eaupdater',
  'igoproxy', 'igoproxy64', 'originwebhelperservice', 'originclientservice', 'originer', 'qtwebengineprocess',
  // Riot
  'riotclientux', 'riotclientuxrender', 'riotclientcrashhandler', 'riot client',
  // Ubisoft
  'uplaywebcore', 'ubisoftconnectwebcore', 'uplayservice', 'upc_service', 'ubisoftgamelauncher', 'ubisoftgamelauncher64', 'uplaycrashreporter',
  // GOG Galaxy
  'galaxyclient helper', 'galaxyclientservice', 'galaxycommunication', 'gog galaxy notifications renderer', 'galaxyupdater',
  // Crash handlers, web views, shells and updaters any launcher may start
  'crashhandler', 'crashhandler64', 'crashpad_handler', 'unitycrashhandler32', 'unitycrashhandler64', 'werfault', 'cefsharp.browsersubprocess',
  'msedgewebview2', 'cmd', 'powershell', 'sh', 'bash', 'dash', 'env', 'python', 'python3', 'xdg-open', 'zenity', 'update', 'updater',
]);

export interface GameRules {
  games: Policy['games'];
  /** Our own workers and engines: never a game, even if the user's list names them. */
  ownPids: ReadonlySet<number>;
}

export function detectGames(processes: readonly ProcessInfo[], steam: SteamState, rules: GameRules): GameSeen[] {
  const extra = new Set(rules.games.extra.map((n) => normalizeProcessName(baseOf(n))));
  const ignore = new Set(rules.games.ignore.map((n) => normalizeProcessName(baseOf(n))));
  const found = new Map<number, GameSeen>();
  const out: GameSeen[] = [];
  const add = (g: GameSeen) => {
    if (g.pid !== undefined) {
      if (found.has(g.pid)) return;
      found.set(g.pid, g);
    }
    out.push(g);
  };

  for (const p of processes) {
    if (rules.ownPids.has(p.pid)) continue;
    const names = [normalizeProcessName(p.name), ...(p.path ? [normalizeProcessName(baseOf(p.path))] : [])];
    if (names.some((n) => extra.has(n))) add({ name: display(p.name), pid: p.pid, via: 'user-list' });
  }

  const children = new Map<number, ProcessInfo[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const visited = new Set<number>();
  const walk = (parent: ProcessInfo) => {
    for (const child of children.get(parent.pid) ?? []) {
      if (visited.has(child.pid) || child.pid === parent.pid) continue;
      visited.add(child.pid);
      // Ours, and everything under it, is ours (an engine's helpers), never a game.
      if (rules.ownPids.has(child.pid)) continue;
      const n = normalizeProcessName(child.name);
      if (LAUNCHERS.has(n) || LAUNCHER_HELPERS.has(n) || ignore.has(n)) walk(child);
      else add({ name: display(child.name), pid: child.pid, via: 'launcher' });
    }
  };
  const steamRunning = processes.some((p) => LAUNCHERS.get(normalizeProcessName(p.name)) === 'Steam');
  for (const p of processes) if (LAUNCHERS.has(normalizeProcessName(p.name)) && !visited.has(p.pid)) walk(p);

  // Trusted only while Steam itself runs: after a Steam crash the value can stay set.
  if (steam.state === 'running' && steamRunning) add({ name: display(steam.name), via: 'steam' });
  return out.slice(0, 200);
}

function baseOf(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

function display(name: string): string {
  return (name.trim() || '?').slice(0, 200);
}

/** Names that are the operating system or the desktop, never offered as game-list suggestions. */
const SYSTEM_NAMES = new Set([
  // Linux
  'systemd', '(sd-pam)', 'init', 'dbus-daemon', 'dbus-broker', 'dbus-broker-launch', 'pipewire', 'pipewire-pulse', 'wireplumber',
  'pulseaudio', 'xorg', 'xwayland', 'gnome-shell', 'gnome-session-binary', 'kwin_wayland', 'kwin_x11', 'plasmashell', 'sshd',
  'bash', 'sh', 'dash', 'zsh', 'fish', 'sudo', 'login', 'agetty', 'cron', 'crond', 'rsyslogd', 'polkitd', 'networkmanager',
  'udisksd', 'upowerd', 'accounts-daemon', 'containerd', 'dockerd', 'snapd', 'ps', 'sleep', 'cat', 'gdbus', 'nvidia-smi',
  'grep', 'timeout', 'tail', 'head', 'less', 'ssh', 'tmux', 'screen', 'python3', 'git',
  // Windows
  'system', 'registry', 'smss', 'csrss', 'wininit', 'winlogon', 'services', 'lsass', 'svchost', 'fontdrvhost', 'dwm', 'explorer',
  'sihost', 'taskhostw', 'runtimebroker', 'searchhost', 'startmenuexperiencehost', 'shellexperiencehost', 'ctfmon', 'conhost',
  'dllhost', 'spoolsv', 'audiodg', 'wmiprvse', 'searchindexer', 'securityhealthservice', 'msmpeng', 'nissrv', 'textinputhost',
  'applicationframehost', 'lockapp', 'smartscreen', 'memory compression', 'system idle process', 'idle', 'powershell', 'cmd', 'reg',
  // macOS
  'kernel_task', 'launchd', 'windowserver', 'loginwindow', 'dock', 'finder', 'systemuiserver', 'controlcenter', 'mds', 'mds_stores',
  'mdworker', 'mdworker_shared', 'coreaudiod', 'cfprefsd', 'distnoted', 'trustd', 'syslogd', 'notifyd', 'configd', 'bluetoothd',
  // Offhours itself
  'offhours', 'electron', 'node',
]);
const SYSTEM_PREFIXES = /^(gsd-|at-spi|ibus-|gvfs|xdg-|evolution-|kworker|systemd-|tracker-|npm |npm$|npx )/;
/** Anonymous memory mappings and crash reporters are never games either. */
const NOT_A_PROGRAM = /:|crashpad|crash_handler|crashhandler/;
const SYSTEM_PATHS = /^(\/usr\/libexec\/|\/usr\/sbin\/|\/sbin\/|\/usr\/lib\/systemd\/|\/System\/|[a-z]:\\windows\\)/i;

export function isSystemProcess(p: ProcessInfo): boolean {
  const n = normalizeProcessName(p.name);
  return SYSTEM_NAMES.has(n) || SYSTEM_PREFIXES.test(n) || NOT_A_PROGRAM.test(n) || LAUNCHER_HELPERS.has(n) || (p.path !== null && SYSTEM_PATHS.test(p.path));
}
