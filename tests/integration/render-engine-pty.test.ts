// The engine's console is a real terminal (pty-console.ts) on Linux and macOS, and the default:
// Blender sees a tty, TERM and a very wide column count, so a long status line arrives as one line;
// stdout and stderr are one stream, the last line printed right before the exit still counts, the
// engine pid is its process group (and session) leader, and a SIGSTOP of the group stops all of it,
// bubblewrap included.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderJobSpec } from '../../protocol/index.js';
import { liveGroupMembers } from '../../workers/render/process-group.js';
import { PTY_COLUMNS, loadPty, render, startRender } from '../../workers/render/render-engine.js';
import { blender, bubblewrap, buildScene } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { useTempDirs } from '../support/tmp.js';

const found = blender();
const enabled = requireProgram(found, 'render engine under a pty (real Blender)') && process.platform !== 'win32' && 'open' in loadPty();
const BLENDER = found.found ?? '';

/** "pid (comm) state ppid pgrp session ...": [state, pgrp, session]. */
function stat(pid: number): [string, number, number] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [f[0]!, Number(f[2]), Number(f[3])];
}

/** A stand-in for Blender: a shell script that prints, then runs `tail` (real Blender, or an exit). */
function fakeBlender(dir: string, body: string): string {
  const file = path.join(dir, 'fake-blender.sh');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const LONG_STATUS = `Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.07 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | ${'x'.repeat(3000)} | Rendered 1/16 Tiles, Sample 8/8`;

describe.runIf(enabled)('render engine under a pty', () => {
  const tempDir = useTempDirs();

  it('gives Blender a wide terminal and reads a long status line as one line', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'));
    const fake = fakeBlender(
      job,
      [
        `if [ -t 1 ]; then echo "OFFHOURS_TTY yes"; else echo "OFFHOURS_TTY no"; fi`,
        `echo "OFFHOURS_TERM $TERM $COLUMNS $(stty size)"`,
        `printf '%s\\n' '${LONG_STATUS}'`,
        `exec ${JSON.stringify(BLENDER)} "$@"`,
      ].join('\n'),
    );
    const spec = RenderJobSpec.parse({ jobId: 'pty-1', frames: { start: 1, end: 1 }, resolution: { width: 64, height: 64 }, threads: 1 });
    const lines: string[] = [];
    let raw = '';
    const run = await startRender({ spec, jobDir: job, scene: 'scene.blend', blender: fake, sandbox: 'off', console: 'pty', onLine: (l) => lines.push(l), onOutput: (c) => (raw += c) });
    expect(run.console).toBe('pty');
    const result = await run.done;
    expect(result.failure).toBeNull();
    expect(lines).toContain('OFFHOURS_TTY yes');
    expect(lines).toContain(`OFFHOURS_TERM xterm-256color ${PTY_COLUMNS} 50 ${PTY_COLUMNS}`);
    // Not re-wrapped: one line, exactly as printed; the terminal's \r\n is gone from the lines.
    expect(lines.filter((l) => l.includes('xxxxxxxxxx'))).toEqual([LONG_STATUS]);
    expect(raw).toContain('\r\n');
    expect(lines.some((l) => l.includes('\r'))).toBe(false);
    // Real Blender's progress still parses from the pty.
    expect(lines.some((l) => /^Saved: '.*frame_0001\.png'/.test(l))).toBe(true);
  });

  it('the last line a chatty engine prints right before it exits is there, every time, and decides the outcome', async () => {
    const job = tempDir();
    writeFileSync(path.join(job, 'scene.blend'), '');
    // 20,000 status-sized lines, then a fatal line, then exit 0: only the last line says it failed.
    const fake = fakeBlender(job, `perl -e 'print "Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.07 | Rendering $_ / 4096 samples\\n" for 1..20000'\necho "Error: Not freed memory blocks: 2"\necho "std::bad_alloc"\nexit 0`);
    const spec = RenderJobSpec.parse({ jobId: 'pty-tail', frames: { start: 1, end: 1 }, threads: 1 });
    for (let i = 0; i < 5; i++) {
      const lines: string[] = [];
      const result = await render({ spec, jobDir: job, scene: 'scene.blend', blender: fake, sandbox: 'off', onLine: (l) => lines.push(l) });
      expect(lines.at(-1)).toBe('std::bad_alloc');
      expect(result.failure?.code).toBe('out_of_memory');
    }
  });

  for (const sandbox of ['off', 'required'] as const) {
    it.runIf(sandbox === 'off' || (process.platform === 'linux' && !!bubblewrap().found))(`pid is the group leader; SIGSTOP stops all of it; abort leaves nothing (sandbox ${sandbox})`, async () => {
      const job = tempDir();
      await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.cycles.samples = 4000\nscene.render.resolution_x = 256\nscene.render.resolution_y = 256');
      const spec = RenderJobSpec.parse({ jobId: `pty-group-${sandbox}`, frames: { start: 1, end: 1 }, threads: 1 });
      const controller = new AbortController();
      let rendering!: () => void;
      const firstTile = new Promise<void>((r) => (rendering = r));
      const run = await startRender({ spec, jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox, console: 'pty', signal: controller.signal, onProgress: (p) => p.tiles !== null && rendering() });
      expect(run.console).toBe('pty');
      const pid = run.pid!;
      const [, pgrp, session] = stat(pid);
      expect([pgrp, session]).toEqual([pid, pid]);
      await firstTile;
      const members = liveGroupMembers(pid);
      // nice -> (bwrap -> bwrap's init ->) blender: all in the one group.
      expect(members.length).toBeGreaterThanOrEqual(sandbox === 'off' ? 1 : 2);
      process.kill(-pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 300));
      expect(liveGroupMembers(pid).map((m) => stat(m)[0])).toEqual(members.map(() => 'T'));
      process.kill(-pid, 'SIGCONT');
      controller.abort();
      const result = await run.done;
      expect(result).toMatchObject({ outcome: 'failed', failure: { code: 'aborted' }, sandbox: sandbox === 'off' ? 'none' : 'bubblewrap' });
      expect(liveGroupMembers(pid)).toEqual([]);
    });
  }

  it('falls back to pipes on request, as on Windows', async () => {
    const job = tempDir();
    writeFileSync(path.join(job, 'scene.blend'), '');
    const fake = fakeBlender(job, `if [ -t 1 ]; then echo "tty"; else echo "pipe"; fi\nexit 1`);
    const spec = RenderJobSpec.parse({ jobId: 'pipes', frames: { start: 1, end: 1 }, threads: 1 });
    const lines: string[] = [];
    const result = await render({ spec, jobDir: job, scene: 'scene.blend', blender: fake, sandbox: 'off', console: 'pipes', onLine: (l) => lines.push(l) });
    expect(lines).toEqual(['pipe']);
    expect(result.exit.code).toBe(1);
  });
});
