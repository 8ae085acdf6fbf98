// Pure image measures for verifying rendered frames: PNG decoding (with the size read from the
// header first, so a small file claiming a huge image is refused before it is inflated), a blank
// test, and PSNR and SSIM over a pixel rectangle. Pixels are compared as they would be seen: RGB
// composited over black by alpha, so a cheat cannot hide a difference in a transparent pixel.
import { PNG } from 'pngjs';

export interface Rgba {
  width: number;
  height: number;
  /** width * height * 4 bytes, rows top to bottom. */
  data: Uint8Array;
}

/** A pixel rectangle, x and y from the top-left corner. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR, or null when the bytes do not start like a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 33 || !b.subarray(0, 8).equals(SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

export type Decoded = { ok: true; image: Rgba } | { ok: false; reason: 'not_an_image' | 'wrong_size'; detail: string };

/** Decodes a PNG that must be exactly `width` x `height` (8 or 16 bits; 16 are scaled to 8). */
export function decodePng(bytes: Uint8Array, width: number, height: number): Decoded {
  const size = pngSize(bytes);
  if (!size) return { ok: false, reason: 'not_an_image', detail: 'not a PNG' };
  if (size.width !== width || size.height !== height) return { ok: false, reason: 'wrong_size', detail: `${size.width}x${size.height}, not ${width}x${height}` };
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (png.width !== width || png.height !== height || png.data.length !== width * height * 4) return { ok: false, reason: 'not_an_image', detail: 'a PNG whose pixels do not match its header' };
    return { ok: true, image: { width, height, data: png.data } };
  } catch (err) {
    return { ok: false, reason: 'not_an_image', detail: `not a readable PNG: ${(err as Error).message.slice(0, 200)}` };
  }
}

export const fullRect = (img: { width: number; height: number }): Rect => ({ x: 0, y: 0, width: img.width, height: img.height });

/** Blender's render border (fractions, y up from the bottom) as the pixel rectangle it renders. */
export function borderToRect(region: { minX: number; minY: number; maxX: number; maxY: number }, width: number, height: number): Rect {
  // Blender truncates border * size (in single precision) to whole pixels, which can land a pixel
  // below a border meant to sit exactly on one; rounding finds the intended pixel, and callers
  // compare an inset rectangle so that either reading is covered.
  const x0 = Math.round(region.minX * width);
  const x1 = Math.round(region.maxX * width);
  const yb0 = Math.round(region.minY * height);
  const yb1 = Math.round(region.maxY * height);
  return { x: x0, y: height - yb1, width: Math.max(0, x1 - x0), height: Math.max(0, yb1 - yb0) };
}

/** A rectangle shrunk by `by` pixels on each side (never below 1x1): edges are where rounding lives. */
export function inset(r: Rect, by: number): Rect {
  const dx = Math.min(by, Math.floor((r.width - 1) / 2));
  const dy = Math.min(by, Math.floor((r.height - 1) / 2));
  return { x: r.x + dx, y: r.y + dy, width: r.width - 2 * dx, height: r.height - 2 * dy };
}

function channel(img: Rgba, i: number, c: number): number {
  return (img.data[i + c]! * img.data[i + 3]!) / 255;
}

/** Rec. 601 luma of a pixel, composited over black. */
function luma(img: Rgba, x: number, y: number): number {
  const i = (y * img.width + x) * 4;
  return 0.299 * channel(img, i, 0) + 0.587 * channel(img, i, 1) + 0.114 * channel(img, i, 2);
}

function assertInside(img: Rgba, r: Rect): void {
  if (r.width <= 0 || r.height <= 0 || r.x < 0 || r.y < 0 || r.x + r.width > img.width || r.y + r.height > img.height) throw new RangeError('rectangle outside the image');
}

/** Variance of luma over the rectangle (0..255² scale). */
export function lumaVariance(img: Rgba, r: Rect = fullRect(img)): number {
  assertInside(img, r);
  let sum = 0;
  let sq = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const l = luma(img, x, y);
      sum += l;
      sq += l * l;
    }
  }
  const n = r.width * r.height;
  const mean = sum / n;
  return Math.max(0, sq / n - mean * mean);
}

/**
 * Below this luma variance a frame is blank: one flat colour (a black or white frame, what a node
 * that rendered nothing sends). Any real render, even a dark one, varies far more: Blender's
 * factory cube at 64x64, 8 samples, has a variance of about 1,600 (see verifier.ts).
 */
export const BLANK_VARIANCE = 0.5;

export function isBlank(img: Rgba, r: Rect = fullRect(img)): boolean {
  return lumaVariance(img, r) < BLANK_VARIANCE;
}

/** Peak signal-to-noise ratio in dB over RGB (composited over black); Infinity when identical. */
export function psnr(a: Rgba, b: Rgba, r: Rect = fullRect(a)): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError('images differ in size');
  assertInside(a, r);
  let se = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = (y * a.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const d = channel(a, i, c) - channel(b, i, c);
        se += d * d;
      }
    }
  }
  const mse = se / (r.width * r.height * 3);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * Mean structural similarity of luma over the rectangle (Wang et al. 2004), with 8x8 windows at a
 * stride of 4 (a rectangle smaller than a window is one window). 1 for identical images; noise
 * lowers it a little, a different picture a lot.
 */
export function ssim(a: Rgba, b: Rgba, r: Rect = fullRect(a)): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError('images differ in size');
  assertInside(a, r);
  const win = 8;
  const wx = Math.min(win, r.width);
  const wy = Math.min(win, r.height);
  const starts = (from: number, size: number, w: number) => {
    const out: number[] = [];
    for (let s = from; s + w <= from + size; s += 4) out.push(s);
    if (out[out.length - 1] !== from + size - w) out.push(from + size - w);
    return out;
  };
  let total = 0;
  let windows = 0;
  for (const y0 of starts(r.y, r.height, wy)) {
    for (const x0 of starts(r.x, r.width, wx)) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + wy; y++) {
        for (let x = x0; x < x0 + wx; x++) {
          const la = luma(a, x, y);
          const lb = luma(b, x, y);
          sa += la;
          sb += lb;
          saa += la * la;
          sbb += lb * lb;
          sab += la * lb;
        }
      }
      const n = wx * wy;
      const ma = sa / n;
      const mb = sb / n;
      const va = Math.max(0, saa / n - ma * ma);
      const vb = Math.max(0, sbb / n - mb * mb);
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return total / windows;
}
