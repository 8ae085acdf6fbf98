// User idle time and screen lock from the desktop's D-Bus services, for Linux sessions where
// Electron cannot tell (Wayland: powerMonitor.getSystemIdleTime() reads 0 forever) and for the
// headless agent running inside a desktop session. The agent decides to start it: needsDbusIdle().
//
// Idle time, in order: GNOME Mutter's IdleMonitor GetIdletime (milliseconds, works on Wayland),
// then org.freedesktop.ScreenSaver GetSessionIdleTime (KDE: kscreenlocker returns KIdleTime's
// idle time, milliseconds; on Wayland it answers NotSupported). Screen lock: org.gnome.ScreenSaver
// GetActive, then org.freedesktop.ScreenSaver GetActive. Whichever answered last is asked first.
// Calls go through `gdbus call` (GLib's tool, on every GNOME system and most others), async with a
// timeout. No session bus, or no service answering -> not available, with the reason.
import type { ReadingUpdate } from '../../protocol/index.js';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { maxAgeFor, unavailable } from './readings.js';
import { firstLine, runCommand, type CommandResult, type RunCommand } from './run-command.js';
import type { Detector, SignalSource, SourceContext } from './source.js';

/** Whether this agent needs the D-Bus reader: on every Linux desktop. Electron gives no lock
 * events on Linux at all, and on Wayland its idle time is always 0; where Electron's idle time is
 * good (X11) both report it and the signal store keeps the freshest. */
export function needsDbusIdle(opts: { platform: NodeJS.Platform; electron: boolean; env: NodeJS.ProcessEnv }): boolean {
  return opts.platform === 'linux';
}

/** `(uint64 12345,)` / `(uint32 5,)` -> the number; anything else -> null. */
export function parseGdbusUint(output: string): number | null {
  const m = /^\(\s*(?:uint64|uint32|int64|int32|uint16)?\s*(\d+)\s*,?\s*\)$/.exec(output.trim());
  return m ? Number(m[1]) : null;
}

/** `(true,)` / `(false,)` -> the boolean; anything else -> null. */
export function parseGdbusBool(output: string): boolean | null {
  const m = /^\(\s*(true|false)\s*,?\s*\)$/.exec(output.trim());
  return m ? m[1] === 'true' : null;
}

interface Method<T> {
  label: string;
  dest: string;
  path: string;
  method: string;
  parse: (out: string) => T | null;
}

const IDLE_METHODS: Method<number>[] = [
  { label: 'GNOME Mutter IdleMonitor', dest: 'org.gnome.Mutter.IdleMonitor', path: '/org/gnome/Mutter/IdleMonitor/Core', method: 'org.gnome.Mutter.IdleMonitor.GetIdletime', parse: (o) => millisToSeconds(parseGdbusUint(o)) },
  { label: 'org.freedesktop.ScreenSaver', dest: 'org.freedesktop.ScreenSaver', path: '/org/freedesktop/ScreenSaver', method: 'org.freedesktop.ScreenSaver.GetSessionIdleTime', parse: (o) => millisToSeconds(parseGdbusUint(o)) },
];

const LOCK_METHODS: Method<boolean>[] = [
  { label: 'GNOME ScreenSaver', dest: 'org.gnome.ScreenSaver', path: '/org/gnome/ScreenSaver', method: 'org.gnome.ScreenSaver.GetActive', parse: parseGdbusBool },
  { label: 'org.freedesktop.ScreenSaver', dest: 'org.freedesktop.ScreenSaver', path: '/org/freedesktop/ScreenSaver', method: 'org.freedesktop.ScreenSaver.GetActive', parse: parseGdbusBool },
];

function millisToSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

export interface DbusIdleSourceOptions {
  periodMs?: number;
  /** While nothing answers, look again this often rather than every period. */
  retryMs?: number;
  command?: string;
  run?: RunCommand;
}

type Outcome<T> = { value: T } | { note: string; missingTool?: true };

export class DbusIdleSource implements SignalSource {
  readonly name = 'dbus-idle';
  private ctx: SourceContext | null = null;
  private loop: PollLoop | null = null;
  private idleFirst = 0;
  private lockFirst = 0;
  private idleHow: string | null = null;
  private lockHow: string | null = null;
  private idleNote = 'not read yet';
  private lockNote = 'not read yet';
  private answering = true;
  private readonly periodMs: number;
  private readonly retryMs: number;
  private readonly command: string;
  private readonly run: RunCommand;

