// Storage deals over the hub API v1: a customer stores a file as N replicas, each encrypted with
// its own key (which never leaves the customer) and uploaded as a blob; the hub hands each replica
// to a distinct provider as a deal, challenges the providers on a schedule, repairs a replica that
// fails, and fetches a healthy replica back for retrieval. Pure: no I/O.
//
// A provider sees only ciphertext, a blob ref and the piece CID it must end up with. A repaired
// replica is a byte copy of a healthy one, so the file record says, per replica, which original
// replica's key decrypts it (`keyIndex`).
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';
import { ContentRef, HubId } from './hub.js';
import { LeafProof, PieceCidText } from './storage.js';

/** Bytes of a replica: the encrypted file, at least the Filecoin minimum payload. */
const ReplicaBytes = z.number().int().min(65).max(2 ** 53);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (a SHA-256)');

export const MAX_REPLICAS = 16;
/** How long a file may be stored for, in days (a deal's end is fixed when the file is stored). */
export const MAX_STORE_DAYS = 3650;
export const DEFAULT_STORE_DAYS = 30;

/**
 * A file's display name. Only ever shown: never a path on any machine, so anything that looks like
 * one (separators, `..`, control characters) is refused rather than sanitised.
 */
export const StoredFileName = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !/[/\\]/.test(s) && ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) && s !== '.' && s !== '..', 'a plain file name: no slashes, control characters, . or ..');

export const ReplicaUpload = z
  .object({
    /** The encrypted replica, uploaded to /v1/blobs first. */
    blob: ContentRef,
    /** Its piece CID (CommP of the encrypted bytes): what the provider must seal it to. */
    pieceCid: PieceCidText,
    bytes: ReplicaBytes,
  })
  .strict();
export type ReplicaUpload = z.infer<typeof ReplicaUpload>;

/** `POST /v1/storage/files` (customer key). */
export const StoreFileRequest = z
  .object({
    name: StoredFileName,
    /** Plaintext size. */
    bytes: z.number().int().min(0).max(2 ** 53),
    /** SHA-256 of the plaintext, checked by the customer after decrypting. */
    sha256: sha256Hex,
    replicas: z.array(ReplicaUpload).min(1).max(MAX_REPLICAS),
    /** How many days the hub keeps the file from now; each replica's deal ends then. */
    days: z.number().int().min(1).max(MAX_STORE_DAYS).default(DEFAULT_STORE_DAYS),
  })
  .strict()
  .refine((r) => new Set(r.replicas.map((x) => x.blob)).size === r.replicas.length && new Set(r.replicas.map((x) => x.pieceCid)).size === r.replicas.length, {
    message: 'each replica must be distinct bytes (its own key): blobs and piece CIDs must not repeat',
    path: ['replicas'],
  });
export type StoreFileRequest = z.infer<typeof StoreFileRequest>;
export type StoreFileRequestInput = z.input<typeof StoreFileRequest>;

/**
 * A replica's life: `pending` waits for a provider (or for its bytes to be on hand again, after a
 * repair); `offered` to one provider; `sealing` once it accepted; `healthy` once confirmed and
 * while it passes its challenges; `unhealthy` after a failed or missed challenge (kept as the
 * record; a repair replaces it); `ended` once the file's storage period is over (no more challenges
 * or credits; its provider is told to drop it).
 */
export const ReplicaState = z.enum(['pending', 'offered', 'sealing', 'healthy', 'unhealthy', 'ended']);
export type ReplicaState = z.infer<typeof ReplicaState>;

export const ReplicaView = z
  .object({
    id: HubId,
    /** Which of the customer's original replicas (and so which key) these bytes are. */
    keyIndex: z.number().int().min(0).max(MAX_REPLICAS - 1),
    blob: ContentRef,
    pieceCid: PieceCidText,
    bytes: ReplicaBytes,
    state: ReplicaState,
    provider: EthAddress.nullable(),
    /** The replica this one was copied from, for a repair. */
    repairOf: HubId.nullable(),
    confirmedAt: isoDateTime.nullable(),
    challengesPassed: z.number().int().nonnegative(),
    challengesFailed: z.number().int().nonnegative(),
  })
  .strict();
export type ReplicaView = z.infer<typeof ReplicaView>;

export const StoredFileView = z
  .object({
    id: HubId,
    name: StoredFileName,
    bytes: z.number().int().min(0),
    sha256: sha256Hex,
    /** How many replicas the hub keeps healthy. */
    replicasWanted: z.number().int().min(1).max(MAX_REPLICAS),
    replicas: z.array(ReplicaView),
    createdAt: isoDateTime,
    /** When the storage period ends: after it the hub no longer keeps, challenges or pays for it. */
    until: isoDateTime,
    state: z.enum(['active', 'expired']),
  })
  .strict();
export type StoredFileView = z.infer<typeof StoredFileView>;

/**
 * `GET /v1/storage/files/{fileId}` (customer key). 200 with `download` when the hub holds a
 * healthy replica's bytes now (fetch it from /v1/blobs); 202 with `download: null` while it asks a
 * provider to upload one (ask again after `retryAfterS`, also sent as Retry-After).
 */
export const RetrieveFileResponse = z
  .object({
    file: StoredFileView,
    download: z
      .object({ replicaId: HubId, keyIndex: z.number().int().min(0).max(MAX_REPLICAS - 1), blob: ContentRef, bytes: ReplicaBytes, pieceCid: PieceCidText })
      .strict()
      .nullable(),
    retryAfterS: z.number().int().nonnegative(),
  })
  .strict();
