// Foreign CPU load: the arithmetic against a fake /proc (synthetic stat files in the kernel's
// layout), and on this machine's real /proc with real busy processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CpuLoadSource, LinuxCpuAccounting, OsCpuAccounting } from '../../agent/signals/cpu-load.js';
import { parsePidStat, parseProcStat } from '../../agent/signals/proc-stat.js';
import { useTempDirs } from '../support/tmp.js';
import { recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('/proc parsing', () => {
  it('a stat line whose name holds spaces and parentheses', () => {
    const line = '4242 (Web Content (x)) S 4000 4242 4000 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 12 0 98765 1000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
    expect(parsePidStat(line)).toEqual({ pid: 4242, comm: 'Web Content (x)', state: 'S', ppid: 4000, ticks: 300, childTicks: 10, starttime: 98765 });
    expect(parsePidStat('garbage')).toBeNull();
  });
  it('the cpu line: iowait counts as idle, guest is already in user', () => {
    expect(parseProcStat('cpu  100 5 50 800 45 0 0 0 30 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n')).toEqual({ total: 1000, idle: 845 });
  });
});

/** A fake /proc: the machine's cpu line, uptime, and processes (pid, ppid, ticks, child ticks, start). */
function fakeProc() {
  const root = tempDir();
  const write = (cpu: { busy: number; idle: number }, uptimeS: number, procs: Array<[number, number, number, number, number]>) => {
    writeFileSync(join(root, 'stat'), `cpu  ${cpu.busy} 0 0 ${cpu.idle} 0 0 0 0 0 0\n`);
    writeFileSync(join(root, 'uptime'), `${uptimeS}.00 1.00\n`);
    for (const [pid, ppid, ticks, child, start] of procs) {
      mkdirSync(join(root, String(pid)), { recursive: true });
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (p${pid}) S ${ppid} 1 1 0 -1 0 0 0 0 0 ${ticks} 0 ${child} 0 20 0 1 0 ${start} 0 0\n`);
    }
  };
  return { root, write };
}

describe('foreign CPU load from /proc (fake)', () => {
  it('subtracts our processes and their children, and nothing else', async () => {
    const { root, write } = fakeProc();
    // pid 100 is ours (a worker), 101 its engine; 200 is the user's.
    write({ busy: 1000, idle: 1000 }, 50, [[100, 1, 100, 0, 10], [101, 100, 500, 0, 20], [200, 1, 300, 0, 30]]);
    const acc = new LinuxCpuAccounting(root);
    expect(await acc.sample(new Set([100]))).toBeNull();
    // 1000 ticks pass, 800 busy: ours 100 + 500, the user's 200.
    write({ busy: 1800, idle: 1200 }, 60, [[100, 1, 200, 0, 10], [101, 100, 1000, 0, 20], [200, 1, 500, 0, 30]]);
    expect(await acc.sample(new Set([100]))).toBe(20);
  });

  it('counts a child that lived and was reaped between two looks as ours, once', async () => {
    const { root, write } = fakeProc();
    write({ busy: 0, idle: 0 }, 10, [[100, 1, 0, 0, 5], [101, 100, 300, 0, 6]]);
    const acc = new LinuxCpuAccounting(root);
    await acc.sample(new Set([100]));
    // 101 spent 100 more, exited, and was waited for: 400 moves into 100's child ticks; a new
    // child 102 started after the last look and spent 200.
    rmSync(join(root, '101'), { recursive: true });
    write({ busy: 300, idle: 700 }, 20, [[100, 1, 0, 400, 5], [102, 100, 200, 0, 1500]]);
    // ours: +400 (child ticks) - 300 (already counted) + 200 (new) = 300 of 300 busy -> 0 foreign.
    expect(await acc.sample(new Set([100]))).toBe(0);
  });

  it('does not charge us for the past of a process that just became ours', async () => {
    const { root, write } = fakeProc();
    write({ busy: 0, idle: 0 }, 10, [[300, 1, 5000, 0, 100]]);
    const acc = new LinuxCpuAccounting(root);
    await acc.sample(new Set());
    write({ busy: 500, idle: 500 }, 20, [[300, 1, 5400, 0, 100]]);
    expect(await acc.sample(new Set([300]))).toBe(50);
  });

  it('other systems: the whole machine from os.cpus(), nothing subtracted', async () => {
    const times = [{ total: 1000, idle: 800 }, { total: 2000, idle: 1100 }];
    const acc = new OsCpuAccounting(() => times.shift()!);
    expect(await acc.sample()).toBeNull();
    expect(await acc.sample()).toBe(70);
  });
});

function ticksOf(pid: number): number {
  return parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))!.ticks;
}

function busy(args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return child;
}

describe.skipIf(process.platform !== 'linux')("this machine's /proc with real busy processes", () => {
  it('does not count our busy child (working in a grandchild) but does count a stranger', async () => {
    // Ours: an idle parent whose child spins (and says its pid); the stranger spins itself.
    const ours = spawn(process.execPath, ['-e', "const c = require('child_process').spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => ours.kill('SIGKILL'));
    const grandchild = await new Promise<number>((resolve) => ours.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    cleanups.push(() => {
      try {
        process.kill(grandchild, 'SIGKILL');
      } catch {}
    });
    const stranger = busy(['-e', 'for(;;){}']);
    await new Promise((r) => setTimeout(r, 300));
    // Two accountings over the same interval: one knows the process is ours, one does not. What
    // each spinner really got is read beside them: other tests share these two cores, so shares
    // vary from run to run, and the bounds compare with what happened rather than with a guess.
    const knowing = new LinuxCpuAccounting();
    const unaware = new LinuxCpuAccounting();
    const own = new Set([ours.pid!]);
    const snapshot = () => ({ total: parseProcStat(readFileSync('/proc/stat', 'utf8'))!.total, gc: ticksOf(grandchild), stranger: ticksOf(stranger.pid!) });
    await Promise.all([knowing.sample(own), unaware.sample(new Set())]);
    const t0 = snapshot();
    await new Promise((r) => setTimeout(r, 3000));
    const [withOurs, withoutOurs] = await Promise.all([knowing.sample(own), unaware.sample(new Set())]);
    const t1 = snapshot();
    const share = (k: 'gc' | 'stranger') => ((t1[k] - t0[k]) / (t1.total - t0.total)) * 100;
    expect(share('gc')).toBeGreaterThan(5); // it did run
    // Our grandchild's share is the difference between the two views...
    expect(Math.abs(withoutOurs! - withOurs! - share('gc'))).toBeLessThan(10);
    // ...and the stranger's share is still counted as foreign.
    expect(withOurs!).toBeGreaterThan(share('stranger') - 10);
  });

  it('the source publishes cpuForeignLoad every period', async () => {
    const sink = recordingSink();
    const source = new CpuLoadSource({ periodMs: 100 });
    source.start(testContext({ sink }));
    cleanups.push(() => source.stop());
    const r = await waitFor(() => sink.last('cpuForeignLoad'), 'a reading');
    expect(r).toMatchObject({ source: 'cpu-load', maxAgeMs: 10_000, value: expect.any(Number) });
    expect(source.detectors()[0]!.how).toMatch(/minus our workers/);
  });
});
