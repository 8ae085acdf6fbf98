// A throwaway Postgres server for tests and benches: initdb in a temp directory, started on a free
// loopback port, removed on stop(). No vitest import: benches use it too.
//
// Postgres refuses to run as root, and CI runs as root, so there it runs as the `postgres` user
// (Debian's package creates it) with the temp directory handed to that user; anyone else runs it
// as themselves. Authentication is `trust`: the server listens on 127.0.0.1 only, lives for one
// test run, and holds nothing but test data.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Requirement } from './external.js';

const exec = promisify(execFile);

export interface PostgresServer {
  /** The database created for the caller. */
  url: string;
  /** A further, empty database on the same server (e.g. to watch migrations run from scratch). */
  newDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresRequirement extends Requirement {
  /** The folder holding initdb, pg_ctl and postgres, when found. */
  bin: string | null;
}

const PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

function hasAll(dir: string): boolean {
  return PROGRAMS.every((p) => existsSync(join(dir, p)));
}

/** Debian's versioned folders first (newest first), then PATH; $POSTGRES_BIN overrides both. */
export function findPostgres(): PostgresRequirement {
  const candidates: string[] = [];
  if (process.env.POSTGRES_BIN) candidates.push(process.env.POSTGRES_BIN);
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // no Debian packages
  }
  candidates.push(...(process.env.PATH ?? '').split(':').filter(Boolean));
  for (const dir of candidates) if (hasAll(dir)) return { found: join(dir, 'postgres'), bin: dir, reason: '' };
  return {
    found: null,
    bin: null,
    reason: `postgres not found (initdb, pg_ctl and postgres in $POSTGRES_BIN, /usr/lib/postgresql/*/bin or PATH; Debian: apt-get install postgresql)`,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** argv that runs `program args` as the server's user: ourselves, or `postgres` when we are root. */
function asServerUser(program: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [program, args];
  if (existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')) return ['runuser', ['-u', 'postgres', '--', program, ...args]];
  const quoted = [program, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', ['postgres', '-s', '/bin/sh', '-c', quoted]];
}

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and there is no `postgres` user to run the server as (Debian\'s postgresql package creates it)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export interface StartOptions {
  /**
   * fsync and full-page writes on, as a real server would have them. Off by default: tests want
   * speed and lose nothing if the machine crashes mid-run.
   */
  durable?: boolean;
  maxConnections?: number;
}

export async function startPostgres(req: PostgresRequirement = findPostgres(), opts: StartOptions = {}): Promise<PostgresServer> {
  if (!req.bin) throw new Error(req.reason);
  const dir = mkdtempSync(join(tmpdir(), 'offhours-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  const logFile = join(dir, 'server.log');
  const run = async (program: string, args: string[]) => {
    const [cmd, argv] = asServerUser(join(req.bin!, program), args);
    try {
      return await exec(cmd, argv, { cwd: dir, timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').slice(-2000);
      } catch {
        // no log yet
      }
      throw new Error(`${program} failed: ${e.message}\n${e.stderr ?? ''}${log ? `\nserver log:\n${log}` : ''}`, { cause: err });
    }
  };

  let started = false;
  // A server outlives the process that started it; one whose test run ended without stop() (a
  // crash, a timeout) is stopped on the way out rather than left running on a deleted directory.
  const stopNow = () => {
    try {
      execFileSync(...asServerUser(join(req.bin!, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const cleanup = async () => {
    process.off('exit', stopNow);
    if (started) await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(sockets, { mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = postgresUid();
      for (const d of [dir, sockets]) chownSync(d, uid, gid);
    }
    await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    const settings = [
      `listen_addresses=127.0.0.1`,
      `unix_socket_directories=${sockets}`,
      `max_connections=${opts.maxConnections ?? 200}`,
      ...(opts.durable ? [] : ['fsync=off', 'full_page_writes=off', 'synchronous_commit=off']),
    ];
    // A port taken between freePort() and the server's bind fails the start; another is tried.
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const o = [`-p ${port}`, ...settings.map((s) => `-c ${s}`)].join(' ');
      try {
        await run('pg_ctl', ['-D', data, '-l', logFile, '-o', o, '-w', '-t', '60', 'start']);
        started = true;
        process.once('exit', stopNow);
        break;
      } catch (err) {
        if (attempt >= 2 || !/could not bind|Address already in use/.test(String(err))) throw err;
      }
    }
    const base = `postgres://postgres@127.0.0.1:${port}`;
    let n = 0;
    const newDatabase = async (name = `offhours_${process.pid}_${++n}`) => {
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await admin.end();
      }
      return `${base}/${encodeURIComponent(name)}`;
    };
    const url = await newDatabase('offhours');
    let stopped: Promise<void> | null = null;
    return { url, newDatabase, stop: () => (stopped ??= cleanup()) };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
