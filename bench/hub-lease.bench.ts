// Hub lease throughput and p99 latency: many simulated agents (each its own node key, signed in
// and registered) over loopback with keep-alive, leasing trivial tasks until the queue is empty,
// first on PGlite, then on a Postgres server (a throwaway one from tests/support, fsync on, as a
// real one would be). Baseline: a GET /v1/health round trip from the same clients in the same run,
// i.e. what HTTP alone costs. Key generation, sign-in and registration are outside the timed part.
// The goal (>= 1,000 leases/s, p99 <= 50 ms) is for the Postgres server; PGlite is one
// process on one connection, so every lease there is serialised.
// HUB_BENCH_BACKENDS=pglite,postgres (default both), HUB_BENCH_AGENTS, HUB_BENCH_TASKS.
import './define-globals.js';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { startHub, type RunningHub } from '../hub/hub.js';
import { signInMessage, type SignInChallenge, type TaskSpec } from '../protocol/index.js';
import { findPostgres, startPostgres, type PostgresServer } from '../tests/support/postgres.js';
import { emit, percentile } from './lib.mjs';

const AGENTS = Number(process.env.HUB_BENCH_AGENTS ?? 1000);
const TASKS = Number(process.env.HUB_BENCH_TASKS ?? 20_000);

const BACKENDS = (process.env.HUB_BENCH_BACKENDS ?? 'pglite,postgres').split(',').map((b) => b.trim());

let hub: RunningHub;
let agent: Agent;

function post(path: string, body: unknown, token?: string, method = 'POST'): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${hub.url}${path}`,
      { method, agent, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function node(): Promise<string> {
  const key = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  const c = (await post('/v1/auth/challenge', { address: key.address })).json as SignInChallenge;
  const s = await post('/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
  const token = s.json.token as string;
  const reg = await post(
    '/v1/nodes',
    {
      payoutAddress: key.address,
      capabilities: {
        devices: [{ id: 'gpu:0', kind: 'gpu', name: 'bench', cyclesBackend: 'cuda', benchmarkSamplesPerS: 1000 }],
        engines: [{ name: 'blender', version: '4.2' }],
        diskOfferedBytes: 0,
        priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '1', storagePerGiBDay: '0' },
      },
    },
    token,
  );
  if (reg.status !== 200) throw new Error(`register: ${reg.status}`);
  return token;
}

async function bench(backend: string, name: string, databaseUrl: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offhours-hub-bench-'));
  hub = await startHub({ dataDir, databaseUrl, port: 0, log: (l) => process.stderr.write(`${l}\n`) });
  // Idle sockets are dropped well before the server's keep-alive timeout (65 s): reusing one the server
  // is closing would be a reset, and the sign-in of 1,000 keys takes longer than that.
  agent = new Agent({ keepAlive: true, maxSockets: AGENTS + 16, timeout: 30_000 });
  try {
    // Sign in in waves, so the setup does not itself become a 1,000-way stampede on the hub.
    const tokens: string[] = [];
    for (let i = 0; i < AGENTS; i += 50) tokens.push(...(await Promise.all(Array.from({ length: Math.min(50, AGENTS - i) }, node))));

    const spec: TaskSpec = { kind: 'render', frame: 1, settings: { engine: 'cycles', samples: 1, resolutionX: 8, resolutionY: 8 } };
    for (let i = 0; i < TASKS; i += 1000) {
      const r = await post('/v1/tasks', { tasks: Array.from({ length: Math.min(1000, TASKS - i) }, (_, k) => ({ ...spec, frame: i + k })) }, hub.customerKey);
      if (r.status !== 201) throw new Error(`create: ${r.status}`);
    }

    /** Every client loops `once` until it says stop; returns per-call latencies and the wall time. */
    async function drive(once: (token: string) => Promise<boolean>): Promise<{ lat: number[]; wallS: number }> {
      const lat: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        tokens.map(async (token) => {
          for (;;) {
            const t = performance.now();
            const more = await once(token);
            lat.push(performance.now() - t);
            if (!more) return;
          }
        }),
      );
      return { lat: lat.sort((a, b) => a - b), wallS: (performance.now() - t0) / 1000 };
    }

    process.stderr.write(`# ${name}: ${AGENTS} agents signed in, ${TASKS} tasks queued\n`);
    // Warm-up and baseline: as many health round trips as there will be leases.
    let healthLeft = TASKS;
    const health = await drive(async () => {
      const r = await post('/v1/health', undefined, undefined, 'GET');
      if (r.status !== 200) throw new Error(`health: ${r.status}`);
      return --healthLeft > 0;
    });

    process.stderr.write(`# ${name}: health baseline done\n`);
    let leased = 0;
    const leases = await drive(async (token) => {
      const r = await post('/v1/leases', {}, token);
      if (r.status !== 200) throw new Error(`lease: ${r.status} ${JSON.stringify(r.json)}`);
      if (r.json.lease) leased++;
      return r.json.lease !== null;
    });
    if (leased !== TASKS) throw new Error(`leased ${leased} of ${TASKS}`);

    const label = `${AGENTS} agents, ${TASKS} tasks, ${name}, loopback keep-alive`;
    // PGlite's metrics keep their original names, so earlier runs stay comparable.
    const m = backend === 'pglite' ? 'hub_lease' : 'hub_lease_postgres';
    emit(`${m}_per_s`, leased / leases.wallS, `leases/s (${label}; goal on a Postgres server >= 1000; baseline: GET /v1/health round trips/s)`, health.lat.length / health.wallS);
    emit(`${m}_p99_ms`, percentile(leases.lat, 99), `ms p99 lease latency (${label}; goal on a Postgres server <= 50; baseline: health p99)`, percentile(health.lat, 99));
    emit(`${m}_p50_ms`, percentile(leases.lat, 50), `ms median lease latency (${label}; baseline: health median)`, percentile(health.lat, 50));
  } finally {
    agent.destroy();
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const backend of BACKENDS) {
  if (backend === 'pglite') {
    // '' so that a DATABASE_URL in the environment does not turn this run into a second Postgres one.
    await bench('pglite', 'PGlite', '');
  } else if (backend === 'postgres') {
    const found = findPostgres();
    if (!found.bin) {
      process.stderr.write(`# postgres: skipped because ${found.reason}\n`);
      continue;
    }
    let server: PostgresServer | undefined;
    try {
      server = await startPostgres(found, { durable: true });
      await bench('postgres', 'Postgres server (fsync on, pool of 20)', server.url);
    } finally {
      await server?.stop();
    }
  } else {
    throw new Error(`HUB_BENCH_BACKENDS: unknown backend ${backend} (pglite, postgres)`);
  }
}
