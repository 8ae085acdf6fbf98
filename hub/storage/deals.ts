// Storage deals: files the customer stores as N replicas, each replica a deal with one provider.
// Offers go out when a provider polls (so a provider that is not polling is not online and gets
// nothing), challenges are issued by the sweep on a schedule and checked against the root in the
// replica's piece CID, and a replica that fails or misses one is marked unhealthy, recorded against
// its provider, and replaced by a copy of a healthy replica that a healthy provider uploads.
//
// Periods: a file is stored until a fixed end (`until_ms`, set from the customer's days). After
// it the replicas end: no challenges, credits paid up to the end and never beyond, no repairs, and
// every provider that held one is told to drop it (as is the provider of an unhealthy replica once
// the file is back to full health without it).
//
// Blobs: the hub keeps a replica's blob only while some deal still needs it (staging); once every
// deal for those bytes is confirmed it is deleted, and retrieval or repair asks a provider to
// upload the bytes again.
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlobHex,
  LEAF_SIZE,
  decodePieceCidV1,
  deriveChallenges,
  paddedPieceSize,
  verifyProof,
  type ChallengeProofRequest,
  type ChallengeResult,
  type DealOffer,
  type DealView,
  type DropRequest,
  type ReplicaState,
  type ReplicaView,
  type RetrievalRequest,
  type RetrieveFileResponse,
  type StorageChallenge,
  type StoragePollRequest,
  type StoragePollResponse,
  type StoreFileRequest,
  type StoredFileView,
} from '../../protocol/index.js';
import type { Db, Queryable } from '../db/db.js';
import { iso, type Clock } from '../clock.js';
import type { CreditSink } from '../credit-sink.js';
import { commpFile } from '../../workers/seal/commp.js';

export interface StorageOptions {
  /** How often each healthy replica is challenged (default 1 h). */
  challengeEveryMs?: number;
  /** How long a provider has to answer a challenge (default 10 min). */
  challengeDeadlineMs?: number;
  /** Leaves per challenge set (PDP's default is 5). */
  challengeLeaves?: number;
  /** How long an offer waits for accept and confirm, and a retrieval for its upload (default 30 min). */
  dealTtlMs?: number;
  retrievalTtlMs?: number;
  /** Minor units per GiB-day of a replica, credited per passed challenge (default '0': no credits). */
  pricePerGiBDay?: string;
}

/** The part of the blob store this needs: whether a whole blob is here, and where blobs live. */
export interface StagingBlobs {
  readonly dir: string;
  size(hex: string): Promise<number | null>;
}

export class StorageError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly code: 'bad_request' | 'not_found' | 'conflict' | 'forbidden',
    message: string,
  ) {
    super(message);
  }
}

interface FileRow {
  id: string;
  name: string;
  bytes: string | number;
  sha256: string;
  replicas_wanted: number;
  created_ms: string | number;
  until_ms: string | number;
}
interface ReplicaRow {
  id: string;
  seq: string | number;
  file_id: string;
  key_index: number;
  blob_hex: string;
  piece_cid: string;
  bytes: string | number;
  state: ReplicaState;
  provider: string | null;
  repair_of: string | null;
  refused_by: string[];
  deadline_ms: string | number | null;
  confirmed_ms: string | number | null;
  last_challenge_ms: string | number | null;
  last_credit_ms: string | number | null;
  passed: number;
  failed: number;
  drop_reason: DropRequest['reason'] | null;
  dropped_ms: string | number | null;
}
interface ChallengeRow {
  id: string;
  replica_id: string;
  provider: string;
  seed: string;
  leaves: number[];
  deadline_ms: string | number;
  state: 'open' | 'passed' | 'failed' | 'missed';
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;
const GIB = 1024n ** 3n;
const DAY_MS = 86_400_000n;
const LIVE: readonly ReplicaState[] = ['pending', 'offered', 'sealing', 'healthy'];
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Leaves of the piece tree of a replica of `bytes` payload bytes. */
export const leafCountOf = (bytes: number) => paddedPieceSize(bytes) / LEAF_SIZE;

export class StorageDeals {
  private readonly every: number;
  private readonly answerMs: number;
  private readonly leaves: number;
  private readonly dealTtl: number;
  private readonly retrievalTtl: number;
  private readonly price: bigint;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly blobs: StagingBlobs,
    o: StorageOptions = {},
    private readonly credits: CreditSink | null = null,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.every = o.challengeEveryMs ?? 3_600_000;
    this.answerMs = o.challengeDeadlineMs ?? 10 * 60_000;
    this.leaves = o.challengeLeaves ?? 5;
    this.dealTtl = o.dealTtlMs ?? 30 * 60_000;
    this.retrievalTtl = o.retrievalTtlMs ?? 30 * 60_000;
    this.price = BigInt(/^\d{1,30}$/.test(o.pricePerGiBDay ?? '0') ? (o.pricePerGiBDay ?? '0') : '0');
  }

