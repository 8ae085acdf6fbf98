// Property-based tests of decide(): random signal snapshots, schema-valid policies (presets and
// random rules), manual modes and resources, chained over advancing time so every evaluation has a
// realistic previous decision. Each property is checked at every step of every chain, and each
// counts how often its precondition held, so none passes vacuously.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../agent/policy/decide.js';
import { Decision, type Condition, type ResourceDecision, type Rule } from '../../protocol/index.js';
import { runScenario, scenarioArb, type Evaluation } from '../support/policy-arbitraries.js';
import {
  gameDetected,
  hangsOnStaleOrUnknown,
  notAvailableSignals,
  reallyUnavailable,
  ruleListFor,
  runsOrLimits,
  systemAlarm,
  userActiveFor,
} from '../support/policy-oracle.js';

const RUNS = { numRuns: 300 };
const isRunning = (d: ResourceDecision) => d.state === 'running' || d.state === 'limited';

/** Checks `check` on every resource at every step of random chains; returns how often `check` said the precondition held. */
function forEveryResource(check: (e: Evaluation, resourceIndex: number, d: ResourceDecision) => boolean | void, runs = RUNS): number {
  let hits = 0;
  fc.assert(
    fc.property(scenarioArb(), (scenario) => {
      for (const e of runScenario(scenario)) {
        e.input.resources.forEach((_r, i) => {
          if (check(e, i, e.decision.resources[i]!) === true) hits++;
        });
      }
    }),
    runs,
  );
  return hits;
}

