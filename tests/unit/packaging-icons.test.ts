// The icons electron-builder and the tray load: the committed files are what the generator draws
// today, PNGs have the sizes their names promise, macOS template images are black + alpha only,
// and the .ico files hold the sizes Windows asks for.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TRAY_ICON_STATES } from '../../main/tray-icons.js';

const resources = resolve(import.meta.dirname, '..', '..', 'resources');
const generator = resolve(import.meta.dirname, '..', '..', 'tools', 'icons', 'make-icons.mjs');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Width, height and RGBA pixels of an 8-bit RGBA PNG with unfiltered rows (what the generator writes). */
function decodePng(bytes: Buffer): { width: number; height: number; pixels: Buffer } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) raw.copy(pixels, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  return { width, height, pixels };
}

function icoSizes(bytes: Buffer): number[] {
  expect(bytes.readUInt16LE(2)).toBe(1);
  const count = bytes.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => bytes[6 + i * 16] || 256);
}

describe('icons', () => {
  it('the committed files are exactly what tools/icons/make-icons.mjs draws', async () => {
    const out = await mkdtemp(join(tmpdir(), 'offhours-icons-'));
    try {
      await new Promise<void>((ok, fail) => execFile(process.execPath, [generator, '--out', out, '--quiet'], (e) => (e ? fail(e) : ok())));
      const generated = listFiles(out).map((f) => relative(out, f)).sort();
      for (const file of generated) expect(readFileSync(join(resources, file)).equals(readFileSync(join(out, file))), file).toBe(true);
      expect(generated).toContain('icon.png');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 30_000);

  it('tray PNGs are 16 px with a 32 px @2x, for every state', () => {
    for (const state of TRAY_ICON_STATES) {
      for (const name of [`tray-${state}`, `tray-${state}Template`]) {
        expect(decodePng(readFileSync(join(resources, 'tray', `${name}.png`))).width).toBe(16);
        expect(decodePng(readFileSync(join(resources, 'tray', `${name}@2x.png`))).width).toBe(32);
      }
    }
  });

  it('macOS template images are black with alpha only (the menu bar recolours them)', () => {
    for (const state of TRAY_ICON_STATES) {
      const { pixels } = decodePng(readFileSync(join(resources, 'tray', `tray-${state}Template@2x.png`)));
      let opaque = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] === 0) continue;
        opaque++;
        expect([pixels[i], pixels[i + 1], pixels[i + 2]]).toEqual([0, 0, 0]);
      }
      expect(opaque).toBeGreaterThan(50);
    }
  });

  it('the four states look different even without colour', () => {
    const masks = TRAY_ICON_STATES.map((s) => {
      const { pixels } = decodePng(readFileSync(join(resources, 'tray', `tray-${s}Template@2x.png`)));
      return Buffer.from(pixels.filter((_, i) => i % 4 === 3).map((a) => (a > 127 ? 1 : 0)));
    });
    for (let a = 0; a < masks.length; a++) for (let b = a + 1; b < masks.length; b++) expect(masks[a]!.equals(masks[b]!)).toBe(false);
  });

  it('Windows .ico files carry the sizes the tray and the installer need', () => {
    for (const state of TRAY_ICON_STATES) expect(icoSizes(readFileSync(join(resources, 'tray', `tray-${state}.ico`)))).toEqual([16, 20, 24, 32, 40, 48]);
    // electron-builder refuses a Windows app icon without a 256 px image.
    expect(icoSizes(readFileSync(join(resources, 'icon.ico')))).toContain(256);
  });

  it('the app icon comes at 1024 px and in the Linux icon set sizes', () => {
    expect(decodePng(readFileSync(join(resources, 'icon.png'))).width).toBe(1024);
    for (const size of [16, 32, 48, 64, 128, 256, 512]) {
      const { width, height } = decodePng(readFileSync(join(resources, 'icons', `${size}x${size}.png`)));
      expect([width, height]).toEqual([size, size]);
    }
  });
});
