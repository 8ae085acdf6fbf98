// The hub's image measures (hub/verify/image.ts) on PNGs made here with pngjs: decoding and its
// refusals, the blank test, PSNR and SSIM and the properties a verifier leans on, and Blender's
// render border as a pixel rectangle.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { borderToRect, decodePng, fullRect, inset, isBlank, lumaVariance, pngSize, psnr, ssim, type Rgba } from '../../hub/verify/image.js';
import { psnrFloor } from '../../hub/verify/verifier.js';

/** A deterministic pseudo-random generator, so noise is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function image(width: number, height: number, px: (x: number, y: number) => [number, number, number, number?]): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = px(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
/** A smooth scene: gradients and a bright disc, like a small render. */
const scene = (w = 64, h = 64) =>
  image(w, h, (x, y) => {
    const disc = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (w / 4) ** 2 ? 120 : 0;
    return [clamp((x * 200) / w + disc), clamp((y * 180) / h + disc / 2), clamp(60 + disc), 255];
  });
function noisy(img: Rgba, amplitude: number, seed = 1): Rgba {
  const rnd = lcg(seed);
  const data = Uint8Array.from(img.data);
  for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) data[i + c] = clamp(data[i + c]! + (rnd() * 2 - 1) * amplitude);
  return { ...img, data };
}
const encode = (img: Rgba): Buffer => {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return PNG.sync.write(png);
};

describe('decodePng', () => {
  it('decodes a PNG of the expected size to the same pixels', () => {
    const img = scene(32, 16);
    const out = decodePng(encode(img), 32, 16);
    expect(out.ok).toBe(true);
    if (out.ok) expect(Buffer.from(out.image.data).equals(Buffer.from(img.data))).toBe(true);
  });

  it('refuses the wrong size from the header alone, before inflating anything', () => {
    const bytes = encode(scene(32, 16));
    expect(decodePng(bytes, 16, 32)).toMatchObject({ ok: false, reason: 'wrong_size' });
    // A header claiming 65536x65536 with nothing behind it: refused without allocating gigabytes.
    const bomb = Buffer.from(bytes);
    bomb.writeUInt32BE(65_536, 16);
    bomb.writeUInt32BE(65_536, 20);
    expect(pngSize(bomb)).toEqual({ width: 65_536, height: 65_536 });
    expect(decodePng(bomb, 32, 16)).toMatchObject({ ok: false, reason: 'wrong_size' });
  });

  it('refuses what is not a PNG, and a PNG broken after its header', () => {
    expect(decodePng(Buffer.from('GIF89a not a png at all, not at all, no'), 4, 4)).toMatchObject({ ok: false, reason: 'not_an_image' });
    expect(decodePng(new Uint8Array(0), 4, 4)).toMatchObject({ ok: false, reason: 'not_an_image' });
    const bytes = encode(scene(32, 16));
    const broken = Buffer.concat([bytes.subarray(0, 40), Buffer.alloc(30, 7)]);
    expect(decodePng(broken, 32, 16)).toMatchObject({ ok: false, reason: 'not_an_image' });
  });
});

describe('blank', () => {
  it('calls flat frames blank, whatever the colour, and a transparent one too', () => {
    for (const c of [0, 128, 255]) expect(isBlank(image(16, 16, () => [c, c, c, 255]))).toBe(true);
    expect(isBlank(image(16, 16, (x) => [x * 10, 200, 30, 0]))).toBe(true);
  });

  it('does not call a render blank, even a dark one', () => {
    expect(isBlank(scene())).toBe(false);
    const dark = image(64, 64, (x, y) => [(x + y) % 6, (x * y) % 5, 2, 255]);
    expect(lumaVariance(dark)).toBeGreaterThan(0.5);
    expect(isBlank(dark)).toBe(false);
  });
});

