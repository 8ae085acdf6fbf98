// Weekly windows are wall-clock times in a zone: across DST changes a window that does not exist
// never matches and one that happens twice matches twice. All instants are fixed UTC times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../agent/policy/decide.js';
import { systemTimeZone, wallClock } from '../../agent/policy/local-time.js';
import type { TimeWindow } from '../../protocol/index.js';
import { CPU, calmSignals, input, policyWith, resourceOf, rule, sameRules } from '../support/policy-fixtures.js';

const MINUTE = 60_000;

function policyFor(windows: TimeWindow[]) {
  return policyWith(sameRules([rule('main', [{ kind: 'timeWindows', windows }])]));
}

/** The resource's decision at `iso`, judged with no history (so no quiet period). */
function decisionAt(iso: string | Date, timeZone: string, windows: TimeWindow[]) {
  const now = new Date(iso);
  return resourceOf(decide(input({ now, signals: calmSignals(now), policy: policyFor(windows), resources: [CPU], timeZone })), 'cpu');
}

const runsAt = (iso: string | Date, timeZone: string, windows: TimeWindow[]) => decisionAt(iso, timeZone, windows).state === 'running';

/** Every whole minute in [from, to) at which the window allows running, as UTC ISO strings. */
function matchingMinutes(from: string, to: string, timeZone: string, windows: TimeWindow[]): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += MINUTE) if (runsAt(new Date(t), timeZone, windows)) out.push(new Date(t).toISOString());
  return out;
}

const first = (xs: string[]) => xs[0];
const last = (xs: string[]) => xs[xs.length - 1];

describe('Europe/London', () => {
  const zone = 'Europe/London';

  it('spring forward (2026-03-29, 01:00 UTC): a 01:00–02:00 window never happens that night', () => {
    const sunday = [{ days: ['sun'], start: '01:00', end: '02:00' }] satisfies TimeWindow[];
    expect(matchingMinutes('2026-03-28T22:00:00Z', '2026-03-29T04:00:00Z', zone, sunday)).toEqual([]);
    // The Sunday before, it is an ordinary hour of GMT.
    const before = matchingMinutes('2026-03-21T22:00:00Z', '2026-03-22T04:00:00Z', zone, sunday);
    expect([before.length, first(before), last(before)]).toEqual([60, '2026-03-22T01:00:00.000Z', '2026-03-22T01:59:00.000Z']);
  });

  it('spring forward: a 00:00–03:00 window lasts two real hours', () => {
    const m = matchingMinutes('2026-03-28T22:00:00Z', '2026-03-29T04:00:00Z', zone, [{ days: ['sun'], start: '00:00', end: '03:00' }]);
    expect([m.length, first(m), last(m)]).toEqual([120, '2026-03-29T00:00:00.000Z', '2026-03-29T01:59:00.000Z']);
  });

  it('fall back (2026-10-25, 01:00 UTC): a 01:00–02:00 window matches for two real hours', () => {
    const m = matchingMinutes('2026-10-24T22:00:00Z', '2026-10-25T04:00:00Z', zone, [{ days: ['sun'], start: '01:00', end: '02:00' }]);
    // 01:00–02:00 BST (00:00–01:00 UTC), then 01:00–02:00 GMT (01:00–02:00 UTC).
    expect([m.length, first(m), last(m)]).toEqual([120, '2026-10-25T00:00:00.000Z', '2026-10-25T01:59:00.000Z']);
  });

  it('summer windows are in BST, winter ones in GMT', () => {
    const nineToFive = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] satisfies TimeWindow[];
    expect(runsAt('2026-06-03T08:00:00Z', zone, nineToFive)).toBe(true); // 09:00 BST
    expect(runsAt('2026-06-03T07:59:00Z', zone, nineToFive)).toBe(false);
    expect(runsAt('2026-01-07T09:00:00Z', zone, nineToFive)).toBe(true); // 09:00 GMT
    expect(runsAt('2026-01-07T08:59:00Z', zone, nineToFive)).toBe(false);
  });
});

describe('America/New_York', () => {
  const zone = 'America/New_York';

  it('spring forward (2026-03-08, 02:00 EST): a 02:00–03:00 window never happens', () => {
    expect(matchingMinutes('2026-03-08T04:00:00Z', '2026-03-08T10:00:00Z', zone, [{ days: ['sun'], start: '02:00', end: '03:00' }])).toEqual([]);
  });

  it('fall back (2026-11-01, 02:00 EDT): a 01:00–02:00 window matches for two real hours', () => {
    const m = matchingMinutes('2026-11-01T03:00:00Z', '2026-11-01T09:00:00Z', zone, [{ days: ['sun'], start: '01:00', end: '02:00' }]);
    expect([m.length, first(m), last(m)]).toEqual([120, '2026-11-01T05:00:00.000Z', '2026-11-01T06:59:00.000Z']);
  });

  it('the Saturday-night window before the change is unaffected', () => {
    const m = matchingMinutes('2026-03-07T20:00:00Z', '2026-03-08T12:00:00Z', zone, [{ days: ['sat'], start: '22:00', end: '24:00' }]);
    expect([m.length, first(m), last(m)]).toEqual([120, '2026-03-08T03:00:00.000Z', '2026-03-08T04:59:00.000Z']);
  });
});

