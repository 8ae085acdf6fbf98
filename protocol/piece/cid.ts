// Piece CIDs, both forms the Filecoin world uses:
// - v1 (`baga6ea4…`): CIDv1, codec fil-commitment-unsealed, multihash sha2-256-trunc254-padded,
//   32-byte root. The piece size is not in it and must travel next to it.
// - v2 (FRC-0069, `bafkzcib…`): CIDv1, raw codec, multihash fr32-sha256-trunc254-padbintree whose
//   digest is uvarint(padding) ‖ height ‖ root, so the CID alone gives payload and piece size.
// Decoding is strict (minimal varints, exact lengths, no trailing bytes) because a CID that
// decodes is trusted as a storage key and compared as a string.
import { base32Decode, base32Encode } from './base32.js';
import { FR32_BLOCK, FR32_PADDED_BLOCK, LEAF_SIZE, MAX_PADDED_SIZE } from './fr32.js';
import { decodeUvarint, encodeUvarint } from './varint.js';

export const CODEC_FIL_COMMITMENT_UNSEALED = 0xf101;
export const MULTIHASH_SHA2_256_TRUNC254_PADDED = 0x1012;
export const CODEC_RAW = 0x55;
export const MULTIHASH_FR32_SHA256_TRUNC254_PADBINTREE = 0x1011;

/** Smallest tree: one Fr32 block, four leaves. */
export const MIN_PIECE_HEIGHT = 2;
/** Largest tree whose sizes stay exact as numbers (2^53 padded bytes); see MAX_PADDED_SIZE. */
export const MAX_PIECE_HEIGHT = Math.log2(MAX_PADDED_SIZE / LEAF_SIZE);

export class PieceCidError extends Error {
  override readonly name = 'PieceCidError';
}

export interface PieceCidV1Parts {
  readonly version: 1;
  readonly root: Uint8Array;
}

