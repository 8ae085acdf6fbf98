// The agent's side of the newer hub flows against a hostile hub: thousands of generated answers
// (wrong types, extra fields, path-like ids and CIDs, huge numbers and bodies, lying sizes) to
//  (a) POST /v1/leases, driven through the real HubWork (leasing, scene download, queueing),
//  (b) POST /v1/payments/sync, through the real PaymentIntake (voucher check, ledger, state file),
//  (c) POST /v1/storage/poll, through the real StorageDeals (deals, challenges, retrievals, drops),
//  (d) GET /v1/blobs/{hex}/status, through the real uploadBlob the outbox delivers results with.
// For every answer: nothing throws out of the agent code but the refusals its callers catch
// (HubRequestError), nothing is written, queued, booked or deleted from an answer that does not
// validate, and the unmutated answer (the control) IS acted on, so the refusals are not vacuous.
// The hub's side is a fake at the interface each class takes (HubClient, PaymentsHttp, HubHttp),
// answering the surrounding calls as an honest hub would.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { Wallet } from 'ethers';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  BlobStatus,
  LeaseResponse,
  PaymentsSyncResponse,
  RenderJobSpec,
  StoragePollResponse,
  commpPure,
  encodePieceCidV1,
  verifyVoucher,
  voucherDigest,
  voucherDomain,
  type Decision,
  type EarningEntry,
  type JobSummary,
  type PaymentTerms,
  type PieceRecord,
  type SignedVoucher,
} from '../../protocol/index.js';
import type { Logger } from '../../agent/logger.js';
import type { HubClient } from '../../agent/network/hub-client.js';
import { HubRequestError, hubHttp, type HubHttp } from '../../agent/network/hub-http.js';
import { HubWork, type HubWorkJobs } from '../../agent/network/hub-work.js';
import { minorToDecimal, PaymentIntake, type PaymentsHttp } from '../../agent/network/payments.js';
import { StorageDeals, type DealStorage } from '../../agent/network/storage-deals.js';
import { uploadBlob, type BlobHttp } from '../../agent/network/blob-transfer.js';
import { hostileScalar, mutate, mutation } from '../support/json-mutations.js';
import { useTempDirs } from '../support/tmp.js';

const SEED = Number(process.env.OFFHOURS_FUZZ_SEED ?? 7_070_707);
const tmp = useTempDirs();

// --- shared helpers -----------------------------------------------------------------------------

/** A logger that remembers what was said at warn and error level (error means "unexpected"). */
function recordingLog(): Logger & { errors: string[]; infos: string[] } {
  const errors: string[] = [];
  const infos: string[] = [];
  const log = {
    errors,
    infos,
    debug() {},
    info(msg: string) {
      infos.push(msg);
    },
    warn() {},
    error(msg: string, fields?: unknown) {
      errors.push(`${msg} ${JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.stack : typeof v === 'bigint' ? String(v) : v))}`);
    },
    child: () => log,
    close() {},
  };
  return log as unknown as Logger & { errors: string[]; infos: string[] };
}

/** Waits (event-loop turns, not a clock) until `cond` holds; a hang guard, not a timed assertion. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const guard = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > guard) throw new Error(`never settled: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
const turn = () => new Promise((r) => setImmediate(r));

/** Every file under `dir`, relative to it, with / separators. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const pathLike = fc.constantFrom(
  '../../etc/passwd', '..', '.', '/etc/passwd', 'C:\\Windows\\system32', 'a/b', 'a\\b', '%2e%2e%2f', '..%2f..%2f', 'l_1\u0000', 'l_1/../../x', '~', 'file:///etc/passwd',
  ' l_1', 'l_1 ', 'x'.repeat(65), '', 'CON', 'l_1?x=1', 'l_1#frag', 'ｌ_1', '\u202el_1',
);
const hugeNumber = fc.constantFrom<unknown>(2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 53), Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, -1, 0, 1.5, NaN, Infinity, -Infinity, -0, 1e300, '1', '4096', null);
const iso = (ms: number) => new Date(ms).toISOString();
const weirdTimes = fc.constantFrom('soon', '', '2026-02-30T12:00:00Z', '+275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', iso(Date.now() + 60_000).replace('Z', '+00:00'), 'tomorrow');

// --- (a) lease answers, through HubWork ------------------------------------------------------------

const scene = Buffer.alloc(4096, 0x5c);
const sceneHex = createHash('sha256').update(scene).digest('hex');
const otherHex = createHash('sha256').update('another scene').digest('hex');
const settings = { engine: 'cycles', samples: 8, resolutionX: 64, resolutionY: 64 };
const goodLease = () => ({
  lease: {
    leaseId: 'l_1',
    taskId: 't_1',
    task: { kind: 'render', frame: 1, settings: { ...settings }, job: { id: 'job_1', scene: `sha256:${sceneHex}`, sceneBytes: scene.length, pay: '1' }, region: { minX: 0, minY: 0, maxX: 0.5, maxY: 0.5 } },
    deadline: iso(Date.now() + 60_000),
  },
  retryAfterS: 0,
});
const sceneRefs = fc.constantFrom(`sha256:${otherHex}`, `sha256:${sceneHex.toUpperCase()}`, `SHA256:${sceneHex}`, `sha256:${sceneHex}0`, `sha256:../../${sceneHex.slice(6)}`, `sha256:${sceneHex}/../x`, sceneHex, `sha256:${'0'.repeat(64)}`, `md5:${sceneHex}`);
const unitValues = fc.oneof(fc.double({ min: -2, max: 3 }), fc.constantFrom<unknown>(0, 1, -0.000001, 1.000001, NaN, Infinity, '0.5', null));
const region = fc.record({ minX: unitValues, minY: unitValues, maxX: unitValues, maxY: unitValues });
const leaseAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.array(mutation(fc.oneof(hostileScalar, pathLike, hugeNumber, sceneRefs, weirdTimes, region)), { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodLease(), ms)) },
  // A job whose sceneBytes lies (or is not a size at all); the blob server sends the real scene.
  { weight: 3, arbitrary: fc.oneof(hugeNumber, fc.integer({ min: 4000, max: 4200 }), fc.integer({ min: 1, max: 10_000 })).map((sceneBytes) => {
    const a = goodLease();
    return { ...a, lease: { ...a.lease, task: { ...a.lease.task, job: { ...a.lease.task.job, sceneBytes } } } };
  }) },
  { weight: 2, arbitrary: fc.tuple(sceneRefs, fc.constantFrom(4096, 100, 5000)).map(([ref, sceneBytes]) => {
    const a = goodLease();
    return { ...a, lease: { ...a.lease, task: { ...a.lease.task, job: { ...a.lease.task.job, scene: ref, sceneBytes } } } };
  }) },
  { weight: 2, arbitrary: region.map((r) => {
    const a = goodLease();
    return { ...a, lease: { ...a.lease, task: { ...a.lease.task, region: r } } };
  }) },
  { weight: 2, arbitrary: fc.record({ which: fc.constantFrom('leaseId', 'taskId', 'job', 'verifies'), id: pathLike }).map(({ which, id }) => {
    const a = goodLease();
    if (which === 'job') return { ...a, lease: { ...a.lease, task: { ...a.lease.task, job: { ...a.lease.task.job, id } } } };
    if (which === 'verifies') return { ...a, lease: { ...a.lease, task: { ...a.lease.task, verifies: id } } };
    return { ...a, lease: { ...a.lease, [which]: id } };
  }) },
  { weight: 2, arbitrary: fc.record({ frame: fc.oneof(hugeNumber, fc.integer({ min: -1_100_000, max: 1_100_000 })), resolutionX: fc.oneof(hugeNumber, fc.integer({ min: 0, max: 70_000 })), samples: fc.oneof(hugeNumber, fc.integer({ min: 0, max: 2_000_000 })) }, { requiredKeys: [] }).map(({ frame, ...s }) => {
    const a = goodLease();
    return { ...a, lease: { ...a.lease, task: { ...a.lease.task, ...(frame !== undefined ? { frame } : {}), settings: { ...settings, ...s } } } };
  }) },
  { weight: 1, arbitrary: fc.oneof(fc.anything(), fc.jsonValue(), fc.constantFrom<unknown>(null, 'not json', 'x'.repeat(2 * 1024 * 1024), { lease: null, retryAfterS: 0, extra: 1 }, { lease: null, retryAfterS: 0 })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => goodLease()) },
);

/** What this node may render of a task: the same mapping HubWork makes, judged by the render schema. */
function renderable(task: { frame: number; settings: { samples: number; resolutionX: number; resolutionY: number }; region?: unknown }): boolean {
  return RenderJobSpec.safeParse({
    jobId: 'j_hub',
    frames: { start: task.frame, end: task.frame },
    device: 'CPU',
    samples: task.settings.samples,
    resolution: { width: task.settings.resolutionX, height: task.settings.resolutionY },
    ...(task.region ? { region: task.region } : {}),
    output: { format: 'PNG' },
  }).success;
}

