// Wall-clock time in a zone, for weekly windows. Windows are wall-clock: on the night clocks go
// forward a 02:00–03:00 window does not happen, and on the night they go back it happens twice,
// which is what a person reading the schedule expects.
import { DAYS, type Day } from '../../protocol/index.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface WallClock {
  day: Day;
  /** Minutes since local midnight. */
  minute: number;
}

// One decision evaluates many windows at the same instant; formatting is the costly part.
let last: { ms: number; zone: string; clock: WallClock } | null = null;

export function wallClock(at: Date, timeZone: string): WallClock {
  const ms = at.getTime();
  if (last && last.ms === ms && last.zone === timeZone) return last.clock;
  const clock = computeWallClock(at, timeZone);
  last = { ms, zone: timeZone, clock };
  return clock;
}

function computeWallClock(at: Date, timeZone: string): WallClock {
  const parts = formatter(timeZone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as Day;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function nextDay(day: Day): Day {
  return DAYS[(DAYS.indexOf(day) + 1) % 7]!;
}

export function dayName(day: Day): string {
  return { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' }[day];
}

/** "14:05" in the zone. */
export function clockText(at: Date, timeZone: string): string {
  return at.toLocaleTimeString('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' });
}
