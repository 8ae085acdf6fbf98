// node-pty can report the exit before the last data: the engine decides nothing until the output
// has gone quiet after the exit. A fake node-pty that does exactly that (exit, then a late chunk).
import type * as NodePty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { spawnPty } from '../../workers/render/render-engine.js';

function latePty(events: { at: number; data?: string; exit?: { exitCode: number; signal?: number } }[]): typeof NodePty {
  return {
    spawn: () => {
      const onData: ((d: string) => void)[] = [];
      const onExit: ((e: { exitCode: number; signal?: number }) => void)[] = [];
      for (const e of events) {
        setTimeout(() => {
          if (e.data !== undefined) for (const f of onData) f(e.data);
          if (e.exit) for (const f of onExit) f(e.exit);
        }, e.at);
      }
      // A pid that is no process group here: startRender's wait for setsid() gives up at the exit.
      return {
        pid: 2 ** 22 + 12345,
        onData: (f: (d: string) => void) => onData.push(f),
        onExit: (f: (e: { exitCode: number; signal?: number }) => void) => onExit.push(f),
      } as unknown as NodePty.IPty;
    },
  } as unknown as typeof NodePty;
}

const inv = { file: '/bin/true', args: [], env: {}, cwd: '/' };

describe('spawnPty', () => {
  it('waits for data that arrives after the exit', async () => {
    const seen: string[] = [];
    const engine = await spawnPty(
      latePty([{ at: 5, data: 'first\r\n' }, { at: 10, exit: { exitCode: 0 } }, { at: 60, data: 'late ' }, { at: 120, data: 'last line\r\n' }]),
      inv,
      (t) => seen.push(t),
    );
    const { exit } = await engine.ended;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(seen.join('')).toBe('first\r\nlate last line\r\n');
  });

  it('names the signal that ended the engine', async () => {
    const engine = await spawnPty(latePty([{ at: 5, exit: { exitCode: 0, signal: 9 } }]), inv, () => {});
    expect((await engine.ended).exit).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
