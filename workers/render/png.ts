// Checks that a file is a whole PNG, without an image library: signature, chunk structure and
// CRCs, IHDR first and IEND last, and the IDAT stream inflating to exactly the bytes the header
// promises (rows x (filter byte + row bytes), Adam7 passes included). A frame cut short by a crash
// or a full disk fails here even when its header is intact.
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  channels: number;
  interlaced: boolean;
}

export type PngCheck = ({ ok: true } & PngInfo) | { ok: false; reason: string };

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Adam7: [x0, y0, dx, dy] per pass.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Bytes of decompressed image data the header promises. */
export function expectedDataLength(info: Pick<PngInfo, 'width' | 'height' | 'bitDepth' | 'channels' | 'interlaced'>): number {
  const rowBytes = (w: number) => Math.ceil((w * info.channels * info.bitDepth) / 8);
  if (!info.interlaced) return info.height * (1 + rowBytes(info.width));
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((info.width - x0) / dx);
    const h = Math.ceil((info.height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + rowBytes(w));
  }
  return total;
}

export function checkPngBytes(buf: Buffer): PngCheck {
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE)) return { ok: false, reason: 'not a PNG (bad signature)' };
  let pos = 8;
  let info: PngInfo | null = null;
  const idat: Buffer[] = [];
  let sawEnd = false;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) return { ok: false, reason: 'truncated (chunk header cut short)' };
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const dataEnd = pos + 8 + length;
    if (length > 0x7fffffff || dataEnd + 4 > buf.length) return { ok: false, reason: `truncated (${type} chunk cut short)` };
    if (crc32(buf, pos + 4, dataEnd) !== buf.readUInt32BE(dataEnd)) return { ok: false, reason: `corrupt (${type} chunk CRC mismatch)` };
    const data = buf.subarray(pos + 8, dataEnd);
    if (info === null && type !== 'IHDR') return { ok: false, reason: 'corrupt (IHDR is not the first chunk)' };
    if (type === 'IHDR') {
      if (info !== null || length !== 13) return { ok: false, reason: 'corrupt (bad IHDR)' };
      const colorType = data[9]!;
      const bitDepth = data[8]!;
      const channels = CHANNELS[colorType];
      if (channels === undefined || !VALID_DEPTHS[colorType]!.includes(bitDepth)) return { ok: false, reason: 'corrupt (bad colour type or bit depth)' };
      info = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth, colorType, channels, interlaced: data[12] === 1 };
      if (info.width === 0 || info.height === 0) return { ok: false, reason: 'corrupt (zero size)' };
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = dataEnd + 4;
  }
  if (!info) return { ok: false, reason: 'truncated (no IHDR)' };
  if (!sawEnd) return { ok: false, reason: 'truncated (no IEND)' };
  if (idat.length === 0) return { ok: false, reason: 'corrupt (no image data)' };
  const expected = expectedDataLength(info);
  let raw: Buffer;
  try {
    // One byte of slack: more data than promised must show up as an error, not be cut off.
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (e) {
    return { ok: false, reason: `corrupt image data (${(e as Error).message})` };
  }
  if (raw.length !== expected) return { ok: false, reason: `image data is ${raw.length} bytes, the header promises ${expected}` };
  if (!info.interlaced) {
    const stride = 1 + Math.ceil((info.width * info.channels * info.bitDepth) / 8);
    for (let row = 0; row < info.height; row++) if (raw[row * stride]! > 4) return { ok: false, reason: `corrupt (bad filter type on row ${row})` };
  }
  return { ok: true, ...info };
}

export async function checkPngFile(path: string): Promise<PngCheck> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    return { ok: false, reason: `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  return checkPngBytes(buf);
}
