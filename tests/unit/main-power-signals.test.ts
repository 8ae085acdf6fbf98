// Forwarding Electron powerMonitor signals to the agent, without Electron and without waiting:
// the idle-time check (Wayland, the all-zero streak), the mapping from powerMonitor events and
// getters to readings per platform, and the forwarder's batching, pacing and resend on reconnect
// under fake timers. Every update the forwarder posts is parsed with the real SignalUpdate schema.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalUpdate, type ReadingUpdate } from '../../protocol/signals.js';
import { realTimers } from '../../main/child-handle.js';
import {
  IdleTimeCheck,
  LINUX_LOCK_NOTE,
  MIN_POST_GAP_MS,
  PowerSignalForwarder,
  READING_MAX_AGE_MS,
  SAMPLE_INTERVAL_MS,
  SIGNAL_SOURCE,
  SPEED_LIMIT_NOTE,
  THERMAL_NOTE,
  WAYLAND_IDLE_NOTE,
  ZERO_IDLE_NOTE,
  ZERO_STREAK_MS,
  applyIdle,
  applyPowerEvent,
  changedSignals,
  initialPowerState,
  powerMonitorSource,
  readingsOf,
  type PlatformInfo,
  type PowerEvent,
  type PowerProbe,
  type PowerSource,
  type PowerState,
} from '../../main/power-signals.js';

const LINUX_X11: PlatformInfo = { os: 'linux', sessionType: 'x11' };
const WAYLAND: PlatformInfo = { os: 'linux', sessionType: 'wayland' };
const MAC: PlatformInfo = { os: 'darwin' };
const WINDOWS: PlatformInfo = { os: 'win32' };

/** Samples every 2 s from t=0 for `ms`, returning the verdicts. */
function run(check: IdleTimeCheck, values: (t: number) => number, ms: number, from = 0) {
  const out = [];
  for (let t = from; t <= from + ms; t += SAMPLE_INTERVAL_MS) out.push({ t, v: check.sample(values(t), t) });
  return out;
}

describe('IdleTimeCheck (is getSystemIdleTime() telling the truth?)', () => {
  it('Wayland: never available, whatever it reads, with the D-Bus note', () => {
    const check = new IdleTimeCheck(WAYLAND);
    for (const seconds of [0, 0, 5, 600]) expect(check.sample(seconds, 0)).toEqual({ available: false, note: WAYLAND_IDLE_NOTE });
    expect(new IdleTimeCheck({ os: 'linux', sessionType: ' Wayland ' }).sample(3, 0).available).toBe(false);
  });

  it('Linux, all zeros: 0 (the user is active, the safe side) until 10 minutes of zeros, then not available', () => {
    const check = new IdleTimeCheck(LINUX_X11);
    const verdicts = run(check, () => 0, ZERO_STREAK_MS + 10_000);
    const firstUnavailable = verdicts.find((x) => !x.v.available)!;
    expect(firstUnavailable.t).toBe(ZERO_STREAK_MS);
    for (const x of verdicts.filter((x) => x.t < ZERO_STREAK_MS)) expect(x.v).toEqual({ available: true, seconds: 0 });
    for (const x of verdicts.filter((x) => x.t >= ZERO_STREAK_MS)) expect(x.v).toEqual({ available: false, note: ZERO_IDLE_NOTE });
  });

  it('XDG_SESSION_TYPE unset on Linux: the streak rule still applies', () => {
    const verdicts = run(new IdleTimeCheck({ os: 'linux' }), () => 0, ZERO_STREAK_MS);
    expect(verdicts.at(-1)!.v.available).toBe(false);
  });

  it('a non-zero sample makes it available again, and a counter that has moved is believed from then on', () => {
    const check = new IdleTimeCheck(LINUX_X11);
    run(check, () => 0, ZERO_STREAK_MS);
    expect(check.sample(0, ZERO_STREAK_MS + 2_000).available).toBe(false);
    expect(check.sample(4, ZERO_STREAK_MS + 4_000)).toEqual({ available: true, seconds: 4 });
    // The user now types non-stop for an hour: 0 means "active", never "not available".
    const after = run(check, () => 0, 3_600_000, ZERO_STREAK_MS + 6_000);
    expect(after.every((x) => x.v.available && x.v.seconds === 0)).toBe(true);
  });

  it('a working counter (X11) reports its values, and zeros after it are "active"', () => {
    const check = new IdleTimeCheck(LINUX_X11);
    expect(check.sample(1, 0)).toEqual({ available: true, seconds: 1 });
    expect(run(check, () => 0, 2 * ZERO_STREAK_MS, 2_000).every((x) => x.v.available)).toBe(true);
  });

  it('a sleep between samples breaks the streak: "every sample over 10 minutes" means samples, not wall time', () => {
    const check = new IdleTimeCheck(LINUX_X11);
    expect(check.sample(0, 0).available).toBe(true);
    // Resumed 10 hours later: only two samples, not a streak.
    expect(check.sample(0, 10 * 3_600_000).available).toBe(true);
    const verdicts = run(check, () => 0, ZERO_STREAK_MS - 2_000, 10 * 3_600_000 + 2_000);
    expect(verdicts.at(-1)!.v.available).toBe(false);
    expect(verdicts.at(-2)!.v.available).toBe(true);
  });

  it('macOS and Windows: always believed, even all zeros for hours', () => {
    for (const platform of [MAC, WINDOWS]) {
      const check = new IdleTimeCheck(platform);
      expect(run(check, () => 0, 2 * ZERO_STREAK_MS).every((x) => x.v.available)).toBe(true);
    }
  });

  it('nonsense from the OS counts as 0 (active), not as a huge idle time', () => {
    const check = new IdleTimeCheck(MAC);
    expect(check.sample(Number.NaN, 0)).toEqual({ available: true, seconds: 0 });
    expect(check.sample(-5, 2_000)).toEqual({ available: true, seconds: 0 });
  });
});

