// Rules and decisions: when each resource may be shared, and why it is or is not running.
// Pure schemas shared by the agent (which decides), the dashboard (which edits and explains) and
// the shell (which shows the first reason in the tray).
import { z } from 'zod';
import { isoDateTime, Reason } from './common.js';
import { DecimalAmount, Price } from './signals.js';

export const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Day = z.infer<typeof Day>;
export const DAYS: readonly Day[] = Day.options;

/** `HH:MM`, 00:00 to 24:00 (24:00 only as an end). */
export const ClockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time such as 22:30 (00:00 to 24:00)');

export function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

export const TimeWindow = z
  .object({ days: z.array(Day).min(1).max(7), start: ClockTime, end: ClockTime })
  .strict()
  .superRefine((w, ctx) => {
    if (w.start === '24:00') ctx.addIssue({ code: 'custom', path: ['start'], message: 'a window cannot start at 24:00' });
    if (minutesOf(w.end) <= minutesOf(w.start)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `the window ends (${w.end}) before it starts (${w.start}); split an overnight window in two` });
    }
    if (new Set(w.days).size !== w.days.length) ctx.addIssue({ code: 'custom', path: ['days'], message: 'a day is listed twice' });
  });
export type TimeWindow = z.infer<typeof TimeWindow>;

/** What to do when a condition's signal cannot be read on this machine: the user decides. */
export const IfUnavailable = z.enum(['ignore', 'block']);

const base = { ifUnavailable: IfUnavailable.optional() };

export const Condition = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle'), minMinutes: z.number().int().min(0).max(1440), ...base }).strict(),
  z.object({ kind: z.literal('notOnBattery'), ...base }).strict(),
  z.object({ kind: z.literal('batteryAtLeast'), percent: z.number().int().min(1).max(100), ...base }).strict(),
  z.object({ kind: z.literal('temperatureBelow'), sensor: z.enum(['cpu', 'gpu']), celsius: z.number().int().min(30).max(110), ...base }).strict(),
  z.object({ kind: z.literal('noGame'), ...base }).strict(),
  z
    .object({ kind: z.literal('timeWindows'), windows: z.array(TimeWindow).min(1).max(64), ...base })
    .strict()
    .superRefine((c, ctx) => {
      // Two windows that overlap on a day contradict each other's edges: refuse rather than guess.
      for (let i = 0; i < c.windows.length; i++) {
        for (let j = i + 1; j < c.windows.length; j++) {
          const a = c.windows[i]!;
          const b = c.windows[j]!;
          const shared = a.days.filter((d) => b.days.includes(d));
          if (shared.length > 0 && minutesOf(a.start) < minutesOf(b.end) && minutesOf(b.start) < minutesOf(a.end)) {
            ctx.addIssue({ code: 'custom', path: ['windows', j], message: `overlaps window ${i + 1} on ${shared.join(', ')}` });
          }
        }
      }
    }),
  z.object({ kind: z.literal('priceAtMost'), perKwh: DecimalAmount, ...base }).strict(),
  /** The profit guard: what work on this device pays per hour, minus what its electricity costs
   * per hour now, is at least this (in the price's currency; may be negative or zero). */
  z.object({ kind: z.literal('netAtLeast'), perHour: DecimalAmount, ...base }).strict(),
  z.object({ kind: z.literal('foreignLoadBelow'), percent: z.number().int().min(1).max(100), ...base }).strict(),
]);
export type Condition = z.infer<typeof Condition>;
export type ConditionKind = Condition['kind'];

export const Action = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run') }).strict(),
  z.object({ kind: z.literal('pause') }).strict(),
  z
    .object({
      kind: z.literal('limit'),
      cpuCores: z.number().int().min(1).max(1024).optional(),
      cpuPercent: z.number().int().min(1).max(100).optional(),
      /** Share of time the GPU may work (duty cycle). A power cap is not offered: no platform
       * lets an unprivileged program set one. */
      gpuDutyPercent: z.number().int().min(1).max(100).optional(),
    })
    .strict()
    .refine((a) => a.cpuCores !== undefined || a.cpuPercent !== undefined || a.gpuDutyPercent !== undefined, { message: 'a limit needs at least one value' }),
]);
export type Action = z.infer<typeof Action>;

export const Rule = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'an id of lowercase letters, digits and dashes'),
    name: z.string().min(1).max(80),
    enabled: z.boolean(),
    conditions: z.array(Condition).max(16),
    action: Action,
  })
  .strict();
export type Rule = z.infer<typeof Rule>;

/** Resources rules apply to: `cpu`, `disk`, `gpu` (every GPU) or `gpu:<index>` (one GPU, overriding `gpu`). */
export const RuleTarget = z.string().regex(/^(cpu|disk|gpu|gpu:\d{1,2})$/, 'a resource is cpu, disk, gpu or gpu:<index>');

