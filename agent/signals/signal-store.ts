// The agent's current view of every signal. Readings arrive from sources (sensors inside the agent,
// the Electron shell, scripts over the API); freshness is judged when read, against the clock.
import { SignalUpdate, signalKey, type ReadingUpdate, type SignalReading, type SignalSnapshot } from '../../protocol/index.js';
import type { SignalSink } from './source.js';

export const DEFAULT_MAX_AGE_MS = 30_000;

export class SignalStore implements SignalSink {
  private readings = new Map<string, SignalReading>();
  private listeners = new Set<(changed: string[]) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  publish(source: string, updates: ReadingUpdate[], maxAgeMs = DEFAULT_MAX_AGE_MS): void {
    const changed: string[] = [];
    for (const u of updates) {
      const key = signalKey(u.name, u.device);
      const prev = this.readings.get(key);
      const next: SignalReading = {
        name: u.name,
        ...(u.device !== undefined ? { device: u.device } : {}),
        state: u.notAvailable ? 'not_available' : 'ok',
        value: u.notAvailable ? null : (u.value ?? null),
        source,
        readAt: u.at ?? this.now().toISOString(),
        maxAgeMs,
        ...(u.note !== undefined ? { note: u.note } : {}),
      };
      this.readings.set(key, next);
      if (!prev || prev.state !== next.state || JSON.stringify(prev.value) !== JSON.stringify(next.value)) changed.push(key);
    }
    if (changed.length > 0) for (const l of this.listeners) l(changed);
  }

  /** Validated entry point for readings from outside the agent (`POST /api/v1/signals`). */
  accept(update: SignalUpdate): void {
    this.publish(update.source, update.readings, update.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  }

  /** Readings as of now: ok readings past their freshness are reported stale. */
  snapshot(): SignalSnapshot {
    const now = this.now().getTime();
    const out: Record<string, SignalReading> = {};
    for (const [k, r] of this.readings) {
      out[k] = r.state === 'ok' && (r.readAt === null || now - Date.parse(r.readAt) > r.maxAgeMs) ? { ...r, state: 'stale' } : r;
    }
    return out;
  }

  onChange(listener: (changed: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