const cpuFree = { at: iso(Date.now()), resources: [{ resource: 'cpu', label: 'CPU', state: 'running', newWork: true, limits: null, matchedRule: null, reasons: [] }] } as unknown as Decision;

/** The hub at the HubClient interface: `call` checks the answer against the schema as HubClient.call does. */
class LeaseHub {
  readonly origin = 'http://hub.test:8787';
  connected = true;
  leaseCalls = 0;
  leaseSettled = false;
  releases: Array<{ leaseId: string; reason: unknown }> = [];
  blobGets: string[] = [];
  constructor(private readonly answer: unknown) {}
  async call<T>(path: string, body: unknown, schema: z.ZodType<T>, what: string): Promise<T> {
    let answer: unknown = {};
    const m = /^\/v1\/leases\/([^/]+)\/(\w+)$/.exec(path);
    if (path === '/v1/leases') {
      this.leaseCalls++;
      answer = this.answer;
    } else if (m?.[2] === 'release') this.releases.push({ leaseId: m[1]!, reason: (body as { reason: unknown }).reason });
    else if (m?.[2] === 'renew' || m?.[2] === 'progress') answer = { leaseId: m[1], deadline: iso(Date.now() + 60_000) };
    try {
      const parsed = schema.safeParse(answer);
      if (!parsed.success) throw new HubRequestError('invalid', `refused the hub's ${what} answer`);
      return parsed.data;
    } finally {
      if (path === '/v1/leases') setImmediate(() => (this.leaseSettled = true));
    }
  }
  blobs: BlobHttp = {
    get: async () => {
      throw new Error('no status calls expected');
    },
    putRaw: async () => {
      throw new Error('no uploads expected');
    },
    getRaw: async (path: string) => {
      this.blobGets.push(path);
      // Whatever scene is asked for, these bytes come back: only sha256:<sceneHex> matches them.
      return new Response(scene, { status: 200, headers: { 'content-length': String(scene.length) } });
    },
  };
}

class RecordingJobs implements HubWorkJobs {
  queued: Array<Parameters<HubWorkJobs['queueHub']>[0]> = [];
  async queueHub(req: Parameters<HubWorkJobs['queueHub']>[0]): Promise<JobSummary> {
    this.queued.push(req);
    return { id: `j_${this.queued.length}`, source: req.source, state: 'queued' } as unknown as JobSummary;
  }
  cancel() {
    return null;
  }
  get() {
    return null;
  }
  list() {
    return { jobs: [] };
  }
  busy() {
    return false;
  }
  onJob() {
    return () => undefined;
  }
}

interface LeaseOutcome {
  queued: RecordingJobs['queued'];
  releases: LeaseHub['releases'];
  blobGets: string[];
  files: string[];
  errors: string[];
  leaseCalls: number;
}

