#!/usr/bin/env node
// Draws Offhours' icons into resources/: the app icon (PNG sizes, a Windows .ico) and one tray icon
// per state for each OS. Shapes are described in a unit square and rasterised with 4x4
// supersampling, so every size is drawn, not scaled. No dependencies (PNG = zlib + CRC), so the
// files can be regenerated anywhere: `node tools/icons/make-icons.mjs [--out DIR]` (default:
// resources/). The output is deterministic and committed; electron-builder and the app read the
// files, not this script, and a test regenerates them to check the committed ones are current.
//
// Tray states differ by shape as well as colour (a play mark, two bars, an empty ring, an
// exclamation mark), because macOS template images are single-colour and some users cannot tell
// green from red.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const outFlag = process.argv.indexOf('--out');
const root = outFlag > 0 && process.argv[outFlag + 1] ? process.argv[outFlag + 1] : join(import.meta.dirname, '..', '..', 'resources');

// ---- shapes: (x, y) in [0, 1] -> inside? ----------------------------------------------------

const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r, w) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return d <= r && d >= r - w;
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (!rect(x0, y0, x1, y1)(x, y)) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const triangle = ([ax, ay], [bx, by], [cx, cy]) => (x, y) => {
  const s1 = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
  const s2 = (cx - bx) * (y - by) - (cy - by) * (x - bx);
  const s3 = (ax - cx) * (y - cy) - (ay - cy) * (x - cx);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
};
const union = (...shapes) => (x, y) => shapes.some((s) => s(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);

// ---- rasteriser ---------------------------------------------------------------------------

/** layers: [{ shape, color: [r, g, b, a] }], top layer last. Returns RGBA bytes (straight alpha). */
function rasterise(size, layers) {
  const out = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          for (let i = layers.length - 1; i >= 0; i--) {
            const layer = layers[i];
            if (!layer.shape(x, y)) continue;
            const [lr, lg, lb, la] = layer.color;
            const alpha = la / 255;
            r += lr * alpha; g += lg * alpha; b += lb * alpha; a += alpha;
            break;
          }
        }
      }
      const o = (py * size + px) * 4;
      const samples = n * n;
      out[o + 3] = Math.round((a / samples) * 255);
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
    }
  }
  return out;
}

// ---- encoders -----------------------------------------------------------------------------

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 32-bit DIB icon image (BGRA, bottom-up, with the 1-bit AND mask): what every Windows API
 * reads, where PNG entries are only guaranteed for 256 px. */
function dib(size, rgba) {
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // XOR + AND masks
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const s = (y * size + x) * 4;
      const d = ((size - 1 - y) * size + x) * 4;
      pixels[d] = rgba[s + 2];
      pixels[d + 1] = rgba[s + 1];
      pixels[d + 2] = rgba[s];
      pixels[d + 3] = rgba[s + 3];
    }
  }
  const maskStride = Math.ceil(size / 32) * 4;
  const mask = Buffer.alloc(maskStride * size); // all zero: the alpha channel decides
  return Buffer.concat([header, pixels, mask]);
}

function ico(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  const entries = [];
  const bodies = [];
  let offset = 6 + 16 * images.length;
  for (const { size, rgba } of images) {
    const body = size >= 256 ? png(size, rgba) : dib(size, rgba);
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size;
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4);
    entry.writeUInt16LE(32, 6);
    entry.writeUInt32LE(body.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += body.length;
    entries.push(entry);
    bodies.push(body);
  }
  return Buffer.concat([header, ...entries, ...bodies]);
}

// ---- designs ------------------------------------------------------------------------------

const WHITE = [255, 255, 255, 255];
const BLACK = [0, 0, 0, 255];

const TRAY = {
  sharing: { color: [46, 160, 95, 255], mark: triangle([0.4, 0.29], [0.4, 0.71], [0.73, 0.5]) },
  paused: { color: [222, 150, 30, 255], mark: union(rect(0.33, 0.3, 0.45, 0.7), rect(0.55, 0.3, 0.67, 0.7)) },
  off: { color: [128, 134, 145, 255], mark: null },
  error: { color: [214, 64, 64, 255], mark: union(rect(0.44, 0.22, 0.56, 0.58), disc(0.5, 0.72, 0.07)) },
};

const outer = disc(0.5, 0.5, 0.45);

/** Colour: a filled disc with a white mark; "off" is an empty ring. Template: the mark is cut out. */
function trayLayers(state, template) {
  const { color, mark } = TRAY[state];
  const fill = template ? BLACK : color;
  if (mark === null) return [{ shape: ring(0.5, 0.5, 0.45, 0.12), color: fill }];
  if (template) return [{ shape: minus(outer, mark), color: fill }];
  return [{ shape: outer, color: fill }, { shape: (x, y) => outer(x, y) && mark(x, y), color: WHITE }];
}

// A crescent moon ("off hours") on a night-blue tile, with a green light: the machine is working.
const APP_LAYERS = [
  { shape: roundRect(0.06, 0.06, 0.94, 0.94, 0.2), color: [29, 43, 79, 255] },
  { shape: minus(disc(0.46, 0.5, 0.29), disc(0.59, 0.4, 0.25)), color: [242, 193, 78, 255] },
  { shape: disc(0.71, 0.71, 0.075), color: [63, 191, 127, 255] },
];

// ---- output -------------------------------------------------------------------------------

function write(relative, bytes) {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  if (!process.argv.includes('--quiet')) console.log(`${relative} (${bytes.length} bytes)`);
}

for (const state of Object.keys(TRAY)) {
  for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
    write(`tray/tray-${state}${suffix}.png`, png(size, rasterise(size, trayLayers(state, false))));
    write(`tray/tray-${state}Template${suffix}.png`, png(size, rasterise(size, trayLayers(state, true))));
  }
  // 16 px at 100 % scaling up to 48 px at 300 %.
  write(`tray/tray-${state}.ico`, ico([16, 20, 24, 32, 40, 48].map((size) => ({ size, rgba: rasterise(size, trayLayers(state, false)) }))));
}

write('icon.png', png(1024, rasterise(1024, APP_LAYERS)));
for (const size of [16, 32, 48, 64, 128, 256, 512]) write(`icons/${size}x${size}.png`, png(size, rasterise(size, APP_LAYERS)));
write('icon.ico', ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, rgba: rasterise(size, APP_LAYERS) }))));
