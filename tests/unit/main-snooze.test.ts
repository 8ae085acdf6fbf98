// The tray's manual controls as sharing requests, and the snooze end times: from an injected clock
// in pinned time zones (Intl, not the machine's TZ), across midnight, month and year ends, and both
// DST changes in both hemispheres; plus a property over random instants and zones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharingRequest } from '../../protocol/api.js';
import { NIGHT_ENDS_HOUR, sharingRequestFor, snoozeUntil, tomorrowMorning, wallClock, zonedInstant } from '../../main/snooze.js';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

describe('snoozeUntil', () => {
  const now = at('2025-03-30T00:50:00Z');

  it('15 minutes and 1 hour are plain durations from now (a DST change does not stretch them)', () => {
    expect(snoozeUntil('snooze-15m', now, 'Europe/Berlin').toISOString()).toBe('2025-03-30T01:05:00.000Z');
    // 02:50 CET + 1 hour is 04:50 CEST on the wall clock, and exactly one hour later.
    expect(snoozeUntil('snooze-1h', now, 'Europe/Berlin').toISOString()).toBe('2025-03-30T01:50:00.000Z');
  });
});

describe('tomorrowMorning (07:00 local on the coming morning)', () => {
  it.each([
    // [zone, now, expected, why]
    ['Europe/Berlin', '2025-06-10T13:00:00Z', '2025-06-11T05:00:00.000Z', 'afternoon: 07:00 next day (CEST)'],
    ['Europe/Berlin', '2025-06-10T21:59:00Z', '2025-06-11T05:00:00.000Z', '23:59: just before midnight'],
    ['Europe/Berlin', '2025-06-10T22:01:00Z', '2025-06-11T05:00:00.000Z', '00:01: just after midnight, still this morning'],
    ['Europe/Berlin', '2025-06-11T01:59:00Z', '2025-06-11T05:00:00.000Z', '03:59: the night is not over yet'],
    ['Europe/Berlin', '2025-06-11T02:00:00Z', '2025-06-12T05:00:00.000Z', '04:00: the day has begun, so the next one'],
    ['Europe/Berlin', '2025-06-11T04:50:00Z', '2025-06-12T05:00:00.000Z', '06:50: never a 10-minute snooze'],
    ['Europe/Berlin', '2025-12-31T21:00:00Z', '2026-01-01T06:00:00.000Z', 'new year’s eve (CET)'],
    ['Europe/Berlin', '2025-02-28T20:00:00Z', '2025-03-01T06:00:00.000Z', 'end of February'],
    ['Europe/Berlin', '2025-03-29T21:00:00Z', '2025-03-30T05:00:00.000Z', 'spring forward night: 8 hours, not 9'],
    ['Europe/Berlin', '2025-03-30T00:30:00Z', '2025-03-30T05:00:00.000Z', '01:30 CET, before the change, same morning'],
    ['Europe/Berlin', '2025-03-30T01:30:00Z', '2025-03-30T05:00:00.000Z', '03:30 CEST, after the change, same morning'],
    ['Europe/Berlin', '2025-10-25T20:00:00Z', '2025-10-26T06:00:00.000Z', 'fall back night: 10 hours, not 9'],
    ['Europe/Berlin', '2025-10-26T00:30:00Z', '2025-10-26T06:00:00.000Z', 'the first 02:30 (CEST)'],
    ['Europe/Berlin', '2025-10-26T01:30:00Z', '2025-10-26T06:00:00.000Z', 'the second 02:30 (CET)'],
    ['America/New_York', '2025-03-09T04:00:00Z', '2025-03-09T11:00:00.000Z', '23:00 EST before spring forward -> 07:00 EDT'],
    ['America/New_York', '2025-11-01T23:00:00Z', '2025-11-02T12:00:00.000Z', '19:00 EDT before fall back -> 07:00 EST'],
    ['Pacific/Auckland', '2025-04-05T08:00:00Z', '2025-04-05T19:00:00.000Z', 'southern hemisphere, DST ends: 21:00 NZDT -> 07:00 NZST'],
    ['Pacific/Auckland', '2025-09-27T09:00:00Z', '2025-09-27T18:00:00.000Z', 'southern hemisphere, DST starts: 21:00 NZST -> 07:00 NZDT'],
    ['Asia/Kolkata', '2025-06-10T18:00:00Z', '2025-06-11T01:30:00.000Z', 'a half-hour offset'],
    ['UTC', '2025-06-10T07:00:00Z', '2025-06-11T07:00:00.000Z', 'exactly 07:00: the next one'],
  ])('%s, now %s -> %s (%s)', (zone, now, expected) => {
    const until = tomorrowMorning(at(now), zone);
    expect(until.toISOString()).toBe(expected);
    expect(wallClock(until, zone)).toMatchObject({ hour: 7, minute: 0 });
  });

  it('property: always in the future, at 07:00 local, on the same morning before 04:00 and the next day otherwise', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Pacific/Auckland', 'Australia/Lord_Howe', 'America/Havana', 'America/Santiago', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }), fc.constantFrom(...zones), (t, zone) => {
        const now = new Date(t);
        const until = tomorrowMorning(now, zone);
        const w = wallClock(now, zone);
        const u = wallClock(until, zone);
        expect(until.getTime()).toBeGreaterThan(t);
        expect([u.hour, u.minute]).toEqual([7, 0]);
        const days = (Date.UTC(u.year, u.month - 1, u.day) - Date.UTC(w.year, w.month - 1, w.day)) / (24 * HOUR);
        expect(days).toBe(w.hour < NIGHT_ENDS_HOUR ? 0 : 1);
        expect(until.getTime() - t).toBeLessThanOrEqual(28 * HOUR);
      }),
      { numRuns: 500 },
    );
  });

  it('a time inside a DST gap lands just after it', () => {
    // 02:30 does not exist in Berlin on 2025-03-30: the clock jumps from 02:00 to 03:00.
    expect(wallClock(zonedInstant(2025, 3, 30, 2, 30, 'Europe/Berlin'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 30 });
  });

  it('without a zone, uses this computer’s zone', () => {
    const now = at('2025-06-10T13:00:00Z');
    expect(wallClock(tomorrowMorning(now))).toMatchObject({ hour: 7, minute: 0 });
    expect(tomorrowMorning(now).getTime()).toBe(tomorrowMorning(now, Intl.DateTimeFormat().resolvedOptions().timeZone).getTime());
  });
});

