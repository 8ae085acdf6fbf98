// Tariff prices are wall-clock in the tariff's zone: these pin the lookups at DST changes, band and
// season edges, and the exact micro cost of an interval split wherever the price changes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costOfInterval, priceAt } from '../../agent/energy/tariff-price.js';
import { Tariff, TariffSettings, type Band, type Season } from '../../protocol/index.js';

const HOUR = 3_600_000;

function tou(timeZone: string | null, seasons: Season[], solar?: Tariff['solar']): Tariff {
  return Tariff.parse({ id: 'tou', name: 'Time of use', currency: 'GBP', timeZone, plan: { kind: 'timeOfUse', seasons }, ...(solar ? { solar } : {}) });
}

const allYear = (bands: Band[], defaultPerKwh = '0.30'): Season => ({ name: 'All year', from: '01-01', to: '12-31', bands, defaultPerKwh });
const night: Band = { name: 'Night', days: 'all', from: '01:00', to: '03:00', perKwh: '0.10' };

/** Lookups in one tariff, on a computer whose own zone is UTC. */
const lookup = (tariff: Tariff) => (iso: string) => priceAt(tariff, new Date(iso), 'UTC');

function quote(tariff: Tariff, iso: string, systemZone = 'UTC') {
  return priceAt(tariff, new Date(iso), systemZone);
}

describe('a 01:00–03:00 band across DST', () => {
  it('Europe/London spring forward (2026-03-29): the band lasts one hour and starts at the jump', () => {
    const at = lookup(tou('Europe/London', [allYear([night])]));
    expect(at('2026-03-29T00:30:00Z')).toMatchObject({ source: 'season-default', perKwh: '0.3', validUntil: '2026-03-29T01:00:00.000Z' });
    expect(at('2026-03-29T01:00:00Z')).toMatchObject({
      source: 'band',
      label: 'Night',
      perKwh: '0.1',
      validFrom: '2026-03-29T01:00:00.000Z',
      validUntil: '2026-03-29T02:00:00.000Z',
    });
    // The ordinary night before: two hours of GMT.
    expect(at('2026-03-28T02:00:00Z')).toMatchObject({ validFrom: '2026-03-28T01:00:00.000Z', validUntil: '2026-03-28T03:00:00.000Z' });
  });

  it('Europe/London fall back (2026-10-25): the band lasts three hours', () => {
    const at = lookup(tou('Europe/London', [allYear([night])]));
    for (const iso of ['2026-10-25T00:00:00Z', '2026-10-25T00:59:59.999Z', '2026-10-25T01:00:00Z', '2026-10-25T02:59:59.999Z']) {
      expect(at(iso)).toMatchObject({ source: 'band', validFrom: '2026-10-25T00:00:00.000Z', validUntil: '2026-10-25T03:00:00.000Z' });
    }
    expect(at('2026-10-25T03:00:00Z')).toMatchObject({ source: 'season-default', validFrom: '2026-10-25T03:00:00.000Z' });
    expect(at('2026-10-24T23:59:59.999Z')).toMatchObject({ source: 'season-default', validUntil: '2026-10-25T00:00:00.000Z' });
  });

  it('America/New_York spring forward (2026-03-08, 07:00 UTC): one hour, 06:00–07:00 UTC', () => {
    const at = lookup(tou('America/New_York', [allYear([night])]));
    expect(at('2026-03-08T06:30:00Z')).toMatchObject({ source: 'band', validFrom: '2026-03-08T06:00:00.000Z', validUntil: '2026-03-08T07:00:00.000Z' });
    expect(at('2026-03-08T07:00:00Z')).toMatchObject({ source: 'season-default', validFrom: '2026-03-08T07:00:00.000Z', validUntil: '2026-03-09T05:00:00.000Z' });
  });

  it('America/New_York fall back (2026-11-01, 06:00 UTC): three hours, 05:00–08:00 UTC', () => {
    const at = lookup(tou('America/New_York', [allYear([night])]));
    expect(at('2026-11-01T06:30:00Z')).toMatchObject({ source: 'band', validFrom: '2026-11-01T05:00:00.000Z', validUntil: '2026-11-01T08:00:00.000Z' });
    expect(at('2026-11-01T05:00:00Z').source).toBe('band');
    expect(at('2026-11-01T04:59:59.999Z').source).toBe('season-default');
    expect(at('2026-11-01T08:00:00Z').source).toBe('season-default');
  });

  it('a band whose start does not exist that night begins at the jump itself', () => {
    // 01:30–04:00 London: 01:30 is skipped on 2026-03-29, so the band starts at 01:00 UTC (02:00 BST).
    const at = lookup(tou('Europe/London', [allYear([{ days: 'all', from: '01:30', to: '04:00', perKwh: '0.12' }])]));
    expect(at('2026-03-29T00:59:59.999Z').source).toBe('season-default');
    expect(at('2026-03-29T01:00:00Z')).toMatchObject({ source: 'band', label: '01:30–04:00', validFrom: '2026-03-29T01:00:00.000Z', validUntil: '2026-03-29T03:00:00.000Z' });
  });
});