async function leaseOnce(answer: unknown): Promise<LeaseOutcome> {
  const dataDir = tmp();
  const hub = new LeaseHub(answer);
  const jobs = new RecordingJobs();
  const log = recordingLog();
  const work = new HubWork({
    dataDir,
    jobs,
    clients: () => [hub as unknown as HubClient],
    decision: () => cpuFree,
    log,
    now: () => new Date(),
    // One lease request per HubWork: after any answer, the hub is not asked again for a minute.
    timings: { backoff: { baseMs: 60_000, maxMs: 60_000 }, unusableTaskWaitMs: 60_000 },
  });
  try {
    work.start();
    await until(() => hub.leaseSettled, 'the lease answer');
    const parsed = LeaseResponse.safeParse(answer);
    if (parsed.success && parsed.data.lease) await until(() => jobs.queued.length > 0 || hub.releases.length > 0, 'the leased task to be queued or given back');
    await turn();
    // The outbox's journal is the agent's own (opened at start); no result may have entered it.
    const journal = join(dataDir, 'network', 'outbox.jsonl');
    expect(existsSync(journal) ? readFileSync(journal, 'utf8') : '').toBe('');
    const files = filesUnder(dataDir).filter((f) => f !== 'network/outbox.jsonl');
    return { queued: [...jobs.queued], releases: [...hub.releases], blobGets: [...hub.blobGets], files, errors: log.errors, leaseCalls: hub.leaseCalls };
  } finally {
    await work.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('lease answers from a hostile hub (HubWork)', () => {
  it('queues only a task that validates and whose scene is what it says; gives every other lease back; writes only checked blob names', { timeout: 120_000 }, async () => {
    const control = await leaseOnce(goodLease());
    expect(control.queued).toHaveLength(1);
    expect(control.queued[0]!.source).toMatchObject({ kind: 'hub', taskId: 't_1', leaseId: 'l_1' });
    expect(control.releases).toEqual([]);
    expect(control.files).toEqual([`network/blobs/${sceneHex}`]);

    const tally = { refused: 0, none: 0, released: 0, queued: 0 };
    await fc.assert(
      fc.asyncProperty(leaseAnswer, async (answer) => {
        const out = await leaseOnce(answer);
        expect(out.errors, 'an unexpected error inside HubWork').toEqual([]);
        expect(out.leaseCalls).toBe(1);
        expect(out.blobGets.every((p) => p === `/v1/blobs/${sceneHex}` || /^\/v1\/blobs\/[0-9a-f]{64}$/.test(p))).toBe(true);
        expect(out.files.every((f) => /^network\/blobs\/[0-9a-f]{64}(\.part)?$/.test(f)), out.files.join(', ')).toBe(true);
        const parsed = LeaseResponse.safeParse(answer);
        if (!parsed.success || !parsed.data.lease) {
          if (parsed.success) tally.none++;
          else tally.refused++;
          // Refused or empty: nothing downloaded, written, queued or released.
          expect(out.queued).toEqual([]);
          expect(out.releases).toEqual([]);
          expect(out.blobGets).toEqual([]);
          expect(out.files).toEqual([]);
          return;
        }
        const { lease } = parsed.data;
        const job = lease.task.job;
        const usable = !!job && renderable(lease.task) && job.scene === `sha256:${sceneHex}` && job.sceneBytes === scene.length;
        if (usable) {
          tally.queued++;
          expect(out.queued).toHaveLength(1);
          expect(out.queued[0]!.source).toMatchObject({ kind: 'hub', taskId: lease.taskId, leaseId: lease.leaseId });
          expect(out.queued[0]!.spec.frames).toEqual({ start: lease.task.frame, end: lease.task.frame });
          expect(out.queued[0]!.scene.endsWith(join('network', 'blobs', sceneHex))).toBe(true);
          expect(out.releases).toEqual([]);
        } else {
          tally.released++;
          expect(out.queued).toEqual([]);
          expect(out.releases).toEqual([{ leaseId: lease.leaseId, reason: 'error' }]);
          // Only the scene this test's hub really serves is ever kept whole.
          expect(out.files.filter((f) => !f.endsWith('.part')).every((f) => f === `network/blobs/${sceneHex}`)).toBe(true);
        }
      }),
      { numRuns: 2500, seed: SEED },
    );
    expect(tally.refused).toBeGreaterThan(1000);
    expect(tally.released).toBeGreaterThan(200);
    expect(tally.queued).toBeGreaterThan(20);
  });
});

// --- (b) payment sync answers, through PaymentIntake ----------------------------------------------

const payer = new Wallet(`0x${'11'.repeat(32)}`);
const payout = new Wallet(`0x${'22'.repeat(32)}`).address;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const nowS = Math.floor(NOW / 1000);
const terms: PaymentTerms = {
  payer: payer.address,
  chainId: 31337,
  escrow: `0x${'e'.repeat(40)}`,
  token: `0x${'a'.repeat(40)}`,
  tokenSymbol: 'USDC',
  decimals: 6,
  prices: { renderPerFrame: '1000', storagePerGiBDay: '1' },
};
function signVoucher(total: bigint, expiry = nowS + 3600): SignedVoucher {
  const voucher = { payer: terms.payer, payee: payout, token: terms.token, cumulativeAmount: total.toString(), expiry };
  const domain = voucherDomain(terms.chainId, terms.escrow);
  return { voucher, domain, signature: payer.signingKey.sign(voucherDigest(domain, voucher)).serialized };
}
const goodVoucher = signVoucher(1_750_000n);
const goodSync = () => ({
  credits: [
    { seq: 1, id: 'cr_1', kind: 'render', taskId: 't_1', jobId: 'j_1', amount: '1500000', device: 'gpu:0', at: '2026-06-01T11:00:00.000Z' },
    { seq: 2, id: 'cr_2', kind: 'storage', taskId: null, jobId: null, amount: '250000', device: null, at: '2026-06-01T11:30:00.000Z' },
  ],
  more: false,
  voucher: structuredClone(goodVoucher),
});
const amounts = fc.constantFrom<unknown>('-1', '1e6', '0x10', '00', ' 5', '5 ', '1.5', '1'.repeat(31), '1'.repeat(30), (2n ** 256n).toString(), '9'.repeat(100_000), '1750001', '1750000', '0', '1', 1500000, 10n, '１');
const seqs = fc.constantFrom<unknown>(0, -1, 1.5, 2, 1, 3, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, NaN, '1', null);
const addresses = fc.constantFrom<unknown>(payout, payout.toLowerCase(), terms.payer, terms.escrow, `${payout}00`, payout.slice(0, -1), '0x', `0x${'g'.repeat(40)}`, Wallet.createRandom().address);
const signatures = fc.constantFrom<unknown>(`${goodVoucher.signature.slice(0, -2)}00`, `0x${'00'.repeat(65)}`, goodVoucher.signature.slice(0, -2), `${goodVoucher.signature}00`, signVoucher(1_750_001n).signature, signVoucher(1n).signature);
const paymentValues = fc.oneof(hostileScalar, pathLike, amounts, seqs, addresses, signatures, weirdTimes, hugeNumber);
const syncAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.array(mutation(paymentValues), { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodSync(), ms)) },
  // The voucher alone mutated.
  { weight: 3, arbitrary: fc.array(mutation(paymentValues), { minLength: 1, maxLength: 3 }).map((ms) => ({ ...goodSync(), voucher: mutate(goodVoucher, ms) })) },
  // Credits with bad amounts, seqs and ids, under the good voucher.
  { weight: 3, arbitrary: fc.array(fc.record({ seq: seqs, id: fc.oneof(pathLike, fc.constantFrom('cr_1', 'cr_x')), amount: amounts }), { minLength: 1, maxLength: 4 }).map((cs) => ({
    ...goodSync(),
    credits: cs.map((c) => ({ kind: 'render', taskId: 't_1', jobId: 'j_1', device: 'cpu', at: '2026-06-01T11:00:00.000Z', ...c })),
  })) },
  // Well-formed credits the voucher does or does not cover, and vouchers that expired or verify for other totals.
  { weight: 2, arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: 3_000_000n }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(nowS + 3600, nowS - 1, nowS)).map(([total, k, expiry]) => ({
    credits: Array.from({ length: k }, (_, i) => ({ seq: i + 1, id: `cr_${i + 1}`, kind: 'render', taskId: null, jobId: null, amount: String(400_000 + i), device: null, at: '2026-06-01T11:00:00.000Z' })),
    more: false,
    voucher: signVoucher(total, expiry),
  })) },
  { weight: 1, arbitrary: fc.oneof(fc.anything(), fc.jsonValue(), fc.constantFrom<unknown>(null, '', 'not json', { credits: [], more: false, voucher: null }, { credits: [], more: true, voucher: null, extra: 1 })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => goodSync()) },
);

