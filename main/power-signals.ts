// Power and session signals from Electron's powerMonitor (idle time, screen lock, battery,
// suspend/resume, thermal state, CPU speed limit) belong to the agent's policy, which runs in a
// process that cannot see them. This module forwards them with POST /api/v1/signals.
//
// Three layers, so that every decision is testable without Electron or a clock:
//   - IdleTimeCheck: whether getSystemIdleTime() can be believed (Wayland, the zero streak);
//   - PowerState + applyPowerEvent/applyIdle/readingsOf: pure mapping from powerMonitor's events
//     and getters to signal readings;
//   - PowerSignalForwarder: timers, batching, and resending on reconnect; I/O injected.
// powerMonitorSource() adapts Electron's powerMonitor to the forwarder (main.ts wires it).
//
// What each platform gives (Electron 45):
//   idle time: getSystemIdleTime() everywhere, but on Linux Wayland it reads 0 forever: that means
//     "not available", never "the user is active" nor "idle" (REFERENCE.md, "Idle, games, power
//     signals"); the agent's D-Bus idle monitor supplies it there.
//   screen lock: lock-screen/unlock-screen on macOS and Windows (and getSystemIdleState() says
//     'locked' at start); Linux has no lock events: sent as not available so that the agent's
//     D-Bus screensaver reader provides it.
//   battery: on-ac/on-battery events plus isOnBatteryPower() on macOS and Windows. On Linux
//     isOnBatteryPower() is a Chromium stub that always answers false (electron/electron#29614):
//     forwarding it would claim "on AC" on a laptop running on battery, so nothing is sent and the
//     agent's own battery reader is the source.
//   suspend/resume everywhere; thermal-state-change (and getCurrentThermalState()) on macOS only;
//   speed-limit-change on macOS and Windows, with no getter (unknown until the first event).
import type { PowerMonitor } from 'electron';
import type { ReadingUpdate, SignalUpdate, SignalValue } from '../protocol/signals.js';
import type { Timers } from './child-handle.js';

export const SIGNAL_SOURCE = 'electron.power-monitor';
/** How often idle time is read and every reading refreshed. */
export const SAMPLE_INTERVAL_MS = 2_000;
/** Freshness the agent gives these readings: five missed samples and they turn stale (the safe side). */
export const READING_MAX_AGE_MS = 10_000;
/** All-zero idle readings for this long, and the idle counter is taken as not working. */
export const ZERO_STREAK_MS = 10 * 60_000;
/** A gap between two samples longer than this (sleep, a stalled process) restarts the streak. */
export const MAX_SAMPLE_GAP_MS = 10_000;
/** Events post at once, but a storm of them (speed-limit changes) at most this often. The
 * periodic sample is not held back by it: it comes every SAMPLE_INTERVAL_MS anyway. */
export const MIN_POST_GAP_MS = 200;

export const WAYLAND_IDLE_NOTE = 'Wayland: the desktop does not tell apps the idle time; using the D-Bus idle monitor';
// Worded so they stay true whether or not the agent runs a D-Bus reader in this session.
export const ZERO_IDLE_NOTE =
  'The idle time read 0 for 10 minutes: this desktop does not seem to tell apps the idle time; the D-Bus idle monitor is used where there is one';
export const LINUX_LOCK_NOTE = 'Electron gets no screen lock events on Linux; the D-Bus screensaver monitor is used where there is one';
export const THERMAL_NOTE = 'Only macOS reports thermal pressure';
export const SPEED_LIMIT_NOTE = 'Only macOS and Windows report a CPU speed limit';

export type ForwardedSignal = 'idleSeconds' | 'screenLocked' | 'onBattery' | 'suspended' | 'thermalState' | 'speedLimit';
export const FORWARDED_SIGNALS: readonly ForwardedSignal[] = ['idleSeconds', 'screenLocked', 'onBattery', 'suspended', 'thermalState', 'speedLimit'];

