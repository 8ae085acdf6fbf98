// A provider's record at this hub: results that passed verification and results refused. The score
// is Laplace-smoothed, (passed + 1) / (passed + failed + 2), so a newcomer starts at 0.5 and one
// refusal does not outweigh a long good record. Counters live on the node's row, changed inside
// the transaction that decides a result, so the record and the decision never disagree.
import type { NodeReputation } from '../protocol/index.js';
import type { Queryable } from './db/db.js';

export const score = (passed: number, failed: number): number => (passed + 1) / (passed + failed + 2);

export class Reputation {
  constructor(private readonly db: Queryable) {}

  async of(node: string): Promise<NodeReputation> {
    const { rows } = await this.db.query<{ passed: number; failed: number }>('select passed, failed from nodes where address = $1', [node]);
    const passed = Number(rows[0]?.passed ?? 0);
    const failed = Number(rows[0]?.failed ?? 0);
    return { score: score(passed, failed), passed, failed };
  }

  static async record(tx: Queryable, node: string, outcome: 'passed' | 'failed'): Promise<void> {
    await tx.query(`update nodes set ${outcome === 'passed' ? 'passed = passed + 1' : 'failed = failed + 1'} where address = $1`, [node]);
  }
}