export type RetrieveFileResponse = z.infer<typeof RetrieveFileResponse>;

// --- Provider side ----------------------------------------------------------------------------

/** `POST /v1/storage/poll` (node auth). */
export const StoragePollRequest = z
  .object({
    /** Whether this node may take new deals now (its rules allow disk work and it has room). */
    acceptDeals: z.boolean(),
    /** Bytes it may still store, when it accepts deals. */
    freeBytes: z.number().int().nonnegative().max(2 ** 53),
  })
  .strict();
export type StoragePollRequest = z.infer<typeof StoragePollRequest>;

export const DealOffer = z
  .object({
    dealId: HubId,
    /** Download this blob, seal it, and it must have this piece CID. */
    blob: ContentRef,
    pieceCid: PieceCidText,
    bytes: ReplicaBytes,
    /** Accept and confirm before this, or the offer goes to another provider. */
    deadline: isoDateTime,
    /** When the deal ends: the provider keeps the replica (and is challenged and paid) until then. */
    until: isoDateTime,
  })
  .strict();
export type DealOffer = z.infer<typeof DealOffer>;

/** Up to this many leaves per challenge set. */
export const MAX_CHALLENGE_LEAVES = 64;

export const StorageChallenge = z
  .object({
    challengeId: HubId,
    dealId: HubId,
    pieceCid: PieceCidText,
    /** The seed the leaves were derived from (PDP's, 32 bytes hex), for the node's own check. */
    seed: sha256Hex,
    /** Leaf indices inside the piece, in the order the proofs must come. */
    leaves: z.array(z.number().int().nonnegative()).min(1).max(MAX_CHALLENGE_LEAVES),
    deadline: isoDateTime,
  })
  .strict();
export type StorageChallenge = z.infer<typeof StorageChallenge>;

export const RetrievalRequest = z
  .object({
    retrievalId: HubId,
    dealId: HubId,
    pieceCid: PieceCidText,
    /** Upload the stored payload to /v1/blobs under this ref. */
    blob: ContentRef,
    bytes: ReplicaBytes,
  })
  .strict();
export type RetrievalRequest = z.infer<typeof RetrievalRequest>;

/**
 * A replica this node should let go of: its deal ended, or it was marked unhealthy and a repair
 * replaced it. The node deletes the piece (only if it holds it for this hub) and says so at
 * `POST /v1/storage/deals/{dealId}/dropped`, after which the hub stops listing it.
 */
export const DropRequest = z
  .object({
    dealId: HubId,
    pieceCid: PieceCidText,
    reason: z.enum(['ended', 'replaced']),
  })
  .strict();
export type DropRequest = z.infer<typeof DropRequest>;

export const StoragePollResponse = z
  .object({
    deals: z.array(DealOffer).max(16),
    challenges: z.array(StorageChallenge).max(256),
    retrievals: z.array(RetrievalRequest).max(16),
    /** Absent from hubs older than deal ends: nothing to drop. */
    drops: z.array(DropRequest).max(64).default([]),
  })
  .strict();
export type StoragePollResponse = z.infer<typeof StoragePollResponse>;

/** `POST /v1/storage/deals/{dealId}/accept` and `…/confirm` and `…/reject`. */
export const DealAcceptRequest = z.object({}).strict();
export const DealConfirmRequest = z.object({ pieceCid: PieceCidText }).strict();
export type DealConfirmRequest = z.infer<typeof DealConfirmRequest>;
export const DealRejectRequest = z.object({ reason: z.string().min(1).max(300) }).strict();
export type DealRejectRequest = z.infer<typeof DealRejectRequest>;
/** `POST /v1/storage/deals/{dealId}/dropped`: the node no longer holds the replica for this hub. */
export const DealDroppedRequest = z.object({}).strict();
export const DealDroppedResponse = z.object({ dealId: HubId, dropped: z.literal(true) }).strict();
export type DealDroppedResponse = z.infer<typeof DealDroppedResponse>;

export const DealView = z
  .object({ dealId: HubId, state: ReplicaState, pieceCid: PieceCidText, deadline: isoDateTime.nullable() })
  .strict();
export type DealView = z.infer<typeof DealView>;

/**
 * `POST /v1/storage/challenges/{challengeId}/proof`: one proof per challenged leaf, in order; or,
 * from a node whose own integrity check found its copy damaged, `lost` with why. A challenge
 * samples a few leaves, so it may miss one flipped byte; the node's scrub re-hashes everything,
 * and saying so at once lets the hub repair now rather than after the deadline.
 */
export const ChallengeProofRequest = z.union([
  z.object({ proofs: z.array(LeafProof).min(1).max(MAX_CHALLENGE_LEAVES) }).strict(),
  z.object({ lost: z.object({ reason: z.string().min(1).max(300) }).strict() }).strict(),
]);
export type ChallengeProofRequest = z.infer<typeof ChallengeProofRequest>;

export const ChallengeResult = z
  .object({
    challengeId: HubId,
    passed: z.boolean(),
    /** How many of the proofs verified against the root in the piece CID. */
    verified: z.number().int().nonnegative(),
    of: z.number().int().positive(),
  })
  .strict();
export type ChallengeResult = z.infer<typeof ChallengeResult>;

/** `POST /v1/storage/retrievals/{retrievalId}/done`: the node has uploaded the blob. */
export const RetrievalDoneRequest = z.object({}).strict();
export const RetrievalDoneResponse = z.object({ retrievalId: HubId, received: z.boolean() }).strict();
export type RetrievalDoneResponse = z.infer<typeof RetrievalDoneResponse>;