describe('bands and seasons', () => {
  const weekdayNights: Band = { name: 'Off-peak', days: 'weekdays', from: '23:00', to: '07:00', perKwh: '0.08' };

  it('a band wrapping midnight belongs to the day it starts on', () => {
    const at = lookup(tou('UTC', [allYear([weekdayNights])]));
    // 2026-11-27 is a Friday.
    expect(at('2026-11-27T23:30:00Z')).toMatchObject({ source: 'band', validFrom: '2026-11-27T23:00:00.000Z', validUntil: '2026-11-28T07:00:00.000Z' });
    expect(at('2026-11-28T06:59:59.999Z').source).toBe('band');
    expect(at('2026-11-28T07:00:00Z').source).toBe('season-default');
    // Saturday night starts no band, so Sunday 06:00 is at the default; Sunday night does not either.
    expect(at('2026-11-28T23:30:00Z').source).toBe('season-default');
    expect(at('2026-11-30T06:00:00Z').source).toBe('season-default');
    // The default from Saturday 07:00 runs until Monday 23:00.
    expect(at('2026-11-29T12:00:00Z')).toMatchObject({ validFrom: '2026-11-28T07:00:00.000Z', validUntil: '2026-11-30T23:00:00.000Z' });
  });

  it('band edges: from is inside, to is outside', () => {
    const at = lookup(tou('UTC', [allYear([{ name: 'Peak', days: ['mon'], from: '16:00', to: '19:00', perKwh: '0.45' }])]));
    expect(at('2026-11-30T16:00:00Z').source).toBe('band');
    expect(at('2026-11-30T15:59:59.999Z').source).toBe('season-default');
    expect(at('2026-11-30T18:59:59.999Z').source).toBe('band');
    expect(at('2026-11-30T19:00:00Z').source).toBe('season-default');
  });

  const winter: Season = { name: 'Winter', from: '11-01', to: '02-28', defaultPerKwh: '0.35', bands: [] };
  const summer: Season = { name: 'Summer', from: '03-01', to: '10-31', defaultPerKwh: '0.25', bands: [] };

  it('a season wrapping the year end, and 02-29 taking 02-28’s season', () => {
    const at = lookup(tou('Europe/Berlin', [winter, summer]));
    expect(at('2026-12-31T22:59:00Z')).toMatchObject({ label: 'Winter', perKwh: '0.35' });
    expect(at('2027-01-01T00:00:00Z')).toMatchObject({ label: 'Winter' });
    expect(at('2028-02-29T12:00:00Z')).toMatchObject({ label: 'Winter', validUntil: '2028-02-29T23:00:00.000Z' });
    // Seasons change at local midnight: 23:00 UTC in Berlin's winter time, 22:00 in summer time.
    expect(at('2026-10-31T12:00:00Z')).toMatchObject({ label: 'Summer', validFrom: '2026-02-28T23:00:00.000Z', validUntil: '2026-10-31T23:00:00.000Z' });
  });

  it('weekend and weekday are the tariff zone’s, not UTC’s', () => {
    const weekend: Band = { name: 'Weekend', days: 'weekend', from: '00:00', to: '24:00', perKwh: '0.05' };
    // Friday 16:00 UTC is Saturday 01:00 in Tokyo.
    expect(quote(tou('Asia/Tokyo', [allYear([weekend])]), '2026-11-27T16:00:00Z')).toMatchObject({ source: 'band', validFrom: '2026-11-27T15:00:00.000Z' });
    expect(quote(tou('UTC', [allYear([weekend])]), '2026-11-27T16:00:00Z').source).toBe('season-default');
    // No zone of its own: the computer's zone decides.
    expect(quote(tou(null, [allYear([weekend])]), '2026-11-27T16:00:00Z', 'Asia/Tokyo').source).toBe('band');
    expect(quote(tou(null, [allYear([weekend])]), '2026-11-27T16:00:00Z', 'UTC').source).toBe('season-default');
  });
});

