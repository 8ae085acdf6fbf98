// Storage deals with one hub, run after each heartbeat: poll for deals, challenges and retrievals,
// and work each one off in the background so the heartbeat never waits on a download or a seal.
// - Deals only while the rules allow disk work (the storage service's own decision): accept,
//   download the replica blob, store and seal it through the storage service with the deal's piece
//   CID as the expected one (a mismatch is rejected and nothing kept), then confirm or reject.
// - Challenges whatever the rules say, like local proofs: the proofs come from the seal worker for
//   exactly the leaves asked; the hub verifies them.
// - Retrievals upload the stored payload (not the padded piece) to the hub, resumably.
// - Drops (a deal ended, or a repair replaced an unhealthy copy) delete the piece through the
//   storage service, but only one this hub gave this node: a piece the user added, or another
//   hub's, is kept whatever the hub says. Then the hub is told, so it stops asking.
// Every answer from the hub is validated; a piece is found by the CID the local index holds, never
// by a path or name from the network.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlobHex,
  ChallengeResult,
  DealDroppedResponse,
  DealView,
  RetrievalDoneResponse,
  StoragePollResponse,
  type DealOffer,
  type DropRequest,
  type Ingest,
  type LeafProof,
  type PieceRecord,
  type ProofCheck,
  type RetrievalRequest,
  type StorageChallenge,
} from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { BlobCache, uploadBlob } from './blob-transfer.js';
import { HubRequestError, firstIssue, type HubHttp } from './hub-http.js';

/** What deals need of the agent's storage service (agent/storage/storage-service.ts). */
export interface DealStorage {
  dealRoom(): Promise<{ accept: boolean; freeBytes: number }>;
  add(req: { file: string; expectCid?: string }, source?: string): Promise<Ingest>;
  ingest(id: string): Ingest | undefined;
  piece(cid: string): PieceRecord | undefined;
  piecePath(cid: string): string | null;
  proveLeaves(cid: string, leaves: number[]): Promise<LeafProof[]>;
  recordProof?(cid: string, check: ProofCheck): void;
  /** Deletes a piece, only when it came from `source`; whether one was removed. */
  remove(cid: string, reason: string, source: string): Promise<boolean>;
}

export interface StorageDealsOptions {
  origin: string;
  storage: DealStorage;
  /** Where replica blobs are downloaded before they are stored (the agent's data dir). */
  dataDir: string;
  log: Logger;
  /** How often to look at an ingest while it is stored and sealed. */
  ingestPollMs?: number;
}

export class StorageDeals {
  private readonly cache: BlobCache;
  private readonly dir: string;
  /** How pieces from this hub are marked in the storage service (PieceRecord.source). */
  private readonly source: string;
  /** Deals, challenges and retrievals being worked on, by id, so a repeat in the next poll is skipped. */
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(private readonly o: StorageDealsOptions) {
    // One folder per hub (named by a hash of its origin, so no hub text becomes a path).
    this.dir = join(o.dataDir, 'network', 'storage-deals', createHash('sha256').update(o.origin).digest('hex').slice(0, 16));
    this.cache = new BlobCache({ dir: this.dir, log: o.log, keep: 0 });
    this.source = `hub:${new URL(o.origin).host}`.slice(0, 100);
  }

  stop(): void {
    this.stopped = true;
  }

  /** One poll and the work it brings; returns once the poll is answered (the work goes on). */
  async run(http: HubHttp): Promise<void> {
    if (this.stopped) return;
    const room = await this.o.storage.dealRoom().catch(() => ({ accept: false, freeBytes: 0 }));
    const answer = StoragePollResponse.safeParse(await http.post('/v1/storage/poll', { acceptDeals: room.accept, freeBytes: room.freeBytes }));
    if (!answer.success) throw new HubRequestError('invalid', `refused the hub's storage poll answer (${firstIssue(answer.error)})`);
    for (const c of answer.data.challenges) this.background(`c:${c.challengeId}`, () => this.answer(http, c));
    for (const r of answer.data.retrievals) this.background(`r:${r.retrievalId}`, () => this.upload(http, r));
    if (room.accept) for (const d of answer.data.deals) this.background(`d:${d.dealId}`, () => this.take(http, d));
    for (const d of answer.data.drops) if (!this.busy.has(`d:${d.dealId}`)) this.background(`x:${d.dealId}`, () => this.drop(http, d));
  }

  private async drop(http: HubHttp, d: DropRequest): Promise<void> {
    const piece = this.o.storage.piece(d.pieceCid);
    if (piece && piece.source !== this.source) {
      this.o.log.warn('a hub asked to drop a piece it did not give this node; kept', { hub: this.o.origin, cid: d.pieceCid, source: piece.source });
    } else if (piece) {
      const removed = await this.o.storage.remove(d.pieceCid, `${new URL(this.o.origin).host}: the deal ${d.reason === 'ended' ? 'ended' : 'was replaced by a repair'}`, this.source);
      this.o.log.info('dropped a replica the hub no longer needs', { hub: this.o.origin, cid: d.pieceCid, reason: d.reason, removed });
    }
    // Said also when nothing was removed: this node holds nothing for the hub under that deal.
    const done = DealDroppedResponse.safeParse(await http.post(`/v1/storage/deals/${encodeURIComponent(d.dealId)}/dropped`, {}));
    if (!done.success) throw new HubRequestError('invalid', `refused the hub's drop answer (${firstIssue(done.error)})`);
  }

