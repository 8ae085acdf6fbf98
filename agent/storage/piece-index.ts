// What the agent stores, in its append-only journal (<data>/history/pieces.jsonl): each change of a
// piece's record, each removal and each proof check. Replaying it gives the pieces and the proof
// history; nothing is rewritten, so a crash loses at most the line being written.
import { join } from 'node:path';
import { DATA_FILES, type PieceRecord, type ProofCheck, type StorageView } from '../../protocol/index.js';
import { Journal, readJournal } from '../journal.js';

type Entry = { type: 'piece'; record: PieceRecord } | { type: 'removed'; cid: string; reason?: string } | { type: 'proof'; cid: string; check: ProofCheck };

const PROOF_HISTORY = 100;

export class PieceIndex {
  private readonly journal: Journal<Entry>;
  private readonly pieces = new Map<string, PieceRecord>();
  private proofs: StorageView['proofs'] = [];

  constructor(dataDir: string, now: () => Date = () => new Date()) {
    const path = join(dataDir, DATA_FILES.historyDir, 'pieces.jsonl');
    this.journal = new Journal<Entry>(path, now);
    for (const { data } of readJournal<Entry>(path).entries) this.apply(data);
  }

  get recovered(): { tornTail: boolean; damagedLines: number[] } {
    return this.journal.recovered;
  }

  private apply(e: Entry): void {
    if (e.type === 'piece') this.pieces.set(e.record.cid, e.record);
    else if (e.type === 'removed') this.pieces.delete(e.cid);
    else {
      const piece = this.pieces.get(e.cid);
      if (piece) this.pieces.set(e.cid, { ...piece, lastProof: e.check });
      this.proofs = [{ ...e.check, cid: e.cid }, ...this.proofs].slice(0, PROOF_HISTORY);
    }
  }

  private write(e: Entry): void {
    this.journal.append(e);
    this.apply(e);
  }

  list(): PieceRecord[] {
    return [...this.pieces.values()].sort((a, b) => a.addedAt.localeCompare(b.addedAt));
  }

  get(cid: string): PieceRecord | undefined {
    return this.pieces.get(cid);
  }

  proofHistory(): StorageView['proofs'] {
    return this.proofs;
  }

  put(record: PieceRecord): void {
    this.write({ type: 'piece', record });
  }

  remove(cid: string, reason?: string): void {
    if (this.pieces.has(cid)) this.write({ type: 'removed', cid, ...(reason === undefined ? {} : { reason }) });
  }

  proved(cid: string, check: ProofCheck): void {
    this.write({ type: 'proof', cid, check });
  }

  close(): void {
    this.journal.close();
  }
}
