// Which part of the ledger the Earnings page asks for: a preset range ending now, or days the user
// picks, each with the bucket size that reads well for it. Bounds are instants; the agent cuts
// days and months in the zone sent along, this computer's.
import type { EarningsQueryParams } from '../../protocol/index.js';

export type Preset = '24h' | '7d' | '30d' | '12m' | 'custom';
export type GroupBy = EarningsQueryParams['groupBy'];
export type SplitBy = NonNullable<EarningsQueryParams['by']>;

export const PRESETS: ReadonlyArray<{ id: Preset; label: string; groupBy: GroupBy }> = [
  { id: '24h', label: 'Last 24 hours', groupBy: 'hour' },
  { id: '7d', label: 'Last 7 days', groupBy: 'day' },
  { id: '30d', label: 'Last 30 days', groupBy: 'day' },
  { id: '12m', label: 'Last 12 months', groupBy: 'month' },
  { id: 'custom', label: 'Custom', groupBy: 'day' },
];

const HOUR = 3_600_000;

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The end of the current hour: the range then holds the hour now running, and stays the same
 * instant across re-renders so the query is not sent again for every second that passes. */
function endOfHour(now: Date): Date {
  return new Date(Math.floor(now.getTime() / HOUR) * HOUR + HOUR);
}

export function presetRange(preset: Exclude<Preset, 'custom'>, now: Date = new Date()): { from: string; to: string } {
  const to = endOfHour(now);
  const from = new Date(to);
  if (preset === '24h') from.setTime(to.getTime() - 24 * HOUR);
  else if (preset === '7d') from.setDate(from.getDate() - 7);
  else if (preset === '30d') from.setDate(from.getDate() - 30);
  else from.setFullYear(from.getFullYear() - 1);
  return { from: from.toISOString(), to: to.toISOString() };
}

/** `YYYY-MM-DD` days, both included, as local midnights: the end is the midnight after the last day. */
export function customRange(fromDay: string, toDay: string): { from: string; to: string } | null {
  const parse = (day: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
  };
  const from = parse(fromDay);
  const last = parse(toDay);
  if (!from || !last || Number.isNaN(from.getTime()) || Number.isNaN(last.getTime())) return null;
  const to = new Date(last);
  to.setDate(to.getDate() + 1);
  if (!(to > from)) return null;
  return { from: from.toISOString(), to: to.toISOString() };
}

/** A local day as `YYYY-MM-DD`, for the date inputs. */
export function dayText(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}
