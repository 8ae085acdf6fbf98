// Running games (see game-detect.ts for the rules) and the full-screen signal, from the process
// list and Steam's state every 5 s. Also remembers the process names seen in the last minutes, as
// suggestions for the user's game list.
import type { ReadingUpdate } from '../../protocol/index.js';
import { detectGames, isSystemProcess } from './game-detect.js';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { defaultProcessLister, type ProcessInfo, type ProcessLister } from './process-list.js';
import { maxAgeFor, unavailable } from './readings.js';
import { SteamReader, type SteamState } from './steam.js';
import type { Detector, SignalSource, SourceContext } from './source.js';

/**
 * Full-screen state, per platform. None of them gives it to Offhours today:
 * - Windows: SHQueryUserNotificationState (QUNS_BUSY, QUNS_RUNNING_D3D_FULL_SCREEN,
 *   QUNS_PRESENTATION_MODE) says so, but it is a native call and Offhours ships no native module for it yet;
 * - macOS and Linux: no reliable full-screen state is exposed to an unprivileged process (X11's
 *   _NET_WM_STATE is per window and client-set; Wayland hides other clients' windows entirely).
 * Games are still caught by the process rules; a full-screen video or presentation is not.
 */
export const FULLSCREEN_NOTES: Readonly<Record<string, string>> = {
  win32: 'Windows reports full-screen apps through SHQueryUserNotificationState, a native call Offhours does not ship yet',
  darwin: 'macOS exposes no reliable full-screen state to an unprivileged process',
  linux: 'Linux exposes no reliable full-screen state to an unprivileged process',
};

export function fullscreenNote(platform: NodeJS.Platform): string {
  return FULLSCREEN_NOTES[platform] ?? `${platform} exposes no full-screen state that Offhours can read`;
}

export const GAMES_HOW: Readonly<Record<string, string>> = {
  win32: "Steam's running game (registry RunningAppID), games started by known launchers, and your game list; process list every 5 s",
  darwin: "Steam's running game (registry.vdf RunningAppID), games started by known launchers, and your game list; process list every 5 s",
  linux: "Steam's running game (~/.steam/registry.vdf RunningAppID), games started by Steam/Proton, Lutris, Heroic and other launchers, and your game list; /proc every 5 s",
};

/** Process names seen recently, minus the operating system's own. */
export class ProcessHistory {
  private readonly seen = new Map<string, { name: string; at: number }>();
  constructor(private readonly windowMs = 10 * 60_000, private readonly max = 300) {}

  record(processes: readonly ProcessInfo[], now: number, own: ReadonlySet<number>): void {
    for (const p of processes) {
      if (own.has(p.pid) || isSystemProcess(p) || p.name.trim() === '') continue;
      this.seen.set(p.name.toLowerCase(), { name: p.name, at: now });
    }
    for (const [k, v] of this.seen) if (now - v.at > this.windowMs) this.seen.delete(k);
  }

  names(now: number): string[] {
    return [...this.seen.values()]
      .filter((v) => now - v.at <= this.windowMs)
      .map((v) => v.name)
      .sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
      .slice(0, this.max);
  }
}

export interface GamesSourceOptions {
  periodMs?: number;
  lister?: ProcessLister;
  steam?: { read(): Promise<SteamState> };
  procRoot?: string;
}

export class GamesSource implements SignalSource {
  readonly name = 'games';
  private loop: PollLoop | null = null;
  private ctx: SourceContext | null = null;
  private readonly history = new ProcessHistory();
  private readonly periodMs: number;

  constructor(private readonly opts: GamesSourceOptions = {}) {
    this.periodMs = opts.periodMs ?? 5_000;
  }

  start(ctx: SourceContext): void {
    this.ctx = ctx;
    const lister = this.opts.lister ?? defaultProcessLister(ctx.platform, this.opts.procRoot);
    const steam = this.opts.steam ?? new SteamReader({ platform: ctx.platform, home: ctx.home, env: ctx.env });
    this.loop = startPollLoop({
      name: this.name,
      periodMs: this.periodMs,
      log: ctx.log,
      tick: async () => {
        const processes = await lister();
        let steamState: SteamState;
        try {
          steamState = await steam.read();
        } catch (err) {
          ctx.log.warn("could not read Steam's state", { err });
          steamState = { state: 'absent', looked: 'error' };
        }
        const own = ctx.ownPids();
        const games = detectGames(processes, steamState, { games: ctx.games(), ownPids: own });
        this.history.record(processes, ctx.now().getTime(), own);
        const readings: ReadingUpdate[] = [{ name: 'gamesRunning', value: games }, unavailable('fullscreen', fullscreenNote(ctx.platform))];
        ctx.sink.publish(this.name, readings, maxAgeFor(this.periodMs));
      },
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  processesSeen(): string[] {
    return this.history.names((this.ctx?.now() ?? new Date()).getTime());
  }

  detectors(): Detector[] {
    const platform = this.ctx?.platform ?? process.platform;
    return [
      { signal: 'gamesRunning', available: true, how: GAMES_HOW[platform] ?? 'games started by known launchers and your game list; process list every 5 s' },
      { signal: 'fullscreen', available: false, how: fullscreenNote(platform) },
    ];
  }
}
