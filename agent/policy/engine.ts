// Runs the decision function whenever a signal changes (so a stop is immediate) and on a short
// tick (so time-based changes — the quiet period ending, a window opening, a reading going stale —
// happen on time), and hands every changed decision to the executor and the UIs.
import type { Decision, ManualSharing, Policy, SignalSnapshot } from '../../protocol/index.js';
import { decide, type ResourceInfo } from './decide.js';
import type { WorkExecutor } from './executor.js';

export interface EngineDeps {
  signals: () => SignalSnapshot;
  onSignalChange: (listener: () => void) => () => void;
  settings: () => { policy: Policy; manual: ManualSharing; consented: boolean };
  resources: () => readonly ResourceInfo[];
  executor: WorkExecutor;
  timeZone: (policy: Policy) => string;
  now: () => Date;
  tickMs?: number;
  onError?: (err: unknown) => void;
}

/** The decision when deciding failed: nothing runs, and the reason says so. */
export function safeStop(resources: readonly ResourceInfo[], now: Date, err: unknown): Decision {
  const at = now.toISOString();
  const reason = { code: 'policy_error', text: `Paused: Offhours could not evaluate its rules (${err instanceof Error ? err.message : String(err)}); see the log` };
  return {
    at,
    resources: resources.map((r) => ({ resource: r.id, label: r.label, state: 'paused', newWork: false, limits: null, matchedRule: null, reasons: [reason], since: at, lastBlockedAt: at })),
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: 'Storage proofs always run: they are tiny and have deadlines' } },
    keepAwake: false,
    uncheckable: [],
    summary: { state: 'paused', reason },
  };
}

/** What makes two decisions different for the people and programs that follow them. */
function fingerprint(d: Decision): string {
  return JSON.stringify([d.summary, d.keepAwake, d.uncheckable, d.resources.map((r) => [r.resource, r.state, r.newWork, r.limits, r.reasons, r.matchedRule])]);
}

export class PolicyEngine {
  private current: Decision | null = null;
  private listeners = new Set<(d: Decision) => void>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: EngineDeps) {}

  start(): void {
    this.unsubscribe = this.deps.onSignalChange(() => this.evaluate());
    this.timer = setInterval(() => this.evaluate(), this.deps.tickMs ?? 1000);
    this.timer.unref();
    this.evaluate();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  decision(): Decision | null {
    return this.current;
  }

  /** What the agent would decide now under another policy (the Schedule page's live preview). */
  preview(policy: Policy): Decision {
    const s = this.deps.settings();
    return decide({ ...this.inputs(), policy, manual: s.manual, consented: s.consented, timeZone: this.deps.timeZone(policy) });
  }

  evaluate(): Decision {
    let next: Decision;
    try {
      const s = this.deps.settings();
      next = decide({ ...this.inputs(), policy: s.policy, manual: s.manual, consented: s.consented, timeZone: this.deps.timeZone(s.policy) });
    } catch (err) {
      // A bug here must never leave work running on the last "run": stop everything, say why.
      this.deps.onError?.(err);
      next = safeStop(this.deps.resources(), this.deps.now(), err);
    }
    const changed = this.current === null || fingerprint(this.current) !== fingerprint(next);
    this.current = next;
    if (changed) {
      // The executor first: it is what actually stops work.
      try {
        this.deps.executor.applyDecision(next);
      } catch (err) {
        this.deps.onError?.(err);
      }
      for (const l of this.listeners) {
        try {
          l(next);
        } catch (err) {
          this.deps.onError?.(err);
        }
      }
    }
    return next;
  }

  private inputs() {
    return {
      now: this.deps.now(),
      signals: this.deps.signals(),
      resources: this.deps.resources(),
      activeWork: this.deps.executor.activeWork(),
      previous: this.current,
    };
  }

  onDecision(listener: (d: Decision) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
