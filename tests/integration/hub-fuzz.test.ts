// Protocol fuzzing of the hub over real loopback HTTP on a real PGlite directory: 10,000 generated
// requests (fast-check, fixed seed) across every route and method with hostile bodies, headers,
// paths and credentials. The hub runs with payments configured (its routes answer, not 503) and a
// storage scene set up through the API: files, deals in each state, a challenge, a retrieval, a
// replica to drop, a voucher; a tenth of the requests are well-formed payment and storage calls
// under every credential (a node's token on the customer's routes and back, another node's deal).
// Each request is classified by an oracle written from the published API (the protocol schemas,
// the route list, the auth rules), independently of the hub's dispatcher:
//   - refused: must be a 4xx with a JSON error body of the documented shape, and write nothing;
//   - read:    valid and read-only (health, openapi, a task's state): a 2xx matching its response
//              schema (or 404 for an unknown task), and write nothing;
//   - write:   valid and allowed to change state (register, heartbeat, lease, renew...): never a
//              refusal of its shape or credentials, never a 5xx; a 2xx must match its response schema.
// Refused and read requests run first and every table (payment credits and totals, storage files,
// replicas, challenges and retrievals included) is snapshotted before, at every health check
// and after: they must leave the database byte-for-byte as it was. The writing ones run afterwards.
// Nothing is a 5xx, nothing hangs (a per-request timeout), the hub answers /v1/health every 500
// requests, and the hub logs no internal error. Malformed HTTP goes over raw sockets.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Wallet } from 'ethers';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobStatus,
  ChallengeProofRequest,
  ChallengeRequest,
  ChallengeResult,
  DealAcceptRequest,
  DealConfirmRequest,
  DealDroppedRequest,
  DealDroppedResponse,
  DealRejectRequest,
  DealView,
  PaymentTerms,
  PaymentsSyncRequest,
  PaymentsSyncResponse,
  RetrievalDoneRequest,
  RetrievalDoneResponse,
  RetrieveFileResponse,
  StoragePollRequest,
  StoragePollResponse,
  StoreFileRequest,
  StoredFileView,
  commpPure,
  encodePieceCidV1,
  HubJobList,
  HubJobView,
  HubStatusView,
  SubmitRenderJob,
  CompleteRequest,
  CreateTasksRequest,
  CreateTasksResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  HubErrorBody,
  HubHealth,
  LeaseRequest,
  LeaseResponse,
  NodeView,
  ProgressRequest,
  RegisterNodeRequest,
  ReleaseRequest,
  RenewRequest,
  RenewResponse,
  Session,
  SignInChallenge,
  SignInRequest,
  TaskView,
  signInMessage,
  type TaskSpec,
} from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { hubCall } from '../support/hub-api.js';

const TOTAL = Number(process.env.OFFHOURS_FUZZ_TOTAL ?? 10_000);
const SEED = Number(process.env.OFFHOURS_FUZZ_SEED ?? 7_070_707);
const CONCURRENCY = 8;
const CHECK_EVERY = 500;
const REQUEST_TIMEOUT_MS = 20_000;
const BODY_LIMIT = 1024 * 1024;

let hub: RunningHub;
let dataDir: string;
const hubLog: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'offhours-hub-fuzz-'));
  // No sweep during the run: it would delete expired rows and make the snapshots differ.
  // Payments configured, so their routes answer rather than 503 (any chain: nothing is sent to it).
  hub = await startHub({
    dataDir,
    port: 0,
    sweepIntervalMs: 3_600_000,
    payments: {
      chainId: 31337,
      escrow: Wallet.createRandom().address,
      token: Wallet.createRandom().address,
      tokenSymbol: 'USDC',
      decimals: 6,
      prices: { renderPerFrame: '10000', storagePerGiBDay: '1000' },
    },
    log: (line) => hubLog.push(line),
  });
});
afterAll(async () => {
  await hub?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// --- Setting the scene through the real API --------------------------------------------------

const call = (method: string, path: string, body?: unknown, token?: string) => hubCall(hub.url, method, path, body, token);

const newKey = () => new Wallet(`0x${randomBytes(32).toString('hex')}`);

async function signIn(key: Wallet): Promise<{ token: string; body: z.infer<typeof SignInRequest> }> {
  const c = SignInChallenge.parse((await call('POST', '/v1/auth/challenge', { address: key.address })).json);
  const body = { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) };
  const r = await call('POST', '/v1/auth/sign-in', body);
  expect(r.status).toBe(200);
  return { token: Session.parse(r.json).token, body };
}

const registration = (payout: string): z.infer<typeof RegisterNodeRequest> => ({
  payoutAddress: payout,
  capabilities: {
    devices: [{ id: 'gpu:0', kind: 'gpu', name: 'Test GPU', cyclesBackend: 'optix', benchmarkSamplesPerS: 1234.5, memoryBytes: 8 * 1024 ** 3 }],
    engines: [{ name: 'blender', version: '4.2.3' }],
    diskOfferedBytes: 10 * 1024 ** 3,
    priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '1500', storagePerGiBDay: '10' },
  },
});

const spec = (frame: number): TaskSpec => ({ kind: 'render', frame, settings: { engine: 'cycles', samples: 16, resolutionX: 320, resolutionY: 240 } });
/** A blob the fuzzer uploads (its PUT template), and the scene the hub holds from setScene. */
const BLOB = Buffer.from('offhours fuzz blob');
const BLOB_HEX = createHash('sha256').update(BLOB).digest('hex');
const SCENE = randomBytes(64);
const SCENE_HEX = createHash('sha256').update(SCENE).digest('hex');
const MAX_BLOB_BYTES = 2 * 1024 ** 3;
const resultRef = { ref: `sha256:${'ab'.repeat(32)}`, bytes: 1234, mediaType: 'image/png' };
/** Storage replicas (encrypted bytes, over the 65-byte minimum) as blob refs with their piece CIDs. */
const replicaBlob = (n: number) => {
  const bytes = randomBytes(n);
  return { bytes, ref: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, cid: encodePieceCidV1(commpPure(bytes).root) };
};
const R1 = replicaBlob(200);
const R2 = replicaBlob(300);
/** Sealed by A and so deleted from the hub: a file that names it cannot be stored. */
const RG = replicaBlob(130);
/** What the hub holds during the quiet phase: a file of these may be stored (when the CIDs match). */
const ON_HAND = new Map([R1, R2].map((r) => [r.ref, r]));
const storeReq = (reps: { ref: string; cid: string; bytes: Buffer }[]) => ({
  name: 'fuzz.bin',
  bytes: 100,
  sha256: 'cd'.repeat(32),
  replicas: reps.map((r) => ({ blob: r.ref, pieceCid: r.cid, bytes: r.bytes.length })),
});
const CHALLENGE_LEAVES = [0];

interface Scene {
  keys: Record<'A' | 'B' | 'C', Wallet>;
  /** A and B are registered; C is signed in but not registered. */
  tokens: Record<'A' | 'B' | 'C', string>;
  /** A session row that has expired (the sweep is off, so it stays). */
  expiredToken: string;
  /** A's sign-in, already used: its nonce is spent. */
  replayedSignIn: z.infer<typeof SignInRequest>;
  replayedSignInB: z.infer<typeof SignInRequest>;
  /** A lease A holds on task T; task D is done. */
  leaseId: string;
  taskId: string;
  doneTaskId: string;
  jobId: string;
  customerKey: string;
  /**
   * File F: its replica R1 is A's deal (sealing), R2 B's (offered), both blobs on hand. File G: its
   * one replica RG is A's (healthy, blob dropped), with an open challenge and an open retrieval;
   * B's copy of it (dealDropped) failed, was replaced, and B is told to drop it.
   */
  storage: { fileF: string; fileG: string; dealA: string; dealB: string; dealG: string; dealDropped: string; challengeId: string; retrievalId: string };
}

