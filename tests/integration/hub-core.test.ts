// The hub's core over real loopback HTTP, once on a real PGlite directory and once on a real
// Postgres server: node sign-in, registration, heartbeats, the lease life cycle, leasing under
// concurrency, expiry and re-lease, hostile requests. Then what only one backend has: reopening
// the PGlite directory after the hub process was killed with SIGKILL, and on Postgres, two hub
// processes sharing one server without ever handing out the same task.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HubErrorBody,
  LeaseResponse,
  NodeView,
  Session,
  SignInChallenge,
  TaskView,
  signInMessage,
  type RegisterNodeRequest,
  type TaskSpec,
} from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { HubLockHeldError } from '../../hub/db/dir-lock.js';
import { MIGRATIONS } from '../../hub/db/migrations.js';
import { requireProgram } from '../support/external.js';
import { findPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const LEASE_TTL = 60_000;
const skew = { ms: 0 };
const clock = { now: () => Date.now() + skew.ms };

const postgresFound = findPostgres();
const postgresEnabled = requireProgram(postgresFound, 'hub core on a Postgres server');
// One server for the whole file, started when a suite first needs it; each suite its own database.
let server: Promise<PostgresServer> | undefined;
const postgres = () => (server ??= startPostgres(postgresFound));
afterAll(async () => {
  await (await server?.catch(() => undefined))?.stop();
});

const BACKENDS = (['pglite', 'postgres'] as const).filter((b) => b === 'pglite' || postgresEnabled);

/** The hub the current suite talks to. */
let hub: RunningHub;

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  return callAt(hub.url, method, path, body, token);
}

async function callAt(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const newKey = () => new Wallet(`0x${randomBytes(32).toString('hex')}`);

async function challenge(address: string) {
  const r = await call('POST', '/v1/auth/challenge', { address });
  expect(r.status).toBe(200);
  return SignInChallenge.parse(r.json);
}

async function signIn(key: Wallet = newKey()): Promise<{ key: Wallet; token: string }> {
  const c = await challenge(key.address);
  const r = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
  expect(r.status).toBe(200);
  return { key, token: Session.parse(r.json).token };
}

const registration = (payout = newKey().address): RegisterNodeRequest => ({
  payoutAddress: payout,
  capabilities: {
    devices: [{ id: 'gpu:0', kind: 'gpu', name: 'Test GPU', cyclesBackend: 'optix', benchmarkSamplesPerS: 1234.5 }],
    engines: [{ name: 'blender', version: '4.2.3' }],
    diskOfferedBytes: 10 * 1024 ** 3,
    priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '1500', storagePerGiBDay: '10' },
  },
});

async function registeredNode(): Promise<{ key: Wallet; token: string }> {
  const n = await signIn();
  expect((await call('POST', '/v1/nodes', registration(), n.token)).status).toBe(200);
  return n;
}

const spec = (frame: number): TaskSpec => ({ kind: 'render', frame, settings: { engine: 'cycles', samples: 16, resolutionX: 320, resolutionY: 240 } });

async function createTasks(n: number): Promise<TaskView[]> {
  const r = await call('POST', '/v1/tasks', { tasks: Array.from({ length: n }, (_, i) => spec(i + 1)) }, hub.customerKey);
  expect(r.status).toBe(201);
  return r.json.tasks;
}

/** Leaves no open or leased task behind, so a test can count exactly what it creates. */
async function emptyQueue(): Promise<void> {
  await hub.db.query("update tasks set state = 'done', lease_id = null, lease_expires_ms = null where state <> 'done'");
}

const result = { ref: `sha256:${'ab'.repeat(32)}`, bytes: 1234, mediaType: 'image/png' };

/** Everything the hub stores, to show that refused requests wrote nothing. */
async function snapshot(): Promise<string> {
  const parts = [];
  for (const t of ['nodes', 'tasks', 'sessions', 'auth_challenges', 'schema_migrations']) {
    parts.push((await hub.db.query(`select * from ${t} order by 1`)).rows);
  }
  return JSON.stringify(parts);
}