const probe = (p: Partial<PowerProbe> = {}): PowerProbe => ({ onBattery: false, idleState: 'active', thermalState: 'nominal', ...p });

describe('initial state per platform', () => {
  it('Linux: lock, thermal state and speed limit not available (with notes); no battery value (Electron’s getter is a stub)', () => {
    const state = initialPowerState(LINUX_X11, probe({ onBattery: false }));
    expect(readingsOf(state)).toEqual([
      { name: 'screenLocked', notAvailable: true, note: LINUX_LOCK_NOTE },
      { name: 'suspended', value: false },
      { name: 'thermalState', notAvailable: true, note: THERMAL_NOTE },
      { name: 'speedLimit', notAvailable: true, note: SPEED_LIMIT_NOTE },
    ]);
  });

  it('macOS: lock from getSystemIdleState, battery from isOnBatteryPower, thermal state from its getter', () => {
    const state = initialPowerState(MAC, probe({ onBattery: true, idleState: 'locked', thermalState: 'fair' }));
    expect(readingsOf(state)).toEqual([
      { name: 'screenLocked', value: true },
      { name: 'onBattery', value: true },
      { name: 'suspended', value: false },
      { name: 'thermalState', value: 'fair' },
    ]);
    // "unknown" is macOS not knowing: no reading rather than a guess.
    expect(readingsOf(initialPowerState(MAC, probe({ thermalState: 'unknown' }))).some((r) => r.name === 'thermalState')).toBe(false);
  });

  it('Windows: lock and battery values; thermal state not available; speed limit unknown until its first event', () => {
    const state = initialPowerState(WINDOWS, probe({ idleState: 'idle' }));
    expect(readingsOf(state)).toEqual([
      { name: 'screenLocked', value: false },
      { name: 'onBattery', value: false },
      { name: 'suspended', value: false },
      { name: 'thermalState', notAvailable: true, note: THERMAL_NOTE },
    ]);
  });
});

