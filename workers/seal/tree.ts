// Proofs of storage from a piece and its tree file: the leaf's 32 KiB region is recomputed from
// one 32,512-byte read of the payload, the levels above come from the tree file. Before answering,
// the region's root is checked against the stored node, so a corrupted piece is reported as such
// instead of yielding a proof that will fail at the verifier.
import { closeSync, openSync, readSync } from 'node:fs';
import { fr32Pad } from '../../protocol/index.js';
import { TREE_HEADER_SIZE, decodeHeader, nodeOffset, payloadBytes, type PieceGeometry } from './layout.js';
import { sealCore } from './native.js';

export { TREE_HEADER_SIZE, TREE_MAGIC, TREE_VERSION, BASE_LEVELS } from './layout.js';

export interface LeafProof {
  leafIndex: number;
  /** The 32-byte leaf (Fr32-expanded payload). */
  leaf: Uint8Array;
  /** Sibling nodes from the leaf's level up to just under the root. */
  path: Uint8Array[];
  root: Uint8Array;
  height: number;
}

export class PieceCorruptError extends Error {
  constructor(readonly region: number) {
    super(`piece data under leaf region ${region} no longer matches its tree`);
  }
}

function readAt(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break; // past the payload: the rest is zero padding
    got += n;
  }
  return buf;
}

export function readTree(treePath: string): { geometry: PieceGeometry; root: Uint8Array } {
  const fd = openSync(treePath, 'r');
  try {
    return decodeHeader(readAt(fd, TREE_HEADER_SIZE, 0));
  } finally {
    closeSync(fd);
  }
}

export function proveLeaf(piecePath: string, treePath: string, leafIndex: number): LeafProof {
  const treeFd = openSync(treePath, 'r');
  try {
    const { geometry: g, root } = decodeHeader(readAt(treeFd, TREE_HEADER_SIZE, 0));
    if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= 2 ** g.height) throw new RangeError(`leaf ${leafIndex} is outside a piece of ${2 ** g.height} leaves`);
    const region = Math.floor(leafIndex / 2 ** g.base);
    const regionPayload = payloadBytes(g.base);
    const start = region * regionPayload;
    const pieceFd = openSync(piecePath, 'r');
    let payload: Uint8Array;
    try {
      payload = start >= g.payloadSize ? new Uint8Array(regionPayload) : readAt(pieceFd, Math.min(regionPayload, g.payloadSize - start), start);
    } finally {
      closeSync(pieceFd);
    }
    const padded = new Uint8Array(regionPayload);
    padded.set(payload);
    let level = fr32Pad(padded);
    const within = leafIndex % 2 ** g.base;
    const leaf = level.slice(within * 32, within * 32 + 32);
    const path: Uint8Array[] = [];
    const core = sealCore();
    for (let l = 0; l < g.base; l++) {
      const sibling = (within >> l) ^ 1;
      path.push(level.slice(sibling * 32, sibling * 32 + 32));
      const up = new Uint8Array(level.length / 2);
      core.hashNodes(level, up);
      level = up;
    }
    const stored = readAt(treeFd, 32, nodeOffset(g, g.base, region));
    if (!equal(stored, level)) throw new PieceCorruptError(region);
    for (let l = g.base; l < g.height; l++) {
      const sibling = Math.floor(leafIndex / 2 ** l) ^ 1;
      path.push(readAt(treeFd, 32, nodeOffset(g, l, sibling)));
    }
    return { leafIndex, leaf, path, root, height: g.height };
  } finally {
    closeSync(treeFd);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
