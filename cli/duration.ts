/** Parses durations like 30m, 2h, 1h30m, 45s, 1d into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+(d|h|m|s))+$/.test(trimmed)) throw new Error(`"${text}" is not a duration; use e.g. 30m, 2h, 1h30m or 1d`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
  let total = 0;
  for (const [, n, u] of trimmed.matchAll(/(\d+)([dhms])/g)) total += Number(n) * unit[u as keyof typeof unit];
  if (total <= 0) throw new Error('the duration must be longer than zero');
  return total;
}
