// What the tray's manual controls ask the agent for (POST /api/v1/sharing), with the snooze end
// times computed from an injected clock. Pure: the time zone is a parameter (undefined = this
// computer's zone), so tests can pin one and cross midnight and DST changes.
//
// "Snooze until tomorrow" ends at 07:00 local time on the next morning. The night counts as the
// day before until 04:00: snoozing at 01:30 means "until this morning" (07:00 today, 5½ hours),
// not 07:00 of the day after (29½ hours); from 04:00 on it is 07:00 of the next calendar day. This
// also avoids a snooze of a few minutes when it is chosen at 06:50. Where DST makes 07:00 not
// exist (no zone does this today; transitions are at night) the time just after the gap is used.
import type { SharingRequest } from '../protocol/api.js';
import type { TrayAction } from './tray-menu.js';

export const MORNING_HOUR = 7;
/** Before this hour, "tomorrow morning" is this morning. */
export const NIGHT_ENDS_HOUR = 4;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(key, f);
  }
  return f;
}

/** The wall-clock reading of an instant in a zone. */
export function wallClock(at: Date, timeZone?: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetMs(t: number, timeZone: string | undefined): number {
  const w = wallClock(new Date(t), timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (t - (((t % 1000) + 1000) % 1000));
}

/** The instant at which the zone's clock reads the given date and time (after the gap, in a DST gap). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone?: string): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  // Two passes: the offset at the first guess may differ from the one at the answer across a change.
  let t = asUtc - offsetMs(asUtc, timeZone);
  t = asUtc - offsetMs(t, timeZone);
  return new Date(t);
}

/** 07:00 local on the coming morning (see the top of this file for the night rule). */
export function tomorrowMorning(now: Date, timeZone?: string): Date {
  const w = wallClock(now, timeZone);
  const next = new Date(Date.UTC(w.year, w.month - 1, w.day + (w.hour < NIGHT_ENDS_HOUR ? 0 : 1)));
  return zonedInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), MORNING_HOUR, 0, timeZone);
}

export type SnoozeAction = Extract<TrayAction, 'snooze-15m' | 'snooze-1h' | 'snooze-tomorrow'>;

export function snoozeUntil(action: SnoozeAction, now: Date, timeZone?: string): Date {
  switch (action) {
    case 'snooze-15m':
      return new Date(now.getTime() + 15 * 60_000);
    case 'snooze-1h':
      return new Date(now.getTime() + 60 * 60_000);
    case 'snooze-tomorrow':
      return tomorrowMorning(now, timeZone);
  }
}

/** The sharing request a tray action stands for; null for actions that are not about sharing. */
export function sharingRequestFor(action: TrayAction, now: Date, timeZone?: string): SharingRequest | null {
  switch (action) {
    case 'sharing-on':
      return { mode: 'on' };
    case 'sharing-off':
      return { mode: 'off' };
    case 'drain':
      return { mode: 'drain' };
    case 'snooze-15m':
    case 'snooze-1h':
    case 'snooze-tomorrow':
      return { mode: 'snooze', until: snoozeUntil(action, now, timeZone).toISOString() };
    default:
      return null;
  }
}