async function setScene(): Promise<Scene> {
  const keys = { A: newKey(), B: newKey(), C: newKey() };
  const a = await signIn(keys.A);
  const b = await signIn(keys.B);
  const c = await signIn(keys.C);
  for (const t of [a.token, b.token]) expect((await call('POST', '/v1/nodes', registration(newKey().address), t)).status).toBe(200);
  // One task done by B, one leased by A; none open, so a stray lease could only come from a bug.
  const created = CreateTasksResponse.parse((await call('POST', '/v1/tasks', { tasks: [spec(1)] }, hub.customerKey)).json).tasks;
  const lb = LeaseResponse.parse((await call('POST', '/v1/leases', {}, b.token)).json).lease!;
  expect((await call('POST', `/v1/leases/${lb.leaseId}/complete`, { result: resultRef }, b.token)).status).toBe(200);
  expect((await call('POST', '/v1/tasks', { tasks: [spec(2)] }, hub.customerKey)).status).toBe(201);
  const la = LeaseResponse.parse((await call('POST', '/v1/leases', {}, a.token)).json).lease!;
  // Found by this fuzzer (seed 2): a fraction below what the progress column (a real) holds was a
  // 500, on any lease id. Now kept to a millionth: 200 on A's lease, 404 on none.
  const tiny = { fraction: 1.775660810030483e-71 };
  expect((await call('POST', `/v1/leases/${la.leaseId}/progress`, tiny, a.token)).status).toBe(200);
  expect((await call('POST', '/v1/leases/l_unknown/progress', tiny, a.token)).status).toBe(404);
  // A job on an uploaded scene, whose one frame is withdrawn at once: the queue keeps no open task.
  const put = await fetch(`${hub.url}/v1/blobs/${SCENE_HEX}?offset=0&length=${SCENE.length}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${hub.customerKey}`, 'content-type': 'application/octet-stream' },
    body: SCENE,
  });
  expect(put.status).toBe(200);
  const job = await call('POST', '/v1/jobs', { kind: 'render', name: 'fuzz', scene: `sha256:${SCENE_HEX}`, frames: { start: 1, end: 1 }, settings: spec(1).settings }, hub.customerKey);
  expect(job.status).toBe(201);
  await hub.db.query("update tasks set state = 'done', verify_state = 'cancelled' where job_id = $1", [job.json.id]);
  // A credit and its voucher for A, so a sync answers them (and a reissue signs them again).
  await hub.db.transaction((tx) => hub.payments.credit(tx, { node: keys.A.address, kind: 'render', taskId: 't_fuzzcredit', jobId: job.json.id, amount: '12345', device: 'gpu:0' }));
  // Storage: two files, offered through polls, one deal sealed and confirmed by A.
  for (const r of [R1, R2, RG]) {
    const up = await fetch(`${hub.url}/v1/blobs/${r.ref.slice(7)}?offset=0&length=${r.bytes.length}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${hub.customerKey}`, 'content-type': 'application/octet-stream' },
      body: r.bytes,
    });
    expect(up.status).toBe(200);
  }
  const fileF = await call('POST', '/v1/storage/files', storeReq([R1, R2]), hub.customerKey);
  const fileG = await call('POST', '/v1/storage/files', storeReq([RG]), hub.customerKey);
  expect([fileF.status, fileG.status]).toEqual([201, 201]);
  const poll = (token: string, acceptDeals: boolean) => call('POST', '/v1/storage/poll', { acceptDeals, freeBytes: 1024 ** 3 }, token).then((r) => StoragePollResponse.parse(r.json));
  // One offer per file and node: A gets R1 and RG, then B gets R2.
  const offersA = (await poll(a.token, true)).deals;
  const offersB = (await poll(b.token, true)).deals;
  const dealOf = (offers: { dealId: string; pieceCid: string }[], r: { cid: string }) => offers.find((d) => d.pieceCid === r.cid)!.dealId;
  const storage = { fileF: fileF.json.id, fileG: fileG.json.id, dealA: dealOf(offersA, R1), dealB: dealOf(offersB, R2), dealG: dealOf(offersA, RG), dealDropped: 'd_fuzzdropped', challengeId: 'c_fuzzchallenge', retrievalId: '' };
  for (const [p, body] of [
    [`/v1/storage/deals/${storage.dealA}/accept`, {}],
    [`/v1/storage/deals/${storage.dealG}/accept`, {}],
    [`/v1/storage/deals/${storage.dealG}/confirm`, { pieceCid: RG.cid }],
  ] as const) {
    expect((await call('POST', p, body, a.token)).status).toBe(200);
  }
  // RG's bytes are gone (every deal for them is confirmed): retrieving G asks A to upload them.
  expect((await call('GET', `/v1/storage/files/${storage.fileG}`, undefined, hub.customerKey)).status).toBe(202);
  storage.retrievalId = (await poll(a.token, false)).retrievals[0]!.retrievalId;
  await hub.db.query("insert into storage_challenges (id, replica_id, provider, seed, leaves, deadline_ms, state, created_ms) values ($1, $2, $3, $4, $5, $6, 'open', $7)", [
    storage.challengeId,
    storage.dealG,
    keys.A.address.toLowerCase(),
    'ab'.repeat(32),
    JSON.stringify(CHALLENGE_LEAVES),
    Date.now() + 3_600_000,
    Date.now(),
  ]);
  // As a failed challenge and its repair leave it (the sweep is off): unhealthy, replaced, B to drop it.
  await hub.db.query(
    `insert into storage_replicas (id, file_id, key_index, blob_hex, piece_cid, bytes, state, provider, drop_reason, created_ms, updated_ms)
     values ($1, $2, 0, $3, $4, $5, 'unhealthy', $6, 'replaced', $7, $7)`,
    [storage.dealDropped, storage.fileG, RG.ref.slice(7), RG.cid, RG.bytes.length, keys.B.address.toLowerCase(), Date.now()],
  );
  const expiredToken = randomBytes(32).toString('base64url');
  await hub.db.query('insert into sessions (token_hash, address, expires_ms) values ($1, $2, $3)', [
    createHash('sha256').update(expiredToken).digest('hex'),
    keys.A.address.toLowerCase(),
    Date.now() - 60_000,
  ]);
  return {
    keys,
    tokens: { A: a.token, B: b.token, C: c.token },
    expiredToken,
    replayedSignIn: a.body,
    replayedSignInB: b.body,
    leaseId: la.leaseId,
    taskId: la.taskId,
    doneTaskId: created[0]!.id,
    jobId: job.json.id,
    customerKey: hub.customerKey,
    storage,
  };
}

/** Every table (and the id sequences, which even a rolled-back insert moves), and the blob store. */
async function snapshot(): Promise<string> {
  const parts: unknown[] = [];
  const tables = ['nodes', 'tasks', 'sessions', 'auth_challenges', 'schema_migrations', 'jobs', 'verification_failures', 'job_blocks'];
  tables.push('payment_credits', 'payment_totals', 'storage_files', 'storage_replicas', 'storage_challenges', 'storage_retrievals');
  for (const t of tables) {
    parts.push((await hub.db.query(`select * from ${t} order by 1`)).rows);
  }
  parts.push((await hub.db.query('select last_value, is_called from tasks_seq_seq')).rows);
  for (const seq of ['verification_failures_seq_seq', 'payment_credits_seq_seq', 'storage_replicas_seq_seq']) parts.push((await hub.db.query(`select last_value, is_called from ${seq}`)).rows);
  const files = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)).map((f) => `${e.name}/${f}`) : [`${e.name}:${statSync(join(d, e.name)).size}`]));
  parts.push(files(join(dataDir, 'blobs')).sort());
  return JSON.stringify(parts);
}

// --- The oracle: the published API, written out independently of the hub's dispatcher -------