  /** Whether the hub holds the whole blob of these bytes now. */
  private async onHand(hex: string, bytes: number): Promise<boolean> {
    return (await this.blobs.size(hex)) === bytes;
  }

  // ---- customer -----------------------------------------------------------------------------------

  async createFile(req: StoreFileRequest): Promise<StoredFileView> {
    for (const [i, r] of req.replicas.entries()) {
      const hex = BlobHex.parse(r.blob.slice('sha256:'.length));
      if (!(await this.onHand(hex, r.bytes))) throw new StorageError(409, 'conflict', `replica ${i}: upload its ${r.bytes} bytes to /v1/blobs/${hex} first`);
      // Checked here, once, rather than by every provider in turn refusing a deal it cannot meet.
      let cid: string;
      try {
        cid = (await commpFile(join(this.blobs.dir, hex))).cidV1;
      } catch (err) {
        throw new StorageError(409, 'conflict', `replica ${i}: its blob cannot be read (${(err as Error).message})`);
      }
      if (cid !== r.pieceCid) throw new StorageError(400, 'bad_request', `replica ${i}: its bytes have the piece CID ${cid}, not ${r.pieceCid}`);
    }
    const now = this.clock.now();
    const id = newId('f');
    await this.db.transaction(async (tx) => {
      await tx.query('insert into storage_files (id, name, bytes, sha256, replicas_wanted, created_ms, until_ms) values ($1, $2, $3, $4, $5, $6, $7)', [
        id,
        req.name,
        req.bytes,
        req.sha256,
        req.replicas.length,
        now,
        now + req.days * Number(DAY_MS),
      ]);
      for (const [i, r] of req.replicas.entries()) {
        await tx.query(
          `insert into storage_replicas (id, file_id, key_index, blob_hex, piece_cid, bytes, state, created_ms, updated_ms) values ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)`,
          [newId('d'), id, i, r.blob.slice('sha256:'.length), r.pieceCid, r.bytes, now],
        );
      }
    });
    return (await this.file(id))!;
  }

  async file(id: string): Promise<StoredFileView | null> {
    const { rows } = await this.db.query<FileRow>('select * from storage_files where id = $1', [id]);
    const f = rows[0];
    if (!f) return null;
    const { rows: reps } = await this.db.query<ReplicaRow>('select * from storage_replicas where file_id = $1 order by seq', [id]);
    return {
      id: f.id,
      name: f.name,
      bytes: Number(f.bytes),
      sha256: f.sha256,
      replicasWanted: f.replicas_wanted,
      replicas: reps.map(replicaView),
      createdAt: iso(Number(f.created_ms)),
      until: iso(Number(f.until_ms)),
      state: Number(f.until_ms) <= this.clock.now() ? 'expired' : 'active',
    };
  }

