// Whoever carries out decisions: the worker supervisor (jobs issue) implements this. Until it
// exists the agent runs no work, and says so.
import type { Decision } from '../../protocol/index.js';

export interface WorkExecutor {
  /** Called synchronously with every new decision, so a stop reaches running work at once. */
  applyDecision(decision: Decision): void;
  /** Work items running per resource id; drain waits for these. */
  activeWork(): Readonly<Record<string, number>>;
  /** Pids of our workers and engines: their load is ours, not another program's. */
  ownPids(): ReadonlySet<number>;
}

export const noWorkExecutor: WorkExecutor = {
  applyDecision: () => undefined,
  activeWork: () => ({}),
  ownPids: () => new Set<number>(),
};
