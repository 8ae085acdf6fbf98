// Shared disk, driven locally until the hub exists: the allocation, adding files as pieces (copy,
// seal in a worker, store under the commitment's name), proving possession on request, and a slow
// integrity scrub. Adding and scrubbing wait for the rules of the `disk` resource like any work;
// answering a challenge does not (it is small and has a deadline).
//
// Names on disk come from the commitment the worker computed (`<cid>.piece`, `<cid>.tree`) or from
// ids the agent made (`.incoming-<id>`): never from a network or a request.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PieceCidText } from '../../protocol/index.js';
import type {
  AddPieceRequest,
  Decision,
  Ingest,
  LeafProof,
  PieceRecord,
  ProofCheck,
  ProveResult,
  SealWorkerToAgent,
  SealedPiece,
  StorageSettings,
  StorageView,
  AgentToSealWorker,
} from '../../protocol/index.js';
import { InputError } from '../errors.js';
import { copyDurably } from '../fs-util.js';
import type { SealConnection, WorkerStarter } from '../jobs/worker-starter.js';
import type { Logger } from '../logger.js';
import type { WorkExecutor } from '../policy/executor.js';
import { diskBytesOf, diskNumbers } from './disk-space.js';
import { PieceIndex } from './piece-index.js';
import { provePiece } from './prove.js';

export const PIECES_DIR = 'offhours-pieces';
const INGEST_HISTORY = 20;
/** The scrub re-hashes one random piece this often, when the rules allow disk work. */
const SCRUB_EVERY_MS = 6 * 3_600_000;

export interface StorageServiceOptions {
  dataDir: string;
  settings: () => StorageSettings;
  starter: WorkerStarter;
  log: Logger;
  now?: () => Date;
  /** Test seam: the copy into the storage folder (ENOSPC is injected here). */
  copy?: (from: string, to: string) => Promise<void>;
  scrubEveryMs?: number;
}

type Job = { ingest: Ingest; expectCid: string | null; source: string };