describe('PSNR and SSIM', () => {
  const a = scene();
  it('are infinite and 1 for identical images', () => {
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
  });

  it('PSNR of a uniform offset d is 10 log10(255²/d²)', () => {
    const flat = image(8, 8, () => [100, 100, 100, 255]);
    const off = image(8, 8, () => [110, 110, 110, 255]);
    expect(psnr(flat, off)).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 10);
  });

  it('are symmetric, and fall as the noise grows', () => {
    const amps = [2, 6, 15, 40, 90];
    const ps = amps.map((amp) => psnr(a, noisy(a, amp)));
    const ss = amps.map((amp) => ssim(a, noisy(a, amp)));
    for (let i = 1; i < amps.length; i++) {
      expect(ps[i]).toBeLessThan(ps[i - 1]!);
      expect(ss[i]).toBeLessThan(ss[i - 1]!);
    }
    const b = noisy(a, 20, 9);
    expect(psnr(a, b)).toBeCloseTo(psnr(b, a), 10);
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 10);
    for (const s of ss) expect(s).toBeLessThanOrEqual(1);
  });

  it('SSIM tells a different picture from noise of the same strength', () => {
    const mild = noisy(a, 6);
    const flipped = image(64, 64, (x, y) => {
      const i = (y * 64 + (63 - x)) * 4;
      return [a.data[i]!, a.data[i + 1]!, a.data[i + 2]!, 255];
    });
    expect(ssim(a, mild)).toBeGreaterThan(0.9);
    expect(ssim(a, flipped)).toBeLessThan(0.8);
  });

  it('measure only the rectangle asked for', () => {
    const b = image(64, 64, (x, y) => (x < 32 ? [a.data[(y * 64 + x) * 4]!, a.data[(y * 64 + x) * 4 + 1]!, a.data[(y * 64 + x) * 4 + 2]!, 255] : [0, 0, 0, 255]));
    const left = { x: 0, y: 0, width: 32, height: 64 };
    expect(psnr(a, b, left)).toBe(Infinity);
    expect(ssim(a, b, left)).toBeCloseTo(1, 12);
    expect(psnr(a, b)).toBeLessThan(20);
    expect(() => psnr(a, b, { x: 60, y: 0, width: 8, height: 8 })).toThrow(RangeError);
    expect(() => psnr(a, scene(32, 32))).toThrow(RangeError);
  });

  it('a small rectangle, under one SSIM window, is still measured', () => {
    const r = { x: 10, y: 10, width: 3, height: 5 };
    expect(ssim(a, a, r)).toBeCloseTo(1, 12);
    expect(ssim(a, noisy(a, 60), r)).toBeLessThan(1);
  });
});

describe("Blender's border as pixels", () => {
  it('flips y (Blender counts from the bottom, PNG rows from the top) and insets', () => {
    expect(borderToRect({ minX: 0.25, maxX: 0.75, minY: 0.125, maxY: 0.625 }, 64, 64)).toEqual({ x: 16, y: 24, width: 32, height: 32 });
    expect(borderToRect({ minX: 0, maxX: 1, minY: 0, maxY: 1 }, 20, 10)).toEqual(fullRect({ width: 20, height: 10 }));
    expect(inset({ x: 16, y: 24, width: 32, height: 32 }, 1)).toEqual({ x: 17, y: 25, width: 30, height: 30 });
    expect(inset({ x: 0, y: 0, width: 2, height: 1 }, 1)).toEqual({ x: 0, y: 0, width: 2, height: 1 });
  });

  it('finds the intended pixel for borders placed on whole pixels', () => {
    for (const size of [7, 64, 333, 1920]) {
      for (let px = 0; px <= size; px += Math.max(1, Math.floor(size / 13))) {
        expect(borderToRect({ minX: px / size, maxX: 1, minY: 0, maxY: 1 }, size, size).x).toBe(px === size ? size : px);
      }
    }
  });
});

describe('the PSNR floor', () => {
  it('rises with samples, within 28..40 dB', () => {
    expect(psnrFloor(8)).toBeCloseTo(31, 10);
    expect(psnrFloor(1)).toBe(28);
    expect(psnrFloor(100_000)).toBe(40);
    for (let s = 1; s < 4096; s *= 2) expect(psnrFloor(s * 2)).toBeGreaterThanOrEqual(psnrFloor(s));
  });
});