  constructor(opts: DbusIdleSourceOptions = {}) {
    this.periodMs = opts.periodMs ?? 2_000;
    this.retryMs = opts.retryMs ?? 30_000;
    this.command = opts.command ?? 'gdbus';
    this.run = opts.run ?? runCommand;
  }

  start(ctx: SourceContext): void {
    this.ctx = ctx;
    this.loop = startPollLoop({ name: this.name, periodMs: () => (this.answering ? this.periodMs : this.retryMs), log: ctx.log, tick: () => this.tick() });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  detectors(): Detector[] {
    return [
      { signal: 'idleSeconds', available: this.idleHow !== null, how: this.idleHow ? `D-Bus: ${this.idleHow}, every ${this.periodMs / 1000} s` : `D-Bus: ${this.idleNote}` },
      { signal: 'screenLocked', available: this.lockHow !== null, how: this.lockHow ? `D-Bus: ${this.lockHow}, every ${this.periodMs / 1000} s` : `D-Bus: ${this.lockNote}` },
    ];
  }

  private async tick(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    const idle = await this.ask('idle-time', IDLE_METHODS, this.idleFirst, (i) => (this.idleFirst = i));
    const lock = 'missingTool' in idle ? idle : await this.ask('screen-lock', LOCK_METHODS, this.lockFirst, (i) => (this.lockFirst = i));
    const readings: ReadingUpdate[] = [];
    if ('value' in idle) {
      this.idleHow = IDLE_METHODS[this.idleFirst]!.label;
      readings.push({ name: 'idleSeconds', value: idle.value });
    } else {
      this.idleHow = null;
      this.idleNote = idle.note;
      readings.push(unavailable('idleSeconds', idle.note));
    }
    if ('value' in lock) {
      this.lockHow = LOCK_METHODS[this.lockFirst]!.label;
      readings.push({ name: 'screenLocked', value: lock.value });
    } else {
      this.lockHow = null;
      this.lockNote = lock.note;
      readings.push(unavailable('screenLocked', lock.note));
    }
    this.answering = 'value' in idle || 'value' in lock;
    ctx.sink.publish(this.name, readings, maxAgeFor(this.answering ? this.periodMs : this.retryMs));
  }

  /** Tries the methods, the last one that worked first; remembers the one that answers. */
  private async ask<T>(what: string, methods: Method<T>[], first: number, remember: (i: number) => void): Promise<Outcome<T>> {
    const order = [first, ...methods.map((_, i) => i).filter((i) => i !== first)];
    const failures: string[] = [];
    for (const i of order) {
      const m = methods[i]!;
      const r = await this.call(m);
      if (r.ok) {
        const value = m.parse(r.stdout);
        if (value !== null) {
          remember(i);
          return { value };
        }
        failures.push(`${m.label} gave an unreadable answer`);
        continue;
      }
      if (r.reason === 'not-found') return { note: `${this.command} is not installed (it comes with GLib: libglib2.0-bin or glib2)`, missingTool: true };
      failures.push(`${m.label}: ${describeFailure(r)}`);
    }
    const reasons = new Set(failures.map((f) => f.slice(f.indexOf(': ') + 2)));
    const tried = methods.map((m) => m.label).join(', ');
    return { note: reasons.size === 1 && failures.every((f) => f.includes(': ')) ? `no D-Bus ${what} service answered: ${[...reasons][0]} (tried ${tried})` : `no D-Bus ${what} service answered (${failures.join('; ')})` };
  }

  private call(m: Method<unknown>): Promise<CommandResult> {
    const args = ['call', '--session', '--timeout', '2', '--dest', m.dest, '--object-path', m.path, '--method', m.method];
    return this.run(this.command, args, { timeoutMs: 4_000, env: this.ctx?.env ?? process.env });
  }
}

function describeFailure(r: Extract<CommandResult, { ok: false }>): string {
  if (r.reason === 'timeout') return 'no answer in time';
  const text = firstLine(r.stderr || r.stdout || r.message);
  if (/ServiceUnknown|was not provided by any \.service files|NameHasNoOwner/i.test(text)) return 'not running in this session';
  if (/Cannot autolaunch|DBUS_SESSION_BUS_ADDRESS|Could not connect|No such file or directory/i.test(text)) return 'no session bus (not inside a desktop session)';
  if (/NotSupported/i.test(text)) return 'not supported here';
  return text || 'failed';
}
