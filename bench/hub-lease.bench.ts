// Hub lease throughput and p99 latency: many simulated agents (each its own node key, signed in
// and registered) over loopback with keep-alive, leasing trivial tasks until the queue is empty,
// first on PGlite, then on a Postgres server (a throwaway one from tests/support, fsync on, as a
// real one would be). Baseline: a GET /v1/health round trip from the same clients in the same run,
// i.e. what HTTP alone costs. Key generation, sign-in and registration are outside the timed part.
// The goal (>= 1,000 leases/s, p99 <= 50 ms) is for the Postgres server; PGlite is one
// process on one connection, so every lease there is serialised.
// The hub runs in a process of its own (this file again, with HUB_BENCH_CHILD set), so the 1,000
// clients do not share its event loop: real agents are other machines. HUB_BENCH_HUB=inprocess puts
// it back in this process, as earlier runs measured it; HUB_BENCH_PROFILE=DIR writes the hub
// process's CPU profile there (node --cpu-prof).
// HUB_BENCH_BACKENDS=pglite,postgres (default both), HUB_BENCH_AGENTS, HUB_BENCH_TASKS.
import './define-globals.js';
import { Agent, request } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
// The paced phase: the agents together offer RATE calls/s (each one every AGENTS / RATE seconds) for
// PACED_S seconds. The saturated phase above it has no think time, so its latency is the queue the
// clients themselves build (Little's law: 1,000 clients at X leases/s wait 1000 / X s on average);
// real agents lease once per task, so the p99 the goal speaks of is the one at a given rate.
const RATE = Number(process.env.HUB_BENCH_RATE ?? 1000);
const PACED_S = Number(process.env.HUB_BENCH_PACED_S ?? 5);

const BACKENDS = (process.env.HUB_BENCH_BACKENDS ?? 'pglite,postgres').split(',').map((b) => b.trim());

const IN_PROCESS = process.env.HUB_BENCH_HUB === 'inprocess';

/** What the clients need of the hub, wherever it runs. */
interface BenchHub {
  url: string;
  customerKey: string;
  stop(): Promise<void>;
}

let hub: BenchHub;
let agent: Agent;