describe('powerMonitor events -> readings', () => {
  const base: PowerState = initialPowerState(WINDOWS, probe());

  it.each<[PowerEvent, ReadingUpdate[]]>([
    [{ type: 'lock-screen' }, [{ name: 'screenLocked', value: true }]],
    [{ type: 'unlock-screen' }, []],
    [{ type: 'on-battery' }, [{ name: 'onBattery', value: true }]],
    [{ type: 'on-ac' }, []],
    [{ type: 'suspend' }, [{ name: 'suspended', value: true }]],
    [{ type: 'resume' }, []],
    [{ type: 'thermal-state-change', state: 'serious' }, [{ name: 'thermalState', value: 'serious' }]],
    [{ type: 'speed-limit-change', limit: 60 }, [{ name: 'speedLimit', value: 60 }]],
    [{ type: 'speed-limit-change', limit: 140 }, [{ name: 'speedLimit', value: 100 }]],
    [{ type: 'speed-limit-change', limit: Number.NaN }, []],
  ])('%o changes %o', (event, expected) => {
    const next = applyPowerEvent(base, event);
    expect(readingsOf(next, changedSignals(base, next))).toEqual(expected);
    for (const r of readingsOf(next)) expect(() => SignalUpdate.parse({ source: SIGNAL_SOURCE, readings: [r] })).not.toThrow();
  });

  it('the opposite events undo each other', () => {
    const locked = applyPowerEvent(base, { type: 'lock-screen' });
    expect(readingsOf(applyPowerEvent(locked, { type: 'unlock-screen' }), ['screenLocked'])).toEqual([{ name: 'screenLocked', value: false }]);
    const asleep = applyPowerEvent(base, { type: 'suspend' });
    expect(readingsOf(applyPowerEvent(asleep, { type: 'resume' }), ['suspended'])).toEqual([{ name: 'suspended', value: false }]);
    const battery = applyPowerEvent(base, { type: 'on-battery' });
    expect(readingsOf(applyPowerEvent(battery, { type: 'on-ac' }), ['onBattery'])).toEqual([{ name: 'onBattery', value: false }]);
  });

  it('a thermal state of "unknown" forgets the last one instead of keeping "serious" fresh', () => {
    const hot = applyPowerEvent(initialPowerState(MAC, probe()), { type: 'thermal-state-change', state: 'critical' });
    const unknown = applyPowerEvent(hot, { type: 'thermal-state-change', state: 'unknown' });
    expect(readingsOf(unknown, ['thermalState'])).toEqual([]);
  });

  it('an event replaces a not-available reading (an event on Linux is real evidence)', () => {
    const linux = initialPowerState(LINUX_X11, probe());
    expect(readingsOf(applyPowerEvent(linux, { type: 'lock-screen' }), ['screenLocked'])).toEqual([{ name: 'screenLocked', value: true }]);
  });

  it('idle samples: a value, or not available with the note', () => {
    const s1 = applyIdle(base, { available: true, seconds: 42 });
    expect(readingsOf(s1, ['idleSeconds'])).toEqual([{ name: 'idleSeconds', value: 42 }]);
    const s2 = applyIdle(s1, { available: false, note: WAYLAND_IDLE_NOTE });
    expect(readingsOf(s2, ['idleSeconds'])).toEqual([{ name: 'idleSeconds', notAvailable: true, note: WAYLAND_IDLE_NOTE }]);
    expect(changedSignals(s1, s2)).toEqual(['idleSeconds']);
    expect(changedSignals(s2, applyIdle(s2, { available: false, note: WAYLAND_IDLE_NOTE }))).toEqual([]);
  });
});

// ---- the forwarder under fake timers --------------------------------------------------------------

