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
import { LEASE_TTL_MS, Tasks } from './tasks.js';
import { createHubHttpServer } from './server/server.js';

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
  log?: (line: string) => void;
}

export interface RunningHub {
  url: string;
  port: number;
  customerKey: string;
  customerKeyFile: string;
  db: Db;
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
    const services = {
      auth: new NodeAuth(db, clock, () => urlRef.value),
      nodes: new Nodes(db, clock),
      tasks: new Tasks(db, clock, opts.leaseTtlMs ?? LEASE_TTL_MS),
      retryAfterS: 5,
      heartbeatS: 30,
    };
    const server = createHubHttpServer({
      services,
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
        await services.auth.sweep();
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
