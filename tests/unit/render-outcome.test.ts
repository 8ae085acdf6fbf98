// Deciding a render's outcome: PNG frames must be whole and of the expected size (a truncated file
// fails even with its header intact), fatal lines and abnormal exits beat exit code 0, and every
// good frame is hashed.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RenderJobSpec, RenderResult } from '../../protocol/index.js';
import { decideOutcome, exitFromSandbox, type OutcomeInput } from '../../workers/render/outcome.js';
import { checkPngBytes, crc32, expectedDataLength } from '../../workers/render/png.js';
import { useTempDirs } from '../support/tmp.js';

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

/** An RGBA 8-bit PNG, non-interlaced, all rows filter 0. */
function png(width: number, height: number, opts: { rawBytes?: Buffer; idatSplit?: number } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = opts.rawBytes ?? Buffer.alloc(height * (1 + width * 4), 0x40).fill(0, 0, 1);
  if (!opts.rawBytes) for (let r = 0; r < height; r++) raw[r * (1 + width * 4)] = 0;
  const z = deflateSync(raw);
  const split = opts.idatSplit ?? z.length;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', z.subarray(0, split)),
    ...(split < z.length ? [chunk('IDAT', z.subarray(split))] : []),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('PNG check', () => {
  it('accepts a whole PNG, also with its data split over several IDAT chunks', () => {
    expect(checkPngBytes(png(64, 48))).toEqual({ ok: true, width: 64, height: 48, bitDepth: 8, colorType: 6, channels: 4, interlaced: false });
    expect(checkPngBytes(png(64, 48, { idatSplit: 10 })).ok).toBe(true);
  });

  it('rejects a file cut anywhere', () => {
    const whole = png(32, 32);
    for (const cut of [4, 20, 33, 40, whole.length - 20, whole.length - 12, whole.length - 1]) {
      expect(checkPngBytes(whole.subarray(0, cut))).toMatchObject({ ok: false });
    }
  });

  it('rejects image data shorter or longer than the header promises, even when it inflates cleanly', () => {
    const rowBytes = 1 + 8 * 4;
    const short = checkPngBytes(png(8, 8, { rawBytes: Buffer.alloc(rowBytes * 7) }));
    expect(short).toMatchObject({ ok: false, reason: expect.stringContaining('promises') });
    const long = checkPngBytes(png(8, 8, { rawBytes: Buffer.alloc(rowBytes * 9) }));
    expect(long.ok).toBe(false);
  });

  it('rejects a flipped byte (CRC), a bad filter byte and something that is not a PNG', () => {
    const bad = png(8, 8);
    bad[bad.length - 20] = bad[bad.length - 20]! ^ 0xff;
    expect(checkPngBytes(bad)).toMatchObject({ ok: false, reason: expect.stringMatching(/CRC/) });
    const rows = Buffer.alloc(8 * 33);
    rows[33] = 9;
    expect(checkPngBytes(png(8, 8, { rawBytes: rows }))).toMatchObject({ ok: false, reason: expect.stringMatching(/filter/) });
    expect(checkPngBytes(Buffer.from('GIF89a...'))).toMatchObject({ ok: false });
  });

  it('knows how much data an interlaced image carries', () => {
    // Adam7 on 8x8 RGBA8: passes of 1x1, 1x1, 2x1, 2x2, 4x2, 4x4, 8x4 pixels, each row with a filter byte.
    const passes = [
      [1, 1],
      [1, 1],
      [2, 1],
      [2, 2],
      [4, 2],
      [4, 4],
      [8, 4],
    ];
    const expected = passes.reduce((acc, [w, h]) => acc + h! * (1 + w! * 4), 0);
    expect(expectedDataLength({ width: 8, height: 8, bitDepth: 8, channels: 4, interlaced: true })).toBe(expected);
    expect(expectedDataLength({ width: 3, height: 2, bitDepth: 1, channels: 1, interlaced: false })).toBe(2 * (1 + 1));
  });
});

describe('outcome', () => {
  const tempDir = useTempDirs();
  const spec = RenderJobSpec.parse({ jobId: 'o', frames: { start: 1, end: 2 }, resolution: { width: 16, height: 16 } });

  function setup(files: Record<string, Buffer>): string {
    const frames = path.join(tempDir(), 'frames');
    mkdirSync(frames, { recursive: true });
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(frames, name)), { recursive: true });
      writeFileSync(path.join(frames, name), data);
    }
    return frames;
  }

  const base = (framesDir: string): OutcomeInput => ({
    spec,
    framesDir,
    exit: { code: 0, signal: null },
    fatal: null,
    expectedSize: { width: 16, height: 16 },
    aborted: false,
    device: 'CPU',
    sandbox: 'none',
    wallS: 1.234,
  });

  it('succeeds with every frame whole, at size, and hashed', async () => {
    const a = png(16, 16);
    const framesDir = setup({ 'frame_0001.png': a, 'frame_0002.png': png(16, 16, { idatSplit: 5 }), 'file-output/1/beauty_0001.png': a });
    const result = await decideOutcome(base(framesDir));
    expect(RenderResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({ outcome: 'succeeded', failure: null, wallS: 1.23 });
    expect(result.frames[0]).toEqual({
      frame: 1,
      file: 'frame_0001.png',
      sha256: createHash('sha256').update(a).digest('hex'),
      width: 16,
      height: 16,
      bytes: a.length,
    });
    expect(result.extraFiles).toEqual([{ path: 'file-output/1/beauty_0001.png', sha256: result.frames[0]!.sha256, bytes: a.length }]);
  });

  it('fails with bad_output for a truncated frame, despite exit code 0', async () => {
    const whole = png(16, 16);
    const framesDir = setup({ 'frame_0001.png': whole, 'frame_0002.png': whole.subarray(0, whole.length - 30) });
    const result = await decideOutcome(base(framesDir));
    expect(result.outcome).toBe('failed');
    expect(result.failure).toMatchObject({ code: 'bad_output', text: expect.stringMatching(/frame 2 .*not a valid PNG/) });
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
  });

  it('fails with bad_output for a missing frame or one of the wrong size', async () => {
    expect((await decideOutcome(base(setup({ 'frame_0001.png': png(16, 16) })))).failure).toMatchObject({ code: 'bad_output', text: expect.stringMatching(/frame 2 is missing/) });
    const wrong = await decideOutcome(base(setup({ 'frame_0001.png': png(16, 16), 'frame_0002.png': png(16, 8) })));
    expect(wrong.failure).toMatchObject({ code: 'bad_output', text: 'frame 2 is 16x8, expected 16x16' });
  });

  it('fails when the expected size is unknown rather than trusting whatever was written', async () => {
    const result = await decideOutcome({ ...base(setup({ 'frame_0001.png': png(16, 16), 'frame_0002.png': png(16, 16) })), expectedSize: null });
    expect(result.failure?.code).toBe('bad_output');
  });

  it('lets a fatal line win over exit code 0, keeping only frames saved before it', async () => {
    const framesDir = setup({ 'frame_0001.png': png(16, 16), 'frame_0002.png': png(16, 16) });
    const result = await decideOutcome({
      ...base(framesDir),
      fatal: { code: 'gpu_error', text: 'A GPU kernel launch failed.', line: 'CUDA error: Launch failed' },
      savedBeforeFatal: new Set([1]),
    });
    expect(result).toMatchObject({ outcome: 'failed', failure: { code: 'gpu_error', line: 'CUDA error: Launch failed' } });
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
  });

  it.each([
    [{ code: null, signal: 'SIGKILL' as const }, 'engine_exit'],
    [{ code: null, signal: 'SIGSEGV' as const }, 'crash'],
    [{ code: 3, signal: null }, 'engine_exit'],
    [{ code: -1073741819, signal: null }, 'crash'],
  ])('exit %j -> %s', async (exit, code) => {
    const result = await decideOutcome({ ...base(setup({})), exit });
    expect(result.failure?.code).toBe(code);
  });

  it('reports an aborted render as aborted', async () => {
    const result = await decideOutcome({ ...base(setup({})), exit: { code: null, signal: 'SIGTERM' }, aborted: true });
    expect(result.failure?.code).toBe('aborted');
  });

  it('reads bubblewrap’s 128+signal exit status back as the signal', () => {
    expect(exitFromSandbox({ code: 137, signal: null })).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitFromSandbox({ code: 139, signal: null })).toEqual({ code: null, signal: 'SIGSEGV' });
    expect(exitFromSandbox({ code: 1, signal: null })).toEqual({ code: 1, signal: null });
    expect(exitFromSandbox({ code: null, signal: 'SIGTERM' })).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