type Who = 'A' | 'B' | 'C';
interface RouteSpec {
  method: string;
  path: string;
  /** 'either': a node's session or the customer key (the blob store). */
  auth: 'none' | 'node' | 'admin' | 'either';
  body?: z.ZodType;
  response: z.ZodType;
}
const API: readonly RouteSpec[] = [
  { method: 'GET', path: '/v1/health', auth: 'none', response: HubHealth },
  { method: 'POST', path: '/v1/auth/challenge', auth: 'none', body: ChallengeRequest, response: SignInChallenge },
  { method: 'POST', path: '/v1/auth/sign-in', auth: 'none', body: SignInRequest, response: Session },
  { method: 'POST', path: '/v1/nodes', auth: 'node', body: RegisterNodeRequest, response: NodeView },
  { method: 'POST', path: '/v1/nodes/heartbeat', auth: 'node', body: HeartbeatRequest, response: HeartbeatResponse },
  { method: 'POST', path: '/v1/leases', auth: 'node', body: LeaseRequest, response: LeaseResponse },
  { method: 'POST', path: '/v1/leases/{leaseId}/renew', auth: 'node', body: RenewRequest, response: RenewResponse },
  { method: 'POST', path: '/v1/leases/{leaseId}/progress', auth: 'node', body: ProgressRequest, response: RenewResponse },
  { method: 'POST', path: '/v1/leases/{leaseId}/complete', auth: 'node', body: CompleteRequest, response: TaskView },
  { method: 'POST', path: '/v1/leases/{leaseId}/release', auth: 'node', body: ReleaseRequest, response: TaskView },
  { method: 'POST', path: '/v1/tasks', auth: 'admin', body: CreateTasksRequest, response: CreateTasksResponse },
  { method: 'GET', path: '/v1/tasks/{taskId}', auth: 'admin', response: TaskView },
  { method: 'POST', path: '/v1/jobs', auth: 'admin', body: SubmitRenderJob, response: HubJobView },
  { method: 'GET', path: '/v1/jobs', auth: 'admin', response: HubJobList },
  { method: 'GET', path: '/v1/jobs/{jobId}', auth: 'admin', response: HubJobView },
  { method: 'GET', path: '/v1/status', auth: 'admin', response: HubStatusView },
  { method: 'GET', path: '/v1/blobs/{hex}/status', auth: 'either', response: BlobStatus },
  // Raw bytes, not JSON: the oracle reads the query and the body's size itself (blobVerdict).
  { method: 'PUT', path: '/v1/blobs/{hex}', auth: 'either', response: BlobStatus },
  { method: 'GET', path: '/v1/blobs/{hex}', auth: 'either', response: BlobStatus },
  { method: 'GET', path: '/v1/payments/terms', auth: 'none', response: PaymentTerms },
  { method: 'POST', path: '/v1/payments/sync', auth: 'node', body: PaymentsSyncRequest, response: PaymentsSyncResponse },
  { method: 'POST', path: '/v1/storage/files', auth: 'admin', body: StoreFileRequest, response: StoredFileView },
  { method: 'GET', path: '/v1/storage/files/{fileId}', auth: 'admin', response: RetrieveFileResponse },
  { method: 'GET', path: '/v1/storage/files/{fileId}/replicas', auth: 'admin', response: StoredFileView },
  { method: 'POST', path: '/v1/storage/poll', auth: 'node', body: StoragePollRequest, response: StoragePollResponse },
  { method: 'POST', path: '/v1/storage/deals/{dealId}/accept', auth: 'node', body: DealAcceptRequest, response: DealView },
  { method: 'POST', path: '/v1/storage/deals/{dealId}/confirm', auth: 'node', body: DealConfirmRequest, response: DealView },
  { method: 'POST', path: '/v1/storage/deals/{dealId}/reject', auth: 'node', body: DealRejectRequest, response: DealView },
  { method: 'POST', path: '/v1/storage/deals/{dealId}/dropped', auth: 'node', body: DealDroppedRequest, response: DealDroppedResponse },
  { method: 'POST', path: '/v1/storage/challenges/{challengeId}/proof', auth: 'node', body: ChallengeProofRequest, response: ChallengeResult },
  { method: 'POST', path: '/v1/storage/retrievals/{retrievalId}/done', auth: 'node', body: RetrievalDoneRequest, response: RetrievalDoneResponse },
];
const HEX = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

type Verdict = { kind: 'refused' } | { kind: 'read'; response: z.ZodType | 'openapi' | 'bytes'; notFoundOk: boolean } | { kind: 'write'; response: z.ZodType };
const REFUSED: Verdict = { kind: 'refused' };

/** The body a request carries: built when sent (some are megabytes), described in failures. */
interface BodyGen {
  what: string;
  make(): Buffer | undefined;
  /** A Content-Length header that is not the body's length (only with no body). */
  declared?: number;
}

interface HttpReq {
  type: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: BodyGen;
  what: string;
  /** The route it was generated from (its path may have been mangled since). */
  route: string;
}
interface RawReq {
  type: 'raw';
  bytes: () => Buffer;
  /** After writing, half-close: the hub may answer a 4xx or just close. */
  halfClose: boolean;
  what: string;
}
type Req = HttpReq | RawReq;

/** The hub's limit on the request line and headers together (maxHeaderSize). */
const HEADER_LIMIT = 16 * 1024;

function classify(r: HttpReq, scene: Scene, body: Buffer | undefined): Verdict {
  if (!r.path.startsWith('/')) return REFUSED;
  if (r.path.length + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) > HEADER_LIMIT - 200) return REFUSED;
  // Both a length and chunked framing: a smuggling attempt, refused as malformed HTTP.
  if (r.headers['transfer-encoding'] !== undefined && (body !== undefined || r.body.declared !== undefined)) return REFUSED;
  const pathname = r.path.split('?')[0]!;
  if (r.method === 'GET' && (pathname === '/v1/openapi.json' || pathname === '/openapi.json')) return { kind: 'read', response: 'openapi', notFoundOk: false };
  const parts = pathname.split('/');
  let route: RouteSpec | undefined;
  const params: Record<string, string> = {};
  for (const s of API) {
    const segs = s.path.split('/');
    if (s.method !== r.method || segs.length !== parts.length) continue;
    const p: Record<string, string> = {};
    if (segs.every((seg, i) => (seg.startsWith('{') ? ((p[seg.slice(1, -1)] = parts[i]!), true) : seg === parts[i]))) {
      route = s;
      Object.assign(params, p);
      break;
    }
  }
  if (!route) return REFUSED;
  if (Object.entries(params).some(([k, v]) => !(k === 'hex' ? HEX : ID).test(v))) return REFUSED;
  const auth = (r.headers.authorization ?? '').trim();
  let who: Who | null = null;
  if (route.auth === 'either') {
    const allowed = [scene.tokens.A, scene.tokens.B, scene.tokens.C, scene.customerKey].some((t) => auth === `Bearer ${t}`);
    if (!allowed) return REFUSED;
    return blobVerdict(route, r, params.hex!, body);
  }
  if (route.auth === 'node') {
    who = (['A', 'B', 'C'] as const).find((w) => auth === `Bearer ${scene.tokens[w]}`) ?? null;
    if (!who) return REFUSED;
  } else if (route.auth === 'admin' && auth !== `Bearer ${scene.customerKey}`) return REFUSED;
  let data: any;
  if (route.body) {
    if (r.body.declared !== undefined) return REFUSED; // declared above the limit
    const type = (r.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' || !body || body.length > BODY_LIMIT) return REFUSED;
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      return REFUSED;
    }
    if (!route.body.safeParse(data).success) return REFUSED;
  }
  switch (route.path) {
    case '/v1/health':
      return { kind: 'read', response: route.response, notFoundOk: false };
    case '/v1/tasks/{taskId}':
    case '/v1/jobs/{jobId}':
      return { kind: 'read', response: route.response, notFoundOk: true };
    case '/v1/status':
      return { kind: 'read', response: route.response, notFoundOk: false };
    case '/v1/jobs':
      return route.method === 'GET' ? { kind: 'read', response: route.response, notFoundOk: false } : { kind: 'write', response: route.response };
    // No nonce the fuzzer sends is live (random or already spent): every sign-in is refused.
    case '/v1/auth/sign-in':
      return REFUSED;
    // Not registered: refused (403) before anything is written.
    case '/v1/nodes/heartbeat':
    case '/v1/leases':
      return who === 'C' ? REFUSED : { kind: 'write', response: route.response };
    case '/v1/leases/{leaseId}/renew':
    case '/v1/leases/{leaseId}/progress':
    case '/v1/leases/{leaseId}/complete':
    case '/v1/leases/{leaseId}/release':
      // Only A holds a lease, and only that one: anyone else's, or any other id, is not found.
      return who === 'A' && params.leaseId === scene.leaseId ? { kind: 'write', response: route.response } : REFUSED;
    case '/v1/payments/terms':
    case '/v1/storage/files/{fileId}/replicas':
      return { kind: 'read', response: route.response, notFoundOk: route.path !== '/v1/payments/terms' };
    // F's blobs are on hand (200); G's retrieval is already open (202, nothing more asked).
    case '/v1/storage/files/{fileId}':
      return { kind: 'read', response: route.response, notFoundOk: true };
    case '/v1/payments/sync':
      // Not registered: 403. Only A holds a voucher, which a reissue signs again.
      if (who === 'C') return REFUSED;
      return who === 'A' && data.reissue === true ? { kind: 'write', response: route.response } : { kind: 'read', response: route.response, notFoundOk: false };
    case '/v1/storage/files':
      // Each replica's whole blob on hand (409 else) with its own piece CID (400 else).
      return (data.replicas as { blob: string; pieceCid: string; bytes: number }[]).every((x) => ON_HAND.get(x.blob)?.bytes.length === x.bytes && ON_HAND.get(x.blob)?.cid === x.pieceCid)
        ? { kind: 'write', response: route.response }
        : REFUSED;
    case '/v1/storage/poll':
      if (who === 'C') return REFUSED;
      // Offers write; a poll that takes none only reads (G's retrieval waits for bytes not here).
      return data.acceptDeals === true ? { kind: 'write', response: route.response } : { kind: 'read', response: route.response, notFoundOk: false };
    case '/v1/storage/deals/{dealId}/accept':
    case '/v1/storage/deals/{dealId}/reject':
    case '/v1/storage/deals/{dealId}/confirm':
    case '/v1/storage/deals/{dealId}/dropped': {
      const st = scene.storage;
      const deals: Record<string, [Who, string, 'open' | 'healthy' | 'to drop']> = {
        [st.dealA]: ['A', R1.cid, 'open'],
        [st.dealB]: ['B', R2.cid, 'open'],
        [st.dealG]: ['A', RG.cid, 'healthy'],
        [st.dealDropped]: ['B', RG.cid, 'to drop'],
      };
      const deal = deals[params.dealId!];
      // Someone else's deal, or none: 404.
      if (!deal || deal[0] !== who) return REFUSED;
      // Only a replica the hub let go of can be dropped (409 while it is wanted).
      if (route.path.endsWith('/dropped')) return deal[2] === 'to drop' ? { kind: 'write', response: route.response } : REFUSED;
      // A confirm with another piece CID: 400; a healthy one's is answered as it is.
      if (route.path.endsWith('/confirm') && data.pieceCid !== deal[1]) return REFUSED;
      if (route.path.endsWith('/confirm') && deal[2] === 'healthy') return { kind: 'read', response: route.response, notFoundOk: false };
      // A healthy or unhealthy deal is neither taken, confirmed nor given back again (409).
      return deal[2] === 'open' ? { kind: 'write', response: route.response } : REFUSED;
    }
    case '/v1/storage/challenges/{challengeId}/proof':
      if (who !== 'A' || params.challengeId !== scene.storage.challengeId) return REFUSED;
      // Proofs for other leaves than asked are no answer (400); the right leaves, or a loss, are recorded.
      if ('proofs' in data && JSON.stringify(data.proofs.map((p: { leaf: number }) => p.leaf)) !== JSON.stringify(CHALLENGE_LEAVES)) return REFUSED;
      return { kind: 'write', response: route.response };
    case '/v1/storage/retrievals/{retrievalId}/done':
      // A's, with the bytes not uploaded: answered received: false, and nothing changes.
      return who === 'A' && params.retrievalId === scene.storage.retrievalId ? { kind: 'read', response: route.response, notFoundOk: false } : REFUSED;
    default:
      return { kind: 'write', response: route.response };
  }
}

