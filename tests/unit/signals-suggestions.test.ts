// Game-list suggestions: the processes seen running, without the system, tools and our own.
import { describe, expect, it } from 'vitest';
import { ProcessHistory } from '../../agent/signals/games.js';
import type { ProcessInfo } from '../../agent/signals/process-list.js';

const proc = (pid: number, name: string, path: string | null = null): ProcessInfo => ({ pid, ppid: 1, name, path });

describe('process suggestions', () => {
  it('offers programs a user might call a game, not the system, shell tools, crash reporters or our own', () => {
    const h = new ProcessHistory();
    h.record(
      [
        proc(10, 'eldenring.exe'),
        proc(11, 'Discord'),
        proc(12, 'systemd'),
        proc(13, 'memfd:sealed-91'),
        proc(14, 'chrome_crashpad_handler'),
        proc(15, 'npm test'),
        proc(16, 'grep'),
        proc(17, 'gsd-power'),
        proc(18, 'thing', '/usr/libexec/thing'),
        proc(19, 'our-worker'),
      ],
      1_000,
      new Set([19]),
    );
    expect(h.names(1_000)).toEqual(['Discord', 'eldenring.exe']);
  });

  it('forgets what has not been seen for ten minutes', () => {
    const h = new ProcessHistory();
    h.record([proc(10, 'oldgame')], 0, new Set());
    h.record([proc(11, 'newgame')], 9 * 60_000, new Set());
    expect(h.names(11 * 60_000)).toEqual(['newgame']);
  });
});
