// What crosses a boundary about pieces (agent <-> worker, agent <-> hub, API <-> UI): every CID is
// checked by decoding it, not by its prefix, so a value that passes can be used as a key as is.
import { z } from 'zod';
import { decodePieceCid, decodePieceCidV1, decodePieceCidV2 } from './cid.js';
import { LEAF_SIZE, MAX_PADDED_SIZE, isPowerOfTwo } from './fr32.js';

const decodes = (decode: (text: string) => unknown) => (text: string) => {
  try {
    decode(text);
    return true;
  } catch {
    return false;
  }
};

/** Either piece CID form. */
export const PieceCid = z.string().max(200).refine(decodes(decodePieceCid), 'not a piece CID (v1 baga6ea4… or v2 bafkzcib…)');
export type PieceCid = z.infer<typeof PieceCid>;
export const PieceCidV1 = z.string().max(200).refine(decodes(decodePieceCidV1), 'not a v1 piece CID (baga6ea4…)');
export type PieceCidV1 = z.infer<typeof PieceCidV1>;
export const PieceCidV2 = z.string().max(200).refine(decodes(decodePieceCidV2), 'not a v2 piece CID (bafkzcib…)');
export type PieceCidV2 = z.infer<typeof PieceCidV2>;

/** 32 bytes as 64 lower-case hex digits (a leaf or a tree node). */
export const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, '32 bytes as lower-case hex');

export const PaddedPieceSize = z
  .number()
  .int()
  .min(128)
  .max(MAX_PADDED_SIZE)
  .refine(isPowerOfTwo, 'a padded piece size is a power of two');

/** A piece as both sides name it; the v2 CID must agree with the v1 root and both sizes. */
export const PieceInfo = z
  .object({
    cid: PieceCidV1,
    cidV2: PieceCidV2,
    payloadSize: z.number().int().min(1).max(MAX_PADDED_SIZE),
    paddedSize: PaddedPieceSize,
  })
  .strict()
  .superRefine((p, ctx) => {
    let v1: ReturnType<typeof decodePieceCidV1>;
    let v2: ReturnType<typeof decodePieceCidV2>;
    try {
      v1 = decodePieceCidV1(p.cid);
      v2 = decodePieceCidV2(p.cidV2);
    } catch {
      return; // the field schemas already report it
    }
    if (v1.root.some((b, i) => b !== v2.root[i])) ctx.addIssue({ code: 'custom', path: ['cidV2'], message: 'v1 and v2 CIDs name different roots' });
    if (v2.paddedSize !== p.paddedSize) ctx.addIssue({ code: 'custom', path: ['paddedSize'], message: `the v2 CID says ${v2.paddedSize}` });
    if (v2.payloadSize !== p.payloadSize) ctx.addIssue({ code: 'custom', path: ['payloadSize'], message: `the v2 CID says ${v2.payloadSize}` });
  });
export type PieceInfo = z.infer<typeof PieceInfo>;

/** One answer to one challenge: the leaf and its path, for verifyProof against the piece root. */
export const StorageProof = z
  .object({
    pieceCid: PieceCid,
    leafIndex: z.number().int().min(0).max(MAX_PADDED_SIZE / LEAF_SIZE - 1),
    leaf: Hex32,
    // Path length is the tree height, at most 48 (MAX_PADDED_SIZE).
    path: z.array(Hex32).max(48),
  })
  .strict();
export type StorageProof = z.infer<typeof StorageProof>;

/** A uint256 as decimal text (JSON has no 256-bit numbers). */
export const Uint256Text = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, 'a uint256 as decimal text')
  .refine((s) => BigInt(s) < 1n << 256n, 'exceeds uint256');

/** What a challenger sends: the seed, the set, how many challenges, and the set's pieces in order. */
export const ChallengeSet = z
  .object({
    setId: Uint256Text,
    seed: Uint256Text,
    count: z.number().int().min(1).max(1000),
    pieces: z
      .array(z.object({ cid: PieceCidV1, paddedSize: PaddedPieceSize }).strict())
      .min(1)
      .max(100_000),
  })
  .strict();
export type ChallengeSet = z.infer<typeof ChallengeSet>;