/** The blob store's published rules: raw bytes, a strict ?offset&length, and the body within length. */
function blobVerdict(route: RouteSpec, r: HttpReq, hex: string, body: Buffer | undefined): Verdict {
  if (route.method === 'GET') return { kind: 'read', response: route.path.endsWith('/status') ? BlobStatus : 'bytes', notFoundOk: true };
  const type = (r.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream') return REFUSED;
  const encoding = r.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return REFUSED;
  const query = r.path.includes('?') ? r.path.slice(r.path.indexOf('?') + 1) : '';
  const q = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(query)) {
    if (q.has(k)) return REFUSED;
    q.set(k, v);
  }
  const num = (v: string | undefined) => (v !== undefined && /^(0|[1-9]\d{0,15})$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : null);
  const offset = num(q.get('offset'));
  const length = num(q.get('length'));
  if (q.size !== 2 || offset === null || length === null || length === 0) return REFUSED;
  // The complete scene: answered at once, whatever follows.
  if (hex === SCENE_HEX) return { kind: 'write', response: BlobStatus };
  if (length > MAX_BLOB_BYTES) return REFUSED;
  // Nothing is held of any other blob until the writing phase: any offset but 0 is refused then.
  if (offset !== 0) return REFUSED;
  const size = r.body.declared ?? body?.length ?? 0;
  if (size > length - offset) return REFUSED;
  return { kind: 'write', response: BlobStatus };
}

// --- Generators --------------------------------------------------------------------------------

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

/** Numbers that JSON.stringify cannot write: spliced into the text in place of a marker string. */
const RAW_NUMBERS = ['1e400', '-1e400', 'NaN', 'Infinity', '-Infinity', '0x10', '01', '1.', '.5', '+1', '-0', '1E2', '123456789012345678901234567890', '9007199254740993', '-9007199254740993', '1e-400'];
const RAW_MARK = '\u0001raw:';

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, Number.MAX_VALUE, Number.MIN_VALUE, -0.0001, 1.0000001,
    '', ' ', '0', '-1', 'NaN', 'null', 'true', '../../etc/passwd', '..%2F..%2Fetc', '/etc/passwd', 'C:\\Windows\\system32', '\u0000', 'a\u0000b',
    '\u202e\ufeff\u200b', '😀'.repeat(50), '\ud800', '__proto__', 'constructor', "'; drop table tasks; --", '0x', `0x${'0'.repeat(40)}`, `0x${'G'.repeat(40)}`,
    `0x${'ab'.repeat(32)}`, `0x${'11'.repeat(65)}`, `sha256:${'AB'.repeat(32)}`, 'render', 'cycles', 'available', 'paused', 'blender', 'gpu', 'optix', '4.2',
    [], {}, [null], [[[]]], { __proto__: null }, { constructor: { prototype: {} } },
  ),
  fc.constantFrom(...RAW_NUMBERS).map((n) => `${RAW_MARK}${n}`),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 300 }),
);
const hostileKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', '\u0000', 'a.b', 'toString', 'extra', 'kind', 'fields'), fc.string({ maxLength: 12 }));

type Path = (string | number)[];
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) pathsOf((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}
const clone = <T>(v: T): T => structuredClone(v);

interface Mutation {
  op: 'delete' | 'set' | 'extra' | 'wrap' | 'root';
  at: number;
  key: string;
  value: unknown;
}
function mutate(template: unknown, muts: Mutation[]): unknown {
  let doc = clone(template);
  for (const m of muts) {
    if (m.op === 'root') {
      doc = m.value;
      continue;
    }
    const paths = pathsOf(doc);
    if (m.op === 'extra' || paths.length === 0) {
      // Into the object at a path (or the root), a key it does not know.
      const objs = [[] as Path, ...paths].filter((p) => {
        const v = get(doc, p);
        return v && typeof v === 'object' && !Array.isArray(v);
      });
      const target = objs[m.at % Math.max(objs.length, 1)];
      if (target) (get(doc, target) as Record<string, unknown>)[m.key || 'extra'] = m.value;
      continue;
    }
    const p = paths[m.at % paths.length]!;
    const parent = get(doc, p.slice(0, -1)) as Record<string | number, unknown>;
    const last = p[p.length - 1]!;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.op === 'wrap') parent[last] = [parent[last]];
    else parent[last] = m.value;
  }
  return doc;
}
function get(v: unknown, p: Path): unknown {
  return p.reduce<unknown>((acc, k) => (acc as Record<string | number, unknown>)[k], v);
}
const toText = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.replace(/"\\u0001raw:([^"]*)"/g, '$1');
};

