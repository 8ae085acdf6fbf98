// What a dead agent left running is killed at the next start, and only if it still looks like ours.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PidRegistry, groupMembers } from '../../agent/jobs/pid-registry.js';
import { useTempDirs } from '../support/tmp.js';

const waitGone = async (pid: number) => {
  const deadline = Date.now() + 5_000;
  while (groupMembers(pid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return groupMembers(pid).length === 0;
};

describe.runIf(process.platform === 'linux')('pid registry', () => {
  const tmp = useTempDirs();

  it('reaps a leftover engine group, leaves an unrelated process alone, and empties the file', async () => {
    const dataDir = tmp();
    // Looks like an engine (the name says blender) in a group of its own.
    const engine = spawn('bash', ['-c', 'exec -a blender-leftover sleep 60'], { detached: true, stdio: 'ignore' });
    const other = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(
        join(dataDir, 'pids.json'),
        JSON.stringify({ entries: [{ pid: engine.pid, kind: 'engine', jobId: 'j_a' }, { pid: other.pid, kind: 'worker', jobId: 'j_b' }] }),
      );
      const { killed } = new PidRegistry(dataDir).reap();
      expect(killed.map((k) => k.pid)).toEqual([engine.pid]);
      expect(await waitGone(engine.pid!)).toBe(true);
      expect(groupMembers(other.pid!)).toEqual([other.pid]);
      expect(JSON.parse(readFileSync(join(dataDir, 'pids.json'), 'utf8'))).toEqual({ entries: [] });
    } finally {
      engine.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });

  it('survives a missing or damaged file', () => {
    const dataDir = tmp();
    expect(new PidRegistry(dataDir).reap().killed).toEqual([]);
    writeFileSync(join(dataDir, 'pids.json'), '{not json');
    const reg = new PidRegistry(dataDir);
    expect(reg.reap().killed).toEqual([]);
    reg.add({ pid: 1234, kind: 'worker', jobId: 'j' });
    reg.remove(1234);
    expect(reg.list()).toEqual([]);
  });
});
