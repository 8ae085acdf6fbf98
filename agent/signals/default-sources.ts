// Which sources this agent runs, by platform and mode (inside the Electron app, or headless), and
// the same knowledge as data for the Schedule page's "what this machine can check" and the README.
import type { SignalName } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { BatterySource } from './battery.js';
import { CpuLoadSource } from './cpu-load.js';
import { CpuTemperatureSource } from './cpu-temperature.js';
import { DbusIdleSource, needsDbusIdle } from './dbus-idle.js';
import { GAMES_HOW, GamesSource, fullscreenNote } from './games.js';
import { HwmonSource } from './hwmon.js';
import { NvidiaGpuSource } from './nvidia-smi.js';
import { NvidiaSmiSampler } from './nvidia-smi-sampler.js';
import type { Detector, SignalSource } from './source.js';

export interface DefaultSourcesOptions {
  platform: NodeJS.Platform;
  /** Running inside the Electron app, whose shell forwards powerMonitor signals. */
  electron: boolean;
  env: NodeJS.ProcessEnv;
  /** The one nvidia-smi stream, shared with the energy sampler: create it once and pass it to
   * both. One is made here if not given. */
  gpuSampler?: NvidiaSmiSampler;
  log?: Logger;
  /** Test seams: where /sys and /proc are. */
  sysRoot?: string;
  procRoot?: string;
}

export function createDefaultSources(opts: DefaultSourcesOptions): SignalSource[] {
  const { platform, electron, env } = opts;
  const sources: SignalSource[] = [];
  let nvidia: NvidiaGpuSource | null = null;
  // macOS has had no NVIDIA driver since 10.13; nvidia-smi exists on Linux and Windows.
  if (platform === 'linux' || platform === 'win32') {
    nvidia = new NvidiaGpuSource({ sampler: opts.gpuSampler ?? new NvidiaSmiSampler({ env, ...(opts.log ? { log: opts.log } : {}) }) });
    sources.push(nvidia);
  }
  if (platform === 'linux') {
    const first = nvidia;
    sources.push(new HwmonSource({ ...(opts.sysRoot ? { sysRoot: opts.sysRoot } : {}), gpuIndexOffset: () => (first ? first.gpuCount() : 0) }));
  } else {
    sources.push(new CpuTemperatureSource());
  }
  // Electron's on-ac/on-battery events exist on macOS and Windows only, and it never gives the charge.
  sources.push(new BatterySource({ publishOnBattery: platform === 'linux' || !electron, ...(opts.sysRoot ? { sysRoot: opts.sysRoot } : {}) }));
  sources.push(new CpuLoadSource(opts.procRoot ? { procRoot: opts.procRoot } : {}));
  sources.push(new GamesSource(opts.procRoot ? { procRoot: opts.procRoot } : {}));
  if (needsDbusIdle({ platform, electron, env })) sources.push(new DbusIdleSource());
  return sources;
}

export type SupportedPlatform = 'linux' | 'win32' | 'darwin';

export interface DetectorCell {
  available: boolean;
  how: string;
}

export interface PlatformDetectorRow {
  signal: SignalName;
  /** In the desktop app. */
  app: Record<SupportedPlatform, DetectorCell>;
  /** Under the headless agent, where it differs from the app. */
  headless?: Partial<Record<SupportedPlatform, DetectorCell>>;
}

const yes = (how: string): DetectorCell => ({ available: true, how });
const no = (how: string): DetectorCell => ({ available: false, how });
const all = (cell: DetectorCell): Record<SupportedPlatform, DetectorCell> => ({ linux: cell, win32: cell, darwin: cell });

/** Which platform gets which detector. What a particular machine has (a sensor, a GPU, a session
 * bus) is known only at run time: each source's detectors() says that. */