describe('a zone without DST: Asia/Kolkata (UTC+05:30)', () => {
  const zone = 'Asia/Kolkata';
  const monday = [{ days: ['mon'], start: '09:00', end: '17:00' }] satisfies TimeWindow[];

  it.each([
    ['January', '2026-01-05T00:00:00Z', '2026-01-05T00:00:00Z'],
    ['July', '2026-07-06T00:00:00Z', '2026-07-06T00:00:00Z'],
  ])('in %s, 09:00–17:00 is 03:30–11:30 UTC', (_month, from) => {
    const to = new Date(Date.parse(from) + 86_400_000).toISOString();
    const m = matchingMinutes(from, to, zone, monday);
    expect([m.length, first(m)?.slice(11, 16), last(m)?.slice(11, 16)]).toEqual([480, '03:30', '11:29']);
  });

  it('the local day decides, not the UTC one: Monday 02:00 IST is Sunday in UTC', () => {
    const early = [{ days: ['mon'], start: '00:00', end: '06:00' }] satisfies TimeWindow[];
    expect(runsAt('2026-06-07T20:30:00Z', zone, early)).toBe(true);
    expect(runsAt('2026-06-07T20:30:00Z', 'UTC', early)).toBe(false);
  });
});

const lordHoweSupported = (() => {
  try {
    if (!Intl.supportedValuesOf('timeZone').includes('Australia/Lord_Howe')) return false;
    // Its half-hour shift: 01:45 at 14:45 UTC (LHDT, +11), 01:30 again at 15:00 UTC (LHST, +10:30).
    return wallClock(new Date('2026-04-04T15:00:00Z'), 'Australia/Lord_Howe').minute === 90;
  } catch {
    return false;
  }
})();

describe.skipIf(!lordHoweSupported)('Australia/Lord_Howe (a 30-minute DST shift)', () => {
  const zone = 'Australia/Lord_Howe';

  it('DST ends (2026-04-05, 02:00 → 01:30): a 01:30–02:00 window happens twice, one real hour', () => {
    const m = matchingMinutes('2026-04-04T13:00:00Z', '2026-04-04T17:00:00Z', zone, [{ days: ['sun'], start: '01:30', end: '02:00' }]);
    expect([m.length, first(m), last(m)]).toEqual([60, '2026-04-04T14:30:00.000Z', '2026-04-04T15:29:00.000Z']);
  });

  it('DST starts (2026-10-04, 02:00 → 02:30): a 02:00–02:30 window never happens', () => {
    expect(matchingMinutes('2026-10-03T13:00:00Z', '2026-10-03T17:00:00Z', zone, [{ days: ['sun'], start: '02:00', end: '02:30' }])).toEqual([]);
  });
});

describe('midnight and the end of the week', () => {
  const zone = 'UTC';
  // Sunday 7 June 2026 into Monday 8 June.
  const overnight = [
    { days: ['sun'], start: '22:00', end: '24:00' },
    { days: ['mon'], start: '00:00', end: '06:00' },
  ] satisfies TimeWindow[];

  it.each([
    ['2026-06-07T21:59:59Z', false],
    ['2026-06-07T22:00:00Z', true],
    ['2026-06-07T23:59:59Z', true],
    ['2026-06-08T00:00:00Z', true],
    ['2026-06-08T05:59:59Z', true],
    ['2026-06-08T06:00:00Z', false],
  ])('an overnight window split at midnight, Sunday→Monday: %s -> %s', (iso, runs) => {
    expect(runsAt(iso, zone, overnight)).toBe(runs);
  });

  it("a window ending at '24:00' includes the day's last minute and not the next day's first", () => {
    const sundayLate = [{ days: ['sun'], start: '22:00', end: '24:00' }] satisfies TimeWindow[];
    expect(runsAt('2026-06-07T23:59:00Z', zone, sundayLate)).toBe(true);
    expect(runsAt('2026-06-08T00:00:00Z', zone, sundayLate)).toBe(false);
  });

  it('a whole-week window 00:00–24:00 always matches, also at every local midnight', () => {
    const always = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }] satisfies TimeWindow[];
    for (const [iso, z] of [
      ['2026-06-08T00:00:00Z', 'UTC'],
      ['2026-06-07T23:00:00Z', 'Europe/London'],
      ['2026-06-07T14:00:00Z', 'Australia/Sydney'],
      ['2026-03-29T00:00:00Z', 'Europe/London'],
      ['2026-10-25T23:59:00Z', 'Europe/London'],
    ] as const) {
      expect(runsAt(iso, z, always), `${iso} in ${z}`).toBe(true);
    }
  });

  it('wallClock gives hour 0 at local midnight, never 24', () => {
    expect(wallClock(new Date('2026-06-08T00:00:00Z'), 'UTC')).toEqual({ day: 'mon', minute: 0 });
    expect(wallClock(new Date('2026-06-07T23:00:00Z'), 'Europe/London')).toEqual({ day: 'mon', minute: 0 });
    expect(wallClock(new Date('2026-06-07T22:59:00Z'), 'Europe/London')).toEqual({ day: 'sun', minute: 1439 });
  });
});