describe('payment sync answers from a hostile hub (PaymentIntake)', () => {
  it('books nothing but credits a verified voucher covers, writes its state only then, and never throws', { timeout: 120_000 }, async () => {
    const dataDir = tmp();
    const log = recordingLog();
    const make = (booked: EarningEntry[], answer: () => unknown) => {
      const intake = new PaymentIntake({ dataDir, networkKey: 'hub.example', ledger: { appendMany: (e) => booked.push(...e) }, payout: () => payout, log, now: () => new Date(NOW) });
      const posts: unknown[] = [];
      const http: PaymentsHttp = {
        origin: 'https://hub.example',
        get: async () => structuredClone(terms),
        post: async (path, body) => {
          expect(path).toBe('/v1/payments/sync');
          posts.push(body);
          return answer();
        },
      };
      return { intake, http, posts };
    };
    // Pin the terms once (an empty first sync), as a node's first contact would.
    const first = make([], () => ({ credits: [], more: false, voucher: null }));
    await first.intake.sync(first.http);
    const stateFile = join(first.intake.dir, 'state.json');
    const termsFile = join(first.intake.dir, 'terms.json');
    rmSync(stateFile, { force: true });
    const pinned = readFileSync(termsFile, 'utf8');

    // The control: both credits booked, under the voucher's digest.
    const controlBooked: EarningEntry[] = [];
    const control = make(controlBooked, goodSync);
    await control.intake.sync(control.http);
    expect(control.intake.view().refusedReason).toBeNull();
    expect(controlBooked.map((e) => [e.id, e.amount])).toEqual([
      ['hub:hub.example:cr_1', '1.5'],
      ['hub:hub.example:cr_2', '0.25'],
    ]);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).lastSeq).toBe(2);
    rmSync(stateFile, { force: true });

    const tally = { refused: 0, booked: 0 };
    await fc.assert(
      fc.asyncProperty(syncAnswer, async (answer) => {
        const booked: EarningEntry[] = [];
        const { intake, http, posts } = make(booked, () => answer);
        try {
          await expect(intake.sync(http)).resolves.toBeUndefined();
          expect(posts.length).toBeGreaterThanOrEqual(1);
          expect(posts.length).toBeLessThanOrEqual(101);
          const parsed = PaymentsSyncResponse.safeParse(answer);
          const wrote = existsSync(stateFile);
          if (!parsed.success) {
            tally.refused++;
            expect(booked).toEqual([]);
            expect(wrote).toBe(false);
            expect(intake.view().refusedReason).toMatch(/not valid/);
            return;
          }
          if (booked.length === 0) {
            tally.refused++;
            return;
          }
          tally.booked++;
          // Booked: the answer's own credits, in order, exactly, under a voucher that verifies and covers them.
          const { credits, voucher } = parsed.data;
          expect(voucher).not.toBeNull();
          const owed = credits.reduce((s, c) => s + BigInt(c.amount), 0n);
          const verdict = verifyVoucher(voucher, { signer: terms.payer, payee: payout, token: terms.token, chainId: terms.chainId, escrow: terms.escrow, now: nowS, lastAccepted: 0n });
          expect(verdict.ok).toBe(true);
          expect(BigInt(voucher!.voucher.cumulativeAmount)).toBeGreaterThanOrEqual(owed);
          const nonZero = credits.filter((c) => c.amount !== '0');
          expect(booked.map((e) => e.id)).toEqual(nonZero.map((c) => `hub:hub.example:${c.id}`));
          expect(booked.map((e) => e.amount)).toEqual(nonZero.map((c) => minorToDecimal(c.amount, terms.decimals)));
          expect(booked.every((e) => e.proof?.kind === 'voucher' && e.proof.ref === voucherDigest(voucher!.domain, voucher!.voucher))).toBe(true);
          expect(wrote).toBe(true);
        } finally {
          rmSync(stateFile, { force: true });
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
    // Nothing but the pinned terms and the state file were ever written; the terms never moved.
    expect(readFileSync(termsFile, 'utf8')).toBe(pinned);
    expect(filesUnder(dataDir).filter((f) => !f.endsWith('/terms.json'))).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(tally.refused).toBeGreaterThan(2000);
    expect(tally.booked).toBeGreaterThan(30);
  });
});

// --- (c) storage poll answers, through StorageDeals -------------------------------------------------

const cidOf = (fill: number) => encodePieceCidV1(commpPure(new Uint8Array(200).fill(fill)).root);
const OURS = cidOf(2);
const LOCAL = cidOf(1);
const NEW = cidOf(9);
const HEX = 'ab'.repeat(32);
const soon = iso(Date.now() + 60_000);
const later = iso(Date.now() + 30 * 86_400_000);
const goodPoll = () => ({
  deals: [
    { dealId: 'd_new', blob: `sha256:${HEX}`, pieceCid: NEW, bytes: 200, deadline: soon, until: later },
    { dealId: 'd_held', blob: `sha256:${HEX}`, pieceCid: OURS, bytes: 200, deadline: soon, until: later },
  ],
  challenges: [{ challengeId: 'c_1', dealId: 'd_2', pieceCid: OURS, seed: HEX, leaves: [0, 1], deadline: soon }],
  retrievals: [{ retrievalId: 'r_1', dealId: 'd_3', pieceCid: OURS, blob: `sha256:${HEX}`, bytes: 200 }],
  drops: [
    { dealId: 'd_4', pieceCid: OURS, reason: 'ended' },
    { dealId: 'd_5', pieceCid: LOCAL, reason: 'replaced' },
  ],
});
const cids = fc.constantFrom<unknown>('../bait', `${OURS}/../../bait`, `../${OURS}`, OURS.toUpperCase(), `${OURS}a`, OURS.slice(0, 20), `${OURS}\u0000`, `${OURS}.piece`, LOCAL, OURS, NEW, 'baga6ea4', `baga6ea4${'a'.repeat(121)}`, `bafkzcib${'a'.repeat(30)}`);
const leaves = fc.oneof(
  fc.constantFrom<unknown>([], [-1], [1.5], [2 ** 53], [2 ** 53 + 2], [NaN], ['1'], [null], Array.from({ length: 65 }, (_, i) => i), Array.from({ length: 64 }, () => 2 ** 40), [0, 0, 0]),
  fc.array(fc.oneof(fc.integer(), hugeNumber), { maxLength: 70 }),
);
const storageValues = fc.oneof(hostileScalar, pathLike, cids, leaves, hugeNumber, weirdTimes, fc.constantFrom<unknown>('ended', 'replaced', 'because', `sha256:${HEX}`, HEX, `sha256:../${HEX}`));
const pollAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.array(mutation(storageValues), { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodPoll(), ms)) },
  { weight: 3, arbitrary: fc.array(fc.record({ dealId: fc.oneof(pathLike, fc.constantFrom('d_1', 'd_4')), pieceCid: cids, reason: fc.constantFrom<unknown>('ended', 'replaced', 'because', '', null) }), { maxLength: 70 }).map((drops) => ({ ...goodPoll(), drops })) },
  { weight: 2, arbitrary: fc.record({ leaves, pieceCid: cids, challengeId: fc.oneof(pathLike, fc.constant('c_1')) }).map((c) => ({ ...goodPoll(), challenges: [{ ...goodPoll().challenges[0]!, ...c }] })) },
  { weight: 2, arbitrary: fc.record({ pieceCid: cids, retrievalId: fc.oneof(pathLike, fc.constant('r_1')), bytes: fc.oneof(hugeNumber, fc.integer({ min: 0, max: 300 })), dealId: pathLike }, { requiredKeys: [] }).map((r) => {
    const g = goodPoll();
    return { ...g, retrievals: [{ ...g.retrievals[0]!, ...r }], deals: [{ ...g.deals[0]!, ...r, dealId: r.dealId ?? 'd_new' }] };
  }) },
  { weight: 1, arbitrary: fc.oneof(fc.anything(), fc.jsonValue(), fc.constantFrom<unknown>(null, '', { deals: [], challenges: [], retrievals: [] }, { deals: [], challenges: [], retrievals: [], extra: true })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => goodPoll()) },
);

