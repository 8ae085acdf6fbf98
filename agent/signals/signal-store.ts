// The agent's current view of every signal. Readings arrive from sources (sensors inside the agent,
// the Electron shell, scripts over the API); freshness is judged when read, against the clock.
// Several sources may give the same signal (Electron's idle time and the D-Bus monitor). Between
// them a fresh value wins; then a stale one (a source that could read it has stopped answering:
// the user may be there); then "not available"; then unknown. A source that has given a value and
// then says it cannot read it has had a hiccup, not a change of hardware: that counts as stale too.
import { SignalUpdate, signalKey, type GameSeen, type ReadingUpdate, type SignalReading, type SignalSnapshot } from '../../protocol/index.js';
import type { SignalSink } from './source.js';

export const DEFAULT_MAX_AGE_MS = 30_000;

const RANK: Record<SignalReading['state'], number> = { ok: 0, stale: 1, not_available: 2, unknown: 3 };

const readMs = (r: SignalReading): number => (r.readAt === null ? 0 : Date.parse(r.readAt));

export class SignalStore implements SignalSink {
  private readings = new Map<string, Map<string, SignalReading>>();
  /** `key/source` pairs that have given a real value in this run. */
  private hadValue = new Set<string>();
  private listeners = new Set<(changed: string[]) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  publish(source: string, updates: ReadingUpdate[], maxAgeMs = DEFAULT_MAX_AGE_MS): void {
    const changed: string[] = [];
    const at = this.now();
    for (const u of updates) {
      const key = signalKey(u.name, u.device);
      const before = this.current(key, at.getTime());
      let bySource = this.readings.get(key);
      if (!bySource) this.readings.set(key, (bySource = new Map()));
      const pair = `${key}/${source}`;
      // A reading's own time may be earlier than now (measured a moment ago), never later: a
      // future time would keep a value fresh forever and win every comparison.
      const readMs = u.at !== undefined ? Math.min(Date.parse(u.at), at.getTime()) : at.getTime();
      const previous = bySource.get(source);
      if (u.notAvailable && this.hadValue.has(pair)) {
        // Lost a signal it could read: keep the last value, marked out of date.
        bySource.set(source, { ...(previous ?? { name: u.name, value: null, source, maxAgeMs }), state: 'stale', ...(u.note !== undefined ? { note: u.note } : {}) } as SignalReading);
      } else {
        if (!u.notAvailable) this.hadValue.add(pair);
        bySource.set(source, {
          name: u.name,
          ...(u.device !== undefined ? { device: u.device } : {}),
          state: u.notAvailable ? 'not_available' : 'ok',
          value: u.notAvailable ? null : (u.value ?? null),
          source,
          readAt: new Date(readMs).toISOString(),
          maxAgeMs,
          ...(u.note !== undefined ? { note: u.note } : {}),
        });
      }
      const after = this.current(key, at.getTime());
      if (!before || !after || before.state !== after.state || before.source !== after.source || JSON.stringify(before.value) !== JSON.stringify(after.value)) {
        changed.push(key);
      }
    }
    if (changed.length > 0) for (const l of this.listeners) l(changed);
  }

  /** Validated entry point for readings from outside the agent (`POST /api/v1/signals`). */
  accept(update: SignalUpdate): void {
    this.publish(update.source, update.readings, update.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  }

  private current(key: string, now: number): SignalReading | undefined {
    let best: SignalReading | undefined;
    const fresh: SignalReading[] = [];
    for (const raw of this.readings.get(key)?.values() ?? []) {
      const r: SignalReading = raw.state === 'ok' && (raw.readAt === null || now - Date.parse(raw.readAt) > raw.maxAgeMs) ? { ...raw, state: 'stale' } : raw;
      if (r.state === 'ok') fresh.push(r);
      if (!best || RANK[r.state] < RANK[best.state] || (RANK[r.state] === RANK[best.state] && readMs(r) > readMs(best))) best = r;
    }
    // Games are a set, not a value: the process list seeing none must not hide the one the shell
    // or a script reported, so fresh lists from every source are joined.
    if (key === 'gamesRunning' && fresh.length > 1 && best) {
      const games = new Map<string, GameSeen>();
      // One game seen by two sources (the process list with a pid, a script without) is one game.
      for (const r of fresh) for (const g of r.value as GameSeen[]) if (!games.has(g.name.toLowerCase()) || g.pid !== undefined) games.set(g.name.toLowerCase(), g);
      return { ...best, value: [...games.values()], source: fresh.map((r) => r.source).join('+') };
    }
    return best;
  }

  /** Readings as of now: ok readings past their freshness are reported stale. */
  snapshot(): SignalSnapshot {
    const now = this.now().getTime();
    const out: Record<string, SignalReading> = {};
    for (const key of this.readings.keys()) {
      const r = this.current(key, now);
      if (r) out[key] = r;
    }
    return out;
  }

  onChange(listener: (changed: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