/** What the forwarder needs to know about where it runs. */
export interface PlatformInfo {
  /** process.platform */
  os: string;
  /** XDG_SESSION_TYPE ('wayland', 'x11', 'tty'…), where set. */
  sessionType?: string | undefined;
}

export function isWayland(platform: PlatformInfo): boolean {
  return platform.os === 'linux' && platform.sessionType?.trim().toLowerCase() === 'wayland';
}

// ---- idle time: believe it or not ------------------------------------------------------------

export type IdleVerdict = { available: true; seconds: number } | { available: false; note: string };

/**
 * Decides whether getSystemIdleTime() is telling the truth.
 * - Linux Wayland session: never. Electron reads 0 forever there, and under XWayland the X11 idle
 *   counter only sees input to X11 windows, so even a non-zero value could claim "idle" while the
 *   user types in a native Wayland app.
 * - Other Linux sessions (X11, or XDG_SESSION_TYPE unset): believed, unless every sample has read
 *   exactly 0 for ZERO_STREAK_MS without the counter ever having moved. A counter that has read
 *   more than 0 once is known to count input, so later zeros mean "active" (the safe side); one that
 *   has only ever read 0 cannot confirm any input and is reported not available. A non-zero sample
 *   makes it available again.
 * - macOS and Windows: the OS counter is reliable; always believed.
 * Before the streak is long enough, 0 is forwarded as 0, i.e. "the user is active": the safe side.
 */
export class IdleTimeCheck {
  private counterMoved = false;
  private zeroSince: number | null = null;
  private lastSampleAt: number | null = null;

  constructor(
    private readonly platform: PlatformInfo,
    private readonly zeroStreakMs = ZERO_STREAK_MS,
    private readonly maxGapMs = MAX_SAMPLE_GAP_MS,
  ) {}

  sample(rawSeconds: number, nowMs: number): IdleVerdict {
    // A value the schema would refuse (NaN, negative) counts as "just active".
    const seconds = Number.isFinite(rawSeconds) && rawSeconds > 0 ? rawSeconds : 0;
    const gap = this.lastSampleAt === null ? 0 : nowMs - this.lastSampleAt;
    this.lastSampleAt = nowMs;
    if (isWayland(this.platform)) return { available: false, note: WAYLAND_IDLE_NOTE };
    if (this.platform.os !== 'linux') return { available: true, seconds };
    if (seconds > 0) {
      this.counterMoved = true;
      this.zeroSince = null;
      return { available: true, seconds };
    }
    if (this.counterMoved) return { available: true, seconds: 0 };
    // "Every sample over a long stretch": a sleep or a stall in between breaks the stretch.
    if (this.zeroSince === null || gap > this.maxGapMs) this.zeroSince = nowMs;
    if (nowMs - this.zeroSince >= this.zeroStreakMs) return { available: false, note: ZERO_IDLE_NOTE };
    return { available: true, seconds: 0 };
  }
}

// ---- powerMonitor events -> readings (pure) ----------------------------------------------------

export type ThermalStateName = 'unknown' | 'nominal' | 'fair' | 'serious' | 'critical';

export type PowerEvent =
  | { type: 'lock-screen' }
  | { type: 'unlock-screen' }
  | { type: 'on-ac' }
  | { type: 'on-battery' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'thermal-state-change'; state: ThermalStateName }
  | { type: 'speed-limit-change'; limit: number };

type Values = { [K in ForwardedSignal]?: SignalValue<K> };

/** What the shell currently knows: a value, "not available here" with a note, or nothing (unknown). */
export interface PowerState {
  readonly values: Readonly<Values>;
  readonly notAvailable: Readonly<Partial<Record<ForwardedSignal, string>>>;
}

/** What powerMonitor's getters say at start. */
export interface PowerProbe {
  onBattery: boolean;
  /** getSystemIdleState(): 'locked' on macOS and Windows when the screen is locked. */
  idleState: string;
  /** macOS only. */
  thermalState?: ThermalStateName | undefined;
}