export class StorageService implements WorkExecutor {
  private readonly index: PieceIndex;
  private readonly now: () => Date;
  private decision: Decision | null = null;
  private readonly queue: Job[] = [];
  private ingests: Ingest[] = [];
  /** The one being copied or sealed now. */
  private current: Ingest | null = null;
  private busy = 0;
  private running: Promise<void> | null = null;
  private readonly workers = new Set<number>();
  private scrubTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: StorageServiceOptions) {
    this.now = o.now ?? (() => new Date());
    this.index = new PieceIndex(o.dataDir, this.now);
    if (this.index.recovered.damagedLines.length > 0) o.log.error('damaged lines in the pieces journal were skipped', { lines: this.index.recovered.damagedLines });
    this.scrubTimer = setInterval(() => void this.scrubOne().catch((err: unknown) => o.log.error('the scrub failed', { err })), o.scrubEveryMs ?? SCRUB_EVERY_MS);
    this.scrubTimer.unref();
  }

  // ---- WorkExecutor: the disk resource's decision ---------------------------------------------------

  applyDecision(decision: Decision): void {
    this.decision = decision;
    setImmediate(() => this.pump());
  }

  activeWork(): Readonly<Record<string, number>> {
    return this.busy > 0 ? { disk: this.busy } : {};
  }

  ownPids(): ReadonlySet<number> {
    return this.workers;
  }

  /** Why disk work may not start now, or null when it may. */
  private blocked(): string | null {
    const rd = this.decision?.resources.find((r) => r.resource === 'disk');
    if (!rd) return 'Waiting for the rules to be evaluated.';
    if (rd.newWork && (rd.state === 'running' || rd.state === 'limited')) return null;
    return rd.reasons[0]?.text ?? 'Waiting for your rules to allow disk work.';
  }

  // ---- the API --------------------------------------------------------------------------------------

  private piecesDir(): string {
    const folder = this.o.settings().folder;
    if (!folder) throw new InputError('storage_off', 'No storage folder is set: choose a folder and a size on the Storage page first.', [{ path: 'folder', message: 'no storage folder is set' }]);
    return join(folder, PIECES_DIR);
  }

  async view(): Promise<StorageView> {
    const settings = this.o.settings();
    const pieces = this.index.list();
    let disk: StorageView['disk'] = null;
    let problem: string | null = null;
    if (settings.folder) {
      try {
        const used = pieces.filter((p) => p.state !== 'rejected').reduce((s, p) => s + p.diskBytes, 0);
        disk = await diskNumbers(settings.folder, settings.capBytes, used);
      } catch (err) {
        problem = `The storage folder cannot be read: ${(err as Error).message}`;
      }
    }
    return { settings, disk, problem, pieces, ingests: this.allIngests(), proofs: this.index.proofHistory() };
  }

  /** Queues a file to be stored and sealed as a local piece; it starts when the rules allow. */
  async add(req: AddPieceRequest, source = 'local'): Promise<Ingest> {
    const dir = this.piecesDir();
    let st;
    try {
      st = await stat(req.file);
    } catch {
      throw new InputError('invalid_request', 'That file cannot be read.', [{ path: 'file', message: 'no such file' }]);
    }
    if (!st.isFile()) throw new InputError('invalid_request', 'Only regular files can be stored.', [{ path: 'file', message: 'not a regular file' }]);
    if (st.size === 0) throw new InputError('invalid_request', 'An empty file has nothing to store.', [{ path: 'file', message: 'the file is empty' }]);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ingest: Ingest = { id: `i_${randomBytes(9).toString('base64url')}`, file: req.file, state: 'waiting', reason: this.blocked(), cid: null, at: this.now().toISOString() };
    this.queue.push({ ingest, expectCid: req.expectCid ?? null, source });
    this.o.log.info('file queued for storage', { ingest: ingest.id, file: req.file, bytes: st.size });
    setImmediate(() => this.pump());
    return ingest;
  }

  ingest(id: string): Ingest | undefined {
    return this.allIngests().find((i) => i.id === id);
  }

  /** Waiting ones first, then the one in progress, then those that ended (newest first). */
  private allIngests(): Ingest[] {
    return [...this.queue.map((j) => j.ingest), ...(this.current ? [this.current] : []), ...this.ingests];
  }

  /** Challenges a stored piece and verifies the answers (exempt from the rules: it is tiny). */
  async prove(cid: string, challenges: number): Promise<ProveResult> {
    const piece = this.index.get(cid);
    if (!piece) throw new InputError('not_found', `No piece ${cid} is stored here.`, []);
    if (piece.state !== 'sealed') throw new InputError('invalid_request', `Piece ${cid} is ${piece.state}: only sealed pieces are proved.`, []);
    const dir = this.piecesDir();
    const result = await provePiece({
      piece,
      challenges,
      seed: randomBytes(32),
      at: this.now().toISOString(),
      ask: (leaves) => this.withWorker(`prove-${cid.slice(-8)}`, { type: 'prove', piece: join(dir, `${cid}.piece`), tree: join(dir, `${cid}.tree`), leaves }),
    });
    this.index.proved(cid, { at: result.at, challenges: result.challenges, passed: result.passed, problem: result.problem });
    if (result.passed < result.challenges) this.o.log.warn('a storage proof failed', { cid, passed: result.passed, of: result.challenges, problem: result.problem });
    return result;
  }

  // ---- for storage deals with a hub ----------------------------------------------------------------

  /** Whether new deals may be taken now (the rules allow disk work, a folder is set), and the room left. */
  async dealRoom(): Promise<{ accept: boolean; freeBytes: number }> {
    if (this.blocked() || !this.o.settings().folder) return { accept: false, freeBytes: 0 };
    const v = await this.view();
    return { accept: (v.disk?.availableBytes ?? 0) > 0, freeBytes: v.disk?.availableBytes ?? 0 };
  }

  /** A stored piece's record, when there is one. */
  piece(cid: string): PieceRecord | undefined {
    return this.index.get(cid);
  }

  /** Where a stored piece's payload is (named by the CID the index holds, never by a caller's text). */
  piecePath(cid: string): string | null {
    const piece = this.index.get(cid);
    if (!piece || (piece.state !== 'sealed' && piece.state !== 'corrupt')) return null;
    return join(this.piecesDir(), `${piece.cid}.piece`);
  }

  /**
   * Proofs of these leaves of a stored piece, for a hub's challenge: answered whatever the rules
   * say (it is small and has a deadline), and not checked here: the challenger checks them.
   */
  async proveLeaves(cid: string, leaves: number[]): Promise<LeafProof[]> {
    const piece = this.index.get(cid);
    if (!piece || (piece.state !== 'sealed' && piece.state !== 'corrupt')) throw new InputError('not_found', `No piece ${cid} is stored here.`, []);
    const dir = this.piecesDir();
    const reply = await this.withWorker(`prove-${piece.cid.slice(-8)}`, { type: 'prove', piece: join(dir, `${piece.cid}.piece`), tree: join(dir, `${piece.cid}.tree`), leaves });
    if (reply.type !== 'proofs') throw new Error(reply.type === 'seal-failed' ? reply.error : 'the seal worker gave no proofs');
    return reply.proofs;
  }

  /**
   * Deletes a stored piece (payload, tree, then its record, journaled with why). With `source`,
   * only a piece that came from there: a hub can make this node let go of what it gave it, never
   * of a file the user added. Returns whether a piece was removed.
   */
  async remove(cid: string, reason: string, source?: string): Promise<boolean> {
    // The CID names files on disk, so only a well-formed one is looked up, and the names used are
    // the index's own.
    if (!PieceCidText.safeParse(cid).success) return false;
    const piece = this.index.get(cid);
    if (!piece || (source !== undefined && piece.source !== source)) return false;
    const dir = this.piecesDir();
    await rm(join(dir, `${piece.cid}.piece`), { force: true });
    await rm(join(dir, `${piece.cid}.tree`), { force: true });
    this.index.remove(piece.cid, reason.slice(0, 300));
    this.o.log.info('piece removed', { cid: piece.cid, source: piece.source, reason: reason.slice(0, 300) });
    return true;
  }

  /** A hub's verdict on proofs this node sent, kept in the proof history beside local checks. */
  recordProof(cid: string, check: ProofCheck): void {
    if (this.index.get(cid)) this.index.proved(cid, check);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.scrubTimer);
    await this.running?.catch(() => undefined);
    this.index.close();
  }

  // ---- ingest ---------------------------------------------------------------------------------------

  private pump(): void {
    if (this.closed || this.running || this.queue.length === 0) return;
    const why = this.blocked();
    if (why) {
      for (const j of this.queue) j.ingest.reason = why;
      return;
    }
    const job = this.queue.shift()!;
    this.current = job.ingest;
    this.busy++;
    this.running = this.ingestOne(job)
      .catch((err: unknown) => {
        this.o.log.error('storing a file failed', { ingest: job.ingest.id, err });
        this.finish(job.ingest, 'failed', `Storing failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.busy--;
        this.current = null;
        this.running = null;
        this.pump();
      });
  }

  private finish(ingest: Ingest, state: 'done' | 'failed', reason: string | null, cid: string | null = null): void {
    Object.assign(ingest, { state, reason, cid, at: this.now().toISOString() });
    if (this.current === ingest) this.current = null;
    this.ingests = [ingest, ...this.ingests.filter((i) => i !== ingest)].slice(0, INGEST_HISTORY);
  }

  private async ingestOne(job: Job): Promise<void> {
    const { ingest } = job;
    const dir = this.piecesDir();
    const settings = this.o.settings();
    const size = (await stat(ingest.file)).size;
    const used = this.index.list().filter((p) => p.state !== 'rejected').reduce((s, p) => s + p.diskBytes, 0);
    const disk = await diskNumbers(settings.folder!, settings.capBytes, used);
    // The tree adds about 1/512 of the padded size; the margin keeps the check honest.
    const needed = size + Math.ceil(size / 256) + 64 * 1024;
    if (needed > disk.availableBytes) {
      this.finish(ingest, 'failed', `Not enough room: the file needs ${needed} bytes, and ${disk.availableBytes} may still be used (your cap, and the ${disk.reserveBytes} bytes always left free on this disk).`);
      return;
    }
    const tmpPiece = join(dir, `.incoming-${ingest.id}.piece`);
    const tmpTree = join(dir, `.incoming-${ingest.id}.tree`);
    const cleanup = () => Promise.all([rm(tmpPiece, { force: true }), rm(tmpTree, { force: true })]);
    try {
      ingest.state = 'copying';
      ingest.reason = null;
      await (this.o.copy ?? copyDurably)(ingest.file, tmpPiece);
      ingest.state = 'sealing';
      const reply = await this.withWorker(`seal-${ingest.id}`, { type: 'seal', piece: tmpPiece, tree: tmpTree });
      if (reply.type !== 'sealed') throw new Error(reply.type === 'seal-failed' ? reply.error : 'the seal worker gave no commitment');
      const sealed = reply.piece;
      if (job.expectCid && sealed.cidV1 !== job.expectCid) {
        await cleanup();
        this.o.log.warn('a piece did not match its expected commitment; removed', { expected: job.expectCid, got: sealed.cidV1 });
        this.finish(ingest, 'failed', `Rejected: its commitment is ${sealed.cidV1}, not the expected ${job.expectCid}. Nothing was kept.`);
        return;
      }
      const existing = this.index.get(sealed.cidV1);
      if (existing && existing.state === 'sealed' && existsSync(join(dir, `${sealed.cidV1}.piece`))) {
        await cleanup();
        this.finish(ingest, 'done', 'Already stored: the same bytes are kept once.', sealed.cidV1);
        return;
      }
      await rename(tmpPiece, join(dir, `${sealed.cidV1}.piece`));
      await rename(tmpTree, join(dir, `${sealed.cidV1}.tree`));
      this.index.put(await this.record(dir, sealed, job.source === 'local' ? ingest.file : null, job.source));
      this.o.log.info('piece stored and sealed', { cid: sealed.cidV1, payloadSize: sealed.payloadSize });
      this.finish(ingest, 'done', null, sealed.cidV1);
    } catch (err) {
      await cleanup();
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOSPC') this.finish(ingest, 'failed', 'The disk filled up while copying; the partial copy was removed and nothing was stored.');
      else throw err;
    }
  }

  private async record(dir: string, s: SealedPiece, origin: string | null, source: string): Promise<PieceRecord> {
    const diskBytes = (await diskBytesOf(join(dir, `${s.cidV1}.piece`))) + (await diskBytesOf(join(dir, `${s.cidV1}.tree`)));
    return { cid: s.cidV1, cidV2: s.cidV2, payloadSize: s.payloadSize, paddedSize: s.paddedSize, diskBytes, state: 'sealed', source, origin, addedAt: this.now().toISOString(), lastProof: null, lastScrub: null };
  }

  /** One command to a fresh seal worker, its one answer, and the worker gone again. */
  private async withWorker(tag: string, command: AgentToSealWorker): Promise<SealWorkerToAgent> {
    if (!this.o.starter.startSeal) throw new Error('this agent cannot start seal workers');
    const conn: SealConnection = await this.o.starter.startSeal(tag);
    this.workers.add(conn.pid);
    try {
      return await new Promise<SealWorkerToAgent>((resolve, reject) => {
        conn.onMessage((m) => resolve(m));
        conn.onInvalid((issue) => reject(new Error(`the seal worker spoke out of turn: ${issue}`)));
        conn.onExit((code, signal) => reject(new Error(`the seal worker stopped (${signal ?? `exit code ${code}`})`)));
        conn.send(command);
      });
    } finally {
      conn.kill();
      this.workers.delete(conn.pid);
    }
  }

  // ---- the scrub ------------------------------------------------------------------------------------

  /** Re-hashes one random sealed piece; a mismatch marks it corrupt (never served again). */
  async scrubOne(): Promise<PieceRecord | null> {
    if (this.closed || this.blocked() || !this.o.settings().folder) return null;
    const sealed = this.index.list().filter((p) => p.state === 'sealed');
    if (sealed.length === 0) return null;
    const piece = sealed[Math.floor(Math.random() * sealed.length)]!;
    return this.scrub(piece.cid);
  }

  async scrub(cid: string): Promise<PieceRecord | null> {
    const piece = this.index.get(cid);
    if (!piece) return null;
    const dir = this.piecesDir();
    this.busy++;
    try {
      const reply = await this.withWorker(`scrub-${cid.slice(-8)}`, { type: 'commp', piece: join(dir, `${cid}.piece`) });
      const at = this.now().toISOString();
      const ok = reply.type === 'sealed' && reply.piece.cidV1 === cid;
      const problem = ok ? null : reply.type === 'sealed' ? `its bytes now hash to ${reply.piece.cidV1}` : reply.type === 'seal-failed' ? reply.error : 'no answer';
      const next: PieceRecord = { ...piece, state: ok ? piece.state : 'corrupt', lastScrub: { at, ok, problem } };
      this.index.put(next);
      if (!ok) this.o.log.error('a stored piece is corrupt; it will not be served', { cid, problem });
      return next;
    } finally {
      this.busy--;
    }
  }

  /** Pieces and leftovers on disk, for tests and the startup check. */
  async filesOnDisk(): Promise<string[]> {
    try {
      return (await readdir(this.piecesDir())).sort();
    } catch {
      return [];
    }
  }
}
