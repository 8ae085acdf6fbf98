// An independent reading of the rules in the issue, for the property tests: what a signal's state
// is as of now, whether a game is detected, whether the user is active, and which conditions hang
// on a stale/unknown or a not-available signal. Deliberately written from the spec, not copied
// from agent/policy/decide.ts, and conservative: where the answer would need the decision's own
// history (temperature hysteresis) it says "unsure" and the properties skip that case.
import type { DecideInput, ResourceInfo } from '../../agent/policy/decide.js';
import { signalKey, type Condition, type GameSeen, type Rule, type SignalName, type SignalState } from '../../protocol/index.js';

export interface Effective {
  state: SignalState;
  value: unknown;
}

/** A reading as of `now`: missing is unknown; ok but older than its freshness (or never read) is stale. */
export function effective(input: DecideInput, name: SignalName, device?: string): Effective {
  const r = input.signals[signalKey(name, device)];
  if (r === undefined) return { state: 'unknown', value: null };
  if (r.state === 'ok' && (r.readAt === null || input.now.getTime() - Date.parse(r.readAt) > r.maxAgeMs)) return { state: 'stale', value: r.value };
  return { state: r.state, value: r.value };
}

const isOk = (e: Effective, value?: unknown) => e.state === 'ok' && (value === undefined || e.value === value);
const isStaleOrUnknown = (e: Effective) => e.state === 'stale' || e.state === 'unknown';

/** The rule list that applies to a resource: `gpu:<i>` overrides `gpu`. */
export function ruleListFor(input: DecideInput, r: ResourceInfo): { target: string; rules: Rule[] } {
  if (r.kind === 'gpu' && input.policy.rules[r.id] !== undefined) return { target: r.id, rules: input.policy.rules[r.id]! };
  return { target: r.kind, rules: input.policy.rules[r.kind] ?? [] };
}

export const runsOrLimits = (rule: Rule) => rule.enabled && rule.action.kind !== 'pause';

/** A game is detected: the game list is fresh and names one not on the ignore list (any case), or a full-screen app is in front (fresh). */
export function gameDetected(input: DecideInput): boolean {
  const games = effective(input, 'gamesRunning');
  const ignore = new Set(input.policy.games.ignore.map((n) => n.toLowerCase()));
  const listed = games.state === 'ok' && (games.value as GameSeen[]).some((g) => !ignore.has(g.name.toLowerCase()));
  return listed || isOk(effective(input, 'fullscreen'), true);
}

/** The user is active with respect to an idle condition: not a dedicated machine, the screen not (known to be) locked, and a fresh idle time below the threshold. */
export function userActiveFor(input: DecideInput, c: Extract<Condition, { kind: 'idle' }>): boolean {
  if (input.policy.dedicatedMachine || isOk(effective(input, 'screenLocked'), true)) return false;
  const idle = effective(input, 'idleSeconds');
  return idle.state === 'ok' && (idle.value as number) < c.minMinutes * 60;
}

/** A system alarm (going to sleep, serious thermal pressure) overrides the rules. */
export function systemAlarm(input: DecideInput): boolean {
  const thermal = effective(input, 'thermalState');
  return isOk(effective(input, 'suspended'), true) || (thermal.state === 'ok' && (thermal.value === 'serious' || thermal.value === 'critical'));
}

function gpuTemperatures(input: DecideInput): Array<{ device: string; e: Effective }> {
  return Object.values(input.signals)
    .filter((s) => s.name === 'gpuTemperature' && s.device !== undefined)
    .map((s) => ({ device: s.device!, e: effective(input, 'gpuTemperature', s.device) }));
}

/**
 * The condition's outcome hangs on a stale or unknown signal and nothing else settles it (a locked
 * screen or a dedicated machine settles idle; being on AC settles a battery floor; a flat price
 * settles an unknown price). An unknown price with no flat price is the one deliberate exception:
 * decide() treats "no price anywhere" as not available on this machine, so it is not listed here.
 */