const HOST_SOURCE = 'hub:hub.test';
function recordingStorage(payloadFile: string): DealStorage & { calls: Array<{ op: string; cid: string; arg?: unknown }> } {
  const calls: Array<{ op: string; cid: string; arg?: unknown }> = [];
  const record = (cid: string, source: string): PieceRecord => ({ cid, cidV2: 'bafkzcib', payloadSize: 200, paddedSize: 256, diskBytes: 2, state: 'sealed', source, origin: null, addedAt: iso(0), lastProof: null, lastScrub: null });
  const pieces = new Map<string, PieceRecord>([
    [OURS, record(OURS, HOST_SOURCE)],
    [LOCAL, record(LOCAL, 'local')],
  ]);
  return {
    calls,
    dealRoom: async () => ({ accept: true, freeBytes: 1e9 }),
    add: async (req) => {
      calls.push({ op: 'add', cid: String(req.expectCid), arg: req.file });
      return { id: 'i_1', file: req.file, state: 'failed', reason: 'test', cid: null, at: iso(0) };
    },
    ingest: () => undefined,
    piece: (cid) => pieces.get(cid),
    piecePath: (cid) => (pieces.has(cid) ? payloadFile : null),
    proveLeaves: async (cid, l) => {
      calls.push({ op: 'prove', cid, arg: l });
      return [];
    },
    remove: async (cid, _reason, source) => {
      calls.push({ op: 'remove', cid, arg: source });
      return true;
    },
  };
}