function buildArbitraries(scene: Scene): fc.Arbitrary<Req> {
  const { A, B, C } = scene.tokens;
  const addr = fc.constantFrom(scene.keys.A.address, scene.keys.B.address, newKey().address, scene.keys.A.address.toLowerCase());
  const templates: Record<string, fc.Arbitrary<unknown> | undefined> = {
    '/v1/auth/challenge': addr.map((address) => ({ address })),
    '/v1/auth/sign-in': fc.oneof(
      fc.constant(scene.replayedSignIn),
      fc.constant(scene.replayedSignInB),
      // Another node's spent signature under A's address, and the other way round.
      fc.constant({ ...scene.replayedSignInB, address: scene.keys.A.address }),
      fc.constant({ ...scene.replayedSignIn, nonce: scene.replayedSignInB.nonce }),
      fc.record({ address: addr, nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`), signature: fc.constant(`0x${'1b'.repeat(65)}`) }),
    ),
    '/v1/nodes': fc.constant(registration(newKey().address)),
    '/v1/nodes/heartbeat': fc.constantFrom(
      { availability: [{ resource: 'gpu:0', state: 'available' }, { resource: 'disk', state: 'paused', until: '2030-01-01T00:00:00Z' }], leases: [scene.leaseId] },
      { availability: [] },
    ),
    '/v1/leases': fc.constantFrom({}, { kinds: ['render'] }),
    '/v1/leases/{leaseId}/renew': fc.constant({}),
    '/v1/leases/{leaseId}/progress': fc.constantFrom({ fraction: 0.5, message: 'half' }, { fraction: 1 }, { fraction: 0 }),
    '/v1/leases/{leaseId}/complete': fc.constant({ result: resultRef }),
    '/v1/leases/{leaseId}/release': fc.constantFrom({ reason: 'paused' }, { reason: 'error' }),
    '/v1/tasks': fc.constantFrom({ tasks: [spec(1)] }, { tasks: [spec(-5), spec(1_048_574)] }),
    '/v1/blobs/{hex}': fc.constant(`${RAW_MARK}${BLOB.toString('latin1')}`),
    '/v1/jobs': fc.constantFrom(
      { kind: 'render', name: 'fuzz', scene: `sha256:${SCENE_HEX}`, frames: { start: 1, end: 2 }, settings: spec(1).settings },
      { kind: 'render', name: 'fuzz', scene: `sha256:${SCENE_HEX}`, frames: { start: 0, end: 0 }, settings: spec(1).settings, pricePerFrame: '5' },
      { kind: 'render', name: 'fuzz', scene: `sha256:${BLOB_HEX}`, frames: { start: 1, end: 1 }, settings: spec(1).settings },
    ),
    '/v1/payments/sync': fc.constantFrom({ after: 0 }, { after: 0, reissue: true }, { after: 1, reissue: false }, { after: Number.MAX_SAFE_INTEGER }),
    '/v1/storage/files': fc.constantFrom(
      storeReq([R1]),
      storeReq([R1, R2]),
      storeReq([R2, RG]),
      // R1's bytes under R2's piece CID.
      { ...storeReq([R1]), replicas: [{ blob: R1.ref, pieceCid: R2.cid, bytes: R1.bytes.length }] },
    ),
    '/v1/storage/poll': fc.constantFrom({ acceptDeals: false, freeBytes: 0 }, { acceptDeals: true, freeBytes: 10 * 1024 ** 3 }, { acceptDeals: false, freeBytes: 2 ** 53 }),
    '/v1/storage/deals/{dealId}/accept': fc.constant({}),
    '/v1/storage/deals/{dealId}/confirm': fc.constantFrom({ pieceCid: R1.cid }, { pieceCid: R2.cid }, { pieceCid: RG.cid }),
    '/v1/storage/deals/{dealId}/reject': fc.constantFrom({ reason: 'disk full' }, { reason: '../../etc/passwd' }),
    '/v1/storage/deals/{dealId}/dropped': fc.constant({}),
    '/v1/storage/challenges/{challengeId}/proof': fc.constantFrom(
      { proofs: CHALLENGE_LEAVES.map((leaf) => ({ leaf, value: 'ab'.repeat(32), path: ['cd'.repeat(32), 'ef'.repeat(32)] })) },
      { proofs: [{ leaf: 3, value: 'ab'.repeat(32), path: [] }] },
      { lost: { reason: 'the scrub found damage' } },
    ),
    '/v1/storage/retrievals/{retrievalId}/done': fc.constant({}),
  };

  const mutation: fc.Arbitrary<Mutation> = fc.record({
    op: fc.constantFrom<Mutation['op']>('delete', 'set', 'set', 'set', 'extra', 'wrap', 'root'),
    at: fc.nat(),
    key: hostileKey,
    value: hostileValue,
  });

  const fixed = (what: string, text: string | Buffer): BodyGen => ({ what, make: () => (typeof text === 'string' ? Buffer.from(text) : text) });
  const bodyFor = (template: fc.Arbitrary<unknown> | undefined): fc.Arbitrary<BodyGen> => {
    const t = template ?? fc.constant({});
    return fc.oneof(
      { weight: 10, arbitrary: t.map((v) => fixed(`template ${toText(v).slice(0, 80)}`, toText(v))) },
      {
        weight: 50,
        arbitrary: fc.tuple(t, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, ms]) => {
          const text = toText(mutate(v, ms));
          return fixed(`mutated ${ms.map((m) => m.op).join('+')}: ${text.slice(0, 120)}`, text);
        }),
      },
      { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => fixed(`json ${toText(v).slice(0, 80)}`, toText(v))) },
      {
        weight: 8,
        arbitrary: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => fixed('binary text', s)),
          fc.uint8Array({ maxLength: 200 }).map((b) => fixed('random bytes', Buffer.from(b))),
          t.chain((v) => fc.nat({ max: toText(v).length }).map((n) => fixed('truncated', toText(v).slice(0, n)))),
          t.map((v) => fixed('BOM + json', `\ufeff${toText(v)}`)),
          t.map((v) => fixed('json + trailing', `${toText(v)}}{`)),
          t.map((v) => fixed('json twice', `${toText(v)}${toText(v)}`)),
          t.map((v) => fixed('utf-16 json', Buffer.from(toText(v), 'utf16le'))),
          t.map((v) => fixed('invalid utf-8 in json', Buffer.concat([Buffer.from(toText(v).slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('}')]))),
          fc.constantFrom('', ' ', 'null', '[]', '"x"', '0', '{}{}', 'undefined', '{"a":1,}', "{'a':1}", '{"__proto__":{"admin":true}}', '\u0000', '{"a":"\\u0000"}').map((s) => fixed(`literal ${JSON.stringify(s)}`, s)),
        ),
      },
      {
        weight: 4,
        // A huge string or array somewhere in the body: under or over the 1 MiB limit.
        arbitrary: fc.tuple(t, fc.nat(), fc.integer({ min: 10_000, max: 1_300_000 }), fc.constantFrom('A', '😀', '\u0000', '/', 'x'), fc.boolean()).map(([v, at, n, ch, asArray]) => ({
          what: `huge ${asArray ? 'array' : 'string'} of ${n}`,
          make: () => {
            const huge = asArray ? Array.from({ length: Math.ceil(n / 4) }, () => 1) : ch.repeat(Math.ceil(n / ch.length));
            return Buffer.from(toText(mutate(v, [{ op: pathsOf(v).length ? 'set' : 'extra', at, key: 'huge', value: huge }])));
          },
        })),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(fc.integer({ min: 50, max: 200_000 }), fc.constantFrom('array', 'object', 'in-field')).map(([d, shape]) => ({
          what: `nested ${d} deep (${shape})`,
          make: () => {
            if (shape === 'array') return Buffer.from('['.repeat(d) + ']'.repeat(d));
            if (shape === 'object') return Buffer.from('{"a":'.repeat(d) + '1' + '}'.repeat(d));
            return Buffer.from(`{"tasks":${'['.repeat(d)}${']'.repeat(d)},"kinds":${'{"a":'.repeat(Math.min(d, 50_000))}1${'}'.repeat(Math.min(d, 50_000))}}`);
          },
        })),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.integer({ min: BODY_LIMIT + 1, max: 3 * BODY_LIMIT }), fc.constantFrom(' ', '[', 'a')).map(([n, ch]) => ({
          what: `actual body of ${n} bytes`,
          make: () => Buffer.alloc(n, ch),
        })),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(BODY_LIMIT + 1, 2 * BODY_LIMIT, 50 * BODY_LIMIT, 2 ** 40, Number.MAX_SAFE_INTEGER).map((n) => ({ what: `declared Content-Length ${n}, no body`, make: () => undefined, declared: n })),
      },
      { weight: 3, arbitrary: fc.constant<BodyGen>({ what: 'no body', make: () => undefined }) },
    );
  };

  const idArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(scene.leaseId, scene.taskId, scene.doneTaskId, scene.jobId, 'l_unknown', 't_unknown', 'x', '-', '_') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '..', '.', '../..', '../../etc/passwd', 'a/b', '..%2F..%2Fetc%2Fpasswd', '%2F', '%2e%2e', '%2e%2e%2f', '%00', 'a%00b', '%', '%zz', '%25', '%252F',
        `${scene.leaseId}%00`, `${scene.leaseId}%2F..`, `${scene.leaseId}.`, `${scene.leaseId}/`, `../leases/${scene.leaseId}`, ';', 'x;y', "'or'1'='1", '%E2%80%AE',
        '~', '%20', '+', 'con', 'NUL', '$(id)', '`id`', '{leaseId}', '*', 'x'.repeat(65), encodeURIComponent('../../etc/passwd'), '%C0%AE%C0%AE', '\\..\\..',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 20_000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent) },
  );

  /** A storage id the scene holds half the time (someone's deal, challenge...), else any id. */
  const st = scene.storage;
  const storageId = (...known: string[]) => fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: idArb });

  const hexArb = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(BLOB_HEX, SCENE_HEX) },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')) },
    { weight: 3, arbitrary: fc.constantFrom(BLOB_HEX.toUpperCase(), BLOB_HEX.slice(1), `${BLOB_HEX}0`, `..%2F${BLOB_HEX}`, `..%2Fpartial%2F${BLOB_HEX}`, `${BLOB_HEX}%00`, '%2e%2e', 'g'.repeat(64)) },
    { weight: 1, arbitrary: idArb },
  );
  /** The PUT query: mostly what the template body fits, sometimes anything. */
  const putQuery = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`?offset=0&length=${BLOB.length}`) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '', '?offset=0', '?length=18', `?offset=5&length=${BLOB.length}`, '?offset=0&length=0', '?offset=-1&length=18', '?offset=0&length=1e2', '?offset=0&length=18&length=18',
        '?offset=0&length=18&x=1', `?offset=0&length=${MAX_BLOB_BYTES + 1}`, '?offset=0&length=9007199254740993', '?offset=00&length=18', '?offset=0&length=%31%38', '?offset=0&length=1048577',
      ),
    },
  );

  const pathJunk = fc.constantFrom<(p: string) => string>(
    (p) => `${p}/`,
    (p) => `/${p}`,
    (p) => p.replace('/v1/', '/V1/'),
    (p) => p.replace('/v1/', '/v2/'),
    (p) => p.replace('/v1/', '/v1/../v1/'),
    (p) => p.replace('/v1/', '/v1/./'),
    (p) => p.replace('/v1/', '/v1//'),
    (p) => p.replace('/v1/', '/v1%2F'),
    (p) => `${p}?x=1&x=2`,
    (p) => `${p}?${'a'.repeat(20_000)}`,
    (p) => `${p}#frag`,
    (p) => `${p};jsessionid=1`,
    (p) => `${p}%00`,
    (p) => `http://evil.example${p}`,
    (p) => p.slice(1),
    (p) => p.toUpperCase(),
  );
  const otherPaths = fc.constantFrom('/', '/v1', '/v1/', '/openapi.json', '/v1/openapi.json', '/v1/auth', '/v1/leases/renew', '/v1/tasks/', '/v1/nodes/x/y', '/.env', '/v1/../../etc/passwd', '*', '/v1/payments', '/v1/storage/files/', '/v1/storage/deals//accept');

  const credential = fc.constantFrom<[string, string | undefined]>(
    ['none', undefined],
    ['node A', `Bearer ${A}`],
    ['node B', `Bearer ${B}`],
    ['node C (unregistered)', `Bearer ${C}`],
    ['expired token', `Bearer ${scene.expiredToken}`],
    ['unknown token', `Bearer ${randomBytes(32).toString('base64url')}`],
    ['token + x', `Bearer ${A}x`],
    ['token, truncated', `Bearer ${A.slice(0, -1)}`],
    ['customer key', `Bearer ${scene.customerKey}`],
    ['customer key + x', `Bearer ${scene.customerKey}x`],
    ['lowercase bearer', `bearer ${A}`],
    ['two spaces', `Bearer  ${A}`],
    ['Basic', `Basic ${Buffer.from(`a:${A}`).toString('base64')}`],
    ['short', 'Bearer abc'],
    ['long', `Bearer ${'a'.repeat(600)}`],
    ['token twice', `Bearer ${A} ${A}`],
    ['empty', ''],
    ['Bearer only', 'Bearer'],
    ['sql', "Bearer ' or 1=1 --aaaaaaaaaaaaaaaa"],
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant<string | undefined>('application/json') },
    {
      weight: 3,
      arbitrary: fc.constantFrom<string | undefined>(
        undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-seq',
        'application/json, text/plain', '*/*', 'APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json;charset=latin1', ' application/json ', 'text/json',
        'application/problem+json', 'application/json\t; x=y',
      ),
    },
  );

  const api: fc.Arbitrary<Req> = fc
    .record({
      route: fc.constantFrom(...API),
      methodPick: fc.oneof({ weight: 8, arbitrary: fc.constant<string | null>(null) }, { weight: 2, arbitrary: fc.constantFrom<string | null>(...METHODS) }),
      ids: fc.record({
        leaseId: idArb,
        taskId: idArb,
        jobId: idArb,
        hex: hexArb,
        query: putQuery,
        fileId: storageId(st.fileF, st.fileG, st.dealA),
        dealId: storageId(st.dealA, st.dealB, st.dealG, st.dealDropped, st.challengeId),
        challengeId: storageId(st.challengeId, st.dealG),
        retrievalId: storageId(st.retrievalId, st.dealG),
      }),
      junk: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: pathJunk }),
      other: fc.oneof({ weight: 24, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: otherPaths }),
      cred: fc.oneof(
        { weight: 1, arbitrary: fc.constant<[string, string | undefined] | null>(null) },
        { weight: 1, arbitrary: credential },
      ),
      type: contentType,
      extraHeaders: fc.oneof(
        { weight: 7, arbitrary: fc.constant(null) },
        fc.constantFrom<Record<string, string> | null>(
          { 'x-forwarded-for': '127.0.0.1' },
          { 'content-encoding': 'gzip' },
          { 'transfer-encoding': 'chunked' },
          { expect: '100-continue' },
          { 'x-http-method-override': 'DELETE' },
          { cookie: `session=${A}` },
          { 'x-api-key': scene.customerKey },
          { origin: 'https://evil.example' },
        ),
      ),
    })
    .chain((x) => {
      const bodyTemplate = templates[x.route.path];
      return bodyFor(bodyTemplate).map((body): Req => {
        const method = x.methodPick ?? x.route.method;
        let path = x.route.path.replace('{leaseId}', x.ids.leaseId).replace('{taskId}', x.ids.taskId).replace('{jobId}', x.ids.jobId).replace('{hex}', x.ids.hex);
        path = path.replace('{fileId}', x.ids.fileId).replace('{dealId}', x.ids.dealId).replace('{challengeId}', x.ids.challengeId).replace('{retrievalId}', x.ids.retrievalId);
        if (x.route.method === 'PUT') path += x.ids.query;
        if (x.junk) path = x.junk(path);
        if (x.other) path = x.other;
        // Half the time the credential the route wants (so bodies and paths get past auth), else any.
        const wanted: [string, string | undefined] =
          x.route.auth === 'admin' || (x.route.auth === 'either' && x.ids.hex.length % 2 === 0)
            ? ['customer key', `Bearer ${scene.customerKey}`]
            : x.route.auth === 'node' || x.route.auth === 'either'
              ? ['node A', `Bearer ${A}`]
              : ['none', undefined];
        // The blob upload's own content type, most of the time.
        const type = x.route.method === 'PUT' && x.type === 'application/json' ? 'application/octet-stream' : x.type;
        const [credName, authorization] = x.cred ?? wanted;
        const headers: Record<string, string> = { ...(x.extraHeaders ?? {}) };
        if (authorization !== undefined) headers.authorization = authorization;
        if (type !== undefined) headers['content-type'] = type;
        return { type: 'http', method, path, headers, body, route: x.route.path, what: `${method} ${path.slice(0, 120)} [${credName}; ${type ?? 'no type'}; ${body.what}]` };
      });
    });

  const rawReq = (what: string, text: string | Buffer, halfClose = false): RawReq => ({ type: 'raw', bytes: () => (typeof text === 'string' ? Buffer.from(text, 'latin1') : text), halfClose, what });
  const crlf = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
  // Each names a refused request however leniently it is parsed: no credentials, a bad address.
  const raw: fc.Arbitrary<Req> = fc.oneof(
    fc.constantFrom(
      rawReq('two content-lengths', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 3', 'Connection: close'], '{}x')),
      rawReq('content-length and chunked', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Transfer-Encoding: chunked', 'Connection: close'], '2\r\n{}\r\n0\r\n\r\n')),
      rawReq('bad chunk size', crlf(['POST /v1/auth/challenge HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Connection: close'], 'zz\r\n{}\r\n0\r\n\r\n')),
      rawReq('chunked, bad address', crlf(['POST /v1/auth/challenge HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Connection: close'], '10\r\n{"address":"0x1"}\r\n0\r\n\r\n')),
      rawReq('negative content-length', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: -1', 'Connection: close'])),
      rawReq('text content-length', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: abc', 'Connection: close'])),
      rawReq('content-length 1e3', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: 1e3', 'Connection: close'])),
      rawReq('content-length 2^64', crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: 18446744073709551616', 'Connection: close'])),
      rawReq('unknown method', crlf(['FOO /v1/health HTTP/1.1', 'Host: x', 'Connection: close'])),
      rawReq('HTTP/9.9', crlf(['GET /v1/tasks/x HTTP/9.9', 'Host: x', 'Connection: close'])),
      // An unfinished request: the hub waits for the rest (headersTimeout), so the client hangs up.
      rawReq('HTTP/0.9, then hang-up', 'GET /v1/tasks/x\r\n', true),
      rawReq('no version', crlf(['GET /v1/tasks/x', 'Host: x'])),
      rawReq('double space', crlf(['GET  /v1/tasks/x HTTP/1.1', 'Host: x', 'Connection: close'])),
      rawReq('no host', crlf(['GET /v1/tasks/x HTTP/1.1', 'Connection: close'])),
      rawReq('two hosts', crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', 'Host: y', 'Connection: close'])),
      rawReq('NUL in header', crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', 'Authorization: Bearer a\u0000b', 'Connection: close'])),
      rawReq('NUL in path', crlf(['GET /v1/tasks/a\u0000b HTTP/1.1', 'Host: x', 'Connection: close'])),
      rawReq('space in header name', crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', 'Bad Header: 1', 'Connection: close'])),
      rawReq('obs-fold', crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', 'Authorization: Bearer', ' folded', 'Connection: close'])),
      rawReq('bare LF', 'POST /v1/leases HTTP/1.1\nHost: x\nContent-Length: 2\nConnection: close\n\n{}'),
      rawReq('header over 16 KiB', crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(20_000)}`, 'Connection: close'])),
      rawReq('request line over 16 KiB', crlf([`GET /v1/tasks/${'a'.repeat(20_000)} HTTP/1.1`, 'Host: x', 'Connection: close'])),
      rawReq('absolute form', crlf(['GET http://evil.example/v1/tasks/x HTTP/1.1', 'Host: x', 'Connection: close'])),
      rawReq('asterisk form', crlf(['OPTIONS * HTTP/1.1', 'Host: x', 'Connection: close'])),
      rawReq('CONNECT', crlf(['CONNECT evil.example:443 HTTP/1.1', 'Host: evil.example:443', 'Connection: close'])),
      rawReq('pipelined, smuggled', `${crlf(['POST /v1/leases HTTP/1.1', 'Host: x', 'Content-Length: 4'], '{}\r\n')}${crlf(['GET /v1/tasks/x HTTP/1.1', 'Host: x', 'Connection: close'])}`),
      rawReq('invalid utf-8 in path', Buffer.concat([Buffer.from('GET /v1/tasks/'), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])),
      rawReq('body cut short, then hang-up', crlf(['POST /v1/auth/challenge HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 100'], '{"address":'), true),
      rawReq('headers cut short, then hang-up', 'POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Le', true),
      rawReq('only a request line, then hang-up', 'GET /v1/tasks/x HTTP/1.1\r\n', true),
    ),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => rawReq('random bytes', Buffer.concat([Buffer.from(b), Buffer.from('\r\n\r\n')]))),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 200 }).map((s) => rawReq('random ascii request line', `${s}\r\nHost: x\r\nConnection: close\r\n\r\n`)),
  );

  // Payments and storage, well-formed: each route's own body and the scene's own ids, under every
  // credential (a node's token on the customer's routes and back, B on A's deal, C unregistered),
  // so the rules behind authentication are reached, not only the schema.
  const paidOrStored = API.filter((r) => /^\/v1\/(payments|storage)\//.test(r.path));
  const focused: fc.Arbitrary<Req> = fc
    .record({
      route: fc.constantFrom(...paidOrStored),
      cred: fc.constantFrom<[string, string | undefined]>(
        ['node A', `Bearer ${A}`],
        ['node A', `Bearer ${A}`],
        ['node A', `Bearer ${A}`],
        ['node B', `Bearer ${B}`],
        ['node B', `Bearer ${B}`],
        ['node C (unregistered)', `Bearer ${C}`],
        ['customer key', `Bearer ${scene.customerKey}`],
        ['customer key', `Bearer ${scene.customerKey}`],
        ['expired token', `Bearer ${scene.expiredToken}`],
        ['none', undefined],
      ),
      pick: fc.nat(),
    })
    .chain((x) =>
      (templates[x.route.path] ?? fc.constant(undefined)).map((body): Req => {
        // Mostly an id of the kind the route names (someone's), sometimes one of another kind.
        const param = /\{(\w+)\}/.exec(x.route.path)?.[1] ?? '';
        const ids = ({
          fileId: [st.fileF, st.fileG, st.dealA],
          dealId: [st.dealA, st.dealA, st.dealB, st.dealG, st.dealDropped, st.dealDropped, st.challengeId],
          challengeId: [st.challengeId, st.challengeId, st.dealG],
          retrievalId: [st.retrievalId, st.retrievalId, scene.leaseId],
        } as Record<string, string[]>)[param] ?? [''];
        const path = x.route.path.replace(/\{\w+\}/, ids[x.pick % ids.length]!);
        const text = body === undefined ? undefined : toText(body);
        const headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
        if (x.cred[1] !== undefined) headers.authorization = x.cred[1];
        const what = `${x.route.method} ${path} [${x.cred[0]}; focused ${text?.slice(0, 80) ?? 'no body'}]`;
        return { type: 'http', method: x.route.method, path, headers, route: x.route.path, what, body: { what: text ?? 'no body', make: () => (text === undefined ? undefined : Buffer.from(text)) } };
      }),
    );

  return fc.oneof({ weight: 85, arbitrary: api }, { weight: 10, arbitrary: focused }, { weight: 5, arbitrary: raw });
}

// --- Sending --------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

let agent: Agent;

function sendHttp(r: HttpReq, body: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...r.headers };
    const lying = r.body.declared !== undefined;
    if (lying) {
      headers['content-length'] = r.body.declared;
      headers.connection = 'close';
    } else if (body) headers['content-length'] = body.length;
    let done = false;
    const req = request({ host: '127.0.0.1', port: hub.port, method: r.method, path: r.path, headers, agent: lying ? false : agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        done = true;
        resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => !done && reject(err));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    // A hub that answers early (413, 401) may close while the rest is still being sent: only an
    // error before any answer counts.
    req.on('error', (err) => !done && reject(err));
    req.end(body);
  });
}

function sendRaw(r: RawReq): Promise<{ text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(hub.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer or close in ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // a reset after a 400 is fine; what came before is checked
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1') });
    });
    socket.on('connect', () => {
      socket.write(r.bytes());
      if (r.halfClose) socket.end();
    });
  });
}

// --- Checking --------------------------------------------------------------------------------

const WRONG_FOR_VALID = new Set(['bad_request', 'invalid_body', 'invalid_path', 'unsupported_media_type', 'body_too_large', 'unauthorized', 'method_not_allowed', 'internal']);

function checkHttp(r: HttpReq, v: Verdict, a: Answer): string | null {
  if (a.status >= 500) return `${a.status}: ${a.text.slice(0, 200)}`;
  const isHead = r.method === 'HEAD';
  const json = (() => {
    try {
      return JSON.parse(a.text) as unknown;
    } catch {
      return undefined;
    }
  })();
  const errorShape = () => {
    if (isHead) return null; // a HEAD answer has no body by definition
    if (!String(a.headers['content-type'] ?? '').startsWith('application/json')) return `content-type ${String(a.headers['content-type'])}`;
    return HubErrorBody.safeParse(json).success ? null : `error body not of the documented shape: ${a.text.slice(0, 200)}`;
  };
  if (v.kind === 'refused') {
    if (a.status < 400 || a.status > 499) return `refused request answered ${a.status}: ${a.text.slice(0, 200)}`;
    return errorShape();
  }
  if (v.kind === 'read') {
    if (v.notFoundOk && a.status === 404) return errorShape();
    if (a.status < 200 || a.status > 299) return `valid read answered ${a.status}: ${a.text.slice(0, 200)}`;
    if (v.response === 'openapi') return (json as { openapi?: string } | undefined)?.openapi === '3.1.0' ? null : 'not the OpenAPI document';
    if (v.response === 'bytes') return String(a.headers['content-type']).startsWith('application/octet-stream') ? null : `a blob answered as ${String(a.headers['content-type'])}`;
    const ok = v.response.safeParse(json);
    return ok.success ? null : `2xx body does not match its schema: ${a.text.slice(0, 200)}`;
  }
  if (a.status >= 200 && a.status <= 299) {
    const ok = v.response.safeParse(json);
    return ok.success ? null : `2xx body does not match its schema: ${a.text.slice(0, 200)}`;
  }
  if (a.status < 400) return `valid request answered ${a.status}`;
  const shape = errorShape();
  if (shape) return shape;
  const code = (json as { error: { code: string } }).error.code;
  return WRONG_FOR_VALID.has(code) ? `valid request refused for its shape or credentials: ${a.status} ${a.text.slice(0, 200)}` : null;
}

function checkRaw(r: RawReq, answer: { text: string }): string | null {
  if (answer.text === '') return r.halfClose ? null : 'closed without an answer';
  const statuses = [...answer.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  if (statuses.length === 0) return `no status line: ${JSON.stringify(answer.text.slice(0, 200))}`;
  if (statuses.some((s) => s < 400 || s > 499)) return `statuses ${statuses.join(',')}: ${JSON.stringify(answer.text.slice(0, 300))}`;
  // Each answer's body: a JSON error of the documented shape.
  const bodies = answer.text.split(/HTTP\/1\.1 \d{3} /).slice(1).map((part) => part.slice(part.indexOf('\r\n\r\n') + 4));
  for (const b of bodies) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(b);
    } catch {
      return `error body not JSON: ${JSON.stringify(answer.text.slice(0, 300))}`;
    }
    if (!HubErrorBody.safeParse(parsed).success) return `error body not of the documented shape: ${b.slice(0, 200)}`;
  }
  return null;
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('protocol fuzzing: the hub', () => {
  it(`answers ${TOTAL} generated hostile requests with a clean 4xx, never a 5xx or a hang, and refused ones write nothing`, { timeout: 240_000 }, async () => {
    const scene = await setScene();
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      const reqs = fc.sample(buildArbitraries(scene), { numRuns: TOTAL, seed: SEED });
      expect(reqs).toHaveLength(TOTAL);

      // Classify first (bodies are rebuilt when sent), so the ones that may write run last.
      const classified = reqs.map((r) => ({ r, v: r.type === 'raw' ? REFUSED : classify(r, scene, r.body.make()) }));
      // How often each payment and storage route was reached with a request valid enough to be served.
      const served = new Map<string, number>();
      for (const { r, v } of classified) if (r.type === 'http' && v.kind !== 'refused' && /^\/v1\/(payments|storage)\//.test(r.route)) served.set(`${r.route} ${v.kind}`, (served.get(`${r.route} ${v.kind}`) ?? 0) + 1);
      const quiet = classified.filter((c) => c.v.kind !== 'write');
      const writing = classified.filter((c) => c.v.kind === 'write');
      const failures: string[] = [];
      const tally = new Map<string, number>();
      const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);

      const run = async ({ r, v }: (typeof classified)[number]) => {
        count(`${r.type === 'raw' ? 'raw' : r.method}:${v.kind}`);
        try {
          if (r.type === 'raw') {
            const a = await sendRaw(r);
            const problem = checkRaw(r, a);
            count(`raw:${a.text.slice(9, 12) || 'closed'}`);
            if (problem) failures.push(`raw ${r.what}: ${problem}`);
          } else {
            const body = r.body.make();
            const a = await sendHttp(r, body);
            count(`status:${a.status}`);
            const problem = checkHttp(r, v, a);
            if (problem) failures.push(`${v.kind} ${r.what} ${JSON.stringify(r.headers).slice(0, 200)}: ${problem}`);
          }
        } catch (err) {
          // Malformed HTTP is answered 400 with the error body before the hub knows the method; a
          // HEAD client, expecting no body, calls those bytes a parse error. Still a refusal.
          if (r.type === 'http' && r.method === 'HEAD' && v.kind === 'refused' && /Data after `Connection: close`/.test((err as Error).message)) return void count('HEAD:refused as malformed');
          failures.push(`${r.type === 'raw' ? 'raw ' : ''}${r.what}: ${(err as Error).message}`);
        }
      };

      const before = await snapshot();
      let changedAt: string | null = null;
      for (let i = 0; i < quiet.length; i += CHECK_EVERY) {
        const chunk = quiet.slice(i, i + CHECK_EVERY);
        await pool(chunk, CONCURRENCY, run);
        expect((await call('GET', '/v1/health')).status, `hub down after ${i + chunk.length} requests`).toBe(200);
        if (changedAt === null && (await snapshot()) !== before) changedAt = `after requests ${i}..${i + chunk.length - 1}: ${chunk.map((c) => c.r.what).slice(0, 5).join(' | ')}`;
      }
      expect(changedAt, 'a refused or read-only request wrote to the database').toBeNull();
      expect(await snapshot()).toBe(before);

      // Then the ones that were valid by chance, which may write.
      for (let i = 0; i < writing.length; i += CHECK_EVERY) {
        await pool(writing.slice(i, i + CHECK_EVERY), CONCURRENCY, run);
        expect((await call('GET', '/v1/health')).status).toBe(200);
      }

      const summary = Object.fromEntries([...tally].sort());
      console.log(`hub fuzz (seed ${SEED}): ${quiet.length} refused or read-only, ${writing.length} valid writes`, summary, Object.fromEntries([...served].sort()));
      expect(failures.slice(0, 25), `${failures.length} of ${TOTAL} failed`).toEqual([]);
      // A deal given back and a challenge failed are logged as what they are, not as errors.
      expect(hubLog.filter((l) => !/^hub: storage (deal \S+ refused|challenge \S+ failed) by /.test(l)), 'the hub logged internal errors').toEqual([]);
      // The classes all occur: the fuzzer reaches past auth into bodies, and some requests are valid.
      expect(quiet.filter((c) => c.v.kind === 'refused').length).toBeGreaterThan(TOTAL * 0.8);
      expect(writing.length).toBeGreaterThan(20);
      expect(classified.filter((c) => c.r.type === 'raw').length).toBeGreaterThan(200);
      // Every payment and storage route was served at least once, not only refused.
      for (const route of API.filter((x) => /^\/v1\/(payments|storage)\//.test(x.path))) {
        expect([...served].filter(([k]) => k.startsWith(`${route.path} `)).length, route.path).toBeGreaterThan(0);
      }
    } finally {
      agent.destroy();
    }
  });
});
