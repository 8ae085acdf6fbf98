// Storage deals end to end: a real hub on loopback (PGlite in a temp dir), four real agents run
// in-process (runAgent through tests/support/jobs.ts: real storage services on temp folders, real
// seal workers from the built bundle, real hub clients), and the customer's `offhours store` run
// in-process against real files. A file is stored as 3 replicas, each sealed by a distinct provider
// with the piece CID of its own ciphertext; challenges pass; a flipped byte fails its next
// challenge and is recorded; with that provider gone the hub repairs to a 4th; `store get` gives
// the file back bit-exact, also with a single healthy replica left. A hostile node and a hostile
// customer get clean 4xx answers and change nothing. Last, on a second hub whose clock the test
// moves: a file stored for 1 day is offered with its end, a replaced unhealthy copy is dropped by
// its provider, and after the end the hub stops challenging, has paid exactly up to the end, shows
// the file expired, and every provider deletes its piece.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LEAF_SIZE,
  RetrieveFileResponse,
  Session,
  SignInChallenge,
  StoragePollResponse,
  StoredFileView,
  commpPure,
  encodePieceCidV1,
  signInMessage,
  type StoredFileView as StoredFileViewT,
} from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { PIECES_DIR } from '../../agent/storage/storage-service.js';
import { decryptFile, runStoreCommand, storeKeysDir } from '../../cli/store-command.js';
import { CliError } from '../../cli/api-client.js';
import { startAgent, waitForAsync, type TestAgent } from '../support/jobs.js';
import { requireProgram } from '../support/external.js';
import { findPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

// The first hub runs on PGlite; the storage period's hub on a real Postgres server (Debian's,
// started by the test), so the deals' SQL (locks, expiry, credits, drops) runs on both.
const postgresFound = findPostgres();
const postgresEnabled = requireProgram(postgresFound, 'hub storage deals on a Postgres server');
let pgServer: PostgresServer | undefined;

const GIB = 1024 ** 3;
const dirs: string[] = [];
const tmp = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), `offhours-hubstore-${tag}-`));
  dirs.push(d);
  return d;
};

let hub: RunningHub;
let hubDir: string;
const hubLog: string[] = [];
const agents = new Map<string, { t: TestAgent; folder: string; stopped: boolean }>();
let customerDir: string;
let plain: Buffer;
let fileId: string;

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

async function store(args: string[], dataDir = customerDir): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await runStoreCommand([...args, '--hub', hub.url, '--key-file', hub.customerKeyFile, '--data-dir', dataDir], (s) => out.push(s), {});
  return { code, out };
}

async function fileView(id = fileId): Promise<StoredFileViewT> {
  // The replicas view, not the retrieval: that would make a provider upload its bytes.
  const r = await call('GET', `/v1/storage/files/${id}/replicas`, undefined, hub.customerKey);
  expect(r.status).toBe(200);
  return StoredFileView.parse(r.json);
}

