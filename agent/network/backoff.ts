// Exponential backoff with jitter (half fixed, half random): many nodes that lost the same hub at once come back spread
// out instead of all at the same second.
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 5 * 60_000 };

/** The wait after `failures` failures in a row (1 for the first): between half and all of the capped step. */
export function backoffMs(failures: number, o: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(step / 2 + (random() * step) / 2);
}
