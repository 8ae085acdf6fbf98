// Shared disk: the user's allocation, the pieces the agent stores and seals, and the proofs it
// answers. The Storage API (UI and CLI <-> agent) and the seal worker's messages (agent <-> worker)
// use these shapes. Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** A piece CID v1 (`baga6ea4…`), the name a piece is stored and asked for by. */
export const PieceCidText = z.string().regex(/^baga6ea4[a-z2-7]{20,120}$/, 'a piece CID (baga6ea4…)');
export const PieceCidV2Text = z.string().regex(/^bafkzcib[a-z2-7]{20,200}$/, 'a v2 piece CID (bafkzcib…)');

const AbsolutePathText = z.string().min(2).max(4096).regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute path');

export const GIB = 1024 ** 3;

/** The user's allocation (in Settings, schema v5). */
export const StorageSettings = z
  .object({
    /** Where pieces are kept; null: no disk is shared. */
    folder: AbsolutePathText.nullable(),
    /** How much of it Offhours may fill, in bytes. */
    capBytes: z.number().int().min(0).max(1024 * 1024 * GIB),
  })
  .strict();
export type StorageSettings = z.infer<typeof StorageSettings>;

export const defaultStorageSettings = (): StorageSettings => ({ folder: null, capBytes: 0 });

/** Free space always left on the disk: 10 % of it or 20 GB, whichever is smaller. */
export function reserveBytes(totalBytes: number): number {
  return Math.min(Math.floor(totalBytes * 0.1), 20 * 1000 ** 3);
}

export const PieceState = z.enum(['sealing', 'sealed', 'corrupt', 'rejected']);
export type PieceState = z.infer<typeof PieceState>;

export const ProofCheck = z
  .object({
    at: isoDateTime,
    challenges: z.number().int().min(1),
    passed: z.number().int().min(0),
    /** Why a proof failed, in words, when one did. */
    problem: z.string().nullable(),
  })
  .strict();
export type ProofCheck = z.infer<typeof ProofCheck>;

export const ScrubCheck = z.object({ at: isoDateTime, ok: z.boolean(), problem: z.string().nullable() }).strict();
export type ScrubCheck = z.infer<typeof ScrubCheck>;

export const PieceRecord = z
  .object({
    cid: PieceCidText,
    cidV2: PieceCidV2Text,
    /** The bytes stored (the payload the commitment covers). */
    payloadSize: z.number().int().min(1),
    paddedSize: z.number().int().min(128),
    /** What it occupies on disk with its proof tree, as the file system counts it. */
    diskBytes: z.number().int().min(0),
    state: PieceState,
    /** Where it came from: `local` (offhours storage add), or a deal (later). */
    source: z.string().max(100),
    /** The file it was added from, for local pieces (only read, never served). */
    origin: z.string().max(4096).nullable(),
    addedAt: isoDateTime,
    lastProof: ProofCheck.nullable(),
    lastScrub: ScrubCheck.nullable(),
  })
  .strict();
export type PieceRecord = z.infer<typeof PieceRecord>;

export const IngestState = z.enum(['waiting', 'copying', 'sealing', 'done', 'failed']);
export type IngestState = z.infer<typeof IngestState>;

export const Ingest = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    file: z.string(),
    state: IngestState,
    /** Why it waits or failed, in words. */
    reason: z.string().nullable(),
    /** The piece it became (done), or the one it duplicated. */
    cid: PieceCidText.nullable(),
    at: isoDateTime,
  })
  .strict();
export type Ingest = z.infer<typeof Ingest>;

/** `GET /api/v1/storage`: the numbers a person checks against their file manager. */
export const StorageView = z
  .object({
    settings: StorageSettings,
    /** null while no folder is set, or when it cannot be read (then `problem` says why). */
    disk: z
      .object({
        folder: z.string(),
        totalBytes: z.number().int().min(0),
        /** Free for this user, as the file system reports it (statfs bavail). */
        freeBytes: z.number().int().min(0),
        reserveBytes: z.number().int().min(0),
        /** Pieces and their trees, as the file system counts them (allocated blocks). */
        usedBytes: z.number().int().min(0),
        /** What may still be stored: the cap minus what is used, and never into the reserve. */
        availableBytes: z.number().int().min(0),
      })
      .strict()
      .nullable(),
    problem: z.string().nullable(),
    pieces: z.array(PieceRecord),
    /** Files being added: waiting for the rules, copying, sealing; and the last ones that ended. */
    ingests: z.array(Ingest),
    /** Proof checks, newest first (the last 100). */
    proofs: z.array(ProofCheck.extend({ cid: PieceCidText })).max(100),
  })
  .strict();
export type StorageView = z.infer<typeof StorageView>;

/** `POST /api/v1/storage/pieces`: store and seal a file of this machine as a local piece. */
export const AddPieceRequest = z
  .object({
    file: AbsolutePathText,
    /** The commitment the piece must have (a deal's); a piece that differs is rejected and removed. */
    expectCid: PieceCidText.optional(),
  })
  .strict();
export type AddPieceRequest = z.infer<typeof AddPieceRequest>;

/** `POST /api/v1/storage/pieces/:cid/prove`. */
export const ProveRequest = z.object({ challenges: z.number().int().min(1).max(1000).default(5) }).strict();
export type ProveRequest = z.infer<typeof ProveRequest>;

export const ProveResult = ProofCheck.extend({
  cid: PieceCidText,
  /** The challenged leaf indices, in order, and whether each proof verified. */
  results: z.array(z.object({ leaf: z.number().int().min(0), ok: z.boolean() }).strict()),
  seed: sha256Hex,
}).strict();
export type ProveResult = z.infer<typeof ProveResult>;

// ---- agent <-> seal worker ---------------------------------------------------------------------

export const SealedPiece = z
  .object({
    payloadSize: z.number().int().min(0),
    paddedSize: z.number().int().min(128),
    padding: z.number().int().min(0),
    height: z.number().int().min(0).max(64),
    root: sha256Hex,
    cidV1: PieceCidText,
    cidV2: PieceCidV2Text,
  })
  .strict();
export type SealedPiece = z.infer<typeof SealedPiece>;

/** Agent -> seal worker. Paths are made by the agent inside the storage folder, never taken from a network. */
export const AgentToSealWorker = z.discriminatedUnion('type', [
  /** Compute the commitment of `piece` and write its proof tree to `tree`. */
  z.object({ type: z.literal('seal'), piece: AbsolutePathText, tree: AbsolutePathText }).strict(),
  /** Merkle proofs of these leaves, from the piece and its tree. */
  z.object({ type: z.literal('prove'), piece: AbsolutePathText, tree: AbsolutePathText, leaves: z.array(z.number().int().min(0)).min(1).max(1000) }).strict(),
  /** Recompute the commitment only (the scrub). */
  z.object({ type: z.literal('commp'), piece: AbsolutePathText }).strict(),
]);
export type AgentToSealWorker = z.infer<typeof AgentToSealWorker>;

export const LeafProof = z.object({ leaf: z.number().int().min(0), value: sha256Hex, path: z.array(sha256Hex).max(64) }).strict();
export type LeafProof = z.infer<typeof LeafProof>;

/** Seal worker -> agent. */
export const SealWorkerToAgent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sealed'), piece: SealedPiece }).strict(),
  z.object({ type: z.literal('proofs'), proofs: z.array(LeafProof) }).strict(),
  z.object({ type: z.literal('seal-failed'), error: z.string().max(2000) }).strict(),
]);
export type SealWorkerToAgent = z.infer<typeof SealWorkerToAgent>;
