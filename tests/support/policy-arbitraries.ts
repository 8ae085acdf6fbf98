// fast-check generators for the decision function: signal snapshots (each signal ok, stale,
// unknown or not available, with random values and read times), schema-valid policies (presets and
// random rules), resources, manual modes, and scenarios that chain decide() over advancing time so
// every call gets a realistic previous decision. Plain data only, so counterexamples print well.
import fc from 'fast-check';
import { decide, type DecideInput, type ResourceInfo } from '../../agent/policy/decide.js';
import {
  DAYS,
  PRESETS,
  Policy,
  signalKey,
  type Action,
  type Condition,
  type Decision,
  type GameSeen,
  type ManualSharing,
  type Rule,
  type SignalName,
  type SignalReading,
  type SignalSnapshot,
} from '../../protocol/index.js';

// ---- signals ----------------------------------------------------------------------------------

export const GAME_NAMES = ['Cyberpunk2077.exe', 'eldenring.exe', 'SteamWebHelper.exe', 'EpicGamesLauncher.exe', 'factorio'] as const;

const gameArb: fc.Arbitrary<GameSeen> = fc.record({ name: fc.constantFrom(...GAME_NAMES), via: fc.constantFrom('steam', 'launcher', 'user-list', 'fullscreen') });

/** Exact decimal text (as the schema allows) for a number of millionths, with some trailing zeros. */
export function decimalText(micros: number, minDecimals: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const int = Math.floor(abs / 1_000_000);
  let frac = String(abs % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(Math.min(minDecimals, 6), '0');
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

export const decimalArb: fc.Arbitrary<string> = fc
  .tuple(fc.oneof(fc.constantFrom(-100_000, -50_000, 0, 250_000, 300_000, 350_000), fc.integer({ min: -1_000_000, max: 2_000_000 })), fc.integer({ min: 0, max: 6 }))
  .map(([m, d]) => decimalText(m, d));

const weighted = <T>(...pairs: Array<[T, number]>): fc.Arbitrary<T> => fc.oneof(...pairs.map(([v, weight]) => ({ arbitrary: fc.constant(v), weight })));

const VALUE_ARBS: Record<SignalName, fc.Arbitrary<unknown>> = {
  idleSeconds: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 3600 }), fc.double({ min: 0, max: 2000, noNaN: true })),
  screenLocked: weighted([false, 3], [true, 1]),
  onBattery: weighted([false, 3], [true, 1]),
  batteryPercent: fc.integer({ min: 0, max: 100 }),
  cpuTemperature: fc.oneof(fc.integer({ min: 30, max: 100 }), fc.double({ min: 30, max: 100, noNaN: true })),
  gpuTemperature: fc.oneof(fc.integer({ min: 30, max: 100 }), fc.double({ min: 30, max: 100, noNaN: true })),
  cpuForeignLoad: fc.integer({ min: 0, max: 100 }),
  gpuForeignLoad: fc.integer({ min: 0, max: 100 }),
  gamesRunning: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.array(gameArb, { minLength: 1, maxLength: 3 }), weight: 2 }),
  fullscreen: weighted([false, 4], [true, 1]),
  thermalState: weighted(['nominal', 8], ['fair', 2], ['serious', 1], ['critical', 1]),
  speedLimit: fc.integer({ min: 0, max: 100 }),
  suspended: weighted([false, 12], [true, 1]),
  price: decimalArb.map((perKwh) => ({ currency: 'EUR', perKwh })),
  hourlyNet: fc.record({ currency: fc.constant('EUR'), earnPerHour: decimalArb, costPerHour: decimalArb }),
};

/** How one reading looks, relative to the moment it is materialised at. */
export interface SignalPlan {
  state: 'ok' | 'stale' | 'unknown' | 'not_available';
  /** Which flavour of stale (old ok reading / reported stale / never read) or unknown (missing / reported unknown). */
  variant: 0 | 1 | 2;
  value: unknown;
  ageFrac: number;
  extraMs: number;
  maxAgeMs: number;
}