  private background(key: string, work: () => Promise<void>): void {
    if (this.busy.has(key) || this.stopped) return;
    this.busy.add(key);
    work()
      .catch((err: unknown) => this.o.log.warn('storage deal work failed; the next poll tries again', { hub: this.o.origin, what: key, reason: (err as Error).message }))
      .finally(() => this.busy.delete(key));
  }

  /**
   * A piece this hub gave this node, or null. Challenges, retrievals and drops only ever touch
   * those: a hub that learns the CID of a file the user stored here themselves, or of another hub's
   * replica, must get neither proofs about it nor its bytes.
   */
  private ours(cid: string): ReturnType<DealStorage['piece']> | null {
    const piece = this.o.storage.piece(cid);
    return piece && piece.source === this.source ? piece : null;
  }

  private async answer(http: HubHttp, c: StorageChallenge): Promise<void> {
    if (!this.ours(c.pieceCid)) {
      this.o.log.warn('a hub challenged a piece it did not give this node', { hub: this.o.origin, cid: c.pieceCid });
      return;
    }
    // A piece this node's own scrub found damaged is never proved: a sampled challenge could miss
    // the damage and pass, so the node says it lost the copy and the hub repairs from another.
    const piece = this.o.storage.piece(c.pieceCid);
    const body =
      piece?.state === 'corrupt'
        ? { lost: { reason: (piece.lastScrub?.problem ?? 'the integrity check found the stored piece changed').slice(0, 300) } }
        : { proofs: await this.o.storage.proveLeaves(c.pieceCid, c.leaves) };
    const result = ChallengeResult.safeParse(await http.post(`/v1/storage/challenges/${encodeURIComponent(c.challengeId)}/proof`, body));
    if (!result.success) throw new HubRequestError('invalid', `refused the hub's challenge answer (${firstIssue(result.error)})`);
    const r = result.data;
    this.o.storage.recordProof?.(c.pieceCid, {
      at: new Date().toISOString(),
      challenges: r.of,
      passed: r.verified,
      problem: r.passed ? null : `${r.of - r.verified} of ${r.of} proofs did not verify at ${new URL(this.o.origin).host}`,
    });
    if (!result.data.passed) this.o.log.error('a hub says a storage proof failed', { hub: this.o.origin, cid: c.pieceCid, verified: result.data.verified, of: result.data.of });
  }

  private async upload(http: HubHttp, r: RetrievalRequest): Promise<void> {
    const piece = this.ours(r.pieceCid);
    const path = this.o.storage.piecePath(r.pieceCid);
    if (!piece || !path || piece.payloadSize !== r.bytes) {
      this.o.log.warn('a hub asked for a piece this node does not hold', { hub: this.o.origin, cid: r.pieceCid });
      return;
    }
    await uploadBlob(http, path, r.blob, r.bytes);
    const done = RetrievalDoneResponse.safeParse(await http.post(`/v1/storage/retrievals/${encodeURIComponent(r.retrievalId)}/done`, {}));
    if (!done.success) throw new HubRequestError('invalid', `refused the hub's retrieval answer (${firstIssue(done.error)})`);
    this.o.log.info('uploaded a stored replica for the hub', { hub: this.o.origin, cid: r.pieceCid, received: done.data.received });
  }

  private async take(http: HubHttp, d: DealOffer): Promise<void> {
    const deal = (suffix: string, body: unknown) => http.post(`/v1/storage/deals/${encodeURIComponent(d.dealId)}/${suffix}`, body).then((a) => DealView.parse(a));
    const held = this.o.storage.piece(d.pieceCid);
    // Already holding this hub's own replica (a confirm whose answer was lost): confirm again. The
    // same CID from anywhere else (the user's own file, another hub) is not offered up as this
    // deal: the hub would then challenge and retrieve it. Pieces are named by CID, so it is refused.
    if (held && held.source !== this.source) {
      await deal('reject', { reason: 'this node already stores a piece with that CID for someone else' });
      return;
    }
    if (held?.state === 'sealed') {
      await deal('confirm', { pieceCid: d.pieceCid });
      return;
    }
    await deal('accept', {});
    let file: string;
    try {
      file = await this.cache.get(http, d.blob, d.bytes);
    } catch (err) {
      if (err instanceof HubRequestError && err.kind === 'invalid') await deal('reject', { reason: `the replica could not be downloaded: ${err.message}`.slice(0, 300) });
      throw err;
    }
    try {
      let ingest = await this.o.storage.add({ file, expectCid: d.pieceCid }, this.source);
      while (ingest.state !== 'done' && ingest.state !== 'failed' && !this.stopped) {
        await new Promise((r) => setTimeout(r, this.o.ingestPollMs ?? 250));
        ingest = this.o.storage.ingest(ingest.id) ?? { ...ingest, state: 'failed', reason: 'the storage service forgot this ingest' };
      }
      if (ingest.state === 'done' && ingest.cid === d.pieceCid) {
        await deal('confirm', { pieceCid: d.pieceCid });
        this.o.log.info('stored and sealed a replica for a hub', { hub: this.o.origin, cid: d.pieceCid, bytes: d.bytes, until: d.until });
      } else if (ingest.state === 'failed') {
        await deal('reject', { reason: (ingest.reason ?? 'storing failed').slice(0, 300) });
      }
    } finally {
      this.cache.done(d.blob);
      // The piece folder has its own copy now; the download only took room.
      await rm(join(this.dir, BlobHex.parse(d.blob.slice('sha256:'.length))), { force: true }).catch(() => undefined);
    }
  }
}
