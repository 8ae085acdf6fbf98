// The CLI's progress bar: one redrawn line on a terminal, a line per 10 % into a file or pipe; and
// the parsing of `job submit`'s arguments.
import { describe, expect, it } from 'vitest';
import { ProgressBar, bar } from '../../cli/progress-bar.js';
import { frameFileName, parseFrames, parseResolution } from '../../cli/job-command.js';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 120, write: (s: string) => writes.push(s) } };
}

describe('ProgressBar', () => {
  it('into a pipe, writes a line each time another 10 % is done, and nothing in between', () => {
    const { writes, stream } = sink(false);
    let t = 0;
    const p = new ProgressBar({ label: 'Uploading', total: 1000, unit: 'bytes', stream, now: () => t });
    for (let done = 0; done <= 1000; done += 7) {
      t += 10;
      p.update(done);
    }
    p.update(1000);
    p.finish();
    expect(writes.length).toBe(11);
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes[0]).toMatch(/^Uploading \[\.{30}\] +0% 0 B of 1000 B/);
    expect(writes.at(-1)).toMatch(/\[#{30}\] 100% 1000 B of 1000 B, [\d.]+ MiB\/s/);
  });

  it('on a terminal, redraws one line at most ten times a second and ends it once', () => {
    const { writes, stream } = sink(true);
    let t = 0;
    const p = new ProgressBar({ label: 'frames', total: 50, unit: 'count', stream, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t += 20;
      p.update(i);
    }
    p.finish();
    const draws = writes.filter((w) => w.startsWith('\r'));
    expect(draws.length).toBeGreaterThan(5);
    expect(draws.length).toBeLessThan(15);
    expect(writes.filter((w) => w.includes('\n'))).toEqual(['\n']);
    expect(draws.at(-1)).toContain('100% 50/50');
  });

  it('draws fractions, clamped', () => {
    expect(bar(0.5, 10)).toBe('[#####.....]');
    expect(bar(2, 4)).toBe('[####]');
    expect(bar(Number.NaN, 4)).toBe('[....]');
  });
});

describe('job submit arguments', () => {
  it('reads frames, resolutions and frame file names', () => {
    expect(parseFrames('1-24')).toEqual({ start: 1, end: 24 });
    expect(parseFrames('7')).toEqual({ start: 7, end: 7 });
    expect(() => parseFrames('5-2')).toThrow(/ends before/);
    expect(() => parseFrames('a-b')).toThrow(/--frames/);
    expect(parseResolution('1920x1080')).toEqual({ x: 1920, y: 1080 });
    expect(() => parseResolution('0x10')).toThrow(/--resolution/);
    expect(frameFileName(1)).toBe('frame-0001.png');
    expect(frameFileName(12345)).toBe('frame-12345.png');
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 40]) expect(() => frameFileName(bad)).toThrow(/no job can have/);
  });
});
