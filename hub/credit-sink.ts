// Where verified work turns into money owed: verification calls credit() inside its own
// transaction, so a result is accepted and its credit recorded together or not at all.
import type { Queryable } from './db/db.js';

export interface CreditSink {
  credit(tx: Queryable, c: { node: string; kind: 'render' | 'check' | 'storage'; taskId: string; jobId: string; amount: string; device: string | null }): Promise<void>;
}