const planArb = (name: SignalName): fc.Arbitrary<SignalPlan> =>
  fc.record({
    state: weighted<SignalPlan['state']>(['ok', 20], ['stale', 2], ['unknown', 2], ['not_available', 2]),
    variant: fc.constantFrom<SignalPlan['variant']>(0, 1, 2),
    value: VALUE_ARBS[name],
    ageFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    extraMs: fc.integer({ min: 1, max: 3_600_000 }),
    maxAgeMs: fc.constantFrom(5_000, 60_000, 300_000),
  });

const GLOBAL_SIGNALS: SignalName[] = ['idleSeconds', 'screenLocked', 'onBattery', 'batteryPercent', 'cpuTemperature', 'cpuForeignLoad', 'gamesRunning', 'fullscreen', 'thermalState', 'suspended', 'price'];
const DEVICE_SIGNALS: SignalName[] = ['gpuTemperature', 'gpuForeignLoad'];
const GPU_IDS = ['gpu:0', 'gpu:1'] as const;
/** Signals every device has, the CPU included. */
const EVERY_DEVICE_SIGNALS: SignalName[] = ['hourlyNet'];

/** Every reading a snapshot may hold, as [key, name, device]. */
export const SIGNAL_SLOTS: Array<[string, SignalName, string | undefined]> = [
  ...GLOBAL_SIGNALS.map((n) => [n, n, undefined] as [string, SignalName, undefined]),
  ...DEVICE_SIGNALS.flatMap((n) => GPU_IDS.map((d) => [signalKey(n, d), n, d] as [string, SignalName, string])),
  ...EVERY_DEVICE_SIGNALS.flatMap((n) => ['cpu', 'disk', ...GPU_IDS].map((d) => [signalKey(n, d), n, d] as [string, SignalName, string])),
];

export type SnapshotPlan = Record<string, SignalPlan>;

/** Values under which the presets share: idle, on AC, cool, no game, cheap power. */
const CALM_VALUE_ARBS: Record<SignalName, fc.Arbitrary<unknown>> = {
  ...VALUE_ARBS,
  idleSeconds: fc.integer({ min: 600, max: 7200 }),
  onBattery: fc.constant(false),
  batteryPercent: fc.integer({ min: 50, max: 100 }),
  cpuTemperature: fc.integer({ min: 30, max: 60 }),
  gpuTemperature: fc.integer({ min: 30, max: 60 }),
  cpuForeignLoad: fc.integer({ min: 0, max: 5 }),
  gpuForeignLoad: fc.integer({ min: 0, max: 5 }),
  gamesRunning: fc.constant([]),
  fullscreen: fc.constant(false),
  thermalState: fc.constant('nominal'),
  suspended: fc.constant(false),
  price: fc.integer({ min: -50_000, max: 200_000 }).map((m) => ({ currency: 'EUR', perKwh: decimalText(m, 2) })),
  hourlyNet: fc.integer({ min: 0, max: 500_000 }).map((m) => ({ currency: 'EUR', earnPerHour: decimalText(m + 100_000, 2), costPerHour: decimalText(m, 2) })),
};

const calmPlanArb = (name: SignalName): fc.Arbitrary<SignalPlan> =>
  fc.record({
    state: fc.constant<SignalPlan['state']>('ok'),
    variant: fc.constant<SignalPlan['variant']>(0),
    value: CALM_VALUE_ARBS[name],
    ageFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    extraMs: fc.constant(1),
    maxAgeMs: fc.constantFrom(5_000, 60_000, 300_000),
  });

/** Starting readings: anything at all, or a calm machine that the steps then disturb. */
export const snapshotPlanArb: fc.Arbitrary<SnapshotPlan> = fc.oneof(
  fc.record(Object.fromEntries(SIGNAL_SLOTS.map(([key, name]) => [key, planArb(name)])) as Record<string, fc.Arbitrary<SignalPlan>>),
  fc.record(Object.fromEntries(SIGNAL_SLOTS.map(([key, name]) => [key, calmPlanArb(name)])) as Record<string, fc.Arbitrary<SignalPlan>>),
);

