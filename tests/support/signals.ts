// Readings of a user who has been away for an hour from a cool machine on mains, with no game:
// what lets the default (Gamer) rules allow work on a test box that has no desktop or sensors.
import type { SignalUpdate } from '../../protocol/index.js';

export const AWAY_USER: SignalUpdate = {
  source: 'test.shell',
  maxAgeMs: 3_600_000,
  readings: [
    { name: 'idleSeconds', value: 3600 },
    { name: 'screenLocked', value: false },
    { name: 'gamesRunning', value: [] },
    { name: 'onBattery', value: false },
    { name: 'cpuTemperature', value: 45 },
  ],
};

/** Posts AWAY_USER to a running agent. */
export async function reportUserAway(origin: string, token: string): Promise<void> {
  const res = await fetch(`${origin}/api/v1/signals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(AWAY_USER),
  });
  if (res.status !== 200) throw new Error(`posting signals failed: HTTP ${res.status}`);
}