describe('sharingRequestFor (tray action -> POST /api/v1/sharing body)', () => {
  const now = at('2025-06-10T20:30:00Z');

  it('maps every sharing action to a request the agent accepts, and the rest to null', () => {
    expect(sharingRequestFor('sharing-on', now)).toEqual({ mode: 'on' });
    expect(sharingRequestFor('sharing-off', now)).toEqual({ mode: 'off' });
    expect(sharingRequestFor('drain', now)).toEqual({ mode: 'drain' });
    expect(sharingRequestFor('snooze-15m', now)).toEqual({ mode: 'snooze', until: '2025-06-10T20:45:00.000Z' });
    expect(sharingRequestFor('snooze-1h', now)).toEqual({ mode: 'snooze', until: '2025-06-10T21:30:00.000Z' });
    expect(sharingRequestFor('snooze-tomorrow', now, 'Europe/Berlin')).toEqual({ mode: 'snooze', until: '2025-06-11T05:00:00.000Z' });
    for (const a of ['sharing-on', 'sharing-off', 'drain', 'snooze-15m', 'snooze-1h', 'snooze-tomorrow'] as const) {
      expect(() => SharingRequest.parse(sharingRequestFor(a, now))).not.toThrow();
    }
    for (const a of ['open-dashboard', 'restart-agent', 'quit'] as const) expect(sharingRequestFor(a, now)).toBeNull();
  });
});
