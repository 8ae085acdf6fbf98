// Small shared pieces for signal sources: how long a reading stays fresh, and how to say that a
// signal cannot be read here (never silently nothing: the UI shows the note).
import type { DeviceId, ReadingUpdate, SignalName } from '../../protocol/index.js';

/** Freshness for a source that reads every `periodMs`: three missed reads make it stale, and never
 * under 10 s, so one slow read (a busy machine, a PowerShell cold start) does not flap to stale. */
export function maxAgeFor(periodMs: number): number {
  return Math.max(10_000, 3 * Math.round(periodMs));
}

export function unavailable(name: SignalName, note: string, device?: DeviceId): ReadingUpdate {
  return { name, notAvailable: true, note: note.slice(0, 300), ...(device !== undefined ? { device } : {}) };
}

/** A value the protocol's range accepts, or null: a sensor that reads -273 °C or 255 °C is broken,
 * and a broken reading must not be taken for a real one. */
export function inRange(value: number | null | undefined, min: number, max: number): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : null;
}

export function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 10) / 10));
}