  /**
   * A replica the customer can download now, or null after asking a healthy provider to upload
   * one. Any replica whose bytes the hub still holds will do: they are exactly what was uploaded.
   */
  async retrieve(id: string): Promise<RetrieveFileResponse & { status: 200 | 202 }> {
    const file = await this.file(id);
    if (!file) throw new StorageError(404, 'not_found', 'no such file');
    // Past its end the hub guarantees nothing, so it serves nothing: a plain answer beats a copy
    // that happens to survive on some disk today and not tomorrow.
    if (file.state === 'expired') throw new StorageError(409, 'conflict', `the storage period ended on ${file.until}: the hub no longer keeps this file`);
    const usable = file.replicas.filter((r) => r.state !== 'unhealthy');
    for (const r of usable) {
      if (await this.onHand(r.blob.slice('sha256:'.length), r.bytes)) {
        return { status: 200, file, download: { replicaId: r.id, keyIndex: r.keyIndex, blob: r.blob, bytes: r.bytes, pieceCid: r.pieceCid }, retryAfterS: 0 };
      }
    }
    const healthy = file.replicas.filter((r) => r.state === 'healthy');
    if (healthy.length === 0) throw new StorageError(409, 'conflict', 'no healthy replica of this file is stored now; the hub is repairing it or it is lost');
    await this.requestUpload(healthy.map((r) => r.id), 'download');
    return { status: 202, file, download: null, retryAfterS: 2 };
  }

  /** An open retrieval for one of these replicas, unless there is one already. */
  private async requestUpload(replicaIds: string[], purpose: 'repair' | 'download'): Promise<void> {
    const now = this.clock.now();
    const { rows: open } = await this.db.query<{ id: string }>("select id from storage_retrievals where replica_id = any($1::text[]) and state = 'open' and deadline_ms >= $2 and purpose = $3", [
      replicaIds,
      now,
      purpose,
    ]);
    if (open.length > 0) return;
    // The provider seen most recently is the likeliest to answer soon.
    const { rows } = await this.db.query<ReplicaRow>(
      `select r.* from storage_replicas r join nodes n on n.address = r.provider
       where r.id = any($1::text[]) and r.state = 'healthy' order by n.last_seen_at desc limit 1`,
      [replicaIds],
    );
    const r = rows[0];
    if (!r) return;
    await this.db.query("insert into storage_retrievals (id, replica_id, provider, blob_hex, purpose, state, created_ms, deadline_ms) values ($1, $2, $3, $4, $5, 'open', $6, $7)", [
      newId('r'),
      r.id,
      r.provider,
      r.blob_hex,
      purpose,
      now,
      now + this.retrievalTtl,
    ]);
  }

  // ---- provider -----------------------------------------------------------------------------------

  async poll(node: string, req: StoragePollRequest): Promise<StoragePollResponse> {
    const now = this.clock.now();
    if (req.acceptDeals) await this.offer(node, req.freeBytes, now);
    const { rows: deals } = await this.db.query<ReplicaRow & { until_ms: string | number }>(
      `select r.*, f.until_ms from storage_replicas r join storage_files f on f.id = r.file_id
       where r.provider = $1 and r.state in ('offered', 'sealing') and r.deadline_ms >= $2 and f.until_ms > $2 order by r.seq limit 16`,
      [node, now],
    );
    const { rows: challenges } = await this.db.query<ChallengeRow & { piece_cid: string }>(
      `select c.*, r.piece_cid from storage_challenges c join storage_replicas r on r.id = c.replica_id
       where c.provider = $1 and c.state = 'open' and c.deadline_ms >= $2 order by c.created_ms limit 256`,
      [node, now],
    );
    const { rows: retrievals } = await this.db.query<{ id: string; replica_id: string; blob_hex: string; piece_cid: string; bytes: string | number }>(
      `select t.id, t.replica_id, t.blob_hex, r.piece_cid, r.bytes from storage_retrievals t join storage_replicas r on r.id = t.replica_id
       where t.provider = $1 and t.state = 'open' and t.deadline_ms >= $2 and r.state = 'healthy' order by t.created_ms limit 16`,
      [node, now],
    );
    const wanted: RetrievalRequest[] = [];
    for (const t of retrievals) {
      // Someone already brought the bytes back: nothing left to ask.
      if (await this.onHand(t.blob_hex, Number(t.bytes))) {
        await this.db.query("update storage_retrievals set state = 'done' where id = $1", [t.id]);
        continue;
      }
      wanted.push({ retrievalId: t.id, dealId: t.replica_id, pieceCid: t.piece_cid, blob: `sha256:${t.blob_hex}`, bytes: Number(t.bytes) });
    }
    // Never a piece this node still holds for a live replica: a drop names the bytes, not the deal.
    const { rows: drops } = await this.db.query<{ id: string; piece_cid: string; drop_reason: DropRequest['reason'] }>(
      `select r.id, r.piece_cid, r.drop_reason from storage_replicas r where r.provider = $1 and r.drop_reason is not null and r.dropped_ms is null
       and not exists (select 1 from storage_replicas o where o.provider = $1 and o.piece_cid = r.piece_cid and o.id <> r.id and o.state = any($2::text[]))
       order by r.seq limit 64`,
      [node, LIVE],
    );
    return {
      deals: deals.map(
        (d): DealOffer => ({
          dealId: d.id,
          blob: `sha256:${d.blob_hex}`,
          pieceCid: d.piece_cid,
          bytes: Number(d.bytes),
          deadline: iso(Number(d.deadline_ms)),
          until: iso(Number(d.until_ms)),
        }),
      ),
      challenges: challenges.map(
        (c): StorageChallenge => ({ challengeId: c.id, dealId: c.replica_id, pieceCid: c.piece_cid, seed: c.seed, leaves: c.leaves, deadline: iso(Number(c.deadline_ms)) }),
      ),
      retrievals: wanted,
      drops: drops.map((d): DropRequest => ({ dealId: d.id, pieceCid: d.piece_cid, reason: d.drop_reason })),
    };
  }