/** A few readings that change between two evaluations (to anything, or back to calm). */
export const planChangesArb: fc.Arbitrary<Array<{ key: string; plan: SignalPlan }>> = fc.array(
  fc.oneof(...SIGNAL_SLOTS.map(([key, name]) => fc.record({ key: fc.constant(key), plan: fc.oneof(planArb(name), calmPlanArb(name)) }))),
  { maxLength: 3 },
);

export function materialise(plan: SnapshotPlan, now: Date, resources: readonly ResourceInfo[]): SignalSnapshot {
  const gpus = new Set(resources.filter((r) => r.kind === 'gpu').map((r) => r.id));
  const out: Record<string, SignalReading> = {};
  for (const [key, name, device] of SIGNAL_SLOTS) {
    if (device !== undefined && device.startsWith('gpu:') && !gpus.has(device)) continue; // no such GPU on this machine
    const p = plan[key]!;
    const base = { name, ...(device !== undefined ? { device } : {}), source: 'property-test', maxAgeMs: p.maxAgeMs };
    const old = new Date(now.getTime() - p.maxAgeMs - p.extraMs).toISOString();
    switch (p.state) {
      case 'ok':
        out[key] = { ...base, state: 'ok', value: p.value, readAt: new Date(now.getTime() - Math.floor(p.ageFrac * p.maxAgeMs)).toISOString() };
        break;
      case 'stale':
        if (p.variant === 0) out[key] = { ...base, state: 'ok', value: p.value, readAt: old };
        else if (p.variant === 1) out[key] = { ...base, state: 'stale', value: p.value, readAt: old };
        else out[key] = { ...base, state: 'ok', value: p.value, readAt: null };
        break;
      case 'unknown':
        if (p.variant === 1) out[key] = { ...base, state: 'unknown', value: null, readAt: null };
        break; // otherwise: never reported at all
      case 'not_available':
        out[key] = { ...base, state: 'not_available', value: null, readAt: null, ...(p.variant === 1 ? { note: `no ${name} here` } : {}) };
        break;
    }
  }
  return out;
}

// ---- policies ---------------------------------------------------------------------------------

const ifUnavailableArb = fc.constantFrom<Array<'ignore' | 'block' | undefined>>(undefined, undefined, 'ignore', 'block');
const withChoice = <C extends object>(arb: fc.Arbitrary<C>): fc.Arbitrary<C> =>
  fc.tuple(arb, ifUnavailableArb).map(([c, choice]) => (choice === undefined ? c : { ...c, ifUnavailable: choice }));

const clockArb = fc.integer({ min: 0, max: 48 }).map((half) => `${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 ? '30' : '00'}`);
const windowArb = fc
  .record({ days: fc.subarray([...DAYS], { minLength: 1 }), a: clockArb, b: clockArb })
  .map(({ days, a, b }) => (a <= b ? { days, start: a, end: b } : { days, start: b, end: a }));

export const conditionArb: fc.Arbitrary<Condition> = fc
  .oneof(
    withChoice(fc.record({ kind: fc.constant('idle' as const), minMinutes: fc.oneof(fc.constantFrom(0, 1, 5, 10, 30), fc.integer({ min: 0, max: 60 })) })),
    withChoice(fc.record({ kind: fc.constant('notOnBattery' as const) })),
    withChoice(fc.record({ kind: fc.constant('batteryAtLeast' as const), percent: fc.integer({ min: 1, max: 100 }) })),
    withChoice(fc.record({ kind: fc.constant('temperatureBelow' as const), sensor: fc.constantFrom('cpu' as const, 'gpu' as const), celsius: fc.integer({ min: 30, max: 110 }) })),
    withChoice(fc.record({ kind: fc.constant('noGame' as const) })),
    withChoice(fc.record({ kind: fc.constant('timeWindows' as const), windows: fc.array(windowArb, { minLength: 1, maxLength: 3 }) })),
    withChoice(fc.record({ kind: fc.constant('priceAtMost' as const), perKwh: decimalArb })),
    withChoice(fc.record({ kind: fc.constant('foreignLoadBelow' as const), percent: fc.integer({ min: 1, max: 100 }) })),
    withChoice(fc.record({ kind: fc.constant('netAtLeast' as const), perHour: decimalArb })),
  )
  .map((c) => c as Condition);

