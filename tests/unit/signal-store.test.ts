import { describe, expect, it } from 'vitest';
import { SignalStore } from '../../agent/signals/signal-store.js';

describe('signal store', () => {
  let now = new Date('2026-06-01T12:00:00Z');
  const clock = () => now;

  it('judges freshness when read: an ok reading past its max age is stale', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('a', [{ name: 'idleSeconds', value: 5 }], 10_000);
    expect(s.snapshot().idleSeconds?.state).toBe('ok');
    now = new Date('2026-06-01T12:00:11Z');
    expect(s.snapshot().idleSeconds?.state).toBe('stale');
  });

  it('a fresh value from one source wins over "not available" from another, and so does a stale one', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('electron', [{ name: 'idleSeconds', notAvailable: true, note: 'Wayland' }], 10_000);
    s.publish('dbus', [{ name: 'idleSeconds', value: 42 }], 10_000);
    expect(s.snapshot().idleSeconds).toMatchObject({ state: 'ok', value: 42, source: 'dbus' });
    now = new Date('2026-06-01T12:00:20Z');
    // The D-Bus reader went quiet: the user may well be there. Out of date, not "can't be checked".
    expect(s.snapshot().idleSeconds).toMatchObject({ state: 'stale', source: 'dbus' });
  });

  it('a source that loses a signal it could read reports it stale, not "not available"', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('nvidia', [{ name: 'gpuTemperature', device: 'gpu:0', value: 60 }], 10_000);
    s.publish('nvidia', [{ name: 'gpuTemperature', device: 'gpu:0', notAvailable: true, note: 'driver not answering' }], 10_000);
    expect(s.snapshot()['gpuTemperature@gpu:0']).toMatchObject({ state: 'stale', note: 'driver not answering' });
    // A machine that never had the signal says so plainly.
    s.publish('hwmon', [{ name: 'cpuTemperature', notAvailable: true, note: 'no sensor' }], 10_000);
    expect(s.snapshot().cpuTemperature).toMatchObject({ state: 'not_available' });
  });

  it('never lets a reading claim a time in the future', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('liar', [{ name: 'idleSeconds', value: 99_999, at: '2099-01-01T00:00:00Z' }], 10_000);
    s.publish('electron', [{ name: 'idleSeconds', value: 0 }], 10_000);
    expect(s.snapshot().idleSeconds?.readAt).toBe('2026-06-01T12:00:00.000Z');
    now = new Date('2026-06-01T12:00:11Z');
    expect(s.snapshot().idleSeconds?.state).toBe('stale');
  });

  it('compares reading times as instants, whatever their offset', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('a', [{ name: 'idleSeconds', value: 1, at: '2026-06-01T13:59:57+02:00' }], 60_000);
    s.publish('b', [{ name: 'idleSeconds', value: 2, at: '2026-06-01T11:59:58Z' }], 60_000);
    expect(s.snapshot().idleSeconds).toMatchObject({ value: 2, source: 'b' });
  });

  it('the freshest of two fresh values wins', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('a', [{ name: 'idleSeconds', value: 100 }], 60_000);
    now = new Date('2026-06-01T12:00:01Z');
    s.publish('b', [{ name: 'idleSeconds', value: 0 }], 60_000);
    expect(s.snapshot().idleSeconds).toMatchObject({ value: 0, source: 'b' });
  });

  it('joins the games every fresh source sees, one entry per game', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('games', [{ name: 'gamesRunning', value: [{ name: 'Doom.exe', pid: 12, via: 'launcher' }] }], 15_000);
    s.publish('script', [{ name: 'gamesRunning', value: [{ name: 'doom.exe', via: 'user-list' }, { name: 'Quake', via: 'user-list' }] }], 15_000);
    const games = s.snapshot().gamesRunning!;
    expect(games.state).toBe('ok');
    expect(games.value).toEqual([
      { name: 'Doom.exe', pid: 12, via: 'launcher' },
      { name: 'Quake', via: 'user-list' },
    ]);
    s.publish('games', [{ name: 'gamesRunning', value: [] }], 15_000);
    expect((s.snapshot().gamesRunning!.value as unknown[]).map((g) => (g as { name: string }).name)).toEqual(['doom.exe', 'Quake']);
  });

  it('tells listeners which signals changed, and only those', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    const seen: string[][] = [];
    s.onChange((keys) => seen.push(keys));
    s.publish('a', [{ name: 'onBattery', value: false }, { name: 'gpuTemperature', device: 'gpu:0', value: 60 }]);
    s.publish('a', [{ name: 'onBattery', value: false }]);
    s.publish('a', [{ name: 'onBattery', value: true }]);
    expect(seen).toEqual([['onBattery', 'gpuTemperature@gpu:0'], ['onBattery']]);
  });
});