export const Policy = z
  .object({
    rules: z.record(RuleTarget, z.array(Rule).max(64)),
    /** After anything stops sharing, wait this long with everything allowed before resuming. */
    quietPeriodMinutes: z.number().int().min(0).max(240),
    temperatureHysteresisC: z.number().int().min(0).max(30),
    /** A pause longer than this becomes a release (memory freed). */
    releaseAfterMinutes: z.number().int().min(0).max(240),
    /** A headless box nobody sits at: always idle. */
    dedicatedMachine: z.boolean(),
    keepAwake: z.boolean(),
    /** Processes the user counts as games, and launcher children the user says are not games. */
    games: z.object({ extra: z.array(z.string().min(1).max(200)).max(200), ignore: z.array(z.string().min(1).max(200)).max(200) }).strict(),
    /** IANA zone the weekly windows are in; null = this computer's zone. */
    timeZone: z.string().max(64).nullable(),
    /** Until tariffs exist, one flat price per kWh. */
    flatPrice: Price.nullable(),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const [target, rules] of Object.entries(p.rules)) {
      const ids = new Set<string>();
      rules.forEach((rule, i) => {
        if (ids.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', target, i, 'id'], message: `rule id "${rule.id}" is used twice` });
        ids.add(rule.id);
        // Two window conditions must both hold: if they never overlap, the rule can never run.
        const windowSets = rule.conditions.filter((c): c is Extract<Condition, { kind: 'timeWindows' }> => c.kind === 'timeWindows');
        if (windowSets.length > 1 && !windowsIntersect(windowSets.map((c) => c.windows))) {
          ctx.addIssue({ code: 'custom', path: ['rules', target, i, 'conditions'], message: 'these time-window conditions never overlap, so this rule could never run' });
        }
        const a = rule.action;
        if (a.kind !== 'limit') return;
        const kind = target === 'cpu' ? 'cpu' : target === 'disk' ? 'disk' : 'gpu';
        if (kind !== 'cpu' && (a.cpuCores !== undefined || a.cpuPercent !== undefined)) {
          ctx.addIssue({ code: 'custom', path: ['rules', target, i, 'action'], message: `CPU limits do not apply to ${target}` });
        }
        if (kind !== 'gpu' && a.gpuDutyPercent !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['rules', target, i, 'action'], message: `a GPU duty cycle does not apply to ${target}` });
        }
      });
    }
    if (p.timeZone !== null) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: p.timeZone });
      } catch {
        ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `unknown time zone "${p.timeZone}"` });
      }
    }
  });
export type Policy = z.infer<typeof Policy>;

/** Whether some minute of the week lies inside every one of these window lists. */
function windowsIntersect(lists: TimeWindow[][]): boolean {
  return DAYS.some((day) => {
    let allowed = new Uint8Array(1440).fill(1);
    for (const windows of lists) {
      const mine = new Uint8Array(1440);
      for (const w of windows) if (w.days.includes(day)) mine.fill(1, minutesOf(w.start), minutesOf(w.end));
      allowed = allowed.map((v, m) => v & mine[m]!);
    }
    return allowed.includes(1);
  });
}

// ---- decisions -------------------------------------------------------------------------------

export const ResourceState = z.enum(['running', 'limited', 'paused', 'released']);
export type ResourceState = z.infer<typeof ResourceState>;

export const Limits = z.object({
  cpuCores: z.number().int().optional(),
  cpuPercent: z.number().int().optional(),
  gpuDutyPercent: z.number().int().optional(),
});

/** A condition the agent cannot check here, waiting for the user's choice (or already chosen). */
export const UncheckableCondition = z.object({
  target: RuleTarget,
  ruleId: z.string(),
  condition: z.string(),
  signal: z.string(),
  note: z.string().optional(),
  choice: z.enum(['ask', 'ignore', 'block']),
});
export type UncheckableCondition = z.infer<typeof UncheckableCondition>;

export const ResourceDecision = z.object({
  resource: z.string(),
  label: z.string(),
  state: ResourceState,
  /** False while draining or stopped: finish what runs, start nothing new. */
  newWork: z.boolean(),
  limits: Limits.nullable(),
  matchedRule: z.string().nullable(),
  /** Most important first; the first is what the tray and the Overview show. */
  reasons: z.array(Reason).min(1),
  /** When the state last changed. */
  since: isoDateTime,
  /** Last time the rules did not allow running: the quiet period counts from here. */
  lastBlockedAt: isoDateTime.nullable(),
});
export type ResourceDecision = z.infer<typeof ResourceDecision>;

