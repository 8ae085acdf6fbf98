// The hub API v1 (agent <-> hub, and the customer's first steps): every body both sides send,
// validated on both sides. The hub publishes these as OpenAPI (GET /v1/openapi.json), so other
// implementations need not read TypeScript. Sign-in lives in hub-auth.ts. Pure: no I/O.
//
// Objects are strict: an unknown field is an error rather than silently dropped, so a client built
// against a newer schema learns at once that this hub does not understand it.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';
import { RenderRegion } from './render.js';

export const HUB_API_VERSION = 'v1';

/** Hub-made ids (tasks, leases). Narrow on purpose: they end up in URLs and logs. */
export const HubId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id: 1-64 letters, digits, _ or -');
export type HubId = z.infer<typeof HubId>;

/** Integer minor units of a stablecoin (6 decimals for USDC), as text: exact beyond 2^53. */
export const MinorUnits = z.string().regex(/^(0|[1-9]\d{0,29})$/, 'a non-negative integer amount in minor units, as text');

const label = z.string().min(1).max(200);

// --- Errors ----------------------------------------------------------------------------------

export const HubErrorCode = z.enum([
  'bad_request',
  'invalid_body',
  'invalid_path',
  'unsupported_media_type',
  'body_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'not_registered',
  'challenge_invalid',
  'signature_invalid',
  'lease_not_found',
  'lease_expired',
  'conflict',
  'upload_offset',
  'digest_mismatch',
  'payments_unconfigured',
  'internal',
]);
export type HubErrorCode = z.infer<typeof HubErrorCode>;

export const HubErrorBody = z
  .object({
    error: z
      .object({
        code: HubErrorCode,
        message: z.string(),
        /** Which fields of the body were wrong, when the body was the problem. */
        fields: z.array(z.object({ path: z.string(), message: z.string() }).strict()).optional(),
      })
      .strict(),
  })
  .strict();
export type HubErrorBody = z.infer<typeof HubErrorBody>;

// --- Nodes -----------------------------------------------------------------------------------

/** The Cycles device backends a node can render with. */
export const CyclesBackend = z.enum(['cpu', 'cuda', 'optix', 'hip', 'oneapi', 'metal']);
export type CyclesBackend = z.infer<typeof CyclesBackend>;

export const NodeDevice = z
  .object({
    /** The node's own name for the device (`gpu:0`, `cpu`); availability refers to it. */
    id: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/),
    kind: z.enum(['gpu', 'cpu']),
    name: label,
    cyclesBackend: CyclesBackend,
    /** Samples per second on the bundled benchmark scene: what the hub orders and prices by. */
    benchmarkSamplesPerS: z.number().positive().max(1e9),
    memoryBytes: z.number().int().nonnegative().max(2 ** 53).optional(),
  })
  .strict();
export type NodeDevice = z.infer<typeof NodeDevice>;

export const NodeEngine = z
  .object({
    name: z.enum(['blender']),
    version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'a version such as 4.2 or 4.2.3'),
  })
  .strict();
export type NodeEngine = z.infer<typeof NodeEngine>;

export const NodeCapabilities = z
  .object({
    devices: z.array(NodeDevice).max(32),
    engines: z.array(NodeEngine).max(16),
    diskOfferedBytes: z.number().int().nonnegative().max(2 ** 53),
    /** The least the node accepts; the hub leases nothing that pays less. */
    priceFloor: z
      .object({
        token: z.string().regex(/^[A-Z0-9]{2,12}$/, 'a token symbol such as USDC'),
        renderPerBenchmarkMinute: MinorUnits,
        storagePerGiBDay: MinorUnits,
      })
      .strict(),
  })
  .strict();
export type NodeCapabilities = z.infer<typeof NodeCapabilities>;

/** `POST /v1/nodes`: register, or update what was registered (same node key, same record). */
export const RegisterNodeRequest = z.object({ payoutAddress: EthAddress, capabilities: NodeCapabilities }).strict();
export type RegisterNodeRequest = z.infer<typeof RegisterNodeRequest>;

export const NodeView = z
  .object({
    address: EthAddress,
    payoutAddress: EthAddress,
    capabilities: NodeCapabilities,
    registeredAt: isoDateTime,
    lastSeenAt: isoDateTime,
  })
  .strict();
export type NodeView = z.infer<typeof NodeView>;

/** What each resource may do now, from the node's policy decision. */
export const ResourceAvailability = z
  .object({
    /** A device id from the registration, or `disk`. */
    resource: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/),
    state: z.enum(['available', 'busy', 'paused', 'draining']),
    /** When the state is expected to change (a schedule rule's end), if known. */
    until: isoDateTime.optional(),
  })
  .strict();
export type ResourceAvailability = z.infer<typeof ResourceAvailability>;

/** A provider's record at one hub: verified results raise it, failed checks lower it; the hub
 * leases to higher scores first and stops leasing a job to a node that failed it repeatedly. */
export const NodeReputation = z
  .object({
    /** 0..1: (passed + 1) / (passed + failed + 2), so a newcomer starts at 0.5. */
    score: z.number().min(0).max(1),
    passed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  })
  .strict();
export type NodeReputation = z.infer<typeof NodeReputation>;

/** `POST /v1/nodes/heartbeat`. */
export const HeartbeatRequest = z
  .object({
    availability: z.array(ResourceAvailability).max(64),
    /** The leases the node believes it holds; the answer names those it no longer does. */
    leases: z.array(HubId).max(256).optional(),
  })
  .strict();
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z
  .object({
    /** When the hub wants the next heartbeat. */
    nextHeartbeatS: z.number().int().positive(),
    /** Leases this node holds that the hub has taken back (cancelled or expired): stop them. */
    revokedLeases: z.array(HubId),
    /** How this node's work has fared in verification here (absent from hubs that do not say). */
    reputation: NodeReputation.optional(),
  })
  .strict();
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

