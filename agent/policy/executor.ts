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

/** Several executors as one: each gets every decision; their work and pids add up. */
export function combineExecutors(parts: readonly WorkExecutor[]): WorkExecutor {
  return {
    applyDecision: (d) => {
      for (const p of parts) p.applyDecision(d);
    },
    activeWork: () => {
      const out: Record<string, number> = {};
      for (const p of parts) for (const [k, v] of Object.entries(p.activeWork())) out[k] = (out[k] ?? 0) + v;
      return out;
    },
    ownPids: () => new Set(parts.flatMap((p) => [...p.ownPids()])),
  };
}
