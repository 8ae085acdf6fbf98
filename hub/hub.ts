// A running hub: its database, services, HTTP server and the sweep timer, started and stopped as
// one. `offhours hub` and the tests both start it through startHub().
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { NodeAuth } from './auth.js';
import { systemClock, type Clock } from './clock.js';
import type { Db } from './db/db.js';
import { openPgliteDb } from './db/pglite.js';
import { openPostgresDb } from './db/postgres.js';
import { Nodes } from './nodes.js';
import { LEASE_TTL_MS, LOW_REPUTATION_DELAY_MS, Tasks } from './tasks.js';
import { Blobs, MAX_BLOB_BYTES } from './blobs.js';
import { DEFAULT_PRICE_PER_FRAME, Jobs, hubStatus } from './jobs.js';
import { Verifier, type VerifyOptions } from './verify/verifier.js';
import type { HubStatusView } from '../protocol/index.js';
import { createHubHttpServer } from './server/server.js';
import { StorageDeals, type StorageOptions } from './storage/deals.js';
import type { CreditSink } from './credit-sink.js';
import { Payments, type PaymentsConfig } from './payments.js';
import { paymentsStatus } from './settlement.js';

export interface HubOptions {
  /** PGlite's files and the customer key; with a Postgres server, only the customer key. */
  dataDir: string;
  /**
   * A Postgres server instead of the embedded PGlite (default: the DATABASE_URL environment
   * variable; '' means PGlite whatever the environment says). No directory lock then: several
   * hubs may share the server, each with the same customer key.
   */
  databaseUrl?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How the hub names itself in sign-in challenges (default: http://host:port). */
  publicUrl?: string;
  /** Default: read from, or else created in, DATA_DIR/customer-key. */
  customerKey?: string;
  clock?: Clock;
  leaseTtlMs?: number;
  sweepIntervalMs?: number;
  /** Storage deals: challenge schedule (default hourly), deadlines, price per GiB-day. */
  storage?: StorageOptions;
  /**
   * Chain, escrow, token and prices; the payer key from here or DATA_DIR/hub-key. Without it the
   * payment routes answer 503 and credits are still recorded, to be paid once it is configured.
   */
  payments?: PaymentsConfig;
  /** Where verified work is credited (default: the hub's Payments). */
  credits?: CreditSink;
  /** The largest blob (scene or result) accepted, in bytes (default 2 GiB). */
  maxBlobBytes?: number;
  /** Minor units paid per verified frame when a job names no price (default "10000"). */
  pricePerFrame?: string;
  /** Spot checks: how many results, how much of each frame, and the match floors. */
  verify?: VerifyOptions;
  /** How long a task waits before a node scoring below 0.5 may lease it (default 30 s). */
  lowReputationDelayMs?: number;
  /** The period the hub asks nodes to heartbeat at (default 30 s); online means seen within two. */
  heartbeatS?: number;
  /** The payments part of GET /v1/status (null without it). */
  paymentsStatus?: () => Promise<HubStatusView['payments']>;
  log?: (line: string) => void;
}

export interface RunningHub {
  url: string;
  port: number;
  customerKey: string;
  customerKeyFile: string;
  db: Db;
  payments: Payments;
  credits: CreditSink;
  stop(): Promise<void>;
}

/** The customer key persists with the data, so a restarted hub keeps accepting its customers. */
function loadCustomerKey(dataDir: string): { key: string; file: string } {
  const file = join(dataDir, 'customer-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), file };
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, file };
}

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const host = opts.host ?? '127.0.0.1';
  const clock = opts.clock ?? systemClock;
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  let db: Db;
  if (databaseUrl) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    db = await openPostgresDb(databaseUrl, opts.log ? { log: opts.log } : {});
  } else {
    db = await openPgliteDb(opts.dataDir);
  }
  try {
    const { key, file } = opts.customerKey ? { key: opts.customerKey, file: '' } : loadCustomerKey(opts.dataDir);
    // The public URL names the real port, known only after listen(); services read it through this.
    const urlRef = { value: opts.publicUrl ?? '' };
    const payments = new Payments(db, clock, opts.payments ?? null, opts.dataDir);
    await payments.foldUnassigned();
    const credits = opts.credits ?? payments;
    // One store for scenes, results and storage staging: its upload guard is per instance.
    const blobs = new Blobs(opts.dataDir, opts.maxBlobBytes ?? MAX_BLOB_BYTES);
    // Storage pays the operator's price per GiB-day unless the storage options name their own.
    const storageOptions: StorageOptions = {
      ...(opts.payments ? { pricePerGiBDay: opts.payments.prices.storagePerGiBDay } : {}),
      ...opts.storage,
    };
    const services = {
      auth: new NodeAuth(db, clock, () => urlRef.value),
      nodes: new Nodes(db, clock),
      tasks: new Tasks(db, clock, opts.leaseTtlMs ?? LEASE_TTL_MS, opts.lowReputationDelayMs ?? LOW_REPUTATION_DELAY_MS),
      retryAfterS: 5,
      heartbeatS: opts.heartbeatS ?? 30,
      storage: new StorageDeals(db, clock, blobs, storageOptions, credits, opts.log),
      payments,
      credits,
    };
    const verifier = new Verifier(db, clock, services.tasks, blobs, credits, opts.verify);
    const work = {
      blobs,
      jobs: new Jobs(db, clock, services.tasks, blobs, opts.pricePerFrame ?? DEFAULT_PRICE_PER_FRAME),
      verifier,
      // Online: seen within two heartbeats.
      status: () => hubStatus(db, clock.now(), 2 * services.heartbeatS * 1000, opts.paymentsStatus ?? (() => paymentsStatus(payments))),
    };
    const server = createHubHttpServer({
      services: { ...services, work },
      customerKey: key,
      get publicUrl() {
        return urlRef.value;
      },
      ...(opts.log ? { log: opts.log } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Node's default backlog (511) resets connections when a thousand agents connect at once.
      server.listen({ port: opts.port ?? 8787, host, backlog: 4096 }, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    urlRef.value ||= url;

    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const sweep = async () => {
      try {
        await services.tasks.sweep();
        await verifier.sweep();
        await blobs.sweepPartials();
        await services.auth.sweep();
        await services.storage.sweep();
      } catch (err) {
        log(`hub: sweep failed: ${(err as Error).message}`);
      }
    };
    const timer = setInterval(() => void sweep(), opts.sweepIntervalMs ?? 10_000);
    timer.unref();

    let stopped: Promise<void> | null = null;
    return {
      url,
      port,
      customerKey: key,
      customerKeyFile: file,
      db,
      payments,
      credits,
      stop: () =>
        (stopped ??= (async () => {
          clearInterval(timer);
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          await db.close();
        })()),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