export function initialPowerState(platform: PlatformInfo, probe: PowerProbe): PowerState {
  const values: Values = { suspended: false };
  const notAvailable: Partial<Record<ForwardedSignal, string>> = {};
  const linux = platform.os === 'linux';
  if (linux) notAvailable.screenLocked = LINUX_LOCK_NOTE;
  else values.screenLocked = probe.idleState === 'locked';
  // Linux: isOnBatteryPower() is a stub (always false); the agent reads the battery itself.
  if (!linux) values.onBattery = probe.onBattery;
  if (platform.os === 'darwin') {
    if (probe.thermalState !== undefined && probe.thermalState !== 'unknown') values.thermalState = probe.thermalState;
  } else {
    notAvailable.thermalState = THERMAL_NOTE;
  }
  if (linux) notAvailable.speedLimit = SPEED_LIMIT_NOTE;
  return { values, notAvailable };
}

function withValue<K extends ForwardedSignal>(state: PowerState, name: K, value: SignalValue<K> | undefined): PowerState {
  const values: Values = { ...state.values };
  if (value === undefined) delete values[name];
  else values[name] = value as Values[K];
  const notAvailable = { ...state.notAvailable };
  delete notAvailable[name];
  return { values, notAvailable };
}

/** The new state after one powerMonitor event. Unknown or out-of-range payloads change nothing. */
export function applyPowerEvent(state: PowerState, event: PowerEvent): PowerState {
  switch (event.type) {
    case 'lock-screen':
      return withValue(state, 'screenLocked', true);
    case 'unlock-screen':
      return withValue(state, 'screenLocked', false);
    case 'on-battery':
      return withValue(state, 'onBattery', true);
    case 'on-ac':
      return withValue(state, 'onBattery', false);
    case 'suspend':
      return withValue(state, 'suspended', true);
    case 'resume':
      return withValue(state, 'suspended', false);
    case 'thermal-state-change':
      // "unknown" is macOS not knowing: forget the last state rather than keep a stale "serious" fresh.
      return withValue(state, 'thermalState', event.state === 'unknown' ? undefined : event.state);
    case 'speed-limit-change':
      if (!Number.isFinite(event.limit)) return state;
      return withValue(state, 'speedLimit', Math.min(100, Math.max(0, event.limit)));
  }
}

/** The new state after an idle sample. */
export function applyIdle(state: PowerState, verdict: IdleVerdict): PowerState {
  if (verdict.available) return withValue(state, 'idleSeconds', verdict.seconds);
  const values: Values = { ...state.values };
  delete values.idleSeconds;
  return { values, notAvailable: { ...state.notAvailable, idleSeconds: verdict.note } };
}

/** The readings that say `state` for the given signals (all by default), in a fixed order. */
export function readingsOf(state: PowerState, names: Iterable<ForwardedSignal> = FORWARDED_SIGNALS): ReadingUpdate[] {
  const wanted = new Set(names);
  const out: ReadingUpdate[] = [];
  for (const name of FORWARDED_SIGNALS) {
    if (!wanted.has(name)) continue;
    const note = state.notAvailable[name];
    if (note !== undefined) out.push({ name, notAvailable: true, note });
    else if (state.values[name] !== undefined) out.push({ name, value: state.values[name] });
  }
  return out;
}

/** Signals whose reading differs between two states (value, availability or note). */
export function changedSignals(before: PowerState, after: PowerState): ForwardedSignal[] {
  return FORWARDED_SIGNALS.filter(
    (name) => before.values[name] !== after.values[name] || before.notAvailable[name] !== after.notAvailable[name],
  );
}

/** Signals with a value: these go stale at the agent unless sent again, so every sample refreshes them. */
export function valuedSignals(state: PowerState): ForwardedSignal[] {
  return FORWARDED_SIGNALS.filter((name) => state.values[name] !== undefined);
}

// ---- the forwarder -----------------------------------------------------------------------------

