// Shared helpers for the signal-source tests: a sink that validates and records every publish
// against the protocol, a silent context, fake executables on PATH, and waiting without timing
// assertions.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignalUpdate, signalKey, type Policy, type ReadingUpdate } from '../../protocol/index.js';
import type { Logger } from '../../agent/logger.js';
import type { SignalSink, SourceContext } from '../../agent/signals/source.js';

export interface Published {
  source: string;
  readings: ReadingUpdate[];
  maxAgeMs: number;
}

export interface RecordingSink extends SignalSink {
  published: Published[];
  /** The newest reading of a signal, or undefined. */
  last(name: ReadingUpdate['name'], device?: string): (ReadingUpdate & { maxAgeMs: number; source: string }) | undefined;
}

export function recordingSink(): RecordingSink {
  const published: Published[] = [];
  const latest = new Map<string, ReadingUpdate & { maxAgeMs: number; source: string }>();
  return {
    published,
    publish(source, readings, maxAgeMs) {
      // Every reading a source makes must be one the API would accept.
      SignalUpdate.parse({ source, maxAgeMs, readings });
      published.push({ source, readings, maxAgeMs });
      for (const r of readings) latest.set(signalKey(r.name, r.device), { ...r, maxAgeMs, source });
    },
    last(name, device) {
      return latest.get(signalKey(name, device));
    },
  };
}

export const silentLog: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLog;
  },
  close() {},
};

export function testContext(overrides: Partial<SourceContext> & { sink: SignalSink }): SourceContext {
  const games: Policy['games'] = { extra: [], ignore: [] };
  return {
    log: silentLog,
    ownPids: () => new Set<number>(),
    games: () => games,
    now: () => new Date(),
    platform: 'linux',
    env: process.env,
    home: '/nonexistent-home',
    ...overrides,
  };
}

/** Writes an executable shell script `name` into `dir`. */
export function fakeExecutable(dir: string, name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}`);
  chmodSync(path, 0o755);
  return path;
}

/** Waits until `check` returns a truthy value (polling), or fails after `timeoutMs`. No assertion
 * about how long it took: the limit only keeps a broken test from hanging. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
