// Streaming CommP of files and proofs from the tree file, against the pure reference: the public
// vectors of issue 6, random sizes around 127·2^k, and the JS fallback giving the same answers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { commpPure, verifyProof } from '../../protocol/index.js';
import { commpFile } from '../../workers/seal/commp.js';
import { resetSealCore } from '../../workers/seal/native.js';
import { PieceCorruptError, proveLeaf, readTree } from '../../workers/seal/tree.js';

const dir = mkdtempSync(join(tmpdir(), 'offhours-seal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.OFFHOURS_SEAL_NATIVE;
  resetSealCore();
});

let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(dir, `piece-${n++}`);
  writeFileSync(p, bytes);
  return p;
}

const VECTORS = [
  { payload: new Uint8Array(127), v1: 'baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy', padded: 128 },
  { payload: new Uint8Array(192), v1: 'baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy', padded: 256 },
  {
    payload: Uint8Array.from({ length: 508 }, (_, i) => Math.floor(i / 127)),
    v1: 'baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi',
    v2: 'bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi',
    padded: 512,
  },
];

describe.each(['native', 'fallback'])('commpFile (%s)', (mode) => {
  const setMode = () => {
    if (mode === 'fallback') process.env.OFFHOURS_SEAL_NATIVE = '0';
    resetSealCore();
  };

  it('matches the public vectors of issue 6', async () => {
    setMode();
    for (const v of VECTORS) {
      const c = await commpFile(file(v.payload));
      expect(c.cidV1).toBe(v.v1);
      expect(c.paddedSize).toBe(v.padded);
      expect(c.payloadSize).toBe(v.payload.length);
      if (v.v2) expect(c.cidV2).toBe(v.v2);
    }
  });

  it('agrees with the pure reference around 127·2^k boundaries', async () => {
    setMode();
    const sizes = [65, 126, 127, 128, 253, 254, 255, 127 * 2 ** 8 - 1, 127 * 2 ** 8 + 1, 32_512, 32_513, 127 * 2 ** 13 - 1, 127 * 2 ** 13 + 1];
    if (mode === 'native') sizes.push(127 * 2 ** 15 - 1, 127 * 2 ** 15, 127 * 2 ** 15 + 1, 127 * 2 ** 16 + 4321);
    for (const size of sizes) {
      const bytes = new Uint8Array(randomBytes(size));
      const pure = commpPure(bytes);
      const c = await commpFile(file(bytes), { threads: 1 });
      expect({ size, root: Buffer.from(c.root).toString('hex'), padded: c.paddedSize, height: c.height, padding: c.padding }).toEqual({
        size,
        root: Buffer.from(pure.root).toString('hex'),
        padded: pure.paddedSize,
        height: pure.height,
        padding: pure.padding,
      });
    }
  });

  it('refuses payloads the Filecoin tools refuse (under 65 bytes)', async () => {
    setMode();
    await expect(commpFile(file(new Uint8Array(64)))).rejects.toThrow(RangeError);
  });
});

describe('tree file and proofs', () => {
  const sizes = [127 * 2 ** 14 + 999, 300, 127 * 2 ** 9]; // 2 MiB padded with padding; tiny; exactly 32 KiB padded
  for (const size of sizes) {
    it(`proves random leaves of a ${size}-byte piece, and a flipped bit fails`, async () => {
      const bytes = new Uint8Array(randomBytes(size));
      const piece = file(bytes);
      const tree = `${piece}.tree`;
      const c = await commpFile(piece, { treePath: tree, threads: 1 });
      const header = readTree(tree);
      expect(header.root).toEqual(c.root);
      expect(header.geometry.payloadSize).toBe(size);
      const leaves = 2 ** c.height;
      const picks = [0, leaves - 1, ...Array.from({ length: 12 }, () => Math.floor(Math.random() * leaves))];
      for (const leafIndex of picks) {
        const proof = proveLeaf(piece, tree, leafIndex);
        expect(proof.path.length).toBe(c.height);
        expect(verifyProof(c.root, leafIndex, leaves, proof)).toBe(true);
        // In the zero padding a leaf equals its sibling, and the same proof holds for both places.
        if (Buffer.compare(proof.leaf, proof.path[0]!) !== 0) expect(verifyProof(c.root, leafIndex ^ 1, leaves, proof)).toBe(false);
        const badLeaf = proof.leaf.slice();
        badLeaf[3]! ^= 0x10;
        expect(verifyProof(c.root, leafIndex, leaves, { leaf: badLeaf, path: proof.path })).toBe(false);
        const level = leafIndex % c.height;
        const badPath = proof.path.map((p, i) => (i === level ? Uint8Array.from(p, (b, j) => (j === 0 ? b ^ 1 : b)) : p));
        expect(verifyProof(c.root, leafIndex, leaves, { leaf: proof.leaf, path: badPath })).toBe(false);
        const badRoot = c.root.slice();
        badRoot[31]! ^= 1;
        expect(verifyProof(badRoot, leafIndex, leaves, proof)).toBe(false);
      }
    });
  }

  it('reports a piece whose bytes changed under the tree instead of proving it', async () => {
    const bytes = new Uint8Array(randomBytes(100_000));
    const piece = file(bytes);
    await commpFile(piece, { treePath: `${piece}.tree` });
    const changed = readFileSync(piece);
    changed[40_000]! ^= 0x04; // region 1 (payload bytes 32,512..65,023)
    writeFileSync(piece, changed);
    expect(() => proveLeaf(piece, `${piece}.tree`, 1024 + 5)).toThrow(PieceCorruptError);
    expect(verifyProof((await commpFile(piece)).root, 5, 4096, proveLeaf(piece, `${piece}.tree`, 5))).toBe(false);
  });

  it('gives the same tree and proofs with the JS fallback', async () => {
    const bytes = new Uint8Array(randomBytes(127 * 2 ** 11 + 17));
    const piece = file(bytes);
    const c = await commpFile(piece, { treePath: `${piece}.tree` });
    const nativeTree = readFileSync(`${piece}.tree`);
    process.env.OFFHOURS_SEAL_NATIVE = '0';
    resetSealCore();
    const f = await commpFile(piece, { treePath: `${piece}.tree` });
    expect(f.cidV2).toBe(c.cidV2);
    expect(readFileSync(`${piece}.tree`)).toEqual(nativeTree);
    expect(verifyProof(f.root, 77, 2 ** f.height, proveLeaf(piece, `${piece}.tree`, 77))).toBe(true);
  });
});