// Property runs take a few hundred milliseconds each here; the generous timeout is for slow CI.
describe('decide(): properties', { timeout: 120_000 }, () => {
  it('never running or limited while a game is detected, for a resource whose every enabled run/limit rule has a noGame condition (and released when no pause rule is enabled and no system alarm)', () => {
    // Precondition, precisely: gamesRunning is ok (fresh) and names a process not on
    // policy.games.ignore (compared case-insensitively), or fullscreen is ok and true; and every
    // enabled rule with a run or limit action in the resource's rule list (gpu:<i> overriding gpu)
    // contains a noGame condition, whatever its ifUnavailable choice.
    const hits = forEveryResource((e, i, d) => {
      const r = e.input.resources[i]!;
      const { rules } = ruleListFor(e.input, r);
      if (!gameDetected(e.input) || !rules.filter(runsOrLimits).every((rule) => rule.conditions.some((c) => c.kind === 'noGame'))) return false;
      expect(isRunning(d), JSON.stringify(d)).toBe(false);
      expect(d.newWork).toBe(false);
      // A game frees memory at once, unless a pause rule or a system alarm is what stopped it, or
      // there is no run/limit rule at all (then nothing saw the game: "no rule allows sharing").
      const sawGame = rules.some(runsOrLimits) && !rules.some((rule) => rule.enabled && rule.action.kind === 'pause');
      if (sawGame && !systemAlarm(e.input)) expect(d.state).toBe('released');
      return true;
    });
    expect(hits).toBeGreaterThan(0);
  });

  it('never running or limited while the user is active, under rules that all contain an idle condition', () => {
    // Precondition, precisely: the machine is not dedicated, screenLocked is not (ok and true),
    // idleSeconds is ok, and every enabled run/limit rule of the resource has an idle condition
    // whose threshold (minMinutes × 60 s) is above that idle time.
    const hits = forEveryResource((e, i, d) => {
      const { rules } = ruleListFor(e.input, e.input.resources[i]!);
      const active = rules.filter(runsOrLimits).every((rule) => rule.conditions.some((c) => c.kind === 'idle' && userActiveFor(e.input, c)));
      if (!active) return false;
      expect(isRunning(d), JSON.stringify(d)).toBe(false);
      return true;
    });
    expect(hits).toBeGreaterThan(0);
  });

  it('never flaps: after a block, no resource runs again before quietPeriodMinutes have passed', () => {
    // Over one chain (fixed policy, time advancing 1 s–15 min a step): a step "blocks" a resource
    // when its decision is paused/released with lastBlockedAt equal to that step's time (the rules,
    // sleep or thermal pressure said stop). Whenever the resource is running or limited at time t,
    // t − (time of the last such block) ≥ quietPeriodMinutes.
    let resumes = 0;
    let closeCalls = 0;
    fc.assert(
      fc.property(scenarioArb(16), (scenario) => {
        const quietMs = scenario.policy.quietPeriodMinutes * 60_000;
        const lastBlock = new Map<string, number>();
        const wasRunning = new Map<string, boolean>();
        for (const e of runScenario(scenario)) {
          const t = e.input.now.getTime();
          for (const d of e.decision.resources) {
            if (!isRunning(d) && d.lastBlockedAt === e.decision.at) lastBlock.set(d.resource, t);
            if (isRunning(d)) {
              const blocked = lastBlock.get(d.resource);
              if (blocked !== undefined) {
                expect(t - blocked, `${d.resource} runs ${(t - blocked) / 1000} s after a block`).toBeGreaterThanOrEqual(quietMs);
                if (wasRunning.get(d.resource) === false) resumes++;
                if (t - blocked < 2 * quietMs) closeCalls++;
              }
            }
            wasRunning.set(d.resource, isRunning(d));
          }
        }
      }),
      { numRuns: 600 },
    );
    // Resumes after a block, and runs within twice the quiet period of one: the cases that matter.
    expect(resumes).toBeGreaterThan(0);
    expect(closeCalls).toBeGreaterThan(0);
  });

  it('stale or unknown signals never cause a run: a rule with a condition that hangs on one never matches', () => {
    // For every rule of the resource (run, limit or pause) with a condition whose outcome hangs on
    // a stale or unknown reading that nothing else settles (see hangsOnStaleOrUnknown), the
    // decision's matchedRule is not that rule; and if every enabled run/limit rule has such a
    // condition, the resource is not running or limited.
    const hits = forEveryResource((e, i, d) => {
      const r = e.input.resources[i]!;
      const { rules } = ruleListFor(e.input, r);
      let hit = false;
      for (const rule of rules) {
        if (rule.conditions.some((c) => hangsOnStaleOrUnknown(c, e.input, r))) {
          hit = true;
          expect(d.matchedRule, `rule ${rule.id} matched on a stale/unknown signal`).not.toBe(rule.id);
        }
      }
      if (rules.filter(runsOrLimits).every((rule) => rule.conditions.some((c) => hangsOnStaleOrUnknown(c, e.input, r)))) expect(isRunning(d)).toBe(false);
      return hit;
    });
    expect(hits).toBeGreaterThan(0);
  });

  describe('a not-available signal never blocks or passes silently', () => {
    /** Rules decide() looked at: enabled ones up to the matched rule, or all if none matched. Only when the rules decided (sharing on, consent given, no system alarm). */
    function evaluatedRules(e: Evaluation, i: number, d: ResourceDecision) {
      const { target, rules } = ruleListFor(e.input, e.input.resources[i]!);
      const enabled = rules.filter((r) => r.enabled);
      const upTo = d.matchedRule === null ? enabled.length : enabled.findIndex((r) => r.id === d.matchedRule) + 1;
      return { target, rules: enabled.slice(0, upTo) };
    }
    const rulesDecided = (e: Evaluation) => e.input.consented && e.input.manual.mode === 'on' && !systemAlarm(e.input);

    it('every condition that cannot be checked is listed in `uncheckable` with the user’s choice (ask unless set), and nothing else is', () => {
      const hits = forEveryResource((e, i, d) => {
        for (const u of e.decision.uncheckable) expect(reallyUnavailable(e.input, u.signal), `listed ${u.signal} although it can be read`).toBe(true);
        if (!rulesDecided(e)) return false;
        const r = e.input.resources[i]!;
        const { target, rules } = evaluatedRules(e, i, d);
        let hit = false;
        for (const rule of rules) {
          for (const c of rule.conditions) {
            const signals = notAvailableSignals(c, e.input, r);
            if (signals === null || signals === 'unsure') continue;
            hit = true;
            const choice = c.ifUnavailable ?? 'ask';
            const listed = e.decision.uncheckable.some((u) => u.target === target && u.ruleId === rule.id && u.condition === c.kind && signals.includes(u.signal) && u.choice === choice);
            expect(listed, `${target}/${rule.id}/${c.kind} (${signals.join(', ')}, ${choice}) not in ${JSON.stringify(e.decision.uncheckable)}`).toBe(true);
          }
        }
        return hit;
      });
      expect(hits).toBeGreaterThan(0);
    });

    it('with ask or block, when no rule allows running, a needs_choice or uncheckable_blocked reason is shown', () => {
      const hits = forEveryResource((e, i, d) => {
        if (!rulesDecided(e) || d.matchedRule !== null) return false;
        const r = e.input.resources[i]!;
        const codes = d.reasons.map((x) => x.code);
        let hit = false;
        for (const rule of evaluatedRules(e, i, d).rules) {
          for (const c of rule.conditions) {
            const signals = notAvailableSignals(c, e.input, r);
            if (signals === null || signals === 'unsure' || c.ifUnavailable === 'ignore') continue;
            hit = true;
            expect(isRunning(d)).toBe(false);
            expect(codes).toContain(c.ifUnavailable === 'block' ? 'uncheckable_blocked' : 'needs_choice');
          }
        }
        return hit;
      });
      expect(hits).toBeGreaterThan(0);
    });

    it('with ignore, the condition is dropped: the same per-resource result as the rule without it', () => {
      let hits = 0;
      fc.assert(
        fc.property(scenarioArb(), (scenario) => {
          for (const e of runScenario(scenario)) {
            // For each resource: its rule list without the ignore-conditions that cannot be checked.
            e.input.resources.forEach((r, i) => {
              const { target, rules } = ruleListFor(e.input, r);
              const keep = (c: Condition) => {
                if (c.ifUnavailable !== 'ignore') return true;
                const s = notAvailableSignals(c, e.input, r);
                return s === null || s === 'unsure';
              };
              if (rules.every((rule) => rule.conditions.every(keep))) return;
              hits++;
              const dropped = rules.map((rule) => ({ ...rule, conditions: rule.conditions.filter(keep) }));
              const without = decide({ ...e.input, policy: { ...e.input.policy, rules: { ...e.input.policy.rules, [target]: dropped } } });
              expect(without.resources[i]).toEqual(e.decision.resources[i]);
            });
          }
        }),
        RUNS,
      );
      expect(hits).toBeGreaterThan(0);
    });
  });

  it('limits never exceed what the user set, and CPU cores never exceed the cores the machine has', () => {
    // limited ⇔ the matched rule's action is limit; then every limit present is one the rule sets,
    // no larger, of the resource's kind (cpuCores/cpuPercent on the CPU, gpuDutyPercent on a GPU),
    // cpuCores ≤ the CPU's cores; any other state carries no limits.
    const hits = forEveryResource((e, i, d) => {
      const r = e.input.resources[i]!;
      if (d.state !== 'limited') {
        expect(d.limits).toBeNull();
        return false;
      }
      const rule = ruleListFor(e.input, r).rules.find((x) => x.id === d.matchedRule);
      expect(rule?.action.kind).toBe('limit');
      const action = rule!.action as Extract<Rule['action'], { kind: 'limit' }>;
      expect(d.limits).not.toBeNull();
      const limits = d.limits!;
      expect(Object.keys(limits).length).toBeGreaterThan(0);
      for (const [key, value] of Object.entries(limits)) {
        const allowed = r.kind === 'cpu' ? ['cpuCores', 'cpuPercent'] : r.kind === 'gpu' ? ['gpuDutyPercent'] : [];
        expect(allowed).toContain(key);
        const set = action[key as 'cpuCores' | 'cpuPercent' | 'gpuDutyPercent'];
        expect(set).toBeDefined();
        expect(value).toBeLessThanOrEqual(set!);
        expect(value).toBeGreaterThanOrEqual(1);
      }
      if (limits.cpuCores !== undefined && r.cores !== undefined) expect(limits.cpuCores).toBeLessThanOrEqual(r.cores);
      return true;
    });
    expect(hits).toBeGreaterThan(0);
  });

  it('manual off, snooze or missing consent: nothing runs (all released, no new work); drain: no new work anywhere', () => {
    const hits = forEveryResource((e, _i, d) => {
      const { consented, manual } = e.input;
      if (!consented || manual.mode === 'off' || manual.mode === 'snooze') {
        expect(d.state).toBe('released');
        expect(d.newWork).toBe(false);
        return true;
      }
      if (manual.mode === 'drain') {
        expect(d.newWork).toBe(false);
        return true;
      }
      return false;
    });
    expect(hits).toBeGreaterThan(0);
  });

  it('the output passes the Decision schema, every resource has at least one reason, and resources come back in input order', () => {
    forEveryResource((e, i, d) => {
      if (i === 0) {
        const parsed = Decision.safeParse(e.decision);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
        expect(e.decision.at).toBe(e.input.now.toISOString());
        expect(e.decision.resources.map((x) => x.resource)).toEqual(e.input.resources.map((x) => x.id));
      }
      expect(d.reasons.length).toBeGreaterThanOrEqual(1);
      expect(d.newWork && !isRunning(d)).toBe(false);
    });
  });

  it('decide is deterministic and does not change its input', () => {
    forEveryResource((e, i) => {
      if (i !== 0) return;
      const before = JSON.stringify(e.input);
      const again = decide(structuredClone(e.input));
      expect(again).toEqual(e.decision);
      expect(decide(e.input)).toEqual(e.decision);
      expect(JSON.stringify(e.input)).toBe(before);
    });
  });

  it('a released resource (memory freed) is never paused again without running first', () => {
    let released = 0;
    fc.assert(
      fc.property(scenarioArb(), (scenario) => {
        const steps = runScenario(scenario);
        steps.forEach((e, k) => {
          if (k === 0) return;
          e.decision.resources.forEach((d, i) => {
            if (steps[k - 1]!.decision.resources[i]!.state !== 'released') return;
            released++;
            expect(d.state).not.toBe('paused');
          });
        });
      }),
      RUNS,
    );
    expect(released).toBeGreaterThan(0);
  });

  it('the summary speaks for the compute resources: what is shared, or the first reason of the best-off one, naming storage that still runs', () => {
    forEveryResource((e, i) => {
      if (i !== 0) return;
      const { resources, summary } = e.decision;
      const order = ['running', 'limited', 'paused', 'released'];
      if (resources.length === 0) return;
      const kind = new Map(e.input.resources.map((r) => [r.id, r.kind]));
      const compute = resources.filter((r) => kind.get(r.resource) !== 'disk');
      const basis = compute.length > 0 ? compute : resources;
      const best = basis.reduce((a, b) => (order.indexOf(b.state) < order.indexOf(a.state) ? b : a));
      const sharing = resources.filter(isRunning).map((r) => r.label);
      expect(summary.state).toBe(best.state);
      if (isRunning(best)) expect(summary.reason.text).toBe(`Sharing ${sharing.join(', ')}`);
      else if (sharing.length === 0) expect(summary.reason).toEqual(best.reasons[0]);
      else expect(summary.reason).toEqual({ ...best.reasons[0], text: `${best.reasons[0]!.text} (still sharing the ${sharing.join(', ')})` });
      // Awake for compute that may run, or for storage work in progress; never for an idle disk alone.
      const busy = (r: (typeof resources)[number]) => isRunning(r) && (kind.get(r.resource) !== 'disk' || (e.input.activeWork?.[r.resource] ?? 0) > 0);
      expect(e.decision.keepAwake).toBe(e.input.policy.keepAwake && resources.some(busy));
    });
  });
});