/** The hub's other storage endpoints, answered as an honest hub would. */
function storageHub(poll: unknown, payload: Buffer): HubHttp & { posts: string[]; gets: string[]; puts: string[] } {
  const posts: string[] = [];
  const gets: string[] = [];
  const puts: string[] = [];
  return {
    origin: 'http://hub.test',
    posts,
    gets,
    puts,
    setToken() {},
    async get(path) {
      gets.push(path);
      const hex = /^\/v1\/blobs\/([0-9a-f]{64})\/status$/.exec(path)?.[1];
      if (!hex) throw new HubRequestError('http', 'no', 404, 'not_found');
      return { ref: `sha256:${hex}`, received: payload.length, complete: true };
    },
    async getRaw() {
      throw new HubRequestError('http', 'the blob is gone', 404, 'not_found');
    },
    async putRaw(path) {
      puts.push(path);
      return {};
    },
    async post(path: string) {
      posts.push(path);
      if (path === '/v1/storage/poll') return poll;
      const m = /^\/v1\/storage\/(deals|challenges|retrievals)\/([^/]+)\/(\w+)$/.exec(path);
      const id = m ? decodeURIComponent(m[2]!) : '';
      if (m?.[1] === 'deals' && m[3] === 'dropped') return { dealId: id, dropped: true };
      if (m?.[1] === 'deals') return { dealId: id, state: 'sealing', pieceCid: OURS, deadline: null };
      if (m?.[1] === 'challenges') return { challengeId: id, passed: true, verified: 2, of: 2 };
      if (m?.[1] === 'retrievals') return { retrievalId: id, received: true };
      throw new HubRequestError('http', 'refused', 404, 'not_found');
    },
  };
}

const ALLOWED_POST = /^\/v1\/storage\/(poll|deals\/[A-Za-z0-9_-]{1,64}\/(accept|confirm|reject|dropped)|challenges\/[A-Za-z0-9_-]{1,64}\/proof|retrievals\/[A-Za-z0-9_-]{1,64}\/done)$/;

