// The progress parser on logs captured from Debian's Blender 3.4.1 and on a labelled synthetic 5.x
// log (tests/fixtures/blender/README.md): status lines, tiles, samples, saved frames, and the same
// result however the stream is cut into chunks or dressed up by a terminal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FrameRange, RenderProgress } from '../../protocol/index.js';
import { RenderMonitor } from '../../workers/render/monitor.js';
import { LineSplitter, MAX_LINE_CHARS, ProgressTracker, parseLine, parseTimecode, stripTerminal } from '../../workers/render/progress.js';
import { REPO } from '../support/blender.js';

const fixture = (name: string) => readFileSync(path.join(REPO, 'tests', 'fixtures', 'blender', name), 'utf8');
const CYCLES = fixture('cycles-3.4.1-cpu-tiled-3-frames.log');
const EEVEE = fixture('eevee-3.4.1-1-frame.log');
const V5 = fixture('blender-5.x-synthetic.log');

function progressOf(chunks: (string | Uint8Array)[], frames: FrameRange): RenderProgress[] {
  const splitter = new LineSplitter();
  const tracker = new ProgressTracker(frames);
  const out: RenderProgress[] = [];
  const feed = (lines: string[]) => {
    for (const l of lines) {
      const p = tracker.onLine(l);
      if (p) out.push(p);
    }
  };
  for (const c of chunks) feed(splitter.push(c));
  feed(splitter.end());
  return out;
}

describe('line splitting', () => {
  it('ends lines at \\n, \\r\\n and a bare \\r, also when \\r and \\n arrive in different chunks', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb\r\nc\r')).toEqual(['a', 'b', 'c']);
    expect(s.push('\nd')).toEqual([]);
    expect(s.push('\re')).toEqual(['d']);
    expect(s.end()).toEqual(['e']);
  });

  it('strips colours, cursor moves and window titles, even when an escape is cut between chunks', () => {
    const s = new LineSplitter();
    expect(s.push('\x1b[1;32mFra:1\x1b[0m | \x1b]0;title\x07Sample 1/8\x1b[')).toEqual([]);
    expect(s.push('K\r\n')).toEqual(['Fra:1 | Sample 1/8']);
    expect(stripTerminal('\x1b[2K\x1b[1Gdone\x1b(B')).toBe('done');
  });

  it('keeps a UTF-8 character cut between byte chunks whole', () => {
    const bytes = new TextEncoder().encode('Saved: \u2019ünïcode\u2019\n');
    const s = new LineSplitter();
    const lines = [...s.push(bytes.subarray(0, 9)), ...s.push(bytes.subarray(9, 10)), ...s.push(bytes.subarray(10))];
    expect(lines).toEqual(['Saved: \u2019ünïcode\u2019']);
  });

  it('bounds an endless line', () => {
    const s = new LineSplitter();
    const lines = s.push('x'.repeat(MAX_LINE_CHARS * 2 + 5));
    expect(lines).toHaveLength(2);
    expect(s.end()).toEqual(['xxxxx']);
  });
});

describe('status lines', () => {
  it('reads the 3.x/4.x status line from REFERENCE.md', () => {
    expect(
      parseLine('Fra:1 Mem:9.78M (Peak 10.75M) | Time:00:00.65 | Remaining:00:05.23 | Mem:1.07M, Peak:1.07M | Scene, ViewLayer | Rendered 2/20 Tiles, Sample 256/256'),
    ).toEqual({ kind: 'status', frame: 1, frameElapsedS: 0.65, frameRemainingS: 5.23, sample: 256, samples: 256, tile: 2, tiles: 20 });
  });

  it.each([
    ["Saved: '/abs/path/frame_0001.png'", { kind: 'saved', path: '/abs/path/frame_0001.png', frame: 1 }],
    ["Saved: 'C:\\jobs\\j\\frames\\frame_0042.png'", { kind: 'saved', path: 'C:\\jobs\\j\\frames\\frame_0042.png', frame: 42 }],
    ["Saved: '/job/frames/file-output/1/beauty_0001.png'", { kind: 'saved', path: '/job/frames/file-output/1/beauty_0001.png', frame: null }],
    [' Time: 00:00.14 (Saving: 00:00.11)', { kind: 'frame-time', totalS: 0.14, savingS: 0.11 }],
    [' Time: 01:02:03.50 (Saving: 00:00.10)', { kind: 'frame-time', totalS: 3723.5, savingS: 0.1 }],
    ['Fra:1 Mem:10.80M (Peak 11.92M) | Time:00:01.66 | Rendering 26 / 64 samples', { kind: 'status', frame: 1, frameElapsedS: 1.66, sample: 26, samples: 64, tiles: null }],
    ['00:07.157  render  | Fra: 1 | Rendering 1 / 64 samples', { kind: 'status', frame: 1, sample: 1, samples: 64 }],
    ['00:00.419  render  | Time: 00:01.06', { kind: 'frame-time', totalS: 1.06, savingS: null }],
    ["00:00.801  render   | Saved: '/JOB/frames/frame_0001.png'", { kind: 'saved', frame: 1 }],
    ['Fra:1 Mem:9.04M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer | Synchronizing object | Cube', { kind: 'status', frame: 1, sample: null, tiles: null }],
  ])('%s', (line, expected) => {
    expect(parseLine(line)).toMatchObject(expected);
  });

  it.each(['Blender 3.4.1', 'Read blend: /JOB/scene.blend', 'OIIO DEBUG: Don\'t know what to do with true cycles.passes.0.lightgroup', 'Blender quit', ''])(
    'ignores %j',
    (line) => {
      expect(parseLine(line)).toBeNull();
    },
  );

  it('reads timecodes with and without hours', () => {
    expect(parseTimecode('00:05.23')).toBe(5.23);
    expect(parseTimecode('01:00:00.00')).toBe(3600);
    expect(parseTimecode('nonsense')).toBeNull();
  });
});