export function hangsOnStaleOrUnknown(c: Condition, input: DecideInput, r: ResourceInfo): boolean {
  switch (c.kind) {
    case 'idle':
      return !input.policy.dedicatedMachine && !isOk(effective(input, 'screenLocked'), true) && isStaleOrUnknown(effective(input, 'idleSeconds'));
    case 'notOnBattery':
      return isStaleOrUnknown(effective(input, 'onBattery'));
    case 'batteryAtLeast': {
      const onBattery = effective(input, 'onBattery');
      return isStaleOrUnknown(onBattery) || (isOk(onBattery, true) && isStaleOrUnknown(effective(input, 'batteryPercent')));
    }
    case 'temperatureBelow':
      if (c.sensor === 'cpu') return isStaleOrUnknown(effective(input, 'cpuTemperature'));
      if (r.kind === 'gpu') return isStaleOrUnknown(effective(input, 'gpuTemperature', r.id));
      return gpuTemperatures(input).some((g) => isStaleOrUnknown(g.e));
    case 'noGame':
      return isStaleOrUnknown(effective(input, 'gamesRunning'));
    case 'priceAtMost':
      return effective(input, 'price').state === 'stale';
    case 'foreignLoadBelow':
      return r.kind === 'gpu' ? isStaleOrUnknown(effective(input, 'gpuForeignLoad', r.id)) : isStaleOrUnknown(effective(input, 'cpuForeignLoad'));
    case 'timeWindows':
      return false;
    case 'netAtLeast':
      return isStaleOrUnknown(effective(input, 'hourlyNet', r.id));
  }
}

/**
 * Whether the condition can't be checked on this machine: null when it can (or fails anyway),
 * 'unsure' when that depends on hysteresis, else the signal keys decide() may name for it.
 */
export function notAvailableSignals(c: Condition, input: DecideInput, r: ResourceInfo): string[] | 'unsure' | null {
  const na = (e: Effective) => e.state === 'not_available';
  switch (c.kind) {
    case 'idle':
      return !input.policy.dedicatedMachine && !isOk(effective(input, 'screenLocked'), true) && na(effective(input, 'idleSeconds')) ? ['idleSeconds'] : null;
    case 'notOnBattery':
      return na(effective(input, 'onBattery')) ? ['onBattery'] : null;
    case 'batteryAtLeast': {
      const onBattery = effective(input, 'onBattery');
      if (na(onBattery)) return ['onBattery'];
      return isOk(onBattery, true) && na(effective(input, 'batteryPercent')) ? ['batteryPercent'] : null;
    }
    case 'temperatureBelow': {
      if (c.sensor === 'cpu') return na(effective(input, 'cpuTemperature')) ? ['cpuTemperature'] : null;
      if (r.kind === 'gpu') return na(effective(input, 'gpuTemperature', r.id)) ? [signalKey('gpuTemperature', r.id)] : null;
      const all = gpuTemperatures(input);
      if (all.length === 0) return ['gpuTemperature'];
      if (all.some((g) => isStaleOrUnknown(g.e))) return null; // fails: out of date
      const ok = all.filter((g) => g.e.state === 'ok').map((g) => g.e.value as number);
      if (ok.some((t) => t >= c.celsius)) return null; // fails: too hot
      if (ok.some((t) => t >= c.celsius - input.policy.temperatureHysteresisC)) return 'unsure';
      const missing = all.filter((g) => na(g.e)).map((g) => signalKey('gpuTemperature', g.device));
      return missing.length > 0 ? missing : null;
    }
    case 'noGame':
      return na(effective(input, 'gamesRunning')) && !isOk(effective(input, 'fullscreen'), true) ? ['gamesRunning'] : null;
    case 'priceAtMost': {
      const p = effective(input, 'price');
      return p.state !== 'ok' && p.state !== 'stale' && input.policy.flatPrice === null ? ['price'] : null;
    }
    case 'foreignLoadBelow': {
      const [name, device] = r.kind === 'gpu' ? (['gpuForeignLoad', r.id] as const) : (['cpuForeignLoad', undefined] as const);
      return na(effective(input, name, device)) ? [signalKey(name, device)] : null;
    }
    case 'timeWindows':
      return null;
    case 'netAtLeast':
      return na(effective(input, 'hourlyNet', r.id)) ? [signalKey('hourlyNet', r.id)] : null;
  }
}

/** Whether a signal key named in `uncheckable` really can't be read here (never an ok or stale reading). */
export function reallyUnavailable(input: DecideInput, signal: string): boolean {
  const [name, device] = signal.split('@') as [SignalName, string | undefined];
  const e = effective(input, name, device);
  if (e.state === 'not_available') return true;
  if (signal === 'gpuTemperature') return gpuTemperatures(input).length === 0;
  if (signal === 'price') return e.state === 'unknown' && input.policy.flatPrice === null;
  return false;
}