describe('dynamic prices', () => {
  const agile = Tariff.parse({
    id: 'agile',
    name: 'Agile',
    currency: 'GBP',
    timeZone: 'Europe/London',
    plan: {
      kind: 'dynamic',
      fallbackPerKwh: '0.25',
      slots: [
        { start: '2026-11-25T00:00:00Z', end: '2026-11-25T00:30:00Z', perKwh: '0.1' },
        { start: '2026-11-25T00:30:00Z', end: '2026-11-25T01:00:00Z', perKwh: '0.1' },
        { start: '2026-11-25T01:00:00Z', end: '2026-11-25T01:30:00Z', perKwh: '-0.0523' },
        { start: '2026-11-25T02:45:00+01:00', end: '2026-11-25T02:15:00Z', perKwh: '0.2' },
      ],
    },
  });

  it('finds the slot, merging neighbours at the same price, and allows negative prices', () => {
    expect(quote(agile, '2026-11-25T00:45:00Z')).toMatchObject({ source: 'dynamic', perKwh: '0.1', validFrom: '2026-11-25T00:00:00.000Z', validUntil: '2026-11-25T01:00:00.000Z' });
    expect(quote(agile, '2026-11-25T01:00:00Z')).toMatchObject({ perKwh: '-0.0523', validUntil: '2026-11-25T01:30:00.000Z' });
  });

  it('falls back where the table has no slot', () => {
    expect(quote(agile, '2026-11-24T23:00:00Z')).toMatchObject({ source: 'dynamic-fallback', perKwh: '0.25', validFrom: null, validUntil: '2026-11-25T00:00:00.000Z' });
    expect(quote(agile, '2026-11-25T01:30:00Z')).toMatchObject({ source: 'dynamic-fallback', validFrom: '2026-11-25T01:30:00.000Z', validUntil: '2026-11-25T01:45:00.000Z' });
    expect(quote(agile, '2026-11-25T01:45:00Z')).toMatchObject({ source: 'dynamic', perKwh: '0.2', validUntil: '2026-11-25T02:15:00.000Z' });
    expect(quote(agile, '2026-11-25T02:15:00Z')).toMatchObject({ source: 'dynamic-fallback', validFrom: '2026-11-25T02:15:00.000Z', validUntil: null });
  });

  it('refuses overlapping slots with the slot’s path', () => {
    const slots = [
      { start: '2026-11-25T00:00:00Z', end: '2026-11-25T01:00:00Z', perKwh: '0.1' },
      { start: '2026-11-25T00:30:00Z', end: '2026-11-25T01:30:00Z', perKwh: '0.1' },
    ];
    const r = Tariff.safeParse({ ...agile, plan: { kind: 'dynamic', fallbackPerKwh: '0.25', slots } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['plan', 'slots', 1, 'start'] });
    expect(r.error!.issues[0]!.message).toMatch(/overlap/);
  });
});

describe('solar', () => {
  const flatWithSolar = Tariff.parse({
    id: 'flat',
    name: 'Standard',
    currency: 'GBP',
    timeZone: 'Europe/London',
    plan: { kind: 'flat', perKwh: '0.30' },
    solar: { windows: [{ from: '11:00', to: '15:00', months: [4, 5, 6, 7, 8, 9] }], perKwh: '0' },
  });

  it('overrides the plan inside its windows, in its months', () => {
    expect(quote(flatWithSolar, '2026-06-15T11:00:00Z')).toMatchObject({ source: 'solar', perKwh: '0', validFrom: '2026-06-15T10:00:00.000Z', validUntil: '2026-06-15T14:00:00.000Z' });
    expect(quote(flatWithSolar, '2026-06-15T14:00:00Z')).toMatchObject({ source: 'flat', perKwh: '0.3', validUntil: '2026-06-16T10:00:00.000Z' });
    // In January the next free hour is on 1 April, already in summer time.
    expect(quote(flatWithSolar, '2026-01-15T12:00:00Z')).toMatchObject({ source: 'flat', validFrom: '2025-09-30T14:00:00.000Z', validUntil: '2026-04-01T10:00:00.000Z' });
  });

  it('a flat price with no solar never changes', () => {
    expect(quote(Tariff.parse({ ...flatWithSolar, solar: undefined }), '2026-06-15T11:00:00Z')).toMatchObject({ source: 'flat', label: 'Standard', validFrom: null, validUntil: null });
  });
});