describe('a schedule zone different from the machine zone', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  const berlinMonday = [{ days: ['mon'], start: '08:00', end: '09:00' }] satisfies TimeWindow[];

  it('the machine really is in Los Angeles for this test', () => {
    expect(systemTimeZone()).toBe('America/Los_Angeles');
    expect(new Date('2026-06-01T06:30:00Z').getDay()).toBe(0); // Sunday evening there
  });

  it('a Berlin window is read in Berlin time (CEST in summer, CET in winter)', () => {
    expect(runsAt('2026-06-01T06:30:00Z', 'Europe/Berlin', berlinMonday)).toBe(true); // Mon 08:30 CEST, Sun 23:30 in LA
    expect(runsAt('2026-06-01T05:59:00Z', 'Europe/Berlin', berlinMonday)).toBe(false);
    expect(runsAt('2026-06-01T15:30:00Z', 'Europe/Berlin', berlinMonday)).toBe(false); // Mon 08:30 in LA, 17:30 in Berlin
    expect(runsAt('2026-01-05T07:30:00Z', 'Europe/Berlin', berlinMonday)).toBe(true); // Mon 08:30 CET
    expect(runsAt('2026-01-05T06:59:00Z', 'Europe/Berlin', berlinMonday)).toBe(false);
  });

  it('the same window in the machine zone gives other times', () => {
    expect(runsAt('2026-06-01T15:30:00Z', systemTimeZone(), berlinMonday)).toBe(true);
    expect(runsAt('2026-06-01T06:30:00Z', systemTimeZone(), berlinMonday)).toBe(false);
  });

  it('the "next window" text is in the schedule zone', () => {
    // Mon 07:00 in Berlin, still Sunday 22:00 in Los Angeles.
    expect(decisionAt('2026-06-01T05:00:00Z', 'Europe/Berlin', berlinMonday).reasons[0]!.text).toBe('Paused: outside your schedule (next window today at 08:00)');
    expect(decisionAt('2026-06-01T05:00:00Z', systemTimeZone(), berlinMonday).reasons[0]!.text).toBe('Paused: outside your schedule (next window tomorrow at 08:00)');
  });
});

describe('the "next window" text', () => {
  // Wednesday 3 June 2026, 12:00 UTC.
  const wednesdayNoon = '2026-06-03T12:00:00Z';
  const next = (windows: TimeWindow[], iso = wednesdayNoon, zone = 'UTC') => {
    const d = decisionAt(iso, zone, windows);
    expect(d.reasons[0]!.code).toBe('outside_schedule');
    return /\(next window (.*)\)$/.exec(d.reasons[0]!.text)?.[1];
  };

  it.each([
    ['later today', [{ days: ['wed'], start: '18:00', end: '20:00' }], 'today at 18:00'],
    ['the earliest of several today', [{ days: ['wed'], start: '20:00', end: '21:00' }, { days: ['wed'], start: '13:30', end: '14:00' }], 'today at 13:30'],
    ['tomorrow', [{ days: ['thu'], start: '08:00', end: '09:00' }], 'tomorrow at 08:00'],
    ['tomorrow, though a window today has passed', [{ days: ['wed', 'thu'], start: '08:00', end: '09:00' }], 'tomorrow at 08:00'],
    ['later this week', [{ days: ['sat'], start: '10:00', end: '12:00' }], 'Saturday at 10:00'],
    ['next week', [{ days: ['mon'], start: '00:00', end: '06:00' }], 'Monday at 00:00'],
    ['the same weekday next week', [{ days: ['wed'], start: '08:00', end: '09:00' }], 'Wednesday at 08:00'],
  ] as Array<[string, TimeWindow[], string]>)('%s', (_what, windows, text) => {
    expect(next(windows)).toBe(text);
  });

  it('across Sunday→Monday midnight', () => {
    expect(next([{ days: ['mon'], start: '00:00', end: '06:00' }], '2026-06-07T23:00:00Z')).toBe('tomorrow at 00:00');
  });

  it('in the schedule zone: 17:30 in Kolkata is 12:00 UTC', () => {
    expect(next([{ days: ['wed'], start: '18:00', end: '20:00' }], wednesdayNoon, 'Asia/Kolkata')).toBe('today at 18:00');
    expect(next([{ days: ['wed'], start: '13:00', end: '14:00' }], wednesdayNoon, 'Asia/Kolkata')).toBe('Wednesday at 13:00');
  });

  it('after the fall-back hour in London, the next 01:00 is next Sunday', () => {
    expect(next([{ days: ['sun'], start: '01:00', end: '02:00' }], '2026-10-25T02:00:00Z', 'Europe/London')).toBe('Sunday at 01:00');
  });
});