describe('storage poll answers from a hostile hub (StorageDeals)', () => {
  it('refuses whatever does not validate as a whole, deletes only this hub\'s pieces, proves only held ones, and writes nothing', { timeout: 120_000 }, async () => {
    const dataDir = tmp();
    const payloadDir = tmp();
    const payload = Buffer.alloc(200, 7);
    const payloadFile = join(payloadDir, 'payload');
    writeFileSync(payloadFile, payload);
    const once = async (answer: unknown) => {
      const storage = recordingStorage(payloadFile);
      const http = storageHub(answer, payload);
      const log = recordingLog();
      const deals = new StorageDeals({ origin: 'http://hub.test', storage, dataDir, log });
      const outcome = await deals.run(http).then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      // The background work (downloads, proofs, drops) ends before the next answer.
      const busy = (deals as unknown as { busy: Set<string> }).busy;
      await until(() => busy.size === 0, 'the storage work to end');
      await turn();
      return { outcome, storage, http, errors: log.errors, files: filesUnder(dataDir) };
    };

    const control = await once(goodPoll());
    expect(control.outcome.ok).toBe(true);
    expect(control.storage.calls.filter((c) => c.op === 'remove')).toEqual([{ op: 'remove', cid: OURS, arg: HOST_SOURCE }]);
    expect(control.storage.calls.filter((c) => c.op === 'prove')).toEqual([{ op: 'prove', cid: OURS, arg: [0, 1] }]);
    expect(control.http.posts.sort()).toEqual(
      ['/v1/storage/poll', '/v1/storage/deals/d_new/accept', '/v1/storage/deals/d_held/confirm', '/v1/storage/challenges/c_1/proof', '/v1/storage/retrievals/r_1/done', '/v1/storage/deals/d_4/dropped', '/v1/storage/deals/d_5/dropped'].sort(),
    );

    const tally = { refused: 0, taken: 0 };
    await fc.assert(
      fc.asyncProperty(pollAnswer, async (answer) => {
        const { outcome, storage, http, errors, files } = await once(answer);
        expect(errors, 'an unexpected error inside StorageDeals').toEqual([]);
        expect(files, 'files written by storage deals').toEqual([]);
        const parsed = StoragePollResponse.safeParse(answer);
        if (!parsed.success) {
          tally.refused++;
          expect(outcome.ok).toBe(false);
          expect(!outcome.ok && outcome.err instanceof HubRequestError, String(!outcome.ok && outcome.err)).toBe(true);
          expect(http.posts).toEqual(['/v1/storage/poll']);
          expect(http.gets).toEqual([]);
          expect(storage.calls).toEqual([]);
          return;
        }
        tally.taken++;
        expect(outcome.ok, String(!outcome.ok && outcome.err)).toBe(true);
        expect(http.posts.every((p) => ALLOWED_POST.test(p)), http.posts.join(', ')).toBe(true);
        expect(http.gets.every((p) => /^\/v1\/blobs\/[0-9a-f]{64}\/status$/.test(p))).toBe(true);
        const { drops, challenges } = parsed.data;
        for (const c of storage.calls) {
          if (c.op === 'remove') {
            // Only this hub's piece, only when a drop named it; never the user's.
            expect(c.cid).toBe(OURS);
            expect(c.arg).toBe(HOST_SOURCE);
            expect(drops.some((d) => d.pieceCid === OURS)).toBe(true);
          } else if (c.op === 'prove') {
            // Only this hub's own piece: never the user's own file or another hub's, whatever CID
            // the hub names (it would learn about, or get, bytes it never gave this node).
            expect(c.cid).toBe(OURS);
            expect(challenges.some((ch) => ch.pieceCid === c.cid && JSON.stringify(ch.leaves) === JSON.stringify(c.arg))).toBe(true);
          } else {
            throw new Error(`unexpected storage call ${c.op}`);
          }
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
    expect(tally.refused).toBeGreaterThan(2000);
    expect(tally.taken).toBeGreaterThan(50);
  });
});

// --- (d) blob status answers, through uploadBlob ------------------------------------------------------

/** A blob store that holds what is PUT at the offset it holds, and answers the first status with `first`. */
function blobHub(first: unknown, bytes: number, liar = false) {
  let held = Buffer.alloc(0);
  let statusCalls = 0;
  const puts: string[] = [];
  const http: BlobHttp = {
    async get() {
      statusCalls++;
      if (statusCalls === 1 || liar) return first;
      return { ref: `sha256:${payloadHex}`, received: held.length, complete: held.length === bytes };
    },
    async getRaw() {
      throw new Error('no downloads here');
    },
    async putRaw(path, body) {
      puts.push(path);
      if (puts.length > 50) throw new Error('uploading in a loop');
      const chunks: Buffer[] = [];
      for await (const c of Readable.fromWeb(body as never)) chunks.push(c as Buffer);
      // The liar takes every PUT and keeps nothing, so its status never moves.
      if (liar) return {};
      const offset = Number(new URL(path, 'http://x').searchParams.get('offset'));
      if (offset !== held.length) throw new HubRequestError('http', 'wrong offset', 409, 'upload_offset');
      held = Buffer.concat([held, ...chunks]);
      return { ref: `sha256:${payloadHex}`, received: held.length, complete: held.length === bytes };
    },
  };
  return { http, puts, held: () => held };
}
const payloadBytes = Buffer.alloc(200, 3);
const payloadHex = createHash('sha256').update(payloadBytes).digest('hex');
const goodStatus = () => ({ ref: `sha256:${payloadHex}`, received: 0, complete: false });
const statusValues = fc.oneof(hostileScalar, hugeNumber, sceneRefs, fc.integer({ min: -5, max: 205 }), fc.constantFrom<unknown>(200, 199, 201, 'true', 1, `sha256:${payloadHex.toUpperCase()}`, `sha256:${otherHex}`, `sha256:../${payloadHex}`, true, false));
const statusAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.array(mutation(statusValues), { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodStatus(), ms)) },
  { weight: 3, arbitrary: fc.record({ received: fc.oneof(hugeNumber, fc.integer({ min: -5, max: 205 })), complete: fc.constantFrom<unknown>(true, false, 'true', 1, null) }).map((s) => ({ ...goodStatus(), ...s })) },
  { weight: 1, arbitrary: fc.oneof(fc.anything(), fc.jsonValue(), fc.constantFrom<unknown>(null, '', { ref: `sha256:${payloadHex}`, received: 200, complete: true })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => goodStatus()) },
);

describe('blob status answers from a hostile hub (uploadBlob)', () => {
  it('refuses a status that does not validate or names another blob, uploads only from an offset in range, and never throws anything but HubRequestError', { timeout: 120_000 }, async () => {
    const dir = tmp();
    const file = join(dir, 'frame.png');
    writeFileSync(file, payloadBytes);
    const ref = `sha256:${payloadHex}`;
    const once = async (answer: unknown, liar = false) => {
      const hub = blobHub(answer, payloadBytes.length, liar);
      const outcome = await uploadBlob(hub.http, file, ref, payloadBytes.length).then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      return { outcome, ...hub };
    };

    const control = await once(goodStatus());
    expect(control.outcome.ok).toBe(true);
    expect(control.held()).toEqual(payloadBytes);
    expect(control.puts).toEqual([`/v1/blobs/${payloadHex}?offset=0&length=200`]);

    const tally = { refused: 0, uploaded: 0, had: 0 };
    await fc.assert(
      fc.asyncProperty(statusAnswer, async (answer) => {
        const { outcome, puts, held } = await once(answer);
        expect(outcome.ok || outcome.err instanceof HubRequestError, String(!outcome.ok && outcome.err)).toBe(true);
        expect(puts.every((p) => new RegExp(`^/v1/blobs/${payloadHex}\\?offset=(\\d+)&length=200$`).test(p) && Number(/offset=(\d+)/.exec(p)![1]) <= 200)).toBe(true);
        const s = BlobStatus.safeParse(answer);
        if (!s.success || s.data.ref !== ref || s.data.received > 200 || (s.data.complete && s.data.received !== 200)) {
          tally.refused++;
          expect(outcome.ok).toBe(false);
          expect(!outcome.ok && (outcome.err as HubRequestError).kind).toBe('invalid');
          expect(puts).toEqual([]);
          return;
        }
        if (s.data.complete) {
          tally.had++;
          expect(outcome.ok).toBe(true);
          expect(puts).toEqual([]);
          return;
        }
        tally.uploaded++;
        // An offset the hub made up is corrected by its next answer; the whole blob arrives.
        expect(outcome.ok).toBe(true);
        expect(held()).toEqual(payloadBytes);
        expect(puts[0]).toBe(`/v1/blobs/${payloadHex}?offset=${s.data.received}&length=200`);
      }),
      { numRuns: 2000, seed: SEED },
    );
    expect(tally.refused).toBeGreaterThan(1000);
    expect(tally.uploaded).toBeGreaterThan(20);
    expect(tally.had).toBeGreaterThan(0);
  });

  it('gives up on a hub that takes the bytes but never holds them, rather than uploading forever', async () => {
    const dir = tmp();
    const file = join(dir, 'frame.png');
    writeFileSync(file, payloadBytes);
    for (const received of [0, 100]) {
      const hub = blobHub({ ref: `sha256:${payloadHex}`, received, complete: false }, payloadBytes.length, true);
      const outcome = await uploadBlob(hub.http, file, `sha256:${payloadHex}`, payloadBytes.length).then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.err instanceof HubRequestError && outcome.err.kind, String(!outcome.ok && outcome.err)).toBe('invalid');
      expect(hub.puts.length).toBeLessThanOrEqual(6);
    }
  });
});

// --- the same answers as raw HTTP bodies, through the real hubHttp ------------------------------------

/** What the wire carries: a status and a body (JSON of a generated answer, or not JSON at all, or too large). */
const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
const rawAnswer = (answers: fc.Arbitrary<unknown>): fc.Arbitrary<{ status: number; body: string }> =>
  fc.record({
    status: fc.constantFrom(200, 200, 200, 200, 201, 204, 400, 401, 404, 409, 500, 503),
    body: fc.oneof(
      { weight: 6, arbitrary: answers.map(toJson) },
      { weight: 1, arbitrary: answers.map((a) => toJson(a).slice(0, -1)) },
      { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('', '<html>502 Bad Gateway</html>', 'null', '[]', '{"error":{"code":"not_found","message":"no"}}', '{"error":{"code":"lease_expired","message":"../../x"}}')) },
      // Over the agent's 1 MiB cap for a JSON answer.
      { weight: 1, arbitrary: fc.integer({ min: 1024 * 1024, max: 1024 * 1024 + 4096 }).map((n) => `{"deals":[],"challenges":[],"retrievals":[],"credits":[],"more":false,"voucher":null,"pad":"${'x'.repeat(n)}"}`) },
    ),
  });

