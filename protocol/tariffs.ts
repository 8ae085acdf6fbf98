// Electricity tariffs: what a kWh costs at a given moment. Pure schemas plus the small calendar
// helpers that validation and the agent's price lookup must agree on. Times of day are wall-clock
// in the tariff's zone, because that is how suppliers publish them; dynamic slots are instants,
// because that is how market prices are published.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { ClockTime, Day, DAYS, minutesOf } from './policy.js';
import { Currency, DecimalAmount } from './signals.js';

export const MAX_DYNAMIC_SLOTS = 100_000;

// A leap-year calendar, so every MM-DD has one index and 02-29 can be looked up too.
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const MONTH_START = MONTH_DAYS.reduce<number[]>((acc, n, i) => [...acc, acc[i]! + n], [0]);
export const LEAP_DAY_INDEX = 59;

/** `MM-DD`; 02-29 is a valid day (it belongs to whichever season holds 02-28 when no season names it). */
export const MonthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a day of the year such as 03-31')
  .refine((md) => Number(md.slice(3)) <= MONTH_DAYS[Number(md.slice(0, 2)) - 1]!, 'no such day of the year');

/** Index of a month (1-12) and day in a leap year, 0..365. */
export function dayOfYearIndex(month: number, day: number): number {
  return MONTH_START[month - 1]! + day - 1;
}

export function monthDayIndex(md: string): number {
  return dayOfYearIndex(Number(md.slice(0, 2)), Number(md.slice(3, 5)));
}

function monthDayText(index: number): string {
  const month = MONTH_START.findIndex((start, i) => index < MONTH_START[i + 1]!) + 1;
  return `${String(month).padStart(2, '0')}-${String(index - MONTH_START[month - 1]! + 1).padStart(2, '0')}`;
}

/** Whether the inclusive, possibly year-wrapping range `from`..`to` holds the day `index`. */
export function seasonHolds(season: { from: string; to: string }, index: number): boolean {
  const from = monthDayIndex(season.from);
  const to = monthDayIndex(season.to);
  return from <= to ? index >= from && index <= to : index >= from || index <= to;
}

export const BandDays = z.union([z.enum(['weekdays', 'weekend', 'all']), z.array(Day).min(1).max(7)]);
export type BandDays = z.infer<typeof BandDays>;

export function bandDays(days: BandDays): readonly Day[] {
  if (days === 'all') return DAYS;
  if (days === 'weekdays') return DAYS.slice(0, 5);
  if (days === 'weekend') return DAYS.slice(5);
  return days;
}

/** Minutes of each weekday (0 = Monday) a band covers; a band that wraps midnight spills into the next day. */
export function bandSpans(band: { days: BandDays; from: string; to: string }): { day: number; start: number; end: number }[] {
  const from = minutesOf(band.from);
  const to = minutesOf(band.to);
  const out: { day: number; start: number; end: number }[] = [];
  for (const day of bandDays(band.days)) {
    const d = DAYS.indexOf(day);
    if (from < to) {
      out.push({ day: d, start: from, end: to });
    } else {
      out.push({ day: d, start: from, end: 1440 });
      if (to > 0) out.push({ day: (d + 1) % 7, start: 0, end: to });
    }
  }
  return out;
}

export const Band = z
  .object({
    /** Shown to the user, e.g. "Night" or "Peak"; the quote falls back to the times. */
    name: z.string().min(1).max(80).optional(),
    days: BandDays,
    from: ClockTime,
    /** May be 24:00; earlier than `from` means the band runs past midnight into the next day. */
    to: ClockTime,
    perKwh: DecimalAmount,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.from === '24:00') ctx.addIssue({ code: 'custom', path: ['from'], message: 'a band cannot start at 24:00; use 00:00' });
    if (minutesOf(b.from) === minutesOf(b.to)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `the band starts and ends at ${b.from}; for a whole day use 00:00–24:00` });
    }
    if (Array.isArray(b.days) && new Set(b.days).size !== b.days.length) ctx.addIssue({ code: 'custom', path: ['days'], message: 'a day is listed twice' });
  });
export type Band = z.infer<typeof Band>;

export const Season = z
  .object({
    name: z.string().min(1).max(80),
    /** Inclusive; `from` after `to` wraps the year end (11-01 to 02-28 is a winter). */
    from: MonthDay,
    to: MonthDay,
    bands: z.array(Band).max(48),
    /** The price at any time no band covers. */
    defaultPerKwh: DecimalAmount,
  })
  .strict()
  .superRefine((s, ctx) => {
    // Two bands claiming the same minute would make the price depend on their order: refuse.
    const spans = s.bands.map(bandSpans);
    for (let j = 0; j < spans.length; j++) {
      for (let i = 0; i < j; i++) {
        const clash = spans[j]!.find((b) => spans[i]!.some((a) => a.day === b.day && a.start < b.end && b.start < a.end));
        if (clash) {
          ctx.addIssue({ code: 'custom', path: ['bands', j], message: `overlaps band ${i + 1} on ${DAYS[clash.day]} (${bandText(s.bands[i]!)} and ${bandText(s.bands[j]!)})` });
          break;
        }
      }
    }
  });
export type Season = z.infer<typeof Season>;

function bandText(b: Band): string {
  return `${b.from}–${b.to}`;
}