/** powerMonitor, as the forwarder sees it. */
export interface PowerSource {
  idleSeconds(): number;
  probe(): PowerProbe;
  /** Calls `listener` for every event; returns the function that stops listening. */
  subscribe(listener: (event: PowerEvent) => void): () => void;
}

export interface PowerSignalForwarderOptions {
  source: PowerSource;
  platform: PlatformInfo;
  /** POST /api/v1/signals; rejects when the agent refuses or cannot be reached. */
  post(update: SignalUpdate): Promise<unknown>;
  timers: Timers;
  now(): number;
  log(message: string): void;
  sampleIntervalMs?: number;
  zeroStreakMs?: number;
}

/**
 * Samples idle time every SAMPLE_INTERVAL_MS and sends it with every other reading that has a
 * value (so none goes stale while the shell runs); sends an event's reading at once. One request at
 * a time: what changes meanwhile is batched into the next one. While the agent is not connected,
 * nothing is sent and nothing queues; on (re)connection the whole current state goes out, not a
 * replay of what was missed.
 */
export class PowerSignalForwarder {
  private state: PowerState = { values: {}, notAvailable: {} };
  private readonly idle: IdleTimeCheck;
  private readonly dirty = new Set<ForwardedSignal>();
  /** Not-available readings whose request failed: sent again with the next sample. */
  private readonly retry = new Set<ForwardedSignal>();
  private connected = false;
  private started = false;
  private inFlight = false;
  private lastEventPostAt = Number.NEGATIVE_INFINITY;
  private sampleTimer: unknown = null;
  private flushTimer: unknown = null;
  private unsubscribe: () => void = () => {};
  private failing = false;
  private readonly intervalMs: number;

  constructor(private readonly options: PowerSignalForwarderOptions) {
    this.intervalMs = options.sampleIntervalMs ?? SAMPLE_INTERVAL_MS;
    this.idle = new IdleTimeCheck(options.platform, options.zeroStreakMs ?? ZERO_STREAK_MS);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.state = initialPowerState(this.options.platform, this.options.source.probe());
    this.unsubscribe = this.options.source.subscribe((event) => this.onEvent(event));
    // Already connected (a restart of the forwarder): the agent gets the whole state again.
    for (const name of FORWARDED_SIGNALS) this.dirty.add(name);
    this.sample();
  }

  stop(): void {
    this.started = false;
    this.unsubscribe();
    this.unsubscribe = () => {};
    for (const timer of [this.sampleTimer, this.flushTimer]) if (timer !== null) this.options.timers.clearTimeout(timer);
    this.sampleTimer = null;
    this.flushTimer = null;
    this.dirty.clear();
    this.retry.clear();
  }

  /** Follows main's connection to the agent. Becoming connected sends the whole state. */
  setConnected(connected: boolean): void {
    if (connected === this.connected) return;
    this.connected = connected;
    if (!connected) {
      // Dropped, not queued: on reconnection the current state goes out whole.
      this.dirty.clear();
      this.retry.clear();
      return;
    }
    for (const name of FORWARDED_SIGNALS) this.dirty.add(name);
    this.flush(false);
  }

  private onEvent(event: PowerEvent): void {
    if (!this.started) return;
    this.update(applyPowerEvent(this.state, event));
    // After a sleep every reading the agent holds is stale: refresh them all, idle time included.
    if (event.type === 'resume') {
      this.sample();
      return;
    }
    this.flush(true);
  }

  private update(next: PowerState): void {
    for (const name of changedSignals(this.state, next)) this.dirty.add(name);
    this.state = next;
  }

