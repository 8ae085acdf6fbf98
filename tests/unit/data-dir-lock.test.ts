import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockHeldError, acquireDataDirLock } from '../../agent/data-dir-lock.js';
import { useTempDirs } from '../support/tmp.js';

describe('data directory lock', () => {
  const tmp = useTempDirs();

  it('is exclusive: a second holder is refused with a clear message naming the owner', () => {
    const dir = tmp();
    const first = acquireDataDirLock(dir);
    let caught: unknown;
    try {
      acquireDataDirLock(dir, { pid: process.pid + 1, host: hostname(), startedAt: 'now' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LockHeldError);
    expect((caught as Error).message).toContain(`pid ${process.pid}`);
    expect((caught as Error).message).toContain(dir);
    first.release();
    expect(existsSync(first.path)).toBe(false);
  });

  it('can be taken again after release', () => {
    const dir = tmp();
    acquireDataDirLock(dir).release();
    const again = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(again.path, 'utf8')).pid).toBe(process.pid);
    again.release();
  });

  it('takes over a stale lock whose owner died (kill -9)', async () => {
    const dir = tmp();
    const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 1e6)']);
    const deadPid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    writeFileSync(join(dir, 'agent.lock'), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'earlier' }));
    const lock = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('never steals a lock held by a live process', () => {
    const dir = tmp();
    // pid 1 is always alive.
    writeFileSync(join(dir, 'agent.lock'), JSON.stringify({ pid: 1, host: hostname(), startedAt: 'boot' }));
    expect(() => acquireDataDirLock(dir)).toThrow(LockHeldError);
  });

  it.runIf(process.platform === 'linux')('takes over a lock whose pid now belongs to another process (pid reused after a crash)', () => {
    const dir = tmp();
    // pid 1 is alive, but it is not the process that wrote this lock: its start time differs.
    writeFileSync(join(dir, 'agent.lock'), JSON.stringify({ pid: 1, host: hostname(), startedAt: 'before the reboot', procStart: '1' }));
    const lock = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('records the owner start time so a reused pid can be told apart', () => {
    const dir = tmp();
    const lock = acquireDataDirLock(dir);
    const owner = JSON.parse(readFileSync(lock.path, 'utf8'));
    if (process.platform === 'linux') expect(owner.procStart).toMatch(/^\d+$/);
    lock.release();
  });

  it('never steals a lock from another host (shared folder)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'agent.lock'), JSON.stringify({ pid: 999_999, host: 'other-box', startedAt: 'boot' }));
    expect(() => acquireDataDirLock(dir)).toThrow(/pid 999999/);
  });

  it('release does not remove a lock that someone else now holds', () => {
    const dir = tmp();
    const lock = acquireDataDirLock(dir);
    writeFileSync(lock.path, JSON.stringify({ pid: 1, host: hostname(), startedAt: 'x' }));
    lock.release();
    expect(existsSync(lock.path)).toBe(true);
  });
});