export const Decision = z.object({
  at: isoDateTime,
  resources: z.array(ResourceDecision),
  /** Storage proofs are tiny and have deadlines: they run whatever the rules say. */
  proofs: z.object({ allowed: z.literal(true), reason: Reason }),
  keepAwake: z.boolean(),
  uncheckable: z.array(UncheckableCondition),
  /** One line for the tray and the Overview. */
  summary: z.object({ state: ResourceState, reason: Reason }),
});
export type Decision = z.infer<typeof Decision>;

/** `POST /api/v1/decision/preview`: what the agent would decide now with an unsaved policy. */
export const DecisionPreviewRequest = z.object({ policy: Policy }).strict();
export type DecisionPreviewRequest = z.infer<typeof DecisionPreviewRequest>;



// ---- presets ---------------------------------------------------------------------------------

export const PresetId = z.enum(['gamer', 'nights-only', 'always-when-idle', 'dedicated']);
export type PresetId = z.infer<typeof PresetId>;

export interface Preset {
  id: PresetId;
  name: string;
  description: string;
  apply(policy: Policy): Policy;
}

const run = { kind: 'run' } as const;
const everyDay: Day[] = [...DAYS];

function rulesFor(conditions: Condition[], gpuConditions: Condition[], diskConditions: Condition[]): Policy['rules'] {
  return {
    cpu: [{ id: 'main', name: 'Main rule', enabled: true, conditions, action: run }],
    gpu: [{ id: 'main', name: 'Main rule', enabled: true, conditions: gpuConditions, action: run }],
    disk: [{ id: 'main', name: 'Main rule', enabled: true, conditions: diskConditions, action: run }],
  };
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'gamer',
    name: 'Gamer',
    description: 'Only after 10 minutes idle and with no game running; never on battery; GPU below 80 °C.',
    apply: (p) => ({
      ...p,
      dedicatedMachine: false,
      rules: rulesFor(
        [{ kind: 'idle', minMinutes: 10 }, { kind: 'noGame' }, { kind: 'notOnBattery' }, { kind: 'temperatureBelow', sensor: 'cpu', celsius: 90 }],
        [{ kind: 'idle', minMinutes: 10 }, { kind: 'noGame' }, { kind: 'notOnBattery' }, { kind: 'temperatureBelow', sensor: 'gpu', celsius: 80 }],
        // Storing and sealing read and hash the disk hard: same idle rule. (Proofs always run.)
        [{ kind: 'idle', minMinutes: 10 }, { kind: 'noGame' }, { kind: 'notOnBattery' }],
      ),
    }),
  },
  {
    id: 'nights-only',
    name: 'Nights only',
    description: 'Between midnight and 7:00, when idle and with no game running; never on battery.',
    apply: (p) => {
      const night: Condition = { kind: 'timeWindows', windows: [{ days: everyDay, start: '00:00', end: '07:00' }] };
      return {
        ...p,
        dedicatedMachine: false,
        rules: rulesFor(
          [night, { kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }, { kind: 'notOnBattery' }],
          [night, { kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }, { kind: 'notOnBattery' }, { kind: 'temperatureBelow', sensor: 'gpu', celsius: 80 }],
          [night, { kind: 'idle', minMinutes: 5 }, { kind: 'notOnBattery' }],
        ),
      };
    },
  },
  {
    id: 'always-when-idle',
    name: 'Always when idle',
    description: 'Whenever the computer has been idle for 5 minutes and no game runs; never on battery.',
    apply: (p) => ({
      ...p,
      dedicatedMachine: false,
      rules: rulesFor(
        [{ kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }, { kind: 'notOnBattery' }],
        [{ kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }, { kind: 'notOnBattery' }, { kind: 'temperatureBelow', sensor: 'gpu', celsius: 83 }],
        [{ kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }, { kind: 'notOnBattery' }],
      ),
    }),
  },
  {
    id: 'dedicated',
    name: 'Dedicated machine',
    description: 'Nobody uses this computer: share all the time, within temperature limits.',
    apply: (p) => ({
      ...p,
      dedicatedMachine: true,
      rules: rulesFor(
        [{ kind: 'temperatureBelow', sensor: 'cpu', celsius: 90 }],
        [{ kind: 'temperatureBelow', sensor: 'gpu', celsius: 83 }],
        [],
      ),
    }),
  },
];

export function defaultPolicy(): Policy {
  const empty: Policy = {
    rules: {},
    quietPeriodMinutes: 5,
    temperatureHysteresisC: 5,
    releaseAfterMinutes: 10,
    dedicatedMachine: false,
    keepAwake: false,
    games: { extra: [], ignore: [] },
    timeZone: null,
    flatPrice: null,
  };
  // The safest preset: a gamer's machine.
  return PRESETS[0]!.apply(empty);
}
