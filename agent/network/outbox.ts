// Results on their way to a hub, delivered exactly once. A finished frame is copied into
// <data>/network/outbox/ and journaled (fsync'd) before anything is sent, so a crash, a restart or a
// hub that is down loses nothing: the entry is replayed and retried with backoff until the hub
// takes it. Delivery is upload (resumed from the offset the hub holds), then complete; the hub's
// complete is idempotent for the same result, so a retry after a lost answer is harmless. An entry
// ends once: delivered, or dropped with a logged reason when the hub says the lease is gone.
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentRef, ResultRef } from '../../protocol/index.js';
import { copyDurably } from '../fs-util.js';
import { Journal, readJournal } from '../journal.js';
import type { Logger } from '../logger.js';
import { DEFAULT_BACKOFF, backoffMs, type BackoffOptions } from './backoff.js';
import { sha256File } from './blob-transfer.js';
import { HubRequestError } from './hub-http.js';

export interface OutboxEntry {
  /** The local job's id: one result per job. */
  id: string;
  /** The hub's network key (its host). */
  network: string;
  leaseId: string;
  taskId: string;
  /** The file's name inside the outbox folder. */
  file: string;
  ref: ContentRef;
  bytes: number;
}

type OutboxJournalEntry = ({ type: 'add' } & OutboxEntry) | { type: 'delivered'; id: string } | { type: 'dropped'; id: string; reason: string };

/** How one hub takes a result; null while it cannot (not signed in yet, removed from the settings). */
export interface OutboxTransport {
  uploadBlob(file: string, ref: ContentRef, bytes: number): Promise<void>;
  complete(leaseId: string, result: ResultRef): Promise<void>;
}

export interface OutboxOptions {
  dataDir: string;
  log: Logger;
  transport(network: string): OutboxTransport | null;
  backoff?: BackoffOptions;
  now?: () => Date;
  /** An entry ended (delivered or dropped). */
  onSettled?(entry: OutboxEntry, outcome: 'delivered' | 'dropped', reason: string | null): void;
}

