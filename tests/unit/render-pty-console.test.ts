// The engine's terminal: child_process on a pty whose slave this process holds until the output
// is drained. node-pty's own spawn lost the last lines of a chatty program in about half of the
// runs here (its exit overtakes the last output); these runs must lose nothing, every time.
import { describe, expect, it } from 'vitest';
import { PTY_COLUMNS, loadPty, spawnOnPty } from '../../workers/render/pty-console.js';

const pty = loadPty();
const enabled = process.platform !== 'win32' && 'open' in pty;
if (!enabled) process.stderr.write(`\n[skip] pty console: ${'reason' in pty ? pty.reason : 'Windows'}\n`);

function run(file: string, args: string[]) {
  let out = '';
  const engine = spawnOnPty((pty as { open: Parameters<typeof spawnOnPty>[0] }).open, { file, args, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/' }, (t) => (out += t));
  return { engine, out: () => out };
}

describe.runIf(enabled)('pty console', () => {
  it('delivers every line of a fast, chatty program before it reports the end, run after run', async () => {
    const lines = 50_000;
    for (let i = 0; i < 8; i++) {
      const r = run('perl', ['-e', `print "line $_\\n" for 1..${lines}; print "LAST LINE\\n"`]);
      const { exit } = await r.engine.ended;
      expect(exit).toEqual({ code: 0, signal: null });
      const got = r.out().split('\r\n');
      expect(got.filter((l) => l.startsWith('line ')).length).toBe(lines);
      expect(got.at(-2)).toBe('LAST LINE');
    }
  });

  it('is a real, wide terminal: isatty, the column count, and \\r\\n line ends', async () => {
    const r = run('sh', ['-c', 'test -t 1 && echo "tty yes"; stty size; echo "$TERM"']);
    await r.engine.ended;
    expect(r.out()).toBe(`tty yes\r\n50 ${PTY_COLUMNS}\r\nxterm-256color\r\n`);
  });

  it('gives the pid before the engine runs, as its own process group, and names the signal that ended it', async () => {
    const r = run('sleep', ['30']);
    expect(r.engine.pid).toBeGreaterThan(0);
    process.kill(-r.engine.pid!, 'SIGKILL');
    expect((await r.engine.ended).exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('reports a program that cannot be started', async () => {
    const r = run('/no/such/engine', []);
    const ended = await r.engine.ended;
    expect(ended.error?.message).toMatch(/ENOENT/);
  });
});