describe('Cycles CPU, tiled, three frames (Blender 3.4.1, captured)', () => {
  const events = progressOf([CYCLES], { start: 1, end: 3 });

  it('walks the tiles of each frame and counts the saved frames', () => {
    expect(new Set(events.map((e) => e.frame))).toEqual(new Set([1, 2, 3]));
    expect(events.some((e) => e.frame === 2 && e.tiles === 16 && e.tile === 8 && e.samples === 8)).toBe(true);
    expect(events.map((e) => e.framesDone).filter((d, i, a) => a.indexOf(d) === i)).toEqual([0, 1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ frame: 3, framesDone: 3, framesTotal: 3, fraction: 1, remainingS: 0, sample: null, tiles: null });
  });

  it('only ever moves forward', () => {
    const f = events.map((e) => e.fraction);
    expect(f).toEqual([...f].sort((a, b) => a - b));
    const done = events.map((e) => e.framesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it('counts elapsed time from the frames’ own Time lines', () => {
    const frameTimes = [...CYCLES.matchAll(/^ Time: 00:(\d\d\.\d\d) \(Saving/gm)].map((m) => Number(m[1]));
    expect(frameTimes).toHaveLength(3);
    expect(events.at(-1)!.elapsedS).toBeCloseTo(frameTimes.reduce((a, b) => a + b, 0), 5);
  });

  it('estimates the time left once Blender says how long a frame takes', () => {
    const firstWithRemaining = events.find((e) => e.remainingS !== null)!;
    expect(firstWithRemaining.framesDone).toBe(0);
    expect(firstWithRemaining.remainingS).toBeGreaterThan(0);
  });

  it('gives the same progress however the bytes are chunked, through a pty (\\r\\n) and with colours', () => {
    const whole = JSON.stringify(events);
    const ptyText = CYCLES.replace(/\n/g, '\r\n').replace(/^Fra:/gm, '\x1b[32mFra:').replace(/Tiles/g, 'Tiles\x1b[0m');
    const bytes = new TextEncoder().encode(ptyText);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, i) => bytes.subarray(points[i], end));
        expect(JSON.stringify(progressOf(chunks, { start: 1, end: 3 }))).toBe(whole);
      }),
      { numRuns: 60 },
    );
  });
});

describe('Eevee, one frame (Blender 3.4.1, captured)', () => {
  it('reads `Rendering n / N samples`', () => {
    const events = progressOf([EEVEE], { start: 1, end: 1 });
    expect(events.filter((e) => e.samples === 8).map((e) => e.sample)).toEqual([1, 8]);
    expect(events.at(-1)).toMatchObject({ framesDone: 1, fraction: 1, remainingS: 0 });
  });
});

describe('Blender 5.x (SYNTHETIC fixture: see tests/fixtures/blender/README.md)', () => {
  it('reads prefixed lines, `Fra: 1` with a space and the unverified `Rendering n / N samples`', () => {
    const events = progressOf([V5], { start: 1, end: 2 });
    expect(events.some((e) => e.frame === 1 && e.sample === 4 && e.samples === 8)).toBe(true);
    expect(events.some((e) => e.frame === 2 && e.tile === 2 && e.tiles === 4 && e.remainingS !== null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ framesDone: 2, framesTotal: 2, fraction: 1, elapsedS: 0.76 });
  });
});

describe('render monitor', () => {
  const nonceOf = (log: string) => /^OFFHOURS_EFFECTIVE (\S+)/m.exec(log)![1]!;

  it('believes the setup script’s report only with the job’s nonce', () => {
    const good = new RenderMonitor({ frames: { start: 1, end: 3 }, nonce: nonceOf(CYCLES) });
    good.push(CYCLES);
    good.end();
    expect(good.effective).toEqual({ width: 64, height: 64, engine: 'CYCLES', samples: null });
    expect(good.fatal).toBeNull();
    expect(good.progress).toMatchObject({ framesDone: 3 });

    const forged = new RenderMonitor({ frames: { start: 1, end: 1 }, nonce: 'the-real-one' });
    forged.push('Fra:1 | Synchronizing object | x\nOFFHOURS_EFFECTIVE 0000 {"width":1,"height":1,"engine":"CYCLES"}\n');
    expect(forged.effective).toBeNull();
  });

  it('keeps stdout and stderr lines apart and remembers which frames were saved before a fatal line', () => {
    const m = new RenderMonitor({ frames: { start: 1, end: 3 }, nonce: 'n' });
    m.push("Saved: '/j/frames/frame_0001.png'\nFra:2 Mem:1M | Time:00:00.10 | Sam", 'stdout');
    m.push('CUDA error: Illegal address in cuCtxSynchronize\n', 'stderr');
    m.push("ple 1/8\nSaved: '/j/frames/frame_0002.png'\n", 'stdout');
    m.end();
    expect(m.fatal?.code).toBe('gpu_error');
    expect([...m.savedBeforeFatal]).toEqual([1]);
    expect(m.tail).toContain('Fra:2 Mem:1M | Time:00:00.10 | Sample 1/8');
  });
});