type Target = 'cpu' | 'gpu' | 'disk';
const actionArb = (target: Target): fc.Arbitrary<Action> => {
  const limit: fc.Arbitrary<Action> =
    target === 'cpu'
      ? fc
          .record({ cpuCores: fc.integer({ min: 1, max: 64 }), cpuPercent: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: [] })
          .filter((l) => l.cpuCores !== undefined || l.cpuPercent !== undefined)
          .map((l) => ({ kind: 'limit' as const, ...l }))
      : fc.record({ kind: fc.constant('limit' as const), gpuDutyPercent: fc.integer({ min: 1, max: 100 }) });
  return fc.oneof(
    { arbitrary: fc.constant<Action>({ kind: 'run' }), weight: 5 },
    { arbitrary: fc.constant<Action>({ kind: 'pause' }), weight: 1 },
    ...(target === 'disk' ? [] : [{ arbitrary: limit, weight: 3 }]),
  );
};

const rulesArb = (target: Target, guarded: boolean): fc.Arbitrary<Rule[]> =>
  fc
    .array(fc.record({ enabled: weighted([true, 5], [false, 1]), conditions: fc.array(conditionArb, { maxLength: 4 }), action: actionArb(target), idleMinutes: fc.integer({ min: 1, max: 30 }) }), { maxLength: 4 })
    .map((bodies) =>
      bodies.map(({ idleMinutes, ...b }, i) => ({
        id: `r${i}`,
        name: `Rule ${i}`,
        ...b,
        // "Guarded" policies put a game and an idle check in every run/limit rule, so the game and
        // user-activity properties have plenty of cases to bite on.
        conditions: guarded && b.action.kind !== 'pause' ? [{ kind: 'noGame' as const }, { kind: 'idle' as const, minMinutes: idleMinutes }, ...b.conditions] : b.conditions,
      })),
    );

const knobsArb = fc.record({
  quietPeriodMinutes: fc.oneof(fc.constantFrom(0, 1, 5), fc.integer({ min: 0, max: 20 })),
  temperatureHysteresisC: fc.integer({ min: 0, max: 10 }),
  releaseAfterMinutes: fc.oneof(fc.constantFrom(0, 10), fc.integer({ min: 0, max: 30 })),
  dedicatedMachine: weighted([false, 4], [true, 1]),
  keepAwake: fc.boolean(),
  games: fc.record({
    extra: fc.constant<string[]>([]),
    ignore: fc.subarray([...GAME_NAMES]).chain((names) => fc.tuple(...names.map((n) => fc.constantFrom(n, n.toLowerCase(), n.toUpperCase())))),
  }),
  timeZone: fc.constant(null),
  flatPrice: fc.option(decimalArb.map((perKwh) => ({ currency: 'EUR', perKwh })), { nil: null }),
});

