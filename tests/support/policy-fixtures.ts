// Hand-built inputs for the decision function's table tests: fixed dates, fresh readings, one
// policy with a single rule per resource. Nothing here reads the real clock.
import { decide, type DecideInput, type ResourceInfo } from '../../agent/policy/decide.js';
import {
  defaultPolicy,
  signalKey,
  type Action,
  type Condition,
  type Decision,
  type ManualSharing,
  type Policy,
  type ResourceDecision,
  type Rule,
  type SignalName,
  type SignalReading,
  type SignalSnapshot,
  type SignalValue,
} from '../../protocol/index.js';

/** Wednesday 3 June 2026, 12:00 UTC. */
export const T0 = new Date('2026-06-03T12:00:00.000Z');
export const MAX_AGE_MS = 60_000;

export const at = (base: Date, minutes: number, seconds = 0): Date => new Date(base.getTime() + minutes * 60_000 + seconds * 1000);

export const CPU: ResourceInfo = { id: 'cpu', kind: 'cpu', label: 'CPU', cores: 8 };
export const DISK: ResourceInfo = { id: 'disk', kind: 'disk', label: 'Disk' };
export const GPU0: ResourceInfo = { id: 'gpu:0', kind: 'gpu', label: 'GPU 0' };
export const GPU1: ResourceInfo = { id: 'gpu:1', kind: 'gpu', label: 'GPU 1' };

export const ON: ManualSharing = { mode: 'on', until: null, changedAt: null };

type ReadingOpts = { device?: string; state?: SignalReading['state']; readAt?: Date | null; maxAgeMs?: number; note?: string };

/** One reading, fresh and ok unless told otherwise. */
export function reading<N extends SignalName>(name: N, value: SignalValue<N> | null, now: Date, opts: ReadingOpts = {}): SignalReading {
  const readAt = opts.readAt === undefined ? now : opts.readAt;
  return {
    name,
    ...(opts.device !== undefined ? { device: opts.device } : {}),
    state: opts.state ?? 'ok',
    value,
    source: 'test',
    readAt: readAt === null ? null : readAt.toISOString(),
    maxAgeMs: opts.maxAgeMs ?? MAX_AGE_MS,
    ...(opts.note !== undefined ? { note: opts.note } : {}),
  };
}

export const notAvailable = (name: SignalName, now: Date, device?: string, note?: string): SignalReading =>
  reading(name, null, now, { state: 'not_available', readAt: null, ...(device !== undefined ? { device } : {}), ...(note !== undefined ? { note } : {}) });

export function snapshot(...readings: SignalReading[]): Record<string, SignalReading> {
  const s: Record<string, SignalReading> = {};
  for (const r of readings) s[signalKey(r.name, r.device)] = r;
  return s;
}

/** Everything fine: idle for an hour, on AC, cool, no game, nobody else using the machine. */
export function calmSignals(now: Date, gpus: readonly string[] = ['gpu:0']): Record<string, SignalReading> {
  return snapshot(
    reading('idleSeconds', 3600, now),
    reading('screenLocked', false, now),
    reading('onBattery', false, now),
    reading('batteryPercent', 100, now),
    reading('cpuTemperature', 50, now),
    reading('cpuForeignLoad', 0, now),
    reading('gamesRunning', [], now),
    reading('fullscreen', false, now),
    reading('suspended', false, now),
    reading('thermalState', 'nominal', now),
    reading('price', { currency: 'EUR', perKwh: '0.20' }, now),
    ...gpus.flatMap((d) => [reading('gpuTemperature', 50, now, { device: d }), reading('gpuForeignLoad', 0, now, { device: d })]),
  );
}

/** The calm signals with some readings replaced. */
export function signalsWith(now: Date, ...readings: SignalReading[]): SignalSnapshot {
  return { ...calmSignals(now), ...snapshot(...readings) };
}

export const RUN: Action = { kind: 'run' };

export function rule(id: string, conditions: Condition[], action: Action = RUN, extra: Partial<Rule> = {}): Rule {
  return { id, name: extra.name ?? `Rule ${id}`, enabled: true, conditions, action, ...extra };
}

/** The default policy's knobs, with the given rules (validated: a table test never feeds decide an invalid policy). */
export function policyWith(rules: Policy['rules'], overrides: Partial<Omit<Policy, 'rules'>> = {}): Policy {
  return { ...defaultPolicy(), ...overrides, rules };
}

/** One rule list applied to every kind of resource. */
export function sameRules(rules: Rule[]): Policy['rules'] {
  return { cpu: rules, gpu: rules, disk: rules };
}

export function input(partial: Partial<DecideInput> = {}): DecideInput {
  const now = partial.now ?? T0;
  return {
    now,
    signals: calmSignals(now),
    policy: policyWith(sameRules([rule('main', [])])),
    manual: ON,
    consented: true,
    resources: [CPU, GPU0, DISK],
    previous: null,
    timeZone: 'UTC',
    ...partial,
  };
}

export function resourceOf(d: Decision, id: string): ResourceDecision {
  const r = d.resources.find((x) => x.resource === id);
  if (!r) throw new Error(`no decision for ${id}`);
  return r;
}

/** decide() for one resource. */
export function decideOne(partial: Partial<DecideInput>, resource: ResourceInfo = CPU): ResourceDecision {
  return resourceOf(decide(input({ ...partial, resources: [resource] })), resource.id);
}

/** A previous decision in which `resource` had the given state since `since` (defaults: running, an hour ago). */
export function previousWith(resource: ResourceInfo, state: ResourceDecision['state'], now: Date, opts: { since?: Date; lastBlockedAt?: Date | null } = {}): Decision {
  const since = (opts.since ?? at(now, -60)).toISOString();
  return {
    at: at(now, -0, -1).toISOString(),
    resources: [
      {
        resource: resource.id,
        label: resource.label,
        state,
        newWork: state === 'running' || state === 'limited',
        limits: null,
        matchedRule: null,
        reasons: [{ code: state, text: state }],
        since,
        lastBlockedAt: opts.lastBlockedAt ? opts.lastBlockedAt.toISOString() : null,
      },
    ],
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: '' } },
    keepAwake: false,
    uncheckable: [],
    summary: { state, reason: { code: state, text: state } },
  };
}
