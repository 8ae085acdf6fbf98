import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../cli/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['1d', 86_400_000],
    [' 15M ', 900_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '10', 'h', '1x', '-5m', '0m', '1.5h'])('rejects %j', (text) => expect(() => parseDuration(text)).toThrow());
});