// --- Tasks and leases -------------------------------------------------------------------------

export const RenderTaskSettings = z
  .object({
    engine: z.enum(['cycles']),
    samples: z.number().int().positive().max(1_000_000),
    resolutionX: z.number().int().positive().max(65_536),
    resolutionY: z.number().int().positive().max(65_536),
  })
  .strict();
export type RenderTaskSettings = z.infer<typeof RenderTaskSettings>;

/** A content address: what blobs (scenes, results) are named by, and checked against. */
export const ContentRef = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256: and 64 lowercase hex digits');
export type ContentRef = z.infer<typeof ContentRef>;

/**
 * One unit of work. A union on `kind` so storage deals and others can join without a v2.
 * A render task of a customer job names its scene (a blob the node downloads from
 * `/v1/blobs/{hex}`, checked against the ref) and what it pays once verified. A check task
 * (`verifies` set) re-renders only `region` of a frame another node rendered; the hub compares the
 * two. Tasks without `job` are bare queue items (benchmarks of the hub itself): a node has nothing
 * to render for them and releases them.
 */
export const TaskSpec = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('render'),
      frame: z.number().int().min(-1_048_574).max(1_048_574),
      settings: RenderTaskSettings,
      job: z
        .object({
          id: HubId,
          scene: ContentRef,
          sceneBytes: z.number().int().positive().max(2 ** 53),
          /** Minor units of the hub's payment token, credited when the result is verified. */
          pay: MinorUnits,
        })
        .strict()
        .optional(),
      /** Render only this part of the frame (fractions of the frame, Blender's border). */
      region: RenderRegion.optional(),
      /** The task whose result this check task re-renders a region of. */
      verifies: HubId.optional(),
    })
    .strict(),
]);
export type TaskSpec = z.infer<typeof TaskSpec>;
export const TaskKind = z.enum(['render']);
export type TaskKind = z.infer<typeof TaskKind>;

/** `POST /v1/leases`: ask for one task. */
export const LeaseRequest = z
  .object({
    kinds: z.array(TaskKind).min(1).max(8).optional(),
    /** The registered device that will do the work (a NodeDevice id); credits name it. */
    device: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/).optional(),
  })
  .strict();
export type LeaseRequest = z.infer<typeof LeaseRequest>;

export const Lease = z
  .object({
    leaseId: HubId,
    taskId: HubId,
    task: TaskSpec,
    /** Renew before this or the task goes back to the queue. */
    deadline: isoDateTime,
  })
  .strict();
export type Lease = z.infer<typeof Lease>;

export const LeaseResponse = z
  .object({
    /** null: no work for this node now. */
    lease: Lease.nullable(),
    /** When to ask again if there was none. */
    retryAfterS: z.number().int().nonnegative(),
  })
  .strict();
export type LeaseResponse = z.infer<typeof LeaseResponse>;

/** `POST /v1/leases/{leaseId}/renew` has an empty object as its body. */
export const RenewRequest = z.object({}).strict();
export const RenewResponse = z.object({ leaseId: HubId, deadline: isoDateTime }).strict();
export type RenewResponse = z.infer<typeof RenewResponse>;

export const ProgressRequest = z
  .object({
    fraction: z.number().min(0).max(1),
    message: z.string().max(200).optional(),
  })
  .strict();
export type ProgressRequest = z.infer<typeof ProgressRequest>;

/** Where the result is: a content address the hub can fetch and check (uploaded to /v1/blobs first). */
export const ResultRef = z
  .object({
    ref: ContentRef,
    bytes: z.number().int().nonnegative().max(2 ** 53),
    mediaType: z.string().regex(/^[a-z]+\/[a-z0-9.+-]{1,100}$/).optional(),
  })
  .strict();
export type ResultRef = z.infer<typeof ResultRef>;

export const CompleteRequest = z.object({ result: ResultRef }).strict();
export type CompleteRequest = z.infer<typeof CompleteRequest>;

export const ReleaseRequest = z.object({ reason: z.enum(['paused', 'shutdown', 'error', 'other']) }).strict();
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export const TaskState = z.enum(['open', 'leased', 'done']);
export type TaskState = z.infer<typeof TaskState>;

export const TaskView = z
  .object({
    id: HubId,
    state: TaskState,
    task: TaskSpec,
    /** How many times it was leased (a re-lease after expiry or release counts again). */
    attempts: z.number().int().nonnegative(),
    leasedBy: EthAddress.nullable(),
    deadline: isoDateTime.nullable(),
    progress: z.number().min(0).max(1).nullable(),
    result: ResultRef.nullable(),
    createdAt: isoDateTime,
  })
  .strict();
export type TaskView = z.infer<typeof TaskView>;

// --- Customer side (minimal, for now) ---------------------------------------------------------

/** `POST /v1/tasks` with the customer's API key. */
export const CreateTasksRequest = z.object({ tasks: z.array(TaskSpec).min(1).max(1000) }).strict();
export type CreateTasksRequest = z.infer<typeof CreateTasksRequest>;
export const CreateTasksResponse = z.object({ tasks: z.array(TaskView) }).strict();
export type CreateTasksResponse = z.infer<typeof CreateTasksResponse>;

export const HubHealth = z.object({ ok: z.literal(true), api: z.literal(HUB_API_VERSION) }).strict();
export type HubHealth = z.infer<typeof HubHealth>;
