// A provider's record at this hub: results that passed verification and results refused. The score
// is Laplace-smoothed, (passed + 1) / (passed + failed + 2), so a newcomer starts at 0.5 and one
// refusal does not outweigh a long good record. Counters live on the node's row, changed inside
// the transaction that decides a result, so the record and the decision never disagree.
import type { NodeReputation } from '../protocol/index.js';
import type { Queryable } from './db/db.js';

export const score = (passed: number, failed: number): number => (passed + 1) / (passed + failed + 2);

/** The record as the API shows it, from the counters on a node's row. */
export function reputationView(row: { passed: number; failed: number } | undefined): NodeReputation {
  const passed = Number(row?.passed ?? 0);
  const failed = Number(row?.failed ?? 0);
  return { score: score(passed, failed), passed, failed };
}

/** Counts one decided result on the node's row, inside the transaction that decides it. */
export async function recordOutcome(tx: Queryable, node: string, outcome: 'passed' | 'failed'): Promise<void> {
  await tx.query(`update nodes set ${outcome === 'passed' ? 'passed = passed + 1' : 'failed = failed + 1'} where address = $1`, [node]);
}
