// Words and times as the dashboard shows them.
import type { EffectiveState, SharingMode } from '../protocol/index.js';

export const STATE_LABEL: Record<EffectiveState, string> = {
  sharing: 'Sharing',
  paused: 'Paused',
  draining: 'Draining',
  off: 'Off',
  error: 'Error',
};

export const MANUAL_MODE_LABEL: Record<SharingMode, string> = {
  on: 'Sharing allowed when idle',
  off: 'Sharing turned off',
  snooze: 'Snoozed',
  drain: 'Finishing current work, then stopping',
};

function asDate(iso: string): Date | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** "14:30", or "Tue 14:30" when it is not today. */
export function formatClock(iso: string, now: Date = new Date()): string {
  const date = asDate(iso);
  if (!date) return iso;
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })} ${time}`;
}

export function formatDateTime(iso: string): string {
  const date = asDate(iso);
  return date ? date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : iso;
}