  /** The node no longer holds a replica it was told to drop; the hub stops listing it. */
  async dropped(node: string, dealId: string): Promise<{ dealId: string; dropped: true }> {
    const r = await this.deal(node, dealId);
    if (r.drop_reason === null) throw new StorageError(409, 'conflict', `the deal is ${r.state}, and its replica is still wanted`);
    await this.db.query('update storage_replicas set dropped_ms = coalesce(dropped_ms, $2) where id = $1', [dealId, this.clock.now()]);
    return { dealId, dropped: true };
  }

  /** Hands pending replicas to this node: bytes on hand, within its offer and room, one per file. */
  private async offer(node: string, freeBytes: number, now: number): Promise<void> {
    const { rows: caps } = await this.db.query<{ disk: string | number | null }>("select (capabilities->>'diskOfferedBytes')::bigint as disk from nodes where address = $1", [node]);
    const offered = Math.min(Number(caps[0]?.disk ?? 0), freeBytes);
    if (offered <= 0) return;
    const { rows } = await this.db.query<ReplicaRow>(
      `select r.* from storage_replicas r join storage_files f on f.id = r.file_id where r.state = 'pending' and r.bytes <= $2 and not (r.refused_by ? $1)
       and f.until_ms > $3 and not exists (select 1 from storage_replicas o where o.file_id = r.file_id and o.provider = $1)
       order by r.seq limit 32`,
      [node, offered, now],
    );
    let room = offered;
    const files = new Set<string>();
    for (const r of rows) {
      const bytes = Number(r.bytes);
      if (files.has(r.file_id) || bytes > room || !(await this.onHand(r.blob_hex, bytes))) continue;
      // The state in the where clause is what makes two racing polls offer a replica once.
      const { rowCount } = await this.db.query(
        `update storage_replicas set state = 'offered', provider = $2, deadline_ms = $3, updated_ms = $4 where id = $1 and state = 'pending'
         and not exists (select 1 from storage_replicas o where o.file_id = $5 and o.provider = $2)`,
        [r.id, node, now + this.dealTtl, now, r.file_id],
      );
      if (rowCount > 0) {
        files.add(r.file_id);
        room -= bytes;
      }
    }
  }

  private async deal(node: string, dealId: string): Promise<ReplicaRow & { until_ms: string | number }> {
    const { rows } = await this.db.query<ReplicaRow & { until_ms: string | number }>(
      'select r.*, f.until_ms from storage_replicas r join storage_files f on f.id = r.file_id where r.id = $1 and r.provider = $2',
      [dealId, node],
    );
    if (!rows[0]) throw new StorageError(404, 'not_found', 'no such deal for this node');
    return rows[0];
  }

  /** A deal not yet healthy cannot start once its file's period is over. */
  private notEnded(r: { until_ms: string | number }): void {
    if (Number(r.until_ms) <= this.clock.now()) throw new StorageError(409, 'conflict', `the deal ended on ${iso(Number(r.until_ms))}`);
  }