export interface PieceCidV2Parts {
  readonly version: 2;
  readonly root: Uint8Array;
  readonly height: number;
  readonly padding: number;
  readonly paddedSize: number;
  readonly payloadSize: number;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function checkRoot(root: Uint8Array): void {
  if (!(root instanceof Uint8Array) || root.length !== 32) throw new PieceCidError('piece root must be 32 bytes');
  // Every node of the tree is a 254-bit field element: a root with the top bits set was not made by it.
  if ((root[31]! & 0xc0) !== 0) throw new PieceCidError('piece root has its top two bits set, so it is not a SHA-254 tree node');
}

function encodeCid(codec: number, multihash: number, digest: Uint8Array): string {
  const bytes = concat([encodeUvarint(1), encodeUvarint(codec), encodeUvarint(multihash), encodeUvarint(digest.length), digest]);
  return 'b' + base32Encode(bytes);
}

function decodeCid(text: string): { codec: number; multihash: number; digest: Uint8Array } {
  if (typeof text !== 'string' || text.length === 0) throw new PieceCidError('piece CID must be a non-empty string');
  if (text[0] !== 'b') throw new PieceCidError(`piece CID must be base32 lower case (multibase 'b'), got prefix ${JSON.stringify(text[0])}`);
  let bytes: Uint8Array;
  try {
    bytes = base32Decode(text.slice(1));
  } catch (e) {
    throw new PieceCidError(`piece CID is not valid base32: ${(e as Error).message}`);
  }
  try {
    let o = 0;
    const read = (): number => {
      const { value, length } = decodeUvarint(bytes, o);
      o += length;
      return value;
    };
    const version = read();
    if (version !== 1) throw new PieceCidError(`piece CID must be CIDv1, got version ${version}`);
    const codec = read();
    const multihash = read();
    const length = read();
    const digest = bytes.subarray(o);
    if (digest.length !== length) {
      throw new PieceCidError(`multihash digest length says ${length} bytes but ${digest.length} follow`);
    }
    return { codec, multihash, digest: digest.slice() };
  } catch (e) {
    if (e instanceof PieceCidError) throw e;
    throw new PieceCidError(`piece CID is malformed: ${(e as Error).message}`);
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;

export function encodePieceCidV1(root: Uint8Array): string {
  checkRoot(root);
  return encodeCid(CODEC_FIL_COMMITMENT_UNSEALED, MULTIHASH_SHA2_256_TRUNC254_PADDED, root);
}

export function decodePieceCidV1(text: string): PieceCidV1Parts {
  const { codec, multihash, digest } = decodeCid(text);
  if (codec !== CODEC_FIL_COMMITMENT_UNSEALED) {
    throw new PieceCidError(`piece CID v1 must have codec fil-commitment-unsealed (0xf101), got ${hex(codec)}`);
  }
  if (multihash !== MULTIHASH_SHA2_256_TRUNC254_PADDED) {
    throw new PieceCidError(`piece CID v1 must use multihash sha2-256-trunc254-padded (0x1012), got ${hex(multihash)}`);
  }
  if (digest.length !== 32) throw new PieceCidError(`piece CID v1 digest must be 32 bytes, got ${digest.length}`);
  checkRoot(digest);
  return { version: 1, root: digest };
}

function checkV2(height: number, padding: number): { paddedSize: number; payloadSize: number } {
  if (!Number.isInteger(height) || height < MIN_PIECE_HEIGHT || height > MAX_PIECE_HEIGHT) {
    throw new PieceCidError(`piece tree height must be ${MIN_PIECE_HEIGHT}..${MAX_PIECE_HEIGHT}, got ${height}`);
  }
  const paddedSize = LEAF_SIZE * 2 ** height;
  const capacity = (paddedSize / FR32_PADDED_BLOCK) * FR32_BLOCK;
  if (!Number.isSafeInteger(padding) || padding < 0 || padding >= capacity) {
    throw new PieceCidError(`piece padding must be 0..${capacity - 1} for height ${height}, got ${padding}`);
  }
  return { paddedSize, payloadSize: capacity - padding };
}

export function encodePieceCidV2(piece: { root: Uint8Array; height: number; padding: number }): string {
  checkRoot(piece.root);
  checkV2(piece.height, piece.padding);
  const digest = concat([encodeUvarint(piece.padding), Uint8Array.of(piece.height), piece.root]);
  return encodeCid(CODEC_RAW, MULTIHASH_FR32_SHA256_TRUNC254_PADBINTREE, digest);
}

export function decodePieceCidV2(text: string): PieceCidV2Parts {
  const { codec, multihash, digest } = decodeCid(text);
  if (codec !== CODEC_RAW) throw new PieceCidError(`piece CID v2 must have the raw codec (0x55), got ${hex(codec)}`);
  if (multihash !== MULTIHASH_FR32_SHA256_TRUNC254_PADBINTREE) {
    throw new PieceCidError(`piece CID v2 must use multihash fr32-sha256-trunc254-padbintree (0x1011), got ${hex(multihash)}`);
  }
  let padding: number;
  let o: number;
  try {
    const v = decodeUvarint(digest, 0);
    padding = v.value;
    o = v.length;
  } catch (e) {
    throw new PieceCidError(`piece CID v2 padding is malformed: ${(e as Error).message}`);
  }
  if (digest.length !== o + 1 + 32) {
    throw new PieceCidError(`piece CID v2 digest must be padding varint + height byte + 32-byte root, got ${digest.length} bytes`);
  }
  const height = digest[o]!;
  const root = digest.slice(o + 1);
  checkRoot(root);
  return { version: 2, root, height, padding, ...checkV2(height, padding) };
}

/** Either form; the result says which. */
export function decodePieceCid(text: string): PieceCidV1Parts | PieceCidV2Parts {
  const { codec } = decodeCid(text);
  return codec === CODEC_RAW ? decodePieceCidV2(text) : decodePieceCidV1(text);
}

/** The v2 CID of a v1 CID plus the payload size that travelled with it. */
export function pieceCidV2FromV1(v1: string, payloadSize: number): string {
  const { root } = decodePieceCidV1(v1);
  if (!Number.isSafeInteger(payloadSize) || payloadSize < 1) throw new PieceCidError(`payload size must be a positive integer, got ${payloadSize}`);
  let blocks = 1;
  while (blocks * FR32_BLOCK < payloadSize) blocks *= 2;
  const height = Math.log2((blocks * FR32_PADDED_BLOCK) / LEAF_SIZE);
  return encodePieceCidV2({ root, height, padding: blocks * FR32_BLOCK - payloadSize });
}
