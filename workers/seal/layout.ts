// Geometry of a piece and of its tree file, shared by the hasher, the threads and the prover.
//
// Tree file (`<piece>.tree`), little-endian, version 1:
//   0   8  magic "OHPTREE\0"
//   8   4  version (1)
//   12  4  base level: the lowest stored level, min(10, height); a node there covers
//          2^base leaves (32 KiB of padded piece, 32,512 payload bytes)
//   16  4  height (levels above the leaves; the root is at level `height`)
//   20  4  reserved (0)
//   24  8  payload size (bytes before zero padding)
//   32  8  padded piece size
//   40  32 root (CommP)
//   72  56 reserved (0)
//   128 …  levels base, base+1, …, height, each as its nodes left to right (32 bytes each);
//          level L holds 2^(height-L) nodes.
// Levels under 32 KiB are not kept: a proof recomputes them from one 32,512-byte read of the
// piece, which costs less than the disk (and the writes) of storing 1023 nodes per 1024 leaves.
import { FR32_BLOCK, LEAF_SIZE } from '../../protocol/index.js';

export const TREE_MAGIC = 'OHPTREE\0';
export const TREE_VERSION = 1;
export const TREE_HEADER_SIZE = 128;
/** 2^10 leaves = 32 KiB padded: the unit a proof reads back from the piece. */
export const BASE_LEVELS = 10;
/** 2^15 leaves = 1 MiB padded (1,040,384 payload bytes): one read and one call into C. */
export const CHUNK_LEVELS = 15;

export interface PieceGeometry {
  payloadSize: number;
  paddedSize: number;
  height: number;
  /** Lowest stored level. */
  base: number;
  /** Levels hashed per chunk (a chunk is an aligned subtree). */
  chunkLevels: number;
}

export function geometry(payloadSize: number, paddedSize: number): PieceGeometry {
  const height = Math.log2(paddedSize / LEAF_SIZE);
  return { payloadSize, paddedSize, height, base: Math.min(BASE_LEVELS, height), chunkLevels: Math.min(CHUNK_LEVELS, height) };
}

/** Payload bytes under a subtree of 2^levels leaves. */
export const payloadBytes = (levels: number): number => FR32_BLOCK * 2 ** (levels - 2);

/** Nodes at a level of the piece tree. */
export const levelWidth = (g: PieceGeometry, level: number): number => 2 ** (g.height - level);

/** Byte offset of node `index` of `level` in the tree file. */
export function nodeOffset(g: PieceGeometry, level: number, index: number): number {
  let off = TREE_HEADER_SIZE;
  for (let l = g.base; l < level; l++) off += levelWidth(g, l) * 32;
  return off + index * 32;
}

export const treeFileSize = (g: PieceGeometry): number => nodeOffset(g, g.height + 1, 0);

export function encodeHeader(g: PieceGeometry, root: Uint8Array): Uint8Array {
  const h = new Uint8Array(TREE_HEADER_SIZE);
  const v = new DataView(h.buffer);
  h.set(new TextEncoder().encode(TREE_MAGIC), 0);
  v.setUint32(8, TREE_VERSION, true);
  v.setUint32(12, g.base, true);
  v.setUint32(16, g.height, true);
  v.setBigUint64(24, BigInt(g.payloadSize), true);
  v.setBigUint64(32, BigInt(g.paddedSize), true);
  h.set(root, 40);
  return h;
}

export interface TreeHeader {
  geometry: PieceGeometry;
  root: Uint8Array;
}

export function decodeHeader(h: Uint8Array): TreeHeader {
  if (h.length < TREE_HEADER_SIZE || new TextDecoder().decode(h.subarray(0, 8)) !== TREE_MAGIC) throw new Error('not an Offhours piece tree file');
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const version = v.getUint32(8, true);
  if (version !== TREE_VERSION) throw new Error(`piece tree file version ${version} is not supported`);
  const g = geometry(Number(v.getBigUint64(24, true)), Number(v.getBigUint64(32, true)));
  if (g.base !== v.getUint32(12, true) || g.height !== v.getUint32(16, true)) throw new Error('piece tree file header is inconsistent');
  return { geometry: g, root: h.slice(40, 72) };
}