class FakeSource implements PowerSource {
  idle = 0;
  probeValue: PowerProbe = probe();
  listeners = new Set<(e: PowerEvent) => void>();
  idleSeconds = () => this.idle;
  probe = () => this.probeValue;
  subscribe = (l: (e: PowerEvent) => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  emit(e: PowerEvent) {
    for (const l of this.listeners) l(e);
  }
}

interface Harness {
  source: FakeSource;
  forwarder: PowerSignalForwarder;
  posts: SignalUpdate[];
  logs: string[];
  /** When set, posts wait for this to be called. */
  hold: boolean;
  release: () => void;
  fail: Error | null;
}

function harness(platform: PlatformInfo = WINDOWS): Harness {
  const h: Harness = {
    source: new FakeSource(),
    forwarder: null as never,
    posts: [],
    logs: [],
    hold: false,
    release: () => {},
    fail: null,
  };
  h.forwarder = new PowerSignalForwarder({
    source: h.source,
    platform,
    post: (update) => {
      h.posts.push(SignalUpdate.parse(update));
      if (h.fail) return Promise.reject(h.fail);
      if (!h.hold) return Promise.resolve({ accepted: update.readings.length });
      return new Promise((resolve) => (h.release = () => resolve({ accepted: 1 })));
    },
    timers: realTimers,
    now: () => Date.now(),
    log: (m) => h.logs.push(m),
  });
  return h;
}

const names = (u: SignalUpdate | undefined) => u?.readings.map((r) => r.name) ?? [];

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-06-01T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PowerSignalForwarder', () => {
  it('sends nothing until the agent is connected, then the whole state at once', async () => {
    const h = harness(LINUX_X11);
    h.source.idle = 7;
    h.forwarder.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.posts).toEqual([]);

    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(1);
    expect(h.posts[0]).toEqual({
      source: SIGNAL_SOURCE,
      maxAgeMs: READING_MAX_AGE_MS,
      readings: [
        { name: 'idleSeconds', value: 7 },
        { name: 'screenLocked', notAvailable: true, note: LINUX_LOCK_NOTE },
        { name: 'suspended', value: false },
        { name: 'thermalState', notAvailable: true, note: THERMAL_NOTE },
        { name: 'speedLimit', notAvailable: true, note: SPEED_LIMIT_NOTE },
      ],
    });
  });

  it('every 2 s: idle time and every valued reading (so none goes stale); not-available ones only once', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.posts.length = 0;
    h.source.idle = 12;
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS * 5);
    expect(h.posts).toHaveLength(5);
    for (const p of h.posts) expect(names(p)).toEqual(['idleSeconds', 'screenLocked', 'onBattery', 'suspended']);
    expect(h.posts[0]!.readings[0]).toEqual({ name: 'idleSeconds', value: 12 });
    // Five samples fit in one freshness period: a single lost request never makes a reading stale.
    expect(READING_MAX_AGE_MS / SAMPLE_INTERVAL_MS).toBeGreaterThanOrEqual(5);
  });

  it('an event goes out at once, alone, without waiting for the next sample', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(500);
    h.posts.length = 0;
    h.source.emit({ type: 'on-battery' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toEqual([{ source: SIGNAL_SOURCE, maxAgeMs: READING_MAX_AGE_MS, readings: [{ name: 'onBattery', value: true }] }]);
  });

  it('while disconnected: drops everything; on reconnection sends the current state once, not a replay', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.forwarder.setConnected(false);
    h.posts.length = 0;

    h.source.emit({ type: 'lock-screen' });
    h.source.emit({ type: 'on-battery' });
    h.source.emit({ type: 'on-ac' });
    h.source.idle = 30;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.posts).toEqual([]);

    h.forwarder.setConnected(true);
    h.forwarder.setConnected(true); // repeated status pushes: not a new connection
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(1);
    expect(h.posts[0]!.readings).toEqual([
      { name: 'idleSeconds', value: 30 },
      { name: 'screenLocked', value: true },
      { name: 'onBattery', value: false },
      { name: 'suspended', value: false },
      { name: 'thermalState', notAvailable: true, note: THERMAL_NOTE },
    ]);
  });

  it('one request at a time: what happens during a slow one goes out as one batch after it', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.posts.length = 0;
    h.hold = true;
    h.source.emit({ type: 'lock-screen' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(1);

    h.source.emit({ type: 'on-battery' });
    h.source.emit({ type: 'speed-limit-change', limit: 80 });
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS * 3);
    expect(h.posts).toHaveLength(1);

    h.hold = false;
    h.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(2);
    expect(names(h.posts[1])).toEqual(['idleSeconds', 'screenLocked', 'onBattery', 'suspended', 'speedLimit']);
    expect(h.posts[1]!.readings).toContainEqual({ name: 'onBattery', value: true });
    expect(h.posts[1]!.readings).toContainEqual({ name: 'speedLimit', value: 80 });
  });

  it('never floods: a storm of events is paced to one request per 200 ms, keeping the latest value', async () => {
    const h = harness(MAC);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.posts.length = 0;
    for (let i = 0; i < 100; i++) {
      h.source.emit({ type: 'speed-limit-change', limit: i });
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(MIN_POST_GAP_MS);
    // 100 events over 100 ms: the first at once, the rest in one paced batch.
    expect(h.posts).toHaveLength(2);
    expect(h.posts.at(-1)!.readings).toContainEqual({ name: 'speedLimit', value: 99 });
  });

  it('Linux without a working idle counter: after 10 minutes of zeros idle goes not available, and back when it moves', async () => {
    const h = harness(LINUX_X11);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(ZERO_STREAK_MS - SAMPLE_INTERVAL_MS);
    const idleReadings = () => h.posts.flatMap((p) => p.readings.filter((r) => r.name === 'idleSeconds'));
    expect(idleReadings().every((r) => r.value === 0)).toBe(true);
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS);
    expect(idleReadings().at(-1)).toEqual({ name: 'idleSeconds', notAvailable: true, note: ZERO_IDLE_NOTE });
    // Said once, not every 2 s: the agent's D-Bus reader owns the signal now.
    const count = idleReadings().length;
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS * 10);
    expect(idleReadings()).toHaveLength(count);

    h.source.idle = 3;
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS);
    expect(idleReadings().at(-1)).toEqual({ name: 'idleSeconds', value: 3 });
  });

  it('Wayland: idle not available from the first post, with the Wayland note', async () => {
    const h = harness(WAYLAND);
    h.source.idle = 0;
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS * 3);
    expect(h.posts[0]!.readings[0]).toEqual({ name: 'idleSeconds', notAvailable: true, note: WAYLAND_IDLE_NOTE });
    expect(h.posts.slice(1).flatMap((p) => p.readings).some((r) => r.name === 'idleSeconds')).toBe(false);
  });

  it('resume: refreshes everything at once (the agent’s readings went stale during the sleep)', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.source.emit({ type: 'suspend' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts.at(-1)!.readings).toEqual([{ name: 'suspended', value: true }]);
    await vi.advanceTimersByTimeAsync(500);
    h.posts.length = 0;
    h.source.idle = 0;
    h.source.emit({ type: 'resume' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(1);
    expect(h.posts[0]!.readings).toEqual([
      { name: 'idleSeconds', value: 0 },
      { name: 'screenLocked', value: false },
      { name: 'onBattery', value: false },
      { name: 'suspended', value: false },
    ]);
  });

  it('a refused request is logged once; not-available readings are retried with the next sample, not in a loop', async () => {
    const h = harness(LINUX_X11);
    h.fail = new Error('POST /signals answered 400');
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.posts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS - 1);
    expect(h.posts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.posts).toHaveLength(2);
    expect(names(h.posts[1])).toContain('screenLocked');
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS * 5);
    expect(h.logs.filter((l) => l.includes('could not send'))).toHaveLength(1);

    h.fail = null;
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS);
    expect(h.logs.at(-1)).toMatch(/again/);
    expect(h.posts.at(-1)!.readings).toContainEqual({ name: 'screenLocked', notAvailable: true, note: LINUX_LOCK_NOTE });
    const n = h.posts.length;
    await vi.advanceTimersByTimeAsync(SAMPLE_INTERVAL_MS);
    expect(names(h.posts[n])).toEqual(['idleSeconds', 'suspended']);
  });

  it('stop(): no more samples, posts or listeners', async () => {
    const h = harness(WINDOWS);
    h.forwarder.start();
    h.forwarder.setConnected(true);
    await vi.advanceTimersByTimeAsync(0);
    h.forwarder.stop();
    const n = h.posts.length;
    h.source.emit({ type: 'lock-screen' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.posts).toHaveLength(n);
    expect(h.source.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('powerMonitorSource (the Electron adapter)', () => {
  function fakeMonitor() {
    const m = new EventEmitter() as EventEmitter & Record<string, unknown>;
    const calls: string[] = [];
    Object.assign(m, {
      getSystemIdleTime: () => 42,
      getSystemIdleState: (threshold: number) => (calls.push(`idleState(${threshold})`), 'locked'),
      isOnBatteryPower: () => true,
      getCurrentThermalState: () => (calls.push('thermal'), 'serious'),
    });
    return { m, calls };
  }

  it('turns each powerMonitor event into a PowerEvent, and unsubscribes them all', () => {
    const { m } = fakeMonitor();
    const source = powerMonitorSource(m as never, MAC);
    const seen: PowerEvent[] = [];
    const off = source.subscribe((e) => seen.push(e));
    for (const name of ['lock-screen', 'unlock-screen', 'on-ac', 'on-battery', 'suspend', 'resume']) m.emit(name);
    m.emit('thermal-state-change', { state: 'critical', preventDefault() {} });
    m.emit('speed-limit-change', { limit: 50, preventDefault() {} });
    expect(seen).toEqual([
      { type: 'lock-screen' },
      { type: 'unlock-screen' },
      { type: 'on-ac' },
      { type: 'on-battery' },
      { type: 'suspend' },
      { type: 'resume' },
      { type: 'thermal-state-change', state: 'critical' },
      { type: 'speed-limit-change', limit: 50 },
    ]);
    off();
    expect(m.eventNames()).toEqual([]);
    expect(source.idleSeconds()).toBe(42);
  });

  it('reads the getters each platform has: thermal state only on macOS, idle state not on Linux', () => {
    const mac = fakeMonitor();
    expect(powerMonitorSource(mac.m as never, MAC).probe()).toEqual({ onBattery: true, idleState: 'locked', thermalState: 'serious' });
    expect(mac.calls).toEqual(['idleState(60)', 'thermal']);
    const linux = fakeMonitor();
    expect(powerMonitorSource(linux.m as never, LINUX_X11).probe()).toEqual({ onBattery: true, idleState: 'unknown' });
    expect(linux.calls).toEqual([]);
  });
});
