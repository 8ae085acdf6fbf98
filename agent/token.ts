// The API bearer token: created on first run, kept in the data directory readable by the user only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import { DATA_FILES } from '../protocol/index.js';
import { createSecretFile, makeOwnerOnly } from './fs-util.js';

export interface TokenResult {
  token: string;
  created: boolean;
  /** Set when the file's permissions were wider than user-only and have been narrowed. */
  fixedPermissions: boolean;
}

export function tokenPath(dataDir: string): string {
  return join(dataDir, DATA_FILES.token);
}

export function ensureToken(dataDir: string): TokenResult {
  const path = tokenPath(dataDir);
  const created = createSecretFile(path);
  if (created !== null) return { token: created, created: true, fixedPermissions: false };
  const fixedPermissions = makeOwnerOnly(path);
  const token = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(token)) throw new Error(`The API token file ${path} is damaged; delete it and restart the agent to make a new one.`);
  return { token, created: false, fixedPermissions };
}

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
export function tokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** Reads `Authorization: Bearer <token>`; anything else is no token. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? (m[1] ?? null) : null;
}
