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

  it('a fresh value from one source wins over "not available" from another', () => {
    now = new Date('2026-06-01T12:00:00Z');
    const s = new SignalStore(clock);
    s.publish('electron', [{ name: 'idleSeconds', value: 42 }], 10_000);
    s.publish('dbus', [{ name: 'idleSeconds', notAvailable: true, note: 'no session bus' }], 10_000);
    expect(s.snapshot().idleSeconds).toMatchObject({ state: 'ok', value: 42, source: 'electron' });
    now = new Date('2026-06-01T12:00:20Z');
    // Once the value is stale, "not available" is the better answer than an old number.
    expect(s.snapshot().idleSeconds).toMatchObject({ state: 'not_available', source: 'dbus' });
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