  async accept(node: string, dealId: string): Promise<DealView> {
    const r = await this.deal(node, dealId);
    if (r.state === 'offered') {
      this.notEnded(r);
      const deadline = this.clock.now() + this.dealTtl;
      await this.db.query("update storage_replicas set state = 'sealing', deadline_ms = $3, updated_ms = $4 where id = $1 and provider = $2 and state = 'offered'", [
        dealId,
        node,
        deadline,
        this.clock.now(),
      ]);
      return { dealId, state: 'sealing', pieceCid: r.piece_cid, deadline: iso(deadline) };
    }
    if (r.state === 'sealing') return dealView(r);
    throw new StorageError(409, 'conflict', `the deal is ${r.state}`);
  }

  async confirm(node: string, dealId: string, pieceCid: string): Promise<DealView> {
    const r = await this.deal(node, dealId);
    if (pieceCid !== r.piece_cid) throw new StorageError(400, 'bad_request', `the deal's piece CID is ${r.piece_cid}, not ${pieceCid}`);
    if (r.state === 'healthy') return dealView(r);
    if (r.state !== 'offered' && r.state !== 'sealing') throw new StorageError(409, 'conflict', `the deal is ${r.state}`);
    this.notEnded(r);
    const now = this.clock.now();
    const { rowCount } = await this.db.query(
      `update storage_replicas set state = 'healthy', deadline_ms = null, confirmed_ms = $3, last_challenge_ms = $3, last_credit_ms = $3, updated_ms = $3
       where id = $1 and provider = $2 and state in ('offered', 'sealing')`,
      [dealId, node, now],
    );
    if (rowCount === 0) throw new StorageError(409, 'conflict', 'the deal changed meanwhile');
    await this.dropStaging(r.blob_hex);
    return { dealId, state: 'healthy', pieceCid: r.piece_cid, deadline: null };
  }

  async reject(node: string, dealId: string, reason: string): Promise<DealView> {
    const r = await this.deal(node, dealId);
    if (r.state !== 'offered' && r.state !== 'sealing') throw new StorageError(409, 'conflict', `the deal is ${r.state}`);
    await this.db.query(
      `update storage_replicas set state = 'pending', provider = null, deadline_ms = null, refused_by = refused_by || to_jsonb($2::text), updated_ms = $3
       where id = $1 and state in ('offered', 'sealing')`,
      [dealId, node, this.clock.now()],
    );
    this.log(`hub: storage deal ${dealId} refused by ${node}: ${reason.slice(0, 200)}`);
    return { dealId, state: 'pending', pieceCid: r.piece_cid, deadline: null };
  }

  /** Deletes a blob once no deal still has to download it, nor a customer who asked for it lately. */
  private async dropStaging(hex: string): Promise<void> {
    const { rowCount } = await this.db.query(
      `select 1 from storage_replicas where blob_hex = $1 and state in ('pending', 'offered', 'sealing')
       union all select 1 from storage_retrievals where blob_hex = $1 and purpose = 'download' and state in ('open', 'done') limit 1`,
      [hex],
    );
    if (rowCount > 0) return;
    await unlink(join(this.blobs.dir, BlobHex.parse(hex))).catch(() => undefined);
  }

