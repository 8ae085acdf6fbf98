// Merkle inclusion proofs over the piece tree, shaped as FilOzone/pdp's Proofs.sol has them: the
// leaf and its siblings from the leaf level up. A level with an odd number of nodes pairs its last
// node with Z(level), the root of an all-zero subtree of that height, in the builder and the
// verifier alike; the verifier insists on exactly that sibling, so a proof for a tree with a
// different shape does not pass by accident.
import { LEAF_SIZE, fr32Pad, zeroPaddedSize } from './fr32.js';
import { node, zeroSubtree } from './tree.js';

export interface InclusionProof {
  /** The 32-byte leaf being proven. */
  readonly leaf: Uint8Array;
  /** 32-byte siblings, from the leaf's sibling up to the root's child. */
  readonly path: readonly Uint8Array[];
}

/** Levels above the leaves in a tree of `leafCount` leaves (0 for a single leaf). */
export function treeHeight(leafCount: number): number {
  if (!Number.isSafeInteger(leafCount) || leafCount < 1) throw new RangeError(`leaf count must be a positive integer, got ${leafCount}`);
  let h = 0;
  while (2 ** h < leafCount) h++;
  return h;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Whether `proof` shows `proof.leaf` at `leafIndex` in the tree of `leafCount` leaves with `root`.
 * False for any malformed input (wrong lengths, index out of range) rather than a throw, because a
 * proof comes from a peer and a bad one is an answer, not a bug.
 */
export function verifyProof(root: Uint8Array, leafIndex: number, leafCount: number, proof: InclusionProof): boolean {
  if (!Number.isSafeInteger(leafCount) || leafCount < 1) return false;
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= leafCount) return false;
  if (root.length !== 32 || proof.leaf.length !== LEAF_SIZE) return false;
  const height = treeHeight(leafCount);
  if (proof.path.length !== height) return false;
  let current = proof.leaf;
  let index = leafIndex;
  let levelSize = leafCount;
  for (let level = 0; level < height; level++) {
    const sibling = proof.path[level]!;
    if (sibling.length !== 32) return false;
    // The last node of an odd level has no real sibling: only Z(level) is acceptable.
    if ((index ^ 1) >= levelSize && !equal(sibling, zeroSubtree(level))) return false;
    current = index % 2 === 0 ? node(current, sibling) : node(sibling, current);
    index = Math.floor(index / 2);
    levelSize = Math.ceil(levelSize / 2);
  }
  return equal(current, root);
}

/**
 * Every level of the tree over `leaves`, leaves first and the root last, pairing an odd tail with
 * Z(level) as Proofs.sol's buildTree does. For tests and small trees: it holds the whole tree.
 */
export function buildTreeLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError('a tree needs at least one leaf');
  const levels: Uint8Array[][] = [leaves.slice()];
  for (let level = 0; levels[level]!.length > 1; level++) {
    const cur = levels[level]!;
    const next: Uint8Array[] = [];
    for (let j = 0; j < cur.length; j += 2) next.push(node(cur[j]!, cur[j + 1] ?? zeroSubtree(level)));
    levels.push(next);
  }
  return levels;
}

export function proofFromLevels(levels: readonly (readonly Uint8Array[])[], leafIndex: number): InclusionProof {
  const leaves = levels[0];
  if (!leaves || !Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= leaves.length) {
    throw new RangeError(`leaf index ${leafIndex} is outside the tree`);
  }
  const path: Uint8Array[] = [];
  let index = leafIndex;
  for (let level = 0; level < levels.length - 1; level++) {
    path.push(levels[level]![index ^ 1] ?? zeroSubtree(level));
    index = Math.floor(index / 2);
  }
  return { leaf: leaves[leafIndex]!, path };
}

/** The Fr32 leaves of a payload, zero padded to its piece size. */
export function pieceLeaves(payload: Uint8Array): Uint8Array[] {
  const padded = new Uint8Array(zeroPaddedSize(payload.length));
  padded.set(payload);
  const expanded = fr32Pad(padded);
  const leaves: Uint8Array[] = [];
  for (let o = 0; o < expanded.length; o += LEAF_SIZE) leaves.push(expanded.slice(o, o + LEAF_SIZE));
  return leaves;
}

/**
 * Reference proof for a whole payload held in memory: the leaf count and root it implies, and the
 * proof for one leaf. The real prover reads a stored tree instead.
 */
export function buildProofPure(payload: Uint8Array, leafIndex: number): { root: Uint8Array; leafCount: number; proof: InclusionProof } {
  const levels = buildTreeLevels(pieceLeaves(payload));
  return { root: levels[levels.length - 1]![0]!, leafCount: levels[0]!.length, proof: proofFromLevels(levels, leafIndex) };
}