describe('costOfInterval', () => {
  const london = tou('Europe/London', [allYear([night])]);

  it('splits at a band edge, exactly', () => {
    // Half an hour at 0.30 and half an hour at 0.10: 500 mWh x 0.30 + 500 mWh x 0.10 = 200 micros.
    expect(costOfInterval(london, new Date('2026-11-25T00:30:00Z'), new Date('2026-11-25T01:30:00Z'), 1000n, 'UTC')).toBe(200n);
    // Fall-back night: 3 h of band in 6 h: 3 kWh x 0.10 + 3 kWh x 0.30.
    expect(costOfInterval(london, new Date('2026-10-24T23:00:00Z'), new Date('2026-10-25T05:00:00Z'), 6_000_000n, 'UTC')).toBe(1_200_000n);
  });

  it('rounds once, half away from zero', () => {
    // 1 h at 0.30 then 2 h at 0.10: 10 mWh x (0.30 + 0.20) / 3 = 1.666… micros -> 2.
    expect(costOfInterval(london, new Date('2026-11-25T00:00:00Z'), new Date('2026-11-25T03:00:00Z'), 10n, 'UTC')).toBe(2n);
    // 3 mWh: exactly 0.5 micros -> 1.
    expect(costOfInterval(london, new Date('2026-11-25T00:00:00Z'), new Date('2026-11-25T03:00:00Z'), 3n, 'UTC')).toBe(1n);
  });

  it('negative prices earn, and an empty interval costs its instant’s price', () => {
    const negative = Tariff.parse({
      id: 'neg',
      name: 'Neg',
      currency: 'EUR',
      timeZone: null,
      plan: { kind: 'dynamic', fallbackPerKwh: '0.20', slots: [{ start: '2026-11-25T12:00:00Z', end: '2026-11-25T13:00:00Z', perKwh: '-0.05' }] },
    });
    // 1 kWh per hour: 0.20 for the first hour, -0.05 for the second.
    expect(costOfInterval(negative, new Date('2026-11-25T11:00:00Z'), new Date('2026-11-25T13:00:00Z'), 2_000_000n, 'UTC')).toBe(150_000n);
    expect(costOfInterval(negative, new Date('2026-11-25T12:00:00Z'), new Date('2026-11-25T12:00:00Z'), 1_000_000n, 'UTC')).toBe(-50_000n);
    expect(() => costOfInterval(negative, new Date(2), new Date(1), 1n, 'UTC')).toThrow(RangeError);
  });
});