export const PLATFORM_DETECTORS: readonly PlatformDetectorRow[] = [
  {
    signal: 'idleSeconds',
    app: {
      linux: yes('Electron powerMonitor on X11; on Wayland (where Electron reads 0) the D-Bus idle monitors: GNOME Mutter IdleMonitor, org.freedesktop.ScreenSaver'),
      win32: yes('Electron powerMonitor'),
      darwin: yes('Electron powerMonitor'),
    },
    headless: {
      linux: yes("D-Bus idle monitors (GNOME Mutter IdleMonitor, org.freedesktop.ScreenSaver) when the agent runs inside a desktop session; otherwise not available: use the 'dedicated machine' setting"),
      win32: no("the headless agent reads no idle time on Windows: use the app, or the 'dedicated machine' setting"),
      darwin: no("the headless agent reads no idle time on macOS: use the app, or the 'dedicated machine' setting"),
    },
  },
  {
    signal: 'screenLocked',
    app: {
      linux: yes('D-Bus ScreenSaver GetActive (GNOME, KDE): Electron has no lock events on Linux'),
      win32: yes('Electron lock-screen / unlock-screen events'),
      darwin: yes('Electron lock-screen / unlock-screen events'),
    },
    headless: {
      linux: yes('D-Bus ScreenSaver GetActive (GNOME, KDE) inside a desktop session'),
      win32: no('the headless agent reads no screen lock on Windows'),
      darwin: no('the headless agent reads no screen lock on macOS'),
    },
  },
  {
    signal: 'onBattery',
    app: { linux: yes('/sys/class/power_supply, every 10 s'), win32: yes('Electron on-ac / on-battery events'), darwin: yes('Electron on-ac / on-battery events') },
    headless: { win32: yes('systeminformation battery() (PowerShell), every 10 s'), darwin: yes('systeminformation battery() (pmset), every 10 s') },
  },
  { signal: 'batteryPercent', app: { linux: yes('/sys/class/power_supply, every 10 s; "no battery" on a desktop'), win32: yes('systeminformation battery() (PowerShell), every 10 s; "no battery" on a desktop'), darwin: yes('systeminformation battery() (pmset), every 10 s; "no battery" on a desktop') } },
  {
    signal: 'cpuTemperature',
    app: {
      linux: yes('hwmon k10temp/zenpower/coretemp or a CPU thermal zone, every 5 s'),
      win32: yes('systeminformation (ACPI thermal zone), every 30 s; many boards expose none, or only to administrators'),
      darwin: no('macOS needs a native sensor module that Offhours does not ship'),
    },
  },
  {
    signal: 'gpuTemperature',
    app: {
      linux: yes('NVIDIA: one nvidia-smi stream (1 s); AMD: hwmon amdgpu (5 s)'),
      win32: yes('NVIDIA: one nvidia-smi stream (1 s); other GPUs: not available'),
      darwin: no('macOS has no NVIDIA driver and exposes no GPU temperature to an unprivileged process'),
    },
  },
  {
    signal: 'cpuForeignLoad',
    app: {
      linux: yes('/proc: machine load minus our workers and their children, every 2 s'),
      win32: yes('whole-machine load every 2 s; our own workers are not subtracted (approximate)'),
      darwin: yes('whole-machine load every 2 s; our own workers are not subtracted (approximate)'),
    },
  },
  {
    signal: 'gpuForeignLoad',
    app: {
      linux: yes('NVIDIA: utilization split between our processes and others with nvidia-smi pmon, every 5 s; AMD: not available'),
      win32: yes("NVIDIA: utilization, with compute processes from nvidia-smi --query-compute-apps (another program's graphics load is missed while we use the GPU)"),
      darwin: no('macOS has no NVIDIA driver and no per-process GPU figures'),
    },
  },
  { signal: 'gamesRunning', app: { linux: yes(GAMES_HOW.linux!), win32: yes(GAMES_HOW.win32!), darwin: yes(GAMES_HOW.darwin!) } },
  { signal: 'fullscreen', app: { linux: no(fullscreenNote('linux')), win32: no(fullscreenNote('win32')), darwin: no(fullscreenNote('darwin')) } },
  {
    signal: 'thermalState',
    app: { linux: no('macOS only (Electron thermal-state-change)'), win32: no('macOS only (Electron thermal-state-change)'), darwin: yes('Electron thermal-state-change') },
    headless: { darwin: no('the headless agent has no Electron powerMonitor') },
  },
  {
    signal: 'speedLimit',
    app: { linux: no('macOS and Windows only (Electron speed-limit-change)'), win32: yes('Electron speed-limit-change'), darwin: yes('Electron speed-limit-change') },
    headless: { win32: no('the headless agent has no Electron powerMonitor'), darwin: no('the headless agent has no Electron powerMonitor') },
  },
  {
    signal: 'suspended',
    app: all(yes('Electron suspend / resume events')),
    headless: all(no('the headless agent has no Electron powerMonitor')),
  },
  { signal: 'price', app: all(yes('the active tariff (flat, time-of-use bands, or an imported price table), else the flat price on the Schedule page; fresh until the price changes')) },
  { signal: 'hourlyNet', app: all(yes('per device, every 5 s: what paid work earned per hour over the last 7 days, and the marginal power at the current price')) },
];

/** The rows for one platform and mode, in the shape of the API's detectors list. */
export function platformDetectors(platform: NodeJS.Platform, electron: boolean): Detector[] {
  const p: SupportedPlatform = platform === 'win32' || platform === 'darwin' ? platform : 'linux';
  return PLATFORM_DETECTORS.map((row) => {
    const cell = (!electron ? row.headless?.[p] : undefined) ?? row.app[p];
    return { signal: row.signal, available: cell.available, how: cell.how };
  });
}

/** The table as Markdown, for the README. */
export function platformDetectorsMarkdown(): string {
  const cell = (c: DetectorCell) => `${c.available ? '' : 'not available: '}${c.how}`.replace(/\|/g, '\\|');
  const lines = ['| signal | Linux | Windows | macOS |', '| --- | --- | --- | --- |'];
  for (const row of PLATFORM_DETECTORS) {
    const text = (p: SupportedPlatform) => {
      const head = row.headless?.[p];
      return head ? `${cell(row.app[p])}<br>headless: ${cell(head)}` : cell(row.app[p]);
    };
    lines.push(`| ${row.signal} | ${text('linux')} | ${text('win32')} | ${text('darwin')} |`);
  }
  return lines.join('\n');
}