const randomRulesArb = (guarded: boolean): fc.Arbitrary<Policy['rules']> =>
  fc.record(
    { cpu: rulesArb('cpu', guarded), gpu: rulesArb('gpu', guarded), disk: rulesArb('disk', guarded), 'gpu:0': rulesArb('gpu', guarded), 'gpu:1': rulesArb('gpu', guarded) },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Policy['rules']>;

/** Schema-valid policies: a preset, random rules, or random rules guarded by noGame + idle. */
export const policyArb: fc.Arbitrary<Policy> = fc
  .oneof(
    fc.tuple(knobsArb, fc.constantFrom(...PRESETS)).map(([knobs, preset]) => preset.apply({ ...knobs, rules: {} })),
    fc.tuple(knobsArb, randomRulesArb(false)).map(([knobs, rules]) => ({ ...knobs, rules })),
    fc.tuple(knobsArb, randomRulesArb(true)).map(([knobs, rules]) => ({ ...knobs, rules })),
  )
  .filter((p) => Policy.safeParse(p).success);

// ---- resources, manual modes, scenarios -------------------------------------------------------

export const resourcesArb: fc.Arbitrary<ResourceInfo[]> = fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 2 })).map(([cores, gpus]) => [
  { id: 'cpu', kind: 'cpu', label: 'CPU', cores },
  ...GPU_IDS.slice(0, gpus).map((id, i): ResourceInfo => ({ id, kind: 'gpu', label: `GPU ${i}` })),
  { id: 'disk', kind: 'disk', label: 'Disk' },
]);

export type ManualPlan = { mode: ManualSharing['mode']; untilMinutes: number };
const manualArb: fc.Arbitrary<ManualPlan> = fc.record({ mode: weighted<ManualSharing['mode']>(['on', 10], ['drain', 2], ['off', 1], ['snooze', 1]), untilMinutes: fc.integer({ min: 1, max: 600 }) });

export interface StepPlan {
  /** Seconds since the previous evaluation. */
  dtSeconds: number;
  changes: Array<{ key: string; plan: SignalPlan }>;
  manual: ManualPlan;
  consented: boolean;
  activeWork: number[];
}

export interface Scenario {
  policy: Policy;
  resources: ResourceInfo[];
  start: string;
  timeZone: string;
  signals: SnapshotPlan;
  steps: StepPlan[];
}

const stepArb: fc.Arbitrary<StepPlan> = fc.record({
  dtSeconds: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 60, max: 900 })),
  changes: planChangesArb,
  manual: manualArb,
  consented: weighted([true, 20], [false, 1]),
  activeWork: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
});

/** Mondays (one ordinary, two in DST-change weeks) plus up to a week. */
const startArb = fc
  .tuple(fc.constantFrom('2026-06-01T00:00:00.000Z', '2026-03-23T00:00:00.000Z', '2026-10-19T00:00:00.000Z'), fc.integer({ min: 0, max: 7 * 1440 - 1 }))
  .map(([monday, minutes]) => new Date(Date.parse(monday) + minutes * 60_000).toISOString());

export const scenarioArb = (maxSteps = 12): fc.Arbitrary<Scenario> =>
  fc.record({
    policy: policyArb,
    resources: resourcesArb,
    start: startArb,
    timeZone: fc.constantFrom('UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata'),
    signals: snapshotPlanArb,
    steps: fc.array(stepArb, { minLength: 1, maxLength: maxSteps }),
  });

export interface Evaluation {
  input: DecideInput;
  decision: Decision;
}

/** Runs decide() once per step, each with the decision before it as `previous`. */
export function runScenario(s: Scenario): Evaluation[] {
  let now = Date.parse(s.start);
  let plan: SnapshotPlan = { ...s.signals };
  let previous: Decision | null = null;
  const out: Evaluation[] = [];
  for (const step of s.steps) {
    now += step.dtSeconds * 1000;
    for (const c of step.changes) plan = { ...plan, [c.key]: c.plan };
    const at = new Date(now);
    const manual: ManualSharing = {
      mode: step.manual.mode,
      until: step.manual.mode === 'snooze' ? new Date(now + step.manual.untilMinutes * 60_000).toISOString() : null,
      changedAt: null,
    };
    const input: DecideInput = {
      now: at,
      signals: materialise(plan, at, s.resources),
      policy: s.policy,
      manual,
      consented: step.consented,
      resources: s.resources,
      activeWork: Object.fromEntries(s.resources.map((r, i) => [r.id, step.activeWork[i] ?? 0])),
      previous,
      timeZone: s.timeZone,
    };
    const decision = decide(input);
    out.push({ input, decision });
    previous = decision;
  }
  return out;
}
