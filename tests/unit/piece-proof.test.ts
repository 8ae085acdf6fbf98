// Inclusion proofs: they verify, and any flipped bit (piece, leaf, path, root) makes them fail.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildProofPure, buildTreeLevels, commpPure, proofFromLevels, verifyProof, zeroSubtree } from '../../protocol/index.js';

const flip = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
};

const payloadAndLeaf = fc
  .uint8Array({ minLength: 65, maxLength: 3000 })
  .chain((p) => fc.tuple(fc.constant(p), fc.nat({ max: 4 * Math.ceil(p.length / 127) - 1 }), fc.nat()));

describe('piece inclusion proofs', () => {
  it('verify against the CommP root', () => {
    fc.assert(
      fc.property(payloadAndLeaf, ([payload, leaf]) => {
        const { root, leafCount, proof } = buildProofPure(payload, leaf);
        expect(root).toEqual(commpPure(payload).root);
        expect(verifyProof(root, leaf, leafCount, proof)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('fail for a flipped bit in the piece, the leaf, the path or the root', () => {
    fc.assert(
      fc.property(payloadAndLeaf, ([payload, leaf, bit]) => {
        const { root, leafCount, proof } = buildProofPure(payload, leaf);
        const other = buildProofPure(flip(payload, bit % (payload.length * 8)), leaf);
        expect(verifyProof(root, leaf, leafCount, other.proof)).toBe(false);
        expect(verifyProof(root, leaf, leafCount, { ...proof, leaf: flip(proof.leaf, bit % 254) })).toBe(false);
        const level = bit % proof.path.length;
        const path = proof.path.map((s, i) => (i === level ? flip(s, bit % 254) : s));
        expect(verifyProof(root, leaf, leafCount, { ...proof, path })).toBe(false);
        expect(verifyProof(flip(root, bit % 254), leaf, leafCount, proof)).toBe(false);
        // The wrong position fails unless the leaf and its sibling are equal (zero padding).
        if (proof.leaf.some((b, i) => b !== proof.path[0]![i])) expect(verifyProof(root, leaf ^ 1, leafCount, proof)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('pair an odd tail with the zero subtree of its level, and only with it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }).chain((leaves) => fc.tuple(fc.constant(leaves), fc.nat({ max: leaves.length - 1 }))),
        ([leaves, index]) => {
          const levels = buildTreeLevels(leaves);
          const root = levels[levels.length - 1]![0]!;
          const proof = proofFromLevels(levels, index);
          expect(verifyProof(root, index, leaves.length, proof)).toBe(true);
          // A tree padded with zero leaves to a power of two has the same root.
          const full = [...leaves];
          while ((full.length & (full.length - 1)) !== 0) full.push(new Uint8Array(32));
          const fullLevels = buildTreeLevels(full);
          expect(fullLevels[fullLevels.length - 1]![0]).toEqual(root);
        },
      ),
    );
  });

  it('refuses a non-zero sibling where the tree has none', () => {
    const leaves = [1, 2, 3].map((v) => new Uint8Array(32).fill(v));
    const levels = buildTreeLevels(leaves);
    const root = levels[2]![0]!;
    const proof = proofFromLevels(levels, 2);
    expect(proof.path[0]).toEqual(zeroSubtree(0));
    expect(verifyProof(root, 2, 3, proof)).toBe(true);
    expect(verifyProof(root, 2, 3, { ...proof, path: [new Uint8Array(32).fill(9), proof.path[1]!] })).toBe(false);
    expect(verifyProof(root, 3, 3, proof)).toBe(false);
    expect(verifyProof(root, 2, 3, { ...proof, path: proof.path.slice(1) })).toBe(false);
  });
});