/** The hub in a child process: it prints one JSON line (url, customer key) once it listens. */
async function startHubProcess(dataDir: string, databaseUrl: string): Promise<BenchHub> {
  const profile = process.env.HUB_BENCH_PROFILE;
  const args = [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), '--import', 'tsx', fileURLToPath(import.meta.url)];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HUB_BENCH_CHILD: '1', HUB_BENCH_DATA_DIR: dataDir, HUB_BENCH_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; customerKey: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { url: string; customerKey: string });
    });
    void exited.then(() => reject(new Error(`hub process exited with ${child.exitCode}`)));
  });
  return {
    ...ready,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startBenchHub(dataDir: string, databaseUrl: string): Promise<BenchHub> {
  if (!IN_PROCESS) return startHubProcess(dataDir, databaseUrl);
  const h: RunningHub = await startHub({ dataDir, databaseUrl, port: 0, log: (l) => process.stderr.write(`${l}\n`) });
  return { url: h.url, customerKey: h.customerKey, stop: () => h.stop() };
}

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
  hub = await startBenchHub(dataDir, databaseUrl);
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

    /**
     * Open loop: client i calls at t0 + (i / AGENTS + k) * period, and a call's latency counts from
     * that scheduled moment, so a hub that falls behind is not excused by clients waiting on it.
     */
    async function paced(once: (token: string) => Promise<void>): Promise<{ lat: number[]; wallS: number }> {
      const periodMs = (AGENTS / RATE) * 1000;
      const t0 = performance.now() + 50;
      const lat: number[] = [];
      await Promise.all(
        tokens.map(async (token, i) => {
          for (let k = 0; ; k++) {
            const at = t0 + (i / AGENTS + k) * periodMs;
            if (at - t0 >= PACED_S * 1000) return;
            // Timers may fire a fraction of a millisecond early; a call never starts before its time.
            while (performance.now() < at) await new Promise((r) => setTimeout(r, Math.max(1, at - performance.now())));
            await once(token);
            lat.push(performance.now() - at);
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

    const label = `${AGENTS} agents, ${TASKS} tasks, no think time, ${name}, hub ${IN_PROCESS ? "in the clients' process" : 'in its own process'}, loopback keep-alive`;
    // PGlite's metrics keep their original names, so earlier runs stay comparable.
    const m = backend === 'pglite' ? 'hub_lease' : 'hub_lease_postgres';
    emit(`${m}_per_s`, leased / leases.wallS, `leases/s (${label}; goal on a Postgres server >= 1000; baseline: GET /v1/health round trips/s)`, health.lat.length / health.wallS);
    emit(`${m}_p99_ms`, percentile(leases.lat, 99), `ms p99 lease latency (${label}; goal on a Postgres server <= 50; baseline: health p99)`, percentile(health.lat, 99));
    emit(`${m}_p50_ms`, percentile(leases.lat, 50), `ms median lease latency (${label}; baseline: health median)`, percentile(health.lat, 50));

    // Paced: health first (the baseline), then as many leases, the queue refilled for them.
    const pacedCalls = Math.ceil(RATE * PACED_S) + AGENTS;
    for (let i = 0; i < pacedCalls; i += 1000) {
      const r = await post('/v1/tasks', { tasks: Array.from({ length: Math.min(1000, pacedCalls - i) }, (_, k) => ({ ...spec, frame: i + k })) }, hub.customerKey);
      if (r.status !== 201) throw new Error(`create: ${r.status}`);
    }
    const pacedHealth = await paced(async () => {
      const r = await post('/v1/health', undefined, undefined, 'GET');
      if (r.status !== 200) throw new Error(`health: ${r.status}`);
    });
    const pacedLeases = await paced(async (token) => {
      const r = await post('/v1/leases', {}, token);
      if (r.status !== 200 || !r.json.lease) throw new Error(`lease: ${r.status} ${JSON.stringify(r.json)}`);
    });
    const pacedLabel = `${AGENTS} agents offering ${RATE} leases/s together for ${PACED_S} s, latency from each call's scheduled time, ${name}, hub ${IN_PROCESS ? "in the clients' process" : 'in its own process'}`;
    emit(`${m}_paced_per_s`, pacedLeases.lat.length / pacedLeases.wallS, `leases/s achieved (${pacedLabel}; baseline: health at the same pace)`, pacedHealth.lat.length / pacedHealth.wallS);
    emit(`${m}_paced_p99_ms`, percentile(pacedLeases.lat, 99), `ms p99 lease latency (${pacedLabel}; goal on a Postgres server <= 50; baseline: health at the same pace)`, percentile(pacedHealth.lat, 99));
    emit(`${m}_paced_p50_ms`, percentile(pacedLeases.lat, 50), `ms median lease latency (${pacedLabel}; baseline: health at the same pace)`, percentile(pacedHealth.lat, 50));
  } finally {
    agent.destroy();
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.env.HUB_BENCH_CHILD) {
  // The hub's own process: serve until the parent says stop (SIGTERM), then close cleanly so a
  // CPU profile (--cpu-prof) is written.
  const h = await startHub({ dataDir: process.env.HUB_BENCH_DATA_DIR!, databaseUrl: process.env.HUB_BENCH_DATABASE_URL ?? '', port: 0, log: (l) => process.stderr.write(`${l}\n`) });
  process.once('SIGTERM', () => {
    void h.stop().then(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ url: h.url, customerKey: h.customerKey })}\n`);
} else {
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
        // HUB_BENCH_FSYNC=off: what the same run costs without the WAL flush per commit (not a real setup).
        const durable = process.env.HUB_BENCH_FSYNC !== 'off';
        server = await startPostgres(found, { durable });
        await bench('postgres', `Postgres server (fsync ${durable ? 'on' : 'off'}, pool of ${Number(process.env.DATABASE_POOL_SIZE) || 20})`, server.url);
      } finally {
        await server?.stop();
      }
    } else {
      throw new Error(`HUB_BENCH_BACKENDS: unknown backend ${backend} (pglite, postgres)`);
    }
  }
}
