// The tariff editor's pure side: new tariffs, which band owns each hour of the week, where a
// field error belongs, and what a CSV preview amounts to. Kept out of the components so the rules
// are read (and tested) in one place.
import { bandSpans, DAYS, type Band, type BandDays, type Day, type DynamicSlot, type FieldError, type Season, type Tariff, type TariffPlan } from '../../protocol/index.js';
import { compareDecimal } from './words.js';

export type PlanKind = TariffPlan['kind'];

export const PLAN_LABEL: Record<PlanKind, string> = {
  flat: 'Flat price',
  timeOfUse: 'Time of use',
  dynamic: 'Dynamic (price table)',
};

/** A lowercase id not yet taken: ids are what the active choice and the ledger refer to. */
export function uniqueId(base: string, taken: readonly string[]): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'tariff';
  if (!taken.includes(clean)) return clean;
  for (let n = 2; ; n++) {
    const id = `${clean}-${n}`;
    if (!taken.includes(id)) return id;
  }
}

export function newSeason(name = 'All year'): Season {
  return { name, from: '01-01', to: '12-31', bands: [], defaultPerKwh: '0.30' };
}

export function newBand(): Band {
  return { name: 'Night', days: 'all', from: '00:00', to: '07:00', perKwh: '0.20' };
}

export function newPlan(kind: PlanKind): TariffPlan {
  switch (kind) {
    case 'flat':
      return { kind, perKwh: '0.30' };
    case 'timeOfUse':
      return { kind, seasons: [{ ...newSeason(), bands: [newBand()] }] };
    case 'dynamic':
      return { kind, fallbackPerKwh: '0.30', slots: [] };
  }
}

export function newTariff(kind: PlanKind, taken: readonly string[], currency = 'EUR'): Tariff {
  return { id: uniqueId(kind === 'timeOfUse' ? 'time-of-use' : kind, taken), name: PLAN_LABEL[kind], currency, timeZone: null, plan: newPlan(kind) };
}

export type DaysChoice = 'all' | 'weekdays' | 'weekend' | 'custom';

export function daysChoice(days: BandDays): DaysChoice {
  return Array.isArray(days) ? 'custom' : days;
}

/** For each day (Monday first) and hour, the band that covers most of that hour; `partial` when
 * the hour is shared (with another band or the season's default price). */
export interface GridCell {
  band: number | null;
  partial: boolean;
}

export function bandGrid(bands: readonly Band[]): GridCell[][] {
  const minutes = DAYS.map(() => Array.from({ length: 24 }, () => new Map<number, number>()));
  bands.forEach((band, index) => {
    // A half-typed time: the band shows again once it parses.
    if (!hasValidTimes(band)) return;
    for (const span of bandSpans(band)) {
      for (let h = Math.floor(span.start / 60); h * 60 < span.end && h < 24; h++) {
        const overlap = Math.min(span.end, (h + 1) * 60) - Math.max(span.start, h * 60);
        if (overlap <= 0) continue;
        const hour = minutes[span.day]![h]!;
        hour.set(index, (hour.get(index) ?? 0) + overlap);
      }
    }
  });
  return minutes.map((day) =>
    day.map((hour) => {
      let best: number | null = null;
      let most = 0;
      let total = 0;
      for (const [band, m] of hour) {
        total += m;
        if (m > most) {
          best = band;
          most = m;
        }
      }
      return { band: best, partial: best !== null && (most < 60 || total > most) };
    }),
  );
}

/** Whether a time is HH:MM the tariff accepts, so the grid can skip a half-typed one. */
export function isClockTime(text: string): boolean {
  return /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/.test(text);
}

export function hasValidTimes(band: Band): boolean {
  return isClockTime(band.from) && isClockTime(band.to) && (!Array.isArray(band.days) || band.days.length > 0);
}

export const DAY_ORDER: readonly Day[] = DAYS;

/** Errors at exactly `path`, or under it when `under` is set (a band row takes its fields' errors). */
export function errorsAt(fields: readonly FieldError[], path: string, under = false): FieldError[] {
  return fields.filter((f) => f.path === path || (under && f.path.startsWith(`${path}.`)));
}

/** Paths that a control shows next to itself; the rest is listed above the editor. */
const CONTROL_PATH =
  /^(active|tariffs\.\d+\.(id|name|currency|timeZone|plan\.(perKwh|fallbackPerKwh|slots(\..*)?|seasons(\.\d+(\.(name|from|to|defaultPerKwh|bands\.\d+(\..*)?))?)?)|solar(\..*)?))$/;

export function unplacedErrors(fields: readonly FieldError[]): FieldError[] {
  return fields.filter((f) => !CONTROL_PATH.test(f.path));
}

export interface CsvSummary {
  count: number;
  first: string | null;
  last: string | null;
  min: string | null;
  max: string | null;
}

/** What a person checks before saving a price table: how many, which dates, the cheapest and dearest. */
export function summarizeSlots(slots: readonly DynamicSlot[]): CsvSummary {
  if (slots.length === 0) return { count: 0, first: null, last: null, min: null, max: null };
  let min = slots[0]!.perKwh;
  let max = min;
  for (const s of slots) {
    if (compareDecimal(s.perKwh, min) < 0) min = s.perKwh;
    if (compareDecimal(s.perKwh, max) > 0) max = s.perKwh;
  }
  return { count: slots.length, first: slots[0]!.start, last: slots[slots.length - 1]!.end, min, max };
}