describe('hostile answers over HTTP (hubHttp, a node:http hub on 127.0.0.1)', () => {
  it('refuses bodies that are not JSON, too large, refusals, or answers that do not validate; books and deletes nothing from them', { timeout: 120_000 }, async () => {
    let next = { status: 200, body: '' };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const path = new URL(req.url!, 'http://x').pathname;
        const json = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(typeof v === 'string' ? v : JSON.stringify(v));
        };
        if (path === '/v1/payments/terms') return json(200, terms);
        if (path === '/v1/payments/sync' || path === '/v1/storage/poll') return json(next.status, next.status === 204 ? '' : next.body);
        const m = /^\/v1\/storage\/(deals|challenges|retrievals)\/([^/]+)\/(\w+)$/.exec(path);
        const id = m ? decodeURIComponent(m[2]!) : '';
        if (m?.[1] === 'deals' && m[3] === 'dropped') return json(200, { dealId: id, dropped: true });
        if (m?.[1] === 'deals') return json(200, { dealId: id, state: 'sealing', pieceCid: OURS, deadline: null });
        if (m?.[1] === 'challenges') return json(200, { challengeId: id, passed: true, verified: 2, of: 2 });
        if (m?.[1] === 'retrievals') return json(200, { retrievalId: id, received: true });
        const status = /^\/v1\/blobs\/([0-9a-f]{64})\/status$/.exec(path);
        if (status) return json(200, { ref: `sha256:${status[1]}`, received: 200, complete: true });
        return json(404, { error: { code: 'not_found', message: 'no' } });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stop = new AbortController();
    const http = hubHttp(origin, 5_000, stop.signal);
    const dataDir = tmp();
    const payloadFile = join(tmp(), 'payload');
    writeFileSync(payloadFile, Buffer.alloc(200, 7));
    const log = recordingLog();
    try {
      const tally = { storageTaken: 0, storageRefused: 0, paymentsBooked: 0, paymentsRefused: 0 };
      const validJson = (body: string) => {
        try {
          return { v: body === '' ? null : (JSON.parse(body) as unknown) };
        } catch {
          return null;
        }
      };
      await fc.assert(
        fc.asyncProperty(rawAnswer(pollAnswer), async (raw) => {
          next = raw;
          const storage = recordingStorage(payloadFile);
          const deals = new StorageDeals({ origin, storage, dataDir, log });
          const outcome = await deals.run(http).then(
            () => ({ ok: true as const }),
            (err: unknown) => ({ ok: false as const, err }),
          );
          const busy = (deals as unknown as { busy: Set<string> }).busy;
          await until(() => busy.size === 0, 'the storage work to end');
          const parsed = raw.status < 300 && raw.body.length <= 1024 * 1024 ? validJson(raw.status === 204 ? '' : raw.body) : null;
          const fits = parsed !== null && StoragePollResponse.safeParse(parsed.v).success;
          if (!fits) {
            tally.storageRefused++;
            expect(!outcome.ok && outcome.err instanceof HubRequestError, String(!outcome.ok && outcome.err)).toBe(true);
            expect(storage.calls).toEqual([]);
          } else {
            tally.storageTaken++;
            expect(outcome.ok, String(!outcome.ok && outcome.err)).toBe(true);
            expect(storage.calls.every((c) => c.op === 'prove' || (c.op === 'remove' && c.cid === OURS))).toBe(true);
          }
          expect(filesUnder(dataDir)).toEqual([]);
        }),
        { numRuns: 500, seed: SEED },
      );
      // Payments: a sync answer the intake cannot take books nothing; the caller (the hub client) logs the rejection.
      const payDir = tmp();
      await fc.assert(
        fc.asyncProperty(rawAnswer(syncAnswer), async (raw) => {
          next = raw;
          const booked: EarningEntry[] = [];
          const intake = new PaymentIntake({ dataDir: payDir, networkKey: 'hub.example', ledger: { appendMany: (e) => booked.push(...e) }, payout: () => payout, log, now: () => new Date(NOW) });
          const outcome = await intake.sync(http).then(
            () => ({ ok: true as const }),
            (err: unknown) => ({ ok: false as const, err }),
          );
          expect(outcome.ok || outcome.err instanceof HubRequestError, String(!outcome.ok && outcome.err)).toBe(true);
          const parsed = raw.status < 300 && raw.body.length <= 1024 * 1024 ? validJson(raw.status === 204 ? '' : raw.body) : null;
          const fits = parsed !== null && PaymentsSyncResponse.safeParse(parsed.v).success;
          if (booked.length > 0) tally.paymentsBooked++;
          else tally.paymentsRefused++;
          if (!fits) {
            expect(booked).toEqual([]);
            expect(existsSync(join(intake.dir, 'state.json'))).toBe(false);
          }
          rmSync(join(intake.dir, 'state.json'), { force: true });
        }),
        { numRuns: 500, seed: SEED },
      );
      expect(tally.storageRefused).toBeGreaterThan(300);
      expect(tally.storageTaken).toBeGreaterThan(5);
      expect(tally.paymentsRefused).toBeGreaterThan(300);
      expect(tally.paymentsBooked).toBeGreaterThan(5);
      expect(log.errors).toEqual([]);
    } finally {
      stop.abort();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