async function waitFile(ok: (f: StoredFileViewT) => boolean, what: string, ms = 90_000): Promise<StoredFileViewT> {
  let last: StoredFileViewT | undefined;
  try {
    return await waitForAsync(async () => {
      last = await fileView();
      return ok(last) ? last : undefined;
    }, what, ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the file is ${JSON.stringify(last?.replicas)}; hub log: ${hubLog.slice(-10).join(' | ')}`, { cause: err });
  }
}

async function addAgent(name: string): Promise<void> {
  const t = await startAgent(tmp(`agent-${name}`), { nodeKeyScryptN: 2 ** 10, networks: { heartbeatMs: 200, timeoutMs: 5_000, backoff: { baseMs: 100, maxMs: 400 } } });
  const folder = tmp(`disk-${name}`);
  expect((await t.call('PATCH', '/settings', { storage: { folder, capBytes: 2 * GIB }, payout: { address: Wallet.createRandom().address } })).status).toBe(200);
  expect((await t.call('POST', '/networks', { url: hub.url })).status).toBe(201);
  agents.set((await t.agent.node.key()).address.toLowerCase(), { t, folder, stopped: false });
}

const agentOf = (provider: string | null) => agents.get(provider ?? '')!;
const piecePath = (provider: string | null, cid: string) => join(agentOf(provider).folder, PIECES_DIR, `${cid}.piece`);

/** A node of our own, signed in and registered, to say what a hostile provider would. */
async function hostileNode(): Promise<string> {
  const key = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  const c = SignInChallenge.parse((await call('POST', '/v1/auth/challenge', { address: key.address })).json);
  const token = Session.parse((await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) })).json).token;
  const reg = await call(
    'POST',
    '/v1/nodes',
    {
      payoutAddress: Wallet.createRandom().address,
      capabilities: { devices: [], engines: [], diskOfferedBytes: 10 * GIB, priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '0', storagePerGiBDay: '0' } },
    },
    token,
  );
  expect(reg.status).toBe(200);
  return token;
}

beforeAll(async () => {
  hub = await startHub({
    dataDir: (hubDir = tmp('hub')),
    databaseUrl: '',
    port: 0,
    sweepIntervalMs: 200,
    storage: { challengeEveryMs: 1_500, challengeDeadlineMs: 6_000, challengeLeaves: 5, pricePerGiBDay: '1000000000000' },
    log: (l) => hubLog.push(l),
  });
  customerDir = tmp('customer');
}, 60_000);

afterAll(async () => {
  for (const a of agents.values()) if (!a.stopped) await a.t.agent.stop().catch(() => undefined);
  await hub?.stop();
  await pgServer?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('hostile inputs', () => {
  it('refuses path-like names and unknown blobs with a clean 400/409, and stores nothing', async () => {
    const replica = { blob: `sha256:${'ab'.repeat(32)}`, pieceCid: encodePieceCidV1(commpPure(randomBytes(200)).root), bytes: 200 };
    for (const name of ['../../etc/passwd', 'a/b', 'c\\d', '..', 'x\u0000y']) {
      const r = await call('POST', '/v1/storage/files', { name, bytes: 10, sha256: 'cd'.repeat(32), replicas: [replica] }, hub.customerKey);
      expect(r.status, name).toBe(400);
      expect(r.json.error.code).toBe('invalid_body');
    }
    const missing = await call('POST', '/v1/storage/files', { name: 'ok.bin', bytes: 10, sha256: 'cd'.repeat(32), replicas: [replica] }, hub.customerKey);
    expect(missing.status).toBe(409);
    const twice = await call('POST', '/v1/storage/files', { name: 'ok.bin', bytes: 10, sha256: 'cd'.repeat(32), replicas: [replica, replica] }, hub.customerKey);
    expect(twice.status).toBe(400);
    expect((await call('POST', '/v1/storage/files', { name: 'ok.bin', bytes: 10, sha256: 'cd'.repeat(32), replicas: [replica] })).status).toBe(401);
    expect((await call('GET', '/v1/storage/files/..%2F..%2Fetc', undefined, hub.customerKey)).status).toBe(400);
    // A replica whose bytes have another piece CID than claimed is refused up front.
    const bytes = randomBytes(300);
    const hex = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    const up = await fetch(`${hub.url}/v1/blobs/${hex}?offset=0&length=300`, { method: 'PUT', headers: { authorization: `Bearer ${hub.customerKey}`, 'content-type': 'application/octet-stream' }, body: bytes });
    expect(up.status).toBe(200);
    const lie = await call('POST', '/v1/storage/files', { name: 'ok.bin', bytes: 10, sha256: 'cd'.repeat(32), replicas: [{ ...replica, blob: `sha256:${hex}`, bytes: 300 }] }, hub.customerKey);
    expect(lie.status).toBe(400);
    expect(lie.json.error.message).toMatch(/piece CID/);
    expect((await hub.db.query('select 1 from storage_files')).rowCount).toBe(0);
    const cli = await store(['put', join(customerDir, 'nope.bin')]).catch((e: unknown) => e);
    expect(cli).toBeInstanceOf(CliError);
  });

  it('refuses a confirm with the wrong piece CID and proofs for the wrong leaves, changing nothing', async () => {
    const token = await hostileNode();
    const file = join(tmp('hostile'), 'small.bin');
    writeFileSync(file, randomBytes(5_000));
    const put = await store(['put', file, '--replicas', '1']);
    expect(put.code).toBe(0);
    const id = put.out[0]!;
    const poll = StoragePollResponse.parse((await call('POST', '/v1/storage/poll', { acceptDeals: true, freeBytes: GIB }, token)).json);
    expect(poll.deals).toHaveLength(1);
    const deal = poll.deals[0]!;
    const wrong = encodePieceCidV1(commpPure(randomBytes(5_000)).root);
    const bad = await call('POST', `/v1/storage/deals/${deal.dealId}/confirm`, { pieceCid: wrong }, token);
    expect(bad.status).toBe(400);
    expect(RetrieveFileResponse.parse((await call('GET', `/v1/storage/files/${id}`, undefined, hub.customerKey)).json).file.replicas[0]!.state).toBe('offered');
    expect((await call('POST', '/v1/storage/deals/../confirm', { pieceCid: wrong }, token)).status).toBe(404);
    // Confirmed without keeping anything: the challenges will tell.
    expect((await call('POST', `/v1/storage/deals/${deal.dealId}/confirm`, { pieceCid: deal.pieceCid }, token)).status).toBe(200);
    const challenge = await waitForAsync(async () => {
      const p = StoragePollResponse.parse((await call('POST', '/v1/storage/poll', { acceptDeals: false, freeBytes: 0 }, token)).json);
      return p.challenges[0];
    }, 'a challenge for the hostile node');
    const leafCount = 8192 / LEAF_SIZE;
    const other = challenge.leaves.map((l) => (l + 1) % leafCount);
    const junk = (leaf: number) => ({ leaf, value: '00'.repeat(32), path: Array.from({ length: 8 }, () => '00'.repeat(32)) });
    const wrongLeaves = await call('POST', `/v1/storage/challenges/${challenge.challengeId}/proof`, { proofs: other.map(junk) }, token);
    expect(wrongLeaves.status).toBe(400);
    expect((await hub.db.query<{ state: string }>('select state from storage_challenges where id = $1', [challenge.challengeId])).rows[0]!.state).toBe('open');
    const malformed = await call('POST', `/v1/storage/challenges/${challenge.challengeId}/proof`, { proofs: [{ leaf: -1, value: 'zz', path: [] }] }, token);
    expect(malformed.status).toBe(400);
    // Right leaves, made-up hashes: an answer, and a failed one, recorded against the node.
    const failed = await call('POST', `/v1/storage/challenges/${challenge.challengeId}/proof`, { proofs: challenge.leaves.map(junk) }, token);
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({ passed: false, verified: 0 });
    const after = await hub.db.query<{ state: string; failed: number }>('select state, failed from storage_replicas where file_id = $1', [id]);
    expect(after.rows).toEqual([{ state: 'unhealthy', failed: 1 }]);
    // With no healthy replica left there is nothing to retrieve, and the hub says so.
    expect((await call('GET', `/v1/storage/files/${id}`, undefined, hub.customerKey)).status).toBe(409);
    const again = await call('POST', `/v1/storage/challenges/${challenge.challengeId}/proof`, { proofs: challenge.leaves.map(junk) }, token);
    expect(again.status).toBe(409);
  }, 60_000);
});

describe('a file on three providers', () => {
  it('places 3 replicas on distinct providers, sealed with the piece CIDs of their own ciphertexts', async () => {
    for (const n of ['a', 'b', 'c']) await addAgent(n);
    plain = randomBytes(300 * 1024 + 17);
    const file = join(tmp('src'), 'holiday photos.tar');
    writeFileSync(file, plain);
    const put = await store(['put', file, '--replicas', '3']);
    expect(put.code).toBe(0);
    fileId = put.out[0]!;
    const keyFile = join(storeKeysDir(customerDir), `${fileId}.json`);
    expect(readFileSync(keyFile, 'utf8')).toContain(fileId);
    expect((await import('node:fs')).statSync(keyFile).mode & 0o777).toBe(0o600);
    const f = await waitFile((v) => v.replicas.length === 3 && v.replicas.every((r) => r.state === 'healthy'), 'three healthy replicas');
    expect(new Set(f.replicas.map((r) => r.provider)).size).toBe(3);
    expect(new Set(f.replicas.map((r) => r.blob)).size).toBe(3);
    expect(new Set(f.replicas.map((r) => r.pieceCid)).size).toBe(3);
    const bytes = f.replicas.map((r) => {
      const stored = readFileSync(piecePath(r.provider, r.pieceCid));
      expect(encodePieceCidV1(commpPure(stored).root)).toBe(r.pieceCid);
      expect(stored.length).toBe(r.bytes);
      // Nothing of the plaintext shows in what a provider holds.
      expect(stored.includes(plain.subarray(1000, 1064))).toBe(false);
      return stored;
    });
    expect(bytes[0]!.equals(bytes[1]!) || bytes[1]!.equals(bytes[2]!) || bytes[0]!.equals(bytes[2]!)).toBe(false);
    // The hub let go of its staging copies once the providers confirmed.
    for (const r of f.replicas) expect(existsSync(join(hubDir, 'blobs', r.blob.slice(7)))).toBe(false);
  }, 120_000);

  it('challenges pass, and are paid per GiB-day', async () => {
    await waitFile((v) => v.replicas.every((r) => r.challengesPassed >= 1), 'a passed challenge on every replica');
    const credits = await hub.db.query<{ amount: string }>("select amount::text as amount from payment_credits where kind = 'storage'");
    expect(credits.rowCount).toBeGreaterThan(0);
    expect(credits.rows.every((r) => BigInt(r.amount) > 0n)).toBe(true);
    // The provider's own proof history shows the hub's verdicts.
    const first = [...agents.values()][0]!;
    const view = (await first.t.call('GET', '/storage')).json;
    expect(view.proofs.length).toBeGreaterThan(0);
    expect(view.proofs[0]).toMatchObject({ challenges: 5, passed: 5, problem: null });
  }, 60_000);

  it('takes no new deals while sharing is off, but still answers challenges', async () => {
    const live = [...agents.values()].filter((a) => !a.stopped);
    for (const a of live) expect((await a.t.call('POST', '/sharing', { mode: 'off' })).status).toBe(200);
    const file = join(tmp('paused'), 'later.bin');
    writeFileSync(file, randomBytes(10_000));
    const put = await store(['put', file, '--replicas', '1']);
    expect(put.code).toBe(0);
    const before = await fileView();
    const passed = new Map(before.replicas.map((r) => [r.id, r.challengesPassed]));
    await waitFile((v) => v.replicas.every((r) => r.challengesPassed >= passed.get(r.id)! + 2), 'challenges answered while paused');
    const paused = await hub.db.query<{ state: string }>('select state from storage_replicas where file_id = $1', [put.out[0]]);
    expect(paused.rows).toEqual([{ state: 'pending' }]);
    for (const a of live) expect((await a.t.call('POST', '/sharing', { mode: 'on' })).status).toBe(200);
    await waitForAsync(async () => (await hub.db.query("select 1 from storage_replicas where file_id = $1 and state = 'healthy'", [put.out[0]])).rowCount > 0, 'the deal once sharing is on again', 60_000);
  }, 90_000);

  it('a flipped byte fails the next challenge and is recorded; with its provider gone the hub repairs to a 4th', async () => {
    const f = await fileView();
    const victim = f.replicas[0]!;
    const path = piecePath(victim.provider, victim.pieceCid);
    const data = readFileSync(path);
    // One byte. A challenge samples 5 of ~16,000 leaves and would almost never land on it; the
    // provider's own scrub re-hashes the whole piece, and from then on the node answers every
    // challenge for it with "lost" instead of proofs, so the hub records a failure and repairs.
    const at = Math.floor(data.length / 2);
    data[at] = data[at]! ^ 0x01;
    writeFileSync(path, data);
    const victimAgent = agentOf(victim.provider);
    const scrub = await victimAgent.t.call('POST', `/storage/pieces/${encodeURIComponent(victim.pieceCid)}/scrub`);
    expect(scrub.status).toBe(200);
    expect((scrub.json as { state: string }).state).toBe('corrupt');
    const failed = await waitFile((v) => v.replicas.find((r) => r.id === victim.id)!.state === 'unhealthy', 'the failed challenge');
    expect(failed.replicas.find((r) => r.id === victim.id)!.challengesFailed).toBeGreaterThanOrEqual(1);
    const record = await hub.db.query<{ state: string; detail: string }>("select state, detail from storage_challenges where replica_id = $1 and state = 'failed'", [victim.id]);
    expect(record.rows[0]?.detail).toMatch(/the provider reports its copy lost/);
    const a = victimAgent;
    await a.t.agent.stop();
    a.stopped = true;
    await addAgent('d');
    const repaired = await waitFile((v) => v.replicas.some((r) => r.repairOf !== null && r.state === 'healthy'), 'the repair');
    const copy = repaired.replicas.find((r) => r.repairOf !== null)!;
    expect(copy.provider).not.toBe(victim.provider);
    expect(f.replicas.map((r) => r.provider)).not.toContain(copy.provider);
    const source = repaired.replicas.find((r) => r.id === copy.repairOf)!;
    expect(copy).toMatchObject({ keyIndex: source.keyIndex, blob: source.blob, pieceCid: source.pieceCid });
    expect(readFileSync(piecePath(copy.provider, copy.pieceCid)).equals(readFileSync(piecePath(source.provider, source.pieceCid)))).toBe(true);
  }, 180_000);

  it('store get returns the file bit-exact, after a provider uploads a replica (202, then 200)', async () => {
    const f = await fileView();
    // Every replica is confirmed, so the hub holds none of their bytes: a provider must bring one.
    for (const r of f.replicas) expect(existsSync(join(hubDir, 'blobs', r.blob.slice(7)))).toBe(false);
    const first = await call('GET', `/v1/storage/files/${fileId}`, undefined, hub.customerKey);
    expect(first.status).toBe(202);
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(RetrieveFileResponse.parse(first.json).download).toBeNull();
    const out = join(tmp('get'), 'back.tar');
    const r = await store(['get', fileId, out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(plain)).toBe(true);
    expect((await hub.db.query("select 1 from storage_retrievals where state = 'done'")).rowCount).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('also with a single healthy replica left', async () => {
    const f = await fileView();
    const keep = f.replicas.find((r) => r.repairOf !== null)!;
    for (const r of f.replicas) {
      const a = agentOf(r.provider);
      if (r.id === keep.id || a.stopped) continue;
      await a.t.agent.stop();
      a.stopped = true;
    }
    await waitFile((v) => v.replicas.filter((r) => r.state === 'healthy').length === 1, 'one healthy replica left');
    const out = join(tmp('get1'), 'back.tar');
    const r = await store(['get', fileId, out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(plain)).toBe(true);
  }, 120_000);

  it('a stranger without the key file cannot decrypt', async () => {
    const stranger = tmp('stranger');
    const out = join(stranger, 'stolen.tar');
    const err = await store(['get', fileId, out], stranger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(/only the machine that stored a file can decrypt it/);
    expect(existsSync(out)).toBe(false);
    const f = await fileView();
    const held = f.replicas.find((r) => r.state === 'healthy')!;
    await expect(decryptFile(piecePath(held.provider, held.pieceCid), join(stranger, 'guess.tar'), randomBytes(32))).rejects.toThrow(/does not decrypt/);
  }, 60_000);

  it('publishes the storage routes in the OpenAPI document', async () => {
    const doc = await call('GET', '/v1/openapi.json');
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/v1/storage/files', '/v1/storage/poll', '/v1/storage/challenges/{challengeId}/proof']));
  });
});

describe('a storage period', () => {
  /** How far the second hub's clock is ahead of the real one. */
  let skew = 0;
  const EVERY_MS = 2 * 3_600_000;
  const PRICE = 1_000_000_000_000n;

  beforeAll(async () => {
    for (const a of agents.values()) {
      if (a.stopped) continue;
      await a.t.agent.stop();
      a.stopped = true;
    }
    await hub.stop();
    // Challenges are due every 2 hours of this clock, so none is open when the test moves it:
    // every challenge is issued by a move and answered before the next one.
    if (postgresEnabled) pgServer = await startPostgres(postgresFound);
    hub = await startHub({
      dataDir: (hubDir = tmp('hub-period')),
      databaseUrl: pgServer ? await pgServer.newDatabase() : '',
      port: 0,
      sweepIntervalMs: 200,
      clock: { now: () => Date.now() + skew },
      storage: { challengeEveryMs: EVERY_MS, challengeDeadlineMs: 60_000, challengeLeaves: 5, pricePerGiBDay: PRICE.toString() },
      log: (l) => hubLog.push(l),
    });
  }, 60_000);

  const replicaRows = (id: string) =>
    hub.db.query<{ id: string; provider: string | null; state: string; bytes: string; confirmed_ms: string | null; drop_reason: string | null; dropped_ms: string | null }>(
      'select id, provider, state, bytes::text as bytes, confirmed_ms::text as confirmed_ms, drop_reason, dropped_ms::text as dropped_ms from storage_replicas where file_id = $1 order by seq',
      [id],
    );
  const held = async (provider: string | null, cid: string) =>
    existsSync(piecePath(provider, cid)) || ((await agentOf(provider).t.call('GET', '/storage')).json as { pieces: { cid: string }[] }).pieces.some((p) => p.cid === cid);

  it('a file stored for 1 day: offered with its end, a replaced copy dropped, and after the end no challenges, credits up to the end exactly, expired, every piece deleted', async () => {
    const file = join(tmp('period'), 'one day.bin');
    const bytes = randomBytes(20_000);
    writeFileSync(file, bytes);
    const put = await store(['put', file, '--replicas', '2', '--days', '1']);
    expect(put.code).toBe(0);
    const id = put.out[0]!;
    fileId = id;
    const f0 = await fileView(id);
    expect(Date.parse(f0.until) - Date.parse(f0.createdAt)).toBe(86_400_000);
    expect(f0.state).toBe('active');

    // What a provider sees before it accepts: the end of the deal.
    const token = await hostileNode();
    const poll = StoragePollResponse.parse((await call('POST', '/v1/storage/poll', { acceptDeals: true, freeBytes: GIB }, token)).json);
    expect(poll.deals).toHaveLength(1);
    expect(poll.deals[0]!.until).toBe(f0.until);
    expect((await call('POST', `/v1/storage/deals/${poll.deals[0]!.dealId}/reject`, { reason: 'only looking' }, token)).status).toBe(200);
    expect((await call('POST', `/v1/storage/deals/${poll.deals[0]!.dealId}/dropped`, {}, token)).status).toBe(404);

    for (const n of ['p', 'q', 'r']) await addAgent(n);
    const placed = await waitFile((v) => v.replicas.length === 2 && v.replicas.every((r) => r.state === 'healthy'), 'two healthy replicas');
    const [keep, victim] = placed.replicas as [StoredFileViewT['replicas'][number], StoredFileViewT['replicas'][number]];

    // The victim's copy is damaged and its provider knows; the next challenge reports it lost.
    const path = piecePath(victim.provider, victim.pieceCid);
    const data = readFileSync(path);
    data[100] = data[100]! ^ 0x01;
    writeFileSync(path, data);
    expect(((await agentOf(victim.provider).t.call('POST', `/storage/pieces/${encodeURIComponent(victim.pieceCid)}/scrub`)).json as { state: string }).state).toBe('corrupt');
    skew += EVERY_MS + 60_000;
    const repaired = await waitFile(
      (v) => v.replicas.find((r) => r.id === victim.id)!.state === 'unhealthy' && v.replicas.filter((r) => r.state === 'healthy').length === 2 && v.replicas.find((r) => r.id === keep.id)!.challengesPassed >= 1,
      'the repair of the damaged copy',
    );
    const copy = repaired.replicas.find((r) => r.repairOf !== null && r.state === 'healthy')!;
    expect(copy.provider).not.toBe(victim.provider);
    // Replaced: its provider is told to drop it, deletes it, and says so.
    await waitForAsync(async () => ((await replicaRows(id)).rows.find((r) => r.id === victim.id)!.dropped_ms !== null ? true : undefined), 'the replaced copy dropped');
    expect((await replicaRows(id)).rows.find((r) => r.id === victim.id)!.drop_reason).toBe('replaced');
    expect(await held(victim.provider, victim.pieceCid)).toBe(false);
    // The healthy ones are kept.
    expect(await held(keep.provider, keep.pieceCid)).toBe(true);
    expect(await held(copy.provider, copy.pieceCid)).toBe(true);

    // Past the end.
    const until = Date.parse(f0.until);
    skew = until + 60_000 - Date.now();
    await waitForAsync(async () => {
      const rows = (await replicaRows(id)).rows;
      return rows.every((r) => r.provider === null || r.dropped_ms !== null) ? true : undefined;
    }, 'every provider dropped its replica');
    const rows = (await replicaRows(id)).rows;
    expect(rows.find((r) => r.id === keep.id)).toMatchObject({ state: 'ended', drop_reason: 'ended' });
    expect(rows.find((r) => r.id === copy.id)).toMatchObject({ state: 'ended', drop_reason: 'ended' });
    expect(await held(keep.provider, keep.pieceCid)).toBe(false);
    expect(await held(copy.provider, copy.pieceCid)).toBe(false);

    // Paid per GiB-day from confirmation up to the end, and not a moment beyond.
    for (const r of rows.filter((x) => x.id === keep.id || x.id === copy.id)) {
      const paid = await hub.db.query<{ sum: string | null }>("select sum(amount)::text as sum from payment_credits where kind = 'storage' and node = $1 and job_id = $2", [r.provider, id]);
      const owed = (PRICE * BigInt(r.bytes) * (BigInt(until) - BigInt(r.confirmed_ms!))) / (1024n ** 3n * 86_400_000n);
      const diff = BigInt(paid.rows[0]!.sum ?? '0') - owed;
      expect(diff >= -1n && diff <= 1n, `${r.id}: paid ${paid.rows[0]!.sum}, owed ${owed}`).toBe(true);
    }

    // Several sweeps later: no challenge was issued after the end.
    await new Promise((r) => setTimeout(r, 1_000));
    const late = await hub.db.query('select 1 from storage_challenges c join storage_replicas r on r.id = c.replica_id where r.file_id = $1 and c.created_ms >= $2', [id, until]);
    expect(late.rowCount).toBe(0);

    const after = await fileView(id);
    expect(after.state).toBe('expired');
    const out = join(tmp('period-get'), 'back.bin');
    const err = await store(['get', id, out]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(1);
    expect((err as Error).message).toContain(`the storage period ended on ${f0.until}`);
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});
