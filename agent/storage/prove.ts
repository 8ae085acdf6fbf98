// The local challenger: derives a PDP challenge set for one piece from a fresh random seed, asks
// the seal worker for the proofs, and verifies every answer with the pure verifier against the root
// in the piece's own CID — the check a network would make, so passing here means what it would
// mean there.
import {
  LEAF_SIZE,
  decodePieceCidV1,
  deriveChallenges,
  verifyProof,
  type PieceRecord,
  type ProveResult,
  type SealWorkerToAgent,
} from '../../protocol/index.js';

/** The data-set id a local challenge uses: one piece, challenged on its own. */
const LOCAL_SET_ID = 0n;

// The worker's hex is schema-checked (64 lower-case digits) before it gets here.
const fromHex = (h: string): Uint8Array => Buffer.from(h, 'hex');
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export interface ProveInput {
  piece: PieceRecord;
  challenges: number;
  seed: Uint8Array;
  at: string;
  /** Asks the worker for the proofs of these leaves. */
  ask(leaves: number[]): Promise<SealWorkerToAgent>;
}

export async function provePiece(i: ProveInput): Promise<ProveResult> {
  const leafCount = i.piece.paddedSize / LEAF_SIZE;
  const seed = BigInt(`0x${toHex(i.seed)}`);
  const leaves = deriveChallenges(seed, LOCAL_SET_ID, i.challenges, [leafCount]).map((c) => c.leafIndex);
  const root = decodePieceCidV1(i.piece.cid).root;
  const base = { cid: i.piece.cid, at: i.at, challenges: leaves.length, seed: toHex(i.seed) };
  let reply: SealWorkerToAgent;
  try {
    reply = await i.ask(leaves);
  } catch (err) {
    return { ...base, passed: 0, problem: `no proofs: ${(err as Error).message}`, results: leaves.map((leaf) => ({ leaf, ok: false })) };
  }
  if (reply.type !== 'proofs') {
    return { ...base, passed: 0, problem: reply.type === 'seal-failed' ? reply.error : 'the worker answered something else', results: leaves.map((leaf) => ({ leaf, ok: false })) };
  }
  const results = leaves.map((leaf, k) => {
    const p = reply.proofs[k];
    // The answer must be for the leaf asked, in the order asked.
    const ok = p !== undefined && p.leaf === leaf && verifyProof(root, leaf, leafCount, { leaf: fromHex(p.value), path: p.path.map(fromHex) });
    return { leaf, ok };
  });
  const passed = results.filter((r) => r.ok).length;
  return { ...base, passed, problem: passed === results.length ? null : `${results.length - passed} of ${results.length} proofs did not verify against the piece's commitment`, results };
}