function raw(method: string, path: string, headers: Record<string, string | number>, body?: Buffer | string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(`${hub.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolvePromise({ status: res.statusCode!, text }));
    });
    // A server that answers early (413) may reset while the rest is still being sent.
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(BACKENDS)('hub core on %s', (backend) => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhours-hub-test-'));
    // '' rather than undefined: a DATABASE_URL in the developer's environment must not move the PGlite suite.
    const databaseUrl = backend === 'postgres' ? (await postgres()).url : '';
    hub = await startHub({ dataDir, databaseUrl, port: 0, clock, leaseTtlMs: LEASE_TTL, log: () => {} });
    expect(hub.db.kind).toBe(backend);
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('node sign-in', () => {
    it('gives a session for a good signature, which then authenticates', async () => {
      const { key, token } = await signIn();
      const r = await call('POST', '/v1/nodes', registration(), token);
      expect(r.status).toBe(200);
      expect(NodeView.parse(r.json).address).toBe(key.address.toLowerCase());
    });

    it('refuses a replayed nonce', async () => {
      const key = newKey();
      const c = await challenge(key.address);
      const body = { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) };
      expect((await call('POST', '/v1/auth/sign-in', body)).status).toBe(200);
      const replay = await call('POST', '/v1/auth/sign-in', body);
      expect(replay.status).toBe(401);
      expect(HubErrorBody.parse(replay.json).error.code).toBe('challenge_invalid');
    });

    it("refuses a signature by another key, and the nonce is spent by the attempt", async () => {
      const key = newKey();
      const c = await challenge(key.address);
      const forged = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await newKey().signMessage(signInMessage(c)) });
      expect(forged.status).toBe(401);
      expect(forged.json.error.code).toBe('signature_invalid');
      const honest = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
      expect(honest.status).toBe(401);
    });

    it('refuses a signed message for other contents (another hub) and a challenge for another address', async () => {
      const key = newKey();
      const c = await challenge(key.address);
      const otherHub = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage({ ...c, hub: 'https://evil.example' })) });
      expect(otherHub.status).toBe(401);
      const c2 = await challenge(key.address);
      const other = newKey();
      const stolen = await call('POST', '/v1/auth/sign-in', { address: other.address, nonce: c2.nonce, signature: await other.signMessage(signInMessage({ ...c2, address: other.address })) });
      expect(stolen.status).toBe(401);
    });

    it('refuses an expired challenge', async () => {
      const key = newKey();
      const c = await challenge(key.address);
      skew.ms += 5 * 60_000 + 1000;
      try {
        const r = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
        expect(r.status).toBe(401);
        expect(r.json.error.code).toBe('challenge_invalid');
      } finally {
        skew.ms -= 5 * 60_000 + 1000;
      }
    });

    it('refuses an expired session token', async () => {
      const { token } = await signIn();
      skew.ms += 16 * 60_000;
      try {
        expect((await call('POST', '/v1/nodes', registration(), token)).status).toBe(401);
      } finally {
        skew.ms -= 16 * 60_000;
      }
    });
  });

  describe('registration and heartbeat', () => {
    it('wants registration before heartbeats and leases, then takes both', async () => {
      const { token } = await signIn();
      expect((await call('POST', '/v1/nodes/heartbeat', { availability: [] }, token)).status).toBe(403);
      const early = await call('POST', '/v1/leases', {}, token);
      expect(early.status).toBe(403);
      expect(early.json.error.code).toBe('not_registered');
      const reg = registration();
      const r = await call('POST', '/v1/nodes', reg, token);
      expect(NodeView.parse(r.json).capabilities).toEqual(reg.capabilities);
      // Registering again updates the same record.
      const again = await call('POST', '/v1/nodes', { ...reg, payoutAddress: newKey().address }, token);
      expect(again.json.registeredAt).toBe(r.json.registeredAt);
      const hb = await call('POST', '/v1/nodes/heartbeat', { availability: [{ resource: 'gpu:0', state: 'available' }, { resource: 'disk', state: 'paused' }] }, token);
      expect(hb.status).toBe(200);
      expect(hb.json).toEqual({ nextHeartbeatS: 30, revokedLeases: [], reputation: { score: 0.5, passed: 0, failed: 0 } });
      const { rows } = await hub.db.query<{ availability: unknown }>('select availability from nodes where address = $1', [r.json.address]);
      expect(rows[0]!.availability).toEqual([{ resource: 'gpu:0', state: 'available' }, { resource: 'disk', state: 'paused' }]);
    });
  });

  describe('leases', () => {
    it('lease, renew, progress, complete; release puts a task back', async () => {
      await emptyQueue();
      const node = await registeredNode();
      const [a, b] = await createTasks(2);
      const l1 = LeaseResponse.parse((await call('POST', '/v1/leases', { kinds: ['render'] }, node.token)).json).lease!;
      expect(l1.taskId).toBe(a!.id);
      expect(l1.task).toEqual(spec(1));

      skew.ms += 10_000;
      const renewed = await call('POST', `/v1/leases/${l1.leaseId}/renew`, {}, node.token);
      expect(renewed.status).toBe(200);
      expect(Date.parse(renewed.json.deadline)).toBeGreaterThan(Date.parse(l1.deadline));
      expect((await call('POST', `/v1/leases/${l1.leaseId}/progress`, { fraction: 0.5 }, node.token)).json.deadline).toBe(renewed.json.deadline);
      expect((await call('GET', `/v1/tasks/${a!.id}`, undefined, hub.customerKey)).json).toMatchObject({ state: 'leased', progress: 0.5, attempts: 1 });

      const done = await call('POST', `/v1/leases/${l1.leaseId}/complete`, { result }, node.token);
      expect(done.status).toBe(200);
      expect(TaskView.parse(done.json)).toMatchObject({ state: 'done', result });
      // A retried complete (its answer lost) is harmless; one with another result is not.
      expect((await call('POST', `/v1/leases/${l1.leaseId}/complete`, { result }, node.token)).status).toBe(200);
      expect((await call('POST', `/v1/leases/${l1.leaseId}/complete`, { result: { ...result, bytes: 1 } }, node.token)).status).toBe(409);
      expect((await call('POST', `/v1/leases/${l1.leaseId}/renew`, {}, node.token)).status).toBe(409);

      const l2 = (await call('POST', '/v1/leases', {}, node.token)).json.lease;
      expect(l2.taskId).toBe(b!.id);
      // Someone else's lease is not found for this node.
      const other = await registeredNode();
      expect((await call('POST', `/v1/leases/${l2.leaseId}/release`, { reason: 'paused' }, other.token)).status).toBe(404);
      const released = await call('POST', `/v1/leases/${l2.leaseId}/release`, { reason: 'paused' }, node.token);
      expect(released.json).toMatchObject({ state: 'open', leasedBy: null });
      const l3 = (await call('POST', '/v1/leases', {}, other.token)).json.lease;
      expect(l3.taskId).toBe(b!.id);
      expect((await call('GET', `/v1/tasks/${b!.id}`, undefined, hub.customerKey)).json.attempts).toBe(2);
      expect((await call('POST', '/v1/leases', {}, other.token)).json).toEqual({ lease: null, retryAfterS: 5 });
      skew.ms -= 10_000;
    });

    it('never hands out a task twice: 200 concurrent leases from 4 nodes at 50 tasks give exactly 50', async () => {
      await emptyQueue();
      const nodes = await Promise.all([1, 2, 3, 4].map(() => registeredNode()));
      const created = await createTasks(50);
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => call('POST', '/v1/leases', {}, nodes[i % 4]!.token)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const leases = answers.map((a) => a.json.lease).filter((l) => l !== null);
      expect(leases).toHaveLength(50);
      expect(new Set(leases.map((l) => l.taskId))).toEqual(new Set(created.map((t) => t.id)));
      expect(new Set(leases.map((l) => l.leaseId)).size).toBe(50);
      const { rows } = await hub.db.query<{ n: number }>("select count(*)::int as n from tasks where state = 'leased' and attempts = 1");
      expect(rows[0]!.n).toBe(50);
    });

    it('re-leases an expired lease to another node; the first node learns it lost it', async () => {
      await emptyQueue();
      const a = await registeredNode();
      const b = await registeredNode();
      const [task] = await createTasks(1);
      const la = (await call('POST', '/v1/leases', {}, a.token)).json.lease;
      expect((await call('POST', '/v1/leases', {}, b.token)).json.lease).toBeNull();

      skew.ms += LEASE_TTL + 1000;
      try {
        expect((await call('POST', `/v1/leases/${la.leaseId}/renew`, {}, a.token)).json.error.code).toBe('lease_expired');
        const lb = (await call('POST', '/v1/leases', {}, b.token)).json.lease;
        expect(lb.taskId).toBe(task!.id);
        expect(lb.leaseId).not.toBe(la.leaseId);
        expect((await call('POST', `/v1/leases/${la.leaseId}/complete`, { result }, a.token)).status).toBe(404);
        const hb = await call('POST', '/v1/nodes/heartbeat', { availability: [], leases: [la.leaseId] }, a.token);
        expect(hb.json.revokedLeases).toEqual([la.leaseId]);
        expect((await call('POST', `/v1/leases/${lb.leaseId}/complete`, { result }, b.token)).json).toMatchObject({ state: 'done', attempts: 2 });
      } finally {
        skew.ms -= LEASE_TTL + 1000;
      }
    });
  });

  describe('hostile requests', () => {
    it('each get a clean 4xx error body, and nothing is written', async () => {
      await emptyQueue();
      const node = await registeredNode();
      const [task] = await createTasks(1);
      const json = { 'content-type': 'application/json' };
      const auth = { ...json, authorization: `Bearer ${node.token}` };
      const admin = { ...json, authorization: `Bearer ${hub.customerKey}` };
      const before = await snapshot();
      const cases: [string, string, Record<string, string | number>, string | Buffer | undefined][] = [
        ['POST', '/v1/nodes', auth, JSON.stringify({ ...registration(), payoutAddress: 5 })],
        ['POST', '/v1/nodes', auth, JSON.stringify({ ...registration(), extra: true })],
        ['POST', '/v1/nodes', auth, JSON.stringify({ ...registration(), capabilities: { ...registration().capabilities, diskOfferedBytes: -1 } })],
        ['POST', '/v1/nodes', auth, '{"payoutAddress":'],
        ['POST', '/v1/nodes', auth, 'null'],
        ['POST', '/v1/nodes', { authorization: `Bearer ${node.token}`, 'content-type': 'text/plain' }, JSON.stringify(registration())],
        ['POST', '/v1/tasks', admin, JSON.stringify({ tasks: [{ ...spec(1), frame: 'one' }] })],
        ['POST', '/v1/tasks', admin, JSON.stringify({ tasks: [] })],
        ['POST', '/v1/tasks', admin, JSON.stringify({ tasks: Array.from({ length: 1001 }, () => spec(1)) })],
        ['POST', '/v1/tasks', admin, Buffer.alloc(2 * 1024 * 1024, 0x20)],
        ['POST', '/v1/tasks', { ...admin, 'content-length': 50 * 1024 * 1024 }, undefined],
        ['POST', '/v1/tasks', { ...json, authorization: 'Bearer wrong-customer-key-0000000' }, JSON.stringify({ tasks: [spec(1)] })],
        ['POST', '/v1/tasks', { ...json, authorization: `Bearer ${node.token}` }, JSON.stringify({ tasks: [spec(1)] })],
        ['GET', `/v1/tasks/${encodeURIComponent('../../etc/passwd')}`, admin, undefined],
        ['GET', '/v1/tasks/..%2F..%2Fetc%2Fpasswd', admin, undefined],
        ['GET', '/v1/tasks/a%00b', admin, undefined],
        ['GET', `/v1/tasks/${'x'.repeat(65)}`, admin, undefined],
        ['GET', '/v1/tasks/t_doesnotexist', admin, undefined],
        ['POST', '/v1/leases/..%2Fleases/renew', auth, '{}'],
        ['POST', '/v1/leases/l_unknownlease/complete', auth, JSON.stringify({ result })],
        ['POST', '/v1/leases/l_unknownlease/complete', auth, JSON.stringify({ result: { ...result, ref: '/etc/passwd' } })],
        ['POST', '/v1/leases', { ...json }, '{}'],
        ['POST', '/v1/leases', { ...json, authorization: 'Bearer not-a-real-session-token-at-all' }, '{}'],
        ['POST', '/v1/leases', { ...json, authorization: 'Basic Zm9vOmJhcg==' }, '{}'],
        ['POST', '/v1/leases', { ...json, authorization: `Bearer ${node.token}x` }, '{}'],
        ['POST', '/v1/leases', auth, JSON.stringify({ kinds: ['mine-bitcoin'] })],
        ['POST', '/v1/nodes/heartbeat', auth, JSON.stringify({ availability: [{ resource: '../../x', state: 'available' }] })],
        ['POST', '/v1/auth/challenge', json, JSON.stringify({ address: 'not-an-address' })],
        ['POST', '/v1/auth/sign-in', json, JSON.stringify({ address: node.key.address, nonce: `0x${'00'.repeat(32)}`, signature: `0x${'11'.repeat(65)}` })],
        ['POST', '/v1/auth/sign-in', json, JSON.stringify({ address: node.key.address, nonce: 1, signature: [] })],
        ['DELETE', '/v1/leases', auth, undefined],
        ['GET', '/v1/nope', {}, undefined],
        ['POST', '/v1/health', json, '{}'],
      ];
      for (const [method, path, headers, body] of cases) {
        const r = await raw(method, path, headers, body).catch((err: Error) => ({ status: -1, text: err.message }));
        expect.soft(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect.soft(r.status, `${method} ${path}`).toBeLessThan(500);
        expect.soft(HubErrorBody.safeParse(JSON.parse(r.text || 'null')).success, `${method} ${path} body: ${r.text.slice(0, 200)}`).toBe(true);
      }
      // Malformed HTTP itself is answered 400 and the hub lives on.
      expect((await call('GET', '/v1/health')).status).toBe(200);
      expect(await snapshot()).toBe(before);
      expect((await call('GET', `/v1/tasks/${task!.id}`, undefined, hub.customerKey)).json.state).toBe('open');
    });

    it('publishes an OpenAPI 3.1 document generated from the schemas', async () => {
      const r = await call('GET', '/v1/openapi.json');
      expect(r.json.openapi).toBe('3.1.0');
      expect(Object.keys(r.json.paths)).toEqual(expect.arrayContaining(['/v1/auth/challenge', '/v1/auth/sign-in', '/v1/nodes', '/v1/leases', '/v1/leases/{leaseId}/renew', '/v1/tasks']));
      expect(r.json.paths['/v1/nodes'].post.requestBody.content['application/json'].schema.properties.payoutAddress.pattern).toBeTruthy();
    });
  });
});

describe('crash safety (PGlite)', () => {
  it('reopens its PGlite directory after the hub process was killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhours-hub-kill-'));
    try {
      // A real hub process that keeps writing tasks until it is killed, so the kill lands mid-write.
      const script = `
        const { startHub } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'hub/hub.ts')).href)});
        const hub = await startHub({ dataDir: ${JSON.stringify(dir)}, databaseUrl: '', port: 0 });
        const spec = { kind: 'render', frame: 1, settings: { engine: 'cycles', samples: 1, resolutionX: 8, resolutionY: 8 } };
        let batches = 0;
        const write = async () => {
          const r = await fetch(hub.url + '/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + hub.customerKey }, body: JSON.stringify({ tasks: Array(50).fill(spec) }) });
          if (r.status !== 201) throw new Error('create failed ' + r.status);
          if (++batches === 3) process.stdout.write('WRITING\\n');
          setImmediate(write);
        };
        write();
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise<void>((ok, fail) => {
        child.stdout.on('data', (d) => String(d).includes('WRITING') && ok());
        child.once('exit', (code) => fail(new Error(`hub child exited early (${code}): ${err}`)));
      });
      // While it lives, the directory is its own.
      await expect(startHub({ dataDir: dir, databaseUrl: '', port: 0, log: () => {} })).rejects.toBeInstanceOf(HubLockHeldError);
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const reopened = await startHub({ dataDir: dir, databaseUrl: '', port: 0, log: () => {} });
      try {
        const { rows } = await reopened.db.query<{ n: number; batches: number }>('select count(*)::int as n, count(distinct created_ms)::int as batches from tasks');
        expect(rows[0]!.n).toBeGreaterThanOrEqual(150);
        // Batches are whole: each was one statement in one transaction.
        expect(rows[0]!.n).toBe(rows[0]!.batches * 50);
        expect((await reopened.db.query('select version from schema_migrations order by version')).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
        const res = await fetch(`${reopened.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reopened.customerKey}` }, body: JSON.stringify({ tasks: [spec(1)] }) });
        expect(res.status).toBe(201);
      } finally {
        await reopened.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresEnabled)('several hubs on one Postgres server', () => {
  it('start together on a fresh database (one migrates), and leasing concurrently through both never hands out a task twice', async () => {
    const url = await (await postgres()).newDatabase();
    const customerKey = randomBytes(32).toString('base64url');
    const dirs = [mkdtempSync(join(tmpdir(), 'offhours-hub-a-')), mkdtempSync(join(tmpdir(), 'offhours-hub-b-'))];
    // The other hub is another process, as it would be in production: its own pool, its own event loop.
    const script = `
      const { startHub } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'hub/hub.ts')).href)});
      const hub = await startHub({ dataDir: ${JSON.stringify(dirs[1])}, databaseUrl: ${JSON.stringify(url)}, customerKey: ${JSON.stringify(customerKey)}, port: 0, log: () => {} });
      process.once('SIGTERM', () => hub.stop().then(() => process.exit(0)));
      process.stdout.write('HUB ' + hub.url + '\\n');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((r) => child.once('exit', r));
    let a: RunningHub | undefined;
    try {
      const [hubA, urlB] = await Promise.all([
        startHub({ dataDir: dirs[0]!, databaseUrl: url, customerKey, port: 0, log: () => {} }),
        new Promise<string>((ok, fail) => {
          let out = '';
          child.stdout.on('data', (d) => {
            out += d;
            const m = /HUB (\S+)\n/.exec(out);
            if (m) ok(m[1]!);
          });
          child.once('exit', (code) => fail(new Error(`hub child exited early (${code}): ${err}`)));
        }),
      ]);
      a = hubA;
      expect(a.db.kind).toBe('postgres');
      expect((await a.db.query('select version from schema_migrations order by version')).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));

      const nodeAt = async (base: string) => {
        const key = newKey();
        const c = SignInChallenge.parse((await callAt(base, 'POST', '/v1/auth/challenge', { address: key.address })).json);
        const s = await callAt(base, 'POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
        const token = Session.parse(s.json).token;
        expect((await callAt(base, 'POST', '/v1/nodes', registration(), token)).status).toBe(200);
        return { base, token };
      };
      const bases = [a.url, urlB];
      const nodes = await Promise.all(Array.from({ length: 8 }, (_, i) => nodeAt(bases[i % 2]!)));

      // Several rounds: each race between the two hubs' transactions for the queue's head is a chance
      // to double-lease. Each hub gets 120 of the calls for 150 tasks, so each leases at least 30:
      // neither can drain the queue alone, and the two really do compete.
      for (let round = 0; round < 3; round++) {
        const created = (await callAt(bases[round % 2]!, 'POST', '/v1/tasks', { tasks: Array.from({ length: 150 }, (_, i) => spec(i + 1)) }, customerKey)).json
          .tasks as TaskView[];
        const answers = await Promise.all(Array.from({ length: 240 }, (_, i) => nodes[i % nodes.length]!).map((n) => callAt(n.base, 'POST', '/v1/leases', {}, n.token)));
        expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
        const leases = answers.map((r) => r.json.lease).filter((l) => l !== null);
        expect(leases).toHaveLength(150);
        expect(new Set(leases.map((l) => l.taskId))).toEqual(new Set(created.map((t) => t.id)));
        expect(new Set(leases.map((l) => l.leaseId)).size).toBe(150);
        const leasedVia = answers.flatMap((r, i) => (r.json.lease ? [nodes[i % nodes.length]!.base] : []));
        for (const base of bases) expect(leasedVia.filter((b) => b === base).length).toBeGreaterThanOrEqual(30);
        const { rows } = await a.db.query<{ n: number; max: number }>("select count(*)::int as n, max(attempts)::int as max from tasks where state = 'leased'");
        expect(rows[0]).toEqual({ n: 150, max: 1 });
        await a.db.query("update tasks set state = 'done' where state = 'leased'");
      }
    } finally {
      await a?.stop();
      child.kill('SIGTERM');
      await exited;
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
