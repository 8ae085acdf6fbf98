import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearerToken, ensureToken, tokenMatches } from '../../agent/token.js';
import { useTempDirs } from '../support/tmp.js';

describe('API token', () => {
  const tmp = useTempDirs();

  it('is created once, user-only, and then reused', () => {
    const dir = tmp();
    const first = ensureToken(dir);
    expect(first.created).toBe(true);
    expect(statSync(join(dir, 'api-token')).mode & 0o777).toBe(0o600);
    const second = ensureToken(dir);
    expect(second).toEqual({ token: first.token, created: false, fixedPermissions: false });
  });

  it('narrows a token file that others can read', () => {
    const dir = tmp();
    ensureToken(dir);
    chmodSync(join(dir, 'api-token'), 0o644);
    expect(ensureToken(dir).fixedPermissions).toBe(true);
    expect(statSync(join(dir, 'api-token')).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged token file instead of accepting anything', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'api-token'), '\n', { mode: 0o600 });
    expect(() => ensureToken(dir)).toThrow(/damaged/);
  });

  it('compares tokens exactly', () => {
    const t = 'a'.repeat(64);
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(t, `${t}a`)).toBe(false);
    expect(tokenMatches(t, 'a'.repeat(63))).toBe(false);
    expect(tokenMatches(t, '')).toBe(false);
    expect(tokenMatches(t, null)).toBe(false);
  });

  it('reads only a Bearer authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