describe('schema', () => {
  it('refuses overlapping bands with the band’s path', () => {
    const r = Tariff.safeParse({ ...tou('UTC', [allYear([night])]), plan: { kind: 'timeOfUse', seasons: [allYear([night, { ...night, name: 'Late', from: '02:00', to: '05:00', days: ['tue'] }])] } });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['plan', 'seasons', 0, 'bands', 1], message: 'overlaps band 1 on tue (01:00–03:00 and 02:00–05:00)' })]);
  });

  it('sees an overlap in the part of a band past midnight', () => {
    const r = Tariff.safeParse({
      ...tou('UTC', [allYear([night])]),
      plan: { kind: 'timeOfUse', seasons: [allYear([{ days: ['sun'], from: '22:00', to: '02:00', perKwh: '0.1' }, { days: ['mon'], from: '01:00', to: '02:00', perKwh: '0.1' }])] },
    });
    expect(r.error!.issues[0]!.message).toMatch(/overlaps band 1 on mon/);
  });

  it('refuses overlapping seasons and a year with a gap', () => {
    const overlap = Tariff.safeParse({ ...tou('UTC', [allYear([])]), plan: { kind: 'timeOfUse', seasons: [allYear([]), { name: 'Winter', from: '12-01', to: '01-31', defaultPerKwh: '1', bands: [] }] } });
    expect(overlap.error!.issues).toEqual([expect.objectContaining({ path: ['plan', 'seasons', 1], message: 'overlaps season "All year" on 01-01' })]);
    const gap = Tariff.safeParse({ ...tou('UTC', [allYear([])]), plan: { kind: 'timeOfUse', seasons: [{ name: 'Most', from: '01-01', to: '12-30', defaultPerKwh: '1', bands: [] }] } });
    expect(gap.error!.issues[0]!.message).toBe('no season covers 12-31; the seasons must cover the whole year');
  });

  it('refuses an unknown zone, a float price, and an active tariff that does not exist', () => {
    expect(Tariff.safeParse({ ...tou('UTC', [allYear([])]), timeZone: 'Mars/Olympus' }).error!.issues[0]!.message).toBe('unknown time zone "Mars/Olympus"');
    expect(Tariff.safeParse({ id: 'f', name: 'F', currency: 'EUR', timeZone: null, plan: { kind: 'flat', perKwh: 0.3 } }).success).toBe(false);
    const settings = TariffSettings.safeParse({ active: 'nope', tariffs: [tou('UTC', [allYear([])])] });
    expect(settings.error!.issues[0]).toMatchObject({ path: ['active'], message: 'no tariff has the id "nope"' });
  });
});

describe('properties', () => {
  const ny = tou('America/New_York', [
    { name: 'Summer', from: '06-01', to: '09-30', defaultPerKwh: '0.21', bands: [{ name: 'Peak', days: 'weekdays', from: '14:00', to: '19:00', perKwh: '0.48' }] },
    { name: 'Winter', from: '10-01', to: '05-31', defaultPerKwh: '0.19', bands: [night, { name: 'Evening', days: ['sat', 'sun'], from: '22:30', to: '00:30', perKwh: '0.15' }] },
  ]);
  const year2026 = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) });

  it('validFrom <= t < validUntil, and the price really changes at both ends', () => {
    fc.assert(
      fc.property(year2026, (t) => {
        const q = priceAt(ny, new Date(t), 'UTC');
        const from = Date.parse(q.validFrom!);
        const until = Date.parse(q.validUntil!);
        expect(from).toBeLessThanOrEqual(t);
        expect(until).toBeGreaterThan(t);
        const key = (x: ReturnType<typeof priceAt>) => `${x.source}/${x.label}/${x.perKwh}`;
        expect(key(priceAt(ny, new Date(from), 'UTC'))).toBe(key(q));
        expect(key(priceAt(ny, new Date(until - 1), 'UTC'))).toBe(key(q));
        expect(key(priceAt(ny, new Date(until), 'UTC'))).not.toBe(key(q));
        expect(key(priceAt(ny, new Date(from - 1), 'UTC'))).not.toBe(key(q));
      }),
      { numRuns: 150 },
    );
  });

  it('cost over [a,c] is cost over [a,b] plus [b,c], within a micro', () => {
    // Steps of 36 s and a power in whole tenths of a watt keep every part's energy a whole mWh.
    const step = 36_000;
    fc.assert(
      fc.property(year2026, fc.integer({ min: 0, max: 2400 }), fc.integer({ min: 0, max: 2400 }), fc.integer({ min: 0, max: 5000 }), (a, n1, n2, deciwatts) => {
        const b = a + n1 * step;
        const c = b + n2 * step;
        const energy = (ms: number) => (BigInt(deciwatts) * 100n * BigInt(ms)) / BigInt(HOUR);
        const whole = costOfInterval(ny, new Date(a), new Date(c), energy(c - a), 'UTC');
        const parts = costOfInterval(ny, new Date(a), new Date(b), energy(b - a), 'UTC') + costOfInterval(ny, new Date(b), new Date(c), energy(c - b), 'UTC');
        expect(whole - parts).toBeGreaterThanOrEqual(-1n);
        expect(whole - parts).toBeLessThanOrEqual(1n);
      }),
      { numRuns: 100 },
    );
  });
});