/** Answers after which trying again cannot help: the lease is gone, or the hub refuses this result. */
const FINAL_CODES = new Set(['conflict', 'lease_not_found', 'lease_expired', 'digest_mismatch']);
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class Outbox {
  readonly dir: string;
  private readonly journal: Journal<OutboxJournalEntry>;
  private readonly entries = new Map<string, OutboxEntry>();
  /** Jobs whose result already ended here: never sent again, whatever asks. */
  private readonly settledIds = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly backoff: BackoffOptions;
  private closed = false;

  constructor(private readonly o: OutboxOptions) {
    this.dir = join(o.dataDir, 'network', 'outbox');
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    const path = join(o.dataDir, 'network', 'outbox.jsonl');
    for (const { data: e } of readJournal<OutboxJournalEntry>(path).entries) {
      if (e.type === 'add') this.entries.set(e.id, { id: e.id, network: e.network, leaseId: e.leaseId, taskId: e.taskId, file: e.file, ref: e.ref, bytes: e.bytes });
      else {
        this.entries.delete(e.id);
        this.settledIds.add(e.id);
      }
    }
    this.journal = new Journal<OutboxJournalEntry>(path, o.now);
    if (this.journal.recovered.damagedLines.length > 0) o.log.error('damaged lines in the outbox journal were skipped', { lines: this.journal.recovered.damagedLines });
  }

  /** Entries not yet delivered (replayed from the journal at start). */
  pending(): OutboxEntry[] {
    return [...this.entries.values()];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Whether this job's result was ever taken (pending, delivered or dropped). */
  known(id: string): boolean {
    return this.entries.has(id) || this.settledIds.has(id);
  }

  /** Starts delivering everything pending (at start, after replay). */
  start(): void {
    for (const e of this.entries.values()) this.deliverSoon(e, 0);
  }

  /**
   * Takes a finished frame: copied into the outbox, hashed, journaled, then delivered. Adding the
   * same job twice returns the entry already there; null when its result has already ended here.
   */
  async add(what: { id: string; network: string; leaseId: string; taskId: string }, source: string): Promise<OutboxEntry | null> {
    if (!ID.test(what.id)) throw new Error(`not an outbox id: ${what.id}`);
    const known = this.entries.get(what.id);
    if (known) return known;
    if (this.settledIds.has(what.id)) return null;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = `${what.id}.png`;
    const tmp = join(this.dir, `${file}.tmp`);
    await rm(tmp, { force: true });
    await copyDurably(source, tmp);
    const hex = await sha256File(tmp);
    const bytes = (await stat(tmp)).size;
    await rename(tmp, join(this.dir, file));
    await syncDir(this.dir);
    if (this.closed) throw new Error('the outbox is closed');
    // Two adds of the same job raced through the copy: the first one journaled wins.
    if (this.entries.has(what.id) || this.settledIds.has(what.id)) return this.entries.get(what.id) ?? null;
    const entry: OutboxEntry = { ...what, file, ref: `sha256:${hex}`, bytes };
    this.journal.append({ type: 'add', ...entry });
    this.entries.set(entry.id, entry);
    this.o.log.info('result in the outbox', { jobId: entry.id, hub: entry.network, taskId: entry.taskId, ref: entry.ref, bytes });
    this.deliverSoon(entry, 0);
    return entry;
  }

  /** A hub came back or signed in: try its entries now instead of waiting out the backoff. */
  kick(network?: string): void {
    for (const e of this.entries.values()) if (network === undefined || e.network === network) this.deliverSoon(e, 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.journal.close();
  }

  private deliverSoon(entry: OutboxEntry, ms: number): void {
    if (this.closed || this.inFlight.has(entry.id)) return;
    clearTimeout(this.timers.get(entry.id));
    const t = setTimeout(() => {
      this.timers.delete(entry.id);
      void this.deliver(entry);
    }, ms);
    t.unref();
    this.timers.set(entry.id, t);
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    if (this.closed || this.inFlight.has(entry.id) || !this.entries.has(entry.id)) return;
    const transport = this.o.transport(entry.network);
    if (!transport) {
      this.retryLater(entry, null);
      return;
    }
    this.inFlight.add(entry.id);
    let failed: { err: unknown } | null = null;
    try {
      const path = join(this.dir, entry.file);
      if ((await stat(path).catch(() => null))?.size !== entry.bytes) {
        this.settle(entry, 'dropped', 'the result file is missing from the outbox or has changed');
        return;
      }
      await transport.uploadBlob(path, entry.ref, entry.bytes);
      await transport.complete(entry.leaseId, { ref: entry.ref, bytes: entry.bytes, mediaType: 'image/png' });
      this.settle(entry, 'delivered', null);
    } catch (err) {
      if (err instanceof HubRequestError && err.code !== null && FINAL_CODES.has(err.code)) {
        this.settle(entry, 'dropped', `${err.code}: ${err.message}`);
        return;
      }
      failed = { err };
    } finally {
      this.inFlight.delete(entry.id);
    }
    if (failed) this.retryLater(entry, failed.err);
  }

  private retryLater(entry: OutboxEntry, err: unknown): void {
    const n = (this.failures.get(entry.id) ?? 0) + 1;
    this.failures.set(entry.id, n);
    const wait = backoffMs(n, this.backoff);
    if (err !== null) this.o.log.info('result delivery failed; retrying', { jobId: entry.id, hub: entry.network, reason: err instanceof Error ? err.message : String(err), waitMs: wait, failures: n });
    this.deliverSoon(entry, wait);
  }

  private settle(entry: OutboxEntry, outcome: 'delivered' | 'dropped', reason: string | null): void {
    if (this.closed || !this.entries.has(entry.id)) return;
    this.journal.append(outcome === 'delivered' ? { type: 'delivered', id: entry.id } : { type: 'dropped', id: entry.id, reason: reason ?? 'unknown' });
    this.entries.delete(entry.id);
    this.settledIds.add(entry.id);
    this.failures.delete(entry.id);
    void rm(join(this.dir, entry.file), { force: true });
    if (outcome === 'delivered') this.o.log.info('result delivered', { jobId: entry.id, hub: entry.network, taskId: entry.taskId, ref: entry.ref });
    else this.o.log.warn('result dropped', { jobId: entry.id, hub: entry.network, taskId: entry.taskId, reason });
    this.o.onSettled?.(entry, outcome, reason);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform can fsync a directory (Windows); the file itself is synced.
  }
}
