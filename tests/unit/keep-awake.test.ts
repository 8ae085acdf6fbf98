// The headless keep-awake holds an inhibitor child; a stand-in script records its arguments and
// stays alive as long as its stdin is open, like systemd-inhibit running `cat`.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { systemdInhibitKeepAwake } from '../../agent/keep-awake.js';
import type { Logger } from '../../agent/logger.js';
import { useTempDirs } from '../support/tmp.js';

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => log, close: vi.fn() } as unknown as Logger;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(process.platform === 'linux')('keep awake (headless Linux)', () => {
  const tmp = useTempDirs();

  function fakeInhibit(dir: string) {
    const script = join(dir, 'systemd-inhibit');
    // Stand-in for systemd-inhibit: record args and pid, then run the given command (cat).
    writeFileSync(script, `#!/bin/sh\necho "$@" > "${dir}/args"\necho $$ > "${dir}/pid"\nshift 4\nexec "$@"\n`);
    chmodSync(script, 0o755);
    return script;
  }

  it('holds the inhibitor while wanted and lets it go when not', async () => {
    const dir = tmp();
    const k = systemdInhibitKeepAwake(log, fakeInhibit(dir));
    k.set(true);
    await vi.waitFor(() => expect(existsSync(join(dir, 'pid'))).toBe(true));
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(readFileSync(join(dir, 'args'), 'utf8')).toContain('--what=sleep:idle');
    expect(alive(pid)).toBe(true);
    k.set(false);
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
    expect(k.problem).toBeNull();
  });

  it('does not outlive an agent killed with SIGKILL', async () => {
    const dir = tmp();
    const script = fakeInhibit(dir);
    const agentFile = join(import.meta.dirname, '..', '..', 'agent', 'keep-awake.ts');
    // A separate process plays the agent: it takes the inhibitor, then is killed outright.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${agentFile}').then((m) => { m.systemdInhibitKeepAwake({ warn() {} }, '${script}').set(true); setInterval(() => {}, 1000); })`], { stdio: 'ignore' });
    await vi.waitFor(() => expect(existsSync(join(dir, 'pid'))).toBe(true), { timeout: 10_000 });
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 10_000 });
  });

  it('reports a missing inhibitor as a problem instead of failing', async () => {
    const k = systemdInhibitKeepAwake(log, '/nonexistent/systemd-inhibit');
    k.set(true);
    await vi.waitFor(() => expect(k.problem).toMatch(/not available/));
  });
});