  private sample(): void {
    if (this.sampleTimer !== null) this.options.timers.clearTimeout(this.sampleTimer);
    this.sampleTimer = null;
    if (!this.started) return;
    let seconds: number;
    try {
      seconds = this.options.source.idleSeconds();
    } catch (error) {
      this.options.log(`cannot read the idle time: ${String(error)}`);
      seconds = 0;
    }
    this.update(applyIdle(this.state, this.idle.sample(seconds, this.options.now())));
    for (const name of valuedSignals(this.state)) this.dirty.add(name);
    if (this.connected) for (const name of this.retry) this.dirty.add(name);
    this.retry.clear();
    this.flush(false);
    this.sampleTimer = this.options.timers.setTimeout(() => {
      this.sampleTimer = null;
      this.sample();
    }, this.intervalMs);
  }

  /** Sends what is dirty. `paced`: caused by an event, so held to MIN_POST_GAP_MS after the last one. */
  private flush(paced: boolean): void {
    if (!this.connected) {
      this.dirty.clear();
      return;
    }
    // One request at a time: what changes meanwhile is sent when it ends.
    if (!this.started || this.inFlight || this.dirty.size === 0) return;
    if (paced) {
      if (this.flushTimer !== null) return;
      const wait = this.lastEventPostAt + MIN_POST_GAP_MS - this.options.now();
      if (wait > 0) {
        this.flushTimer = this.options.timers.setTimeout(() => {
          this.flushTimer = null;
          this.flush(true);
        }, wait);
        return;
      }
    }
    // A paced flush still waiting is covered by this request.
    if (this.flushTimer !== null) this.options.timers.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const names = [...this.dirty];
    this.dirty.clear();
    const readings = readingsOf(this.state, names);
    if (readings.length === 0) return;
    this.inFlight = true;
    if (paced) this.lastEventPostAt = this.options.now();
    this.options
      .post({ source: SIGNAL_SOURCE, maxAgeMs: READING_MAX_AGE_MS, readings })
      .then(
        () => {
          if (this.failing) this.options.log('power signals reach the agent again');
          this.failing = false;
        },
        (error: unknown) => {
          // Said once, not every two seconds. Not-available readings are sent only when they
          // change, so they are tried again with the next sample (not at once: a refusal would
          // loop); valued ones come with every sample anyway.
          if (!this.failing) this.options.log(`could not send power signals to the agent: ${String(error)}`);
          this.failing = true;
          if (this.connected) for (const name of names) if (this.state.notAvailable[name] !== undefined) this.retry.add(name);
        },
      )
      .finally(() => {
        this.inFlight = false;
        // Whatever changed meanwhile (an event during a slow request) goes now, as one batch.
        this.flush(true);
      });
  }
}

// ---- Electron's powerMonitor -------------------------------------------------------------------

const PLAIN_EVENTS = ['lock-screen', 'unlock-screen', 'on-ac', 'on-battery', 'suspend', 'resume'] as const;

/** Adapts Electron's powerMonitor (usable only once the app is ready). */
export function powerMonitorSource(monitor: PowerMonitor, platform: PlatformInfo): PowerSource {
  return {
    idleSeconds: () => monitor.getSystemIdleTime(),
    probe: () => ({
      onBattery: monitor.isOnBatteryPower(),
      idleState: platform.os === 'linux' ? 'unknown' : monitor.getSystemIdleState(60),
      ...(platform.os === 'darwin' ? { thermalState: monitor.getCurrentThermalState() } : {}),
    }),
    subscribe: (listener) => {
      const plain = PLAIN_EVENTS.map((type) => {
        const handler = (): void => listener({ type });
        // Electron's typings list one overload per event name; each name here is one of them.
        monitor.on(type as 'suspend', handler);
        return () => monitor.removeListener(type as 'suspend', handler);
      });
      const thermal = (details: { state: ThermalStateName }): void => listener({ type: 'thermal-state-change', state: details.state });
      const speed = (details: { limit: number }): void => listener({ type: 'speed-limit-change', limit: details.limit });
      monitor.on('thermal-state-change', thermal);
      monitor.on('speed-limit-change', speed);
      return () => {
        for (const off of plain) off();
        monitor.removeListener('thermal-state-change', thermal);
        monitor.removeListener('speed-limit-change', speed);
      };
    },
  };
}