export const FlatPlan = z.object({ kind: z.literal('flat'), perKwh: DecimalAmount }).strict();

export const TimeOfUsePlan = z
  .object({ kind: z.literal('timeOfUse'), seasons: z.array(Season).min(1).max(12) })
  .strict()
  .superRefine((p, ctx) => {
    const owner = new Array<number>(366).fill(-1);
    p.seasons.forEach((s, j) => {
      let reported = false;
      for (let d = 0; d < 366; d++) {
        if (!seasonHolds(s, d)) continue;
        const i = owner[d]!;
        if (i >= 0 && !reported) {
          ctx.addIssue({ code: 'custom', path: ['seasons', j], message: `overlaps season "${p.seasons[i]!.name}" on ${monthDayText(d)}` });
          reported = true;
        }
        if (i < 0) owner[d] = j;
      }
    });
    // The year must be covered so every instant has a price; 02-29 borrows 02-28's season.
    const gap = owner.findIndex((o, d) => o < 0 && d !== LEAP_DAY_INDEX);
    if (gap >= 0) ctx.addIssue({ code: 'custom', path: ['seasons'], message: `no season covers ${monthDayText(gap)}; the seasons must cover the whole year` });
  });

export const DynamicSlot = z.object({ start: isoDateTime, end: isoDateTime, perKwh: DecimalAmount }).strict();
export type DynamicSlot = z.infer<typeof DynamicSlot>;

export const DynamicPlan = z
  .object({
    kind: z.literal('dynamic'),
    /** The price where the table has no slot (before the first, after the last, in gaps). */
    fallbackPerKwh: DecimalAmount,
    slots: z.array(DynamicSlot).max(MAX_DYNAMIC_SLOTS),
  })
  .strict()
  .superRefine((p, ctx) => {
    let previousEnd = -Infinity;
    for (let i = 0; i < p.slots.length; i++) {
      const start = Date.parse(p.slots[i]!.start);
      const end = Date.parse(p.slots[i]!.end);
      if (!(end > start)) {
        ctx.addIssue({ code: 'custom', path: ['slots', i, 'end'], message: 'the slot ends before it starts' });
      } else if (start < previousEnd) {
        ctx.addIssue({ code: 'custom', path: ['slots', i, 'start'], message: `starts before slot ${i} ends; slots must be sorted and must not overlap` });
      }
      previousEnd = Math.max(previousEnd, end);
    }
  });

export const TariffPlan = z.discriminatedUnion('kind', [FlatPlan, TimeOfUsePlan, DynamicPlan]);
export type TariffPlan = z.infer<typeof TariffPlan>;

export const SolarWindow = z
  .object({
    from: ClockTime,
    to: ClockTime,
    /** 1-12; absent = every month. */
    months: z.array(z.number().int().min(1).max(12)).min(1).max(12).optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (!(minutesOf(w.from) < minutesOf(w.to))) ctx.addIssue({ code: 'custom', path: ['to'], message: `the window ends (${w.to}) before it starts (${w.from})` });
    if (w.months && new Set(w.months).size !== w.months.length) ctx.addIssue({ code: 'custom', path: ['months'], message: 'a month is listed twice' });
  });
export type SolarWindow = z.infer<typeof SolarWindow>;

/** Own generation: inside the windows a kWh costs this instead (0, or the export price it displaces). */
export const Solar = z.object({ windows: z.array(SolarWindow).min(1).max(24), perKwh: DecimalAmount }).strict();
export type Solar = z.infer<typeof Solar>;

export const TariffId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'an id of lowercase letters, digits and dashes');

export const Tariff = z
  .object({
    id: TariffId,
    name: z.string().min(1).max(80),
    currency: Currency,
    /** IANA zone the times of day are in; null = this computer's zone. */
    timeZone: z.string().max(64).nullable(),
    plan: TariffPlan,
    solar: Solar.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.timeZone === null) return;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: t.timeZone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `unknown time zone "${t.timeZone}"` });
    }
  });
export type Tariff = z.infer<typeof Tariff>;

export const TariffSettings = z
  .object({ active: TariffId.nullable(), tariffs: z.array(Tariff).max(32) })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.tariffs.forEach((t, i) => {
      if (ids.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tariffs', i, 'id'], message: `tariff id "${t.id}" is used twice` });
      ids.add(t.id);
    });
    if (s.active !== null && !ids.has(s.active)) ctx.addIssue({ code: 'custom', path: ['active'], message: `no tariff has the id "${s.active}"` });
  });
export type TariffSettings = z.infer<typeof TariffSettings>;

export const PriceSource = z.enum(['flat', 'band', 'season-default', 'dynamic', 'dynamic-fallback', 'solar']);
export type PriceSource = z.infer<typeof PriceSource>;

export const PriceQuote = z
  .object({
    currency: Currency,
    perKwh: DecimalAmount,
    source: PriceSource,
    /** For people: the band, season or tariff name. */
    label: z.string(),
    /** When this price started and stops applying: ask again at validUntil. null = no change
     * within a year either way (a flat price, or a dynamic table's fallback after its last slot). */
    validFrom: isoDateTime.nullable(),
    validUntil: isoDateTime.nullable(),
  })
  .strict();
export type PriceQuote = z.infer<typeof PriceQuote>;
