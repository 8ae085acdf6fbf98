// The customer's side of the hub API v1 and the blob store both sides use: render jobs split into
// per-frame tasks, their verification, and content-addressed, resumable uploads. Pure: no I/O.
//
// Blobs (a customer's .blend, a node's rendered frame) are named by their SHA-256 and uploaded in
// the spirit of tus: `PUT /v1/blobs/{hex}?offset=N&length=T` appends raw bytes at N (which must be
// what the hub already holds: `GET /v1/blobs/{hex}/status` says), and the upload that reaches T is
// hashed and kept only if the digest matches the name. An interrupted upload resumes from the
// offset the hub reports; a blob the hub already has is not sent again.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';
import { ContentRef, HubId, MinorUnits, RenderTaskSettings } from './hub.js';

/** The hex part of a ContentRef, as it appears in blob URLs. */
export const BlobHex = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (a SHA-256)');
export type BlobHex = z.infer<typeof BlobHex>;

export const refHex = (ref: ContentRef): string => ref.slice('sha256:'.length);

/** `GET /v1/blobs/{hex}/status`. */
export const BlobStatus = z
  .object({
    ref: ContentRef,
    /** Bytes the hub holds of an upload in progress (0 when none), or the whole size when complete. */
    received: z.number().int().nonnegative().max(2 ** 53),
    complete: z.boolean(),
  })
  .strict();
export type BlobStatus = z.infer<typeof BlobStatus>;

/** A frame's place in verification. `rendered`: a result was handed in and waits for its checks.
 * `canceled`: its job was cancelled before anyone handed the frame in. */
export const FrameState = z.enum(['open', 'leased', 'rendered', 'checking', 'verified', 'failed', 'canceled']);
export type FrameState = z.infer<typeof FrameState>;

/** Why a result was refused, for the customer and the provider's record. */
export const VerificationFailure = z.enum([
  'not_an_image',
  'wrong_size',
  'blank',
  'duplicate',
  'check_mismatch',
  'missing_blob',
]);
export type VerificationFailure = z.infer<typeof VerificationFailure>;

export const JobFrameView = z
  .object({
    frame: z.number().int(),
    taskId: HubId,
    state: FrameState,
    /** The accepted result, once verified (fetch it from /v1/blobs). */
    result: ContentRef.nullable(),
    provider: EthAddress.nullable(),
    attempts: z.number().int().nonnegative(),
    /** Refused results so far, newest last. */
    failures: z.array(z.object({ provider: EthAddress, reason: VerificationFailure, detail: z.string().max(300) }).strict()).max(100),
  })
  .strict();
export type JobFrameView = z.infer<typeof JobFrameView>;

export const FrameRangeSpec = z
  .object({ start: z.number().int().min(0).max(1_048_574), end: z.number().int().min(0).max(1_048_574) })
  .strict()
  .refine((r) => r.end >= r.start && r.end - r.start < 10_000, { message: 'end >= start, at most 10,000 frames' });

/** `POST /v1/jobs` with the customer's API key; upload the scene to /v1/blobs first. */
export const SubmitRenderJob = z
  .object({
    kind: z.literal('render'),
    name: z.string().trim().min(1).max(200),
    scene: ContentRef,
    frames: FrameRangeSpec,
    settings: RenderTaskSettings,
    /** Minor units of the hub's token paid per verified frame; absent: the hub's price. */
    pricePerFrame: MinorUnits.optional(),
  })
  .strict();
export type SubmitRenderJob = z.infer<typeof SubmitRenderJob>;

/** `canceled` by the customer: frames not yet handed in are withdrawn (their leases revoked at the
 * nodes' next heartbeat); frames already handed in are still verified and paid. */
export const HubJobState = z.enum(['running', 'done', 'failed', 'canceled']);

export const HubJobView = z
  .object({
    id: HubId,
    kind: z.literal('render'),
    name: z.string(),
    state: HubJobState,
    scene: ContentRef,
    settings: RenderTaskSettings,
    pricePerFrame: MinorUnits,
    frames: z.array(JobFrameView),
    counts: z.object({ total: z.number().int(), verified: z.number().int(), failed: z.number().int() }).strict(),
    createdAt: isoDateTime,
    finishedAt: isoDateTime.nullable(),
  })
  .strict();
export type HubJobView = z.infer<typeof HubJobView>;

export const HubJobList = z.object({ jobs: z.array(HubJobView.omit({ frames: true })) }).strict();
export type HubJobList = z.infer<typeof HubJobList>;

/** `GET /v1/status` (operator, customer key): the hub at a glance. */
export const HubStatusView = z
  .object({
    providersOnline: z.number().int().nonnegative(),
    providers: z.number().int().nonnegative(),
    queue: z.object({ open: z.number().int(), leased: z.number().int(), checking: z.number().int() }).strict(),
    jobs: z.object({ running: z.number().int(), done: z.number().int(), failed: z.number().int() }).strict(),
    /** Refused results in the last 24 hours. */
    failures24h: z.number().int().nonnegative(),
    payments: z
      .object({
        payer: EthAddress,
        token: EthAddress,
        tokenSymbol: z.string(),
        /** Everything vouchers promise, in minor units; the escrow must hold at least the unredeemed part. */
        owed: MinorUnits,
        /** The payer's deposit in the escrow, when the hub can read the chain; null otherwise. */
        escrowBalance: MinorUnits.nullable(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type HubStatusView = z.infer<typeof HubStatusView>;
