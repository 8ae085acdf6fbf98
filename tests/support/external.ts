// Tests that need an outside program look for it. Missing on someone's own machine: the test is
// skipped with the reason printed. Under CI=true a missing program is a failure, not a skip.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface Requirement {
  found: string | null;
  reason: string;
}

export function findProgram(name: string, candidates: string[], envVar?: string): Requirement {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  const list = [...(fromEnv ? [fromEnv] : []), ...candidates];
  for (const c of list) if (existsSync(c)) return { found: c, reason: '' };
  try {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (path) return { found: path, reason: '' };
  } catch {
    // not on PATH
  }
  return { found: null, reason: `${name} not found (looked at ${list.join(', ')} and PATH${envVar ? `; set ${envVar}` : ''})` };
}

/** Returns true when the suite should run; prints why it is skipped, and throws under CI. */
export function requireProgram(req: Requirement, suite: string): boolean {
  if (req.found) return true;
  const msg = `${suite}: skipped because ${req.reason}`;
  if (process.env.CI === 'true') throw new Error(`${msg}. Under CI=true this is a failure: .ci/run must install it.`);
  process.stderr.write(`\n[skip] ${msg}\n`);
  return false;
}

export const chromium = () => findProgram('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'], 'CHROMIUM_PATH');

/** Flags for Debian's Chromium in a sandbox with no network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