  async proof(node: string, challengeId: string, req: ChallengeProofRequest): Promise<ChallengeResult> {
    const { rows } = await this.db.query<ChallengeRow & { piece_cid: string; bytes: string | number; file_id: string; until_ms: string | number }>(
      `select c.*, r.piece_cid, r.bytes, r.file_id, f.until_ms from storage_challenges c join storage_replicas r on r.id = c.replica_id
       join storage_files f on f.id = r.file_id where c.id = $1 and c.provider = $2`,
      [challengeId, node],
    );
    const c = rows[0];
    if (!c) throw new StorageError(404, 'not_found', 'no such challenge for this node');
    if (c.state !== 'open') throw new StorageError(409, 'conflict', `the challenge is already ${c.state}`);
    const now = this.clock.now();
    if (Number(c.deadline_ms) < now) throw new StorageError(409, 'conflict', 'the challenge deadline has passed');
    let verified = 0;
    let detail: string;
    if ('lost' in req) {
      detail = `the provider reports its copy lost: ${req.lost.reason}`;
    } else {
      // An answer to other leaves than asked is not an answer: refused, and the challenge stays open.
      if (req.proofs.length !== c.leaves.length || req.proofs.some((p, k) => p.leaf !== c.leaves[k])) {
        throw new StorageError(400, 'bad_request', `answer the challenged leaves ${c.leaves.join(', ')}, in that order`);
      }
      const root = decodePieceCidV1(c.piece_cid).root;
      const count = leafCountOf(Number(c.bytes));
      verified = req.proofs.filter((p) => verifyProof(root, p.leaf, count, { leaf: fromHex(p.value), path: p.path.map(fromHex) })).length;
      detail = `${c.leaves.length - verified} of ${c.leaves.length} proofs did not verify`;
    }
    const passed = verified === c.leaves.length;
    const recorded = await this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query("update storage_challenges set state = $2, answered_ms = $3, detail = $4 where id = $1 and state = 'open'", [
        challengeId,
        passed ? 'passed' : 'failed',
        now,
        passed ? null : detail,
      ]);
      if (rowCount === 0) return false;
      if (passed) {
        await tx.query('update storage_replicas set passed = passed + 1, updated_ms = $2 where id = $1', [c.replica_id, now]);
        // A challenge open across the end is still answered, but pays only up to the end.
        await this.credit(tx, c.replica_id, node, challengeId, c.file_id, Math.min(now, Number(c.until_ms)));
      } else {
        await this.markUnhealthy(tx, c.replica_id, now);
      }
      return true;
    });
    if (!recorded) throw new StorageError(409, 'conflict', 'the challenge was answered meanwhile');
    if (!passed) this.log(`hub: storage challenge ${challengeId} failed by ${node} (${detail})`);
    return { challengeId, passed, verified, of: c.leaves.length };
  }

  /** Pays the replica's GiB-days since its last credit; a remainder under one minor unit waits. */
  private async credit(tx: Queryable, replicaId: string, node: string, challengeId: string, fileId: string, now: number): Promise<void> {
    if (!this.credits || this.price === 0n) return;
    const { rows } = await tx.query<{ bytes: string | number; last_credit_ms: string | number }>('select bytes, last_credit_ms from storage_replicas where id = $1 for update', [replicaId]);
    const r = rows[0];
    if (!r) return;
    const since = BigInt(now) - BigInt(r.last_credit_ms ?? now);
    const amount = (this.price * BigInt(r.bytes) * (since > 0n ? since : 0n)) / (GIB * DAY_MS);
    if (amount <= 0n) return;
    // Only the time actually paid for moves forward, so rounding never loses a provider money.
    const paidMs = (amount * GIB * DAY_MS) / (this.price * BigInt(r.bytes));
    await tx.query('update storage_replicas set last_credit_ms = last_credit_ms + $2 where id = $1', [replicaId, paidMs.toString()]);
    await this.credits.credit(tx, { node, kind: 'storage', taskId: challengeId, jobId: fileId, amount: amount.toString(), device: 'disk' });
  }

  private async markUnhealthy(tx: Queryable, replicaId: string, now: number): Promise<void> {
    await tx.query("update storage_replicas set state = 'unhealthy', failed = failed + 1, updated_ms = $2 where id = $1", [replicaId, now]);
  }

  async retrievalDone(node: string, retrievalId: string): Promise<{ retrievalId: string; received: boolean }> {
    const { rows } = await this.db.query<{ blob_hex: string; bytes: string | number }>(
      'select t.blob_hex, r.bytes from storage_retrievals t join storage_replicas r on r.id = t.replica_id where t.id = $1 and t.provider = $2',
      [retrievalId, node],
    );
    const t = rows[0];
    if (!t) throw new StorageError(404, 'not_found', 'no such retrieval for this node');
    const received = await this.onHand(t.blob_hex, Number(t.bytes));
    if (received) await this.db.query("update storage_retrievals set state = 'done' where id = $1", [retrievalId]);
    return { retrievalId, received };
  }

  // ---- the schedule -------------------------------------------------------------------------------

  async sweep(): Promise<void> {
    const now = this.clock.now();
    // Offers and seals that ran out go back to the pool; a provider that sat on one is not asked again.
    await this.db.query(
      `update storage_replicas set state = 'pending', refused_by = case when state = 'sealing' then refused_by || to_jsonb(provider) else refused_by end,
       provider = null, deadline_ms = null, updated_ms = $1 where state in ('offered', 'sealing') and deadline_ms < $1`,
      [now],
    );
    // Missed challenges count as failed ones.
    const { rows: missed } = await this.db.query<{ replica_id: string; id: string; provider: string }>(
      "update storage_challenges set state = 'missed', answered_ms = $1 where state = 'open' and deadline_ms < $1 returning replica_id, id, provider",
      [now],
    );
    for (const m of missed) {
      await this.db.transaction((tx) => this.markUnhealthy(tx, m.replica_id, now));
      this.log(`hub: storage challenge ${m.id} missed by ${m.provider}`);
    }
    await this.db.query("update storage_retrievals set state = 'abandoned' where state = 'open' and deadline_ms < $1", [now]);
    // Bytes a provider brought back for a download are kept a while for the customer, then let go.
    const { rows: served } = await this.db.query<{ blob_hex: string }>(
      "update storage_retrievals set state = 'cleared' where state = 'done' and purpose = 'download' and created_ms < $1 returning blob_hex",
      [now - this.retrievalTtl],
    );
    for (const hex of new Set(served.map((r) => r.blob_hex))) await this.dropStaging(hex);
    await this.expire(now);
    await this.issueChallenges(now);
    await this.repair(now);
  }

  /**
   * Ends the replicas of files whose period is over. A healthy one is paid up to the end exactly
   * (it passed its last challenge and no open one is left), then its provider is told to drop it;
   * one with a challenge still open waits for the answer or the deadline.
   */
  private async expire(now: number): Promise<void> {
    const { rows } = await this.db.query<ReplicaRow & { until_ms: string | number }>(
      `select r.*, f.until_ms from storage_replicas r join storage_files f on f.id = r.file_id
       where f.until_ms <= $1 and r.state = any($2::text[])
       and not exists (select 1 from storage_challenges c where c.replica_id = r.id and c.state = 'open') order by r.seq limit 500`,
      [now, LIVE],
    );
    for (const r of rows) {
      await this.db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `update storage_replicas set state = 'ended', deadline_ms = null, drop_reason = case when provider is null then null else 'ended' end, updated_ms = $2
           where id = $1 and state = $3`,
          [r.id, now, r.state],
        );
        if (rowCount > 0 && r.state === 'healthy' && r.provider) await this.credit(tx, r.id, r.provider, r.id, r.file_id, Number(r.until_ms));
      });
      // A replica that never got placed leaves its staged upload behind otherwise.
      if (r.state !== 'healthy') await this.dropStaging(r.blob_hex);
    }
    // Unhealthy copies of ended files are let go as well (their record stays).
    await this.db.query(
      `update storage_replicas r set drop_reason = 'ended', updated_ms = $1 from storage_files f
       where f.id = r.file_id and f.until_ms <= $1 and r.state = 'unhealthy' and r.provider is not null and r.drop_reason is null`,
      [now],
    );
  }

  private async issueChallenges(now: number): Promise<void> {
    const { rows } = await this.db.query<ReplicaRow>(
      `select r.* from storage_replicas r join storage_files f on f.id = r.file_id where r.state = 'healthy' and r.last_challenge_ms <= $1 and f.until_ms > $2
       and not exists (select 1 from storage_challenges c where c.replica_id = r.id and c.state = 'open') order by r.last_challenge_ms limit 500`,
      [now - this.every, now],
    );
    for (const r of rows) {
      const seed = randomBytes(32).toString('hex');
      // The replica's sequence number is its data-set id: each replica's leaves differ for one seed.
      const leaves = deriveChallenges(BigInt(`0x${seed}`), BigInt(r.seq), this.leaves, [leafCountOf(Number(r.bytes))]).map((c) => c.leafIndex);
      await this.db.transaction(async (tx) => {
        await tx.query("insert into storage_challenges (id, replica_id, provider, seed, leaves, deadline_ms, state, created_ms) values ($1, $2, $3, $4, $5, $6, 'open', $7)", [
          newId('c'),
          r.id,
          r.provider,
          seed,
          JSON.stringify(leaves),
          now + this.answerMs,
          now,
        ]);
        await tx.query('update storage_replicas set last_challenge_ms = $2 where id = $1', [r.id, now]);
      });
    }
  }

  /** Keeps each file at its wanted number of live replicas, from the healthy ones left. */
  private async repair(now: number): Promise<void> {
    const { rows: short } = await this.db.query<{ id: string; replicas_wanted: number; live: string | number }>(
      `select f.id, f.replicas_wanted, count(r.id) filter (where r.state = any($1::text[])) as live
       from storage_files f join storage_replicas r on r.file_id = f.id where f.until_ms > $2 group by f.id, f.replicas_wanted
       having count(r.id) filter (where r.state = any($1::text[])) < f.replicas_wanted`,
      [LIVE, now],
    );
    for (const f of short) {
      const { rows: healthy } = await this.db.query<ReplicaRow>("select * from storage_replicas where file_id = $1 and state = 'healthy' order by passed desc, seq", [f.id]);
      const source = healthy[0];
      if (!source) continue;
      for (let n = Number(f.live); n < f.replicas_wanted; n++) {
        await this.db.query(
          `insert into storage_replicas (id, file_id, key_index, blob_hex, piece_cid, bytes, state, repair_of, created_ms, updated_ms)
           values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8)`,
          [newId('d'), f.id, source.key_index, source.blob_hex, source.piece_cid, source.bytes, source.id, now],
        );
        this.log(`hub: storage file ${f.id} is short of replicas; repairing from ${source.id}`);
      }
    }
    // An unhealthy copy is let go only once the file has its wanted healthy replicas without it:
    // until then it is the record, and a provider that only missed a challenge may still hold it.
    await this.db.query(
      `update storage_replicas u set drop_reason = 'replaced', updated_ms = $1 from storage_files f
       where f.id = u.file_id and u.state = 'unhealthy' and u.provider is not null and u.drop_reason is null
       and (select count(*) from storage_replicas h where h.file_id = u.file_id and h.state = 'healthy') >= f.replicas_wanted`,
      [now],
    );
    // Repairs whose bytes are not here: ask a healthy holder of those bytes to upload them, or
    // re-point the repair at another healthy replica when none holds them any more.
    const { rows: waiting } = await this.db.query<ReplicaRow>("select * from storage_replicas where state = 'pending' and repair_of is not null", []);
    for (const w of waiting) {
      if (await this.onHand(w.blob_hex, Number(w.bytes))) continue;
      const { rows: holders } = await this.db.query<{ id: string }>("select id from storage_replicas where file_id = $1 and blob_hex = $2 and state = 'healthy'", [w.file_id, w.blob_hex]);
      if (holders.length > 0) {
        await this.requestUpload(holders.map((h) => h.id), 'repair');
        continue;
      }
      const { rows: other } = await this.db.query<ReplicaRow>("select * from storage_replicas where file_id = $1 and state = 'healthy' order by passed desc, seq limit 1", [w.file_id]);
      const o = other[0];
      if (!o) continue;
      await this.db.query('update storage_replicas set key_index = $2, blob_hex = $3, piece_cid = $4, bytes = $5, repair_of = $6, refused_by = \'[]\', updated_ms = $7 where id = $1 and state = \'pending\'', [
        w.id,
        o.key_index,
        o.blob_hex,
        o.piece_cid,
        o.bytes,
        o.id,
        now,
      ]);
    }
  }
}

function replicaView(r: ReplicaRow): ReplicaView {
  return {
    id: r.id,
    keyIndex: r.key_index,
    blob: `sha256:${r.blob_hex}`,
    pieceCid: r.piece_cid,
    bytes: Number(r.bytes),
    state: r.state,
    provider: r.provider,
    repairOf: r.repair_of,
    confirmedAt: r.confirmed_ms === null ? null : iso(Number(r.confirmed_ms)),
    challengesPassed: Number(r.passed),
    challengesFailed: Number(r.failed),
  };
}

function dealView(r: ReplicaRow): DealView {
  return { dealId: r.id, state: r.state, pieceCid: r.piece_cid, deadline: r.deadline_ms === null ? null : iso(Number(r.deadline_ms)) };
}
