// Pure edits of a policy draft for the Schedule page. The page's simple controls (grid, idle,
// battery, temperatures, price, games) edit the *main rule* of each resource's rule list; every
// other rule is left as it is and shown in the advanced section, so nothing in the policy is hidden
// or lost by an edit.
import { DAYS, minutesOf, type Condition, type Day, type Policy, type Rule, type TimeWindow } from '../../protocol/index.js';

export const HOURS: readonly number[] = Array.from({ length: 24 }, (_, h) => h);

/** Resources in the order people read them: CPU, all GPUs, each GPU, disk, then anything else. */
export function targetsOf(policy: Policy): string[] {
  const rank = (t: string) => (t === 'cpu' ? 0 : t === 'gpu' ? 1 : t.startsWith('gpu:') ? 2 : t === 'disk' ? 3 : 4);
  return Object.keys(policy.rules).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
}

/** CPU and GPUs: the resources that idle time, games, temperatures and price are about. */
export function isComputeTarget(target: string): boolean {
  return target === 'cpu' || target === 'gpu' || target.startsWith('gpu:');
}

export function targetLabel(target: string): string {
  if (target === 'cpu') return 'CPU';
  if (target === 'gpu') return 'All GPUs';
  if (target.startsWith('gpu:')) return `GPU ${target.slice(4)}`;
  if (target === 'disk') return 'Disk';
  return target;
}

/** The rule the simple controls edit: the one called `main`, else the first enabled rule that lets
 * the resource run (run or limit). -1 when the list has no such rule. */
export function mainRuleIndex(rules: readonly Rule[]): number {
  const byId = rules.findIndex((r) => r.id === 'main' && r.action.kind !== 'pause');
  if (byId >= 0) return byId;
  return rules.findIndex((r) => r.enabled && r.action.kind !== 'pause');
}

export function mainRule(policy: Policy, target: string): Rule | undefined {
  const rules = policy.rules[target] ?? [];
  const i = mainRuleIndex(rules);
  return i >= 0 ? rules[i] : undefined;
}

/** Targets whose rule list has a main rule. */
export function editableTargets(policy: Policy): string[] {
  return targetsOf(policy).filter((t) => mainRule(policy, t) !== undefined);
}

function mapMainRules(policy: Policy, fn: (conditions: Condition[], target: string) => Condition[]): Policy {
  const rules: Policy['rules'] = {};
  for (const [target, list] of Object.entries(policy.rules)) {
    const i = mainRuleIndex(list);
    rules[target] = i < 0 ? list : list.map((rule, j) => (j === i ? { ...rule, conditions: fn(rule.conditions, target) } : rule));
  }
  return { ...policy, rules };
}

/**
 * Sets one kind of condition across the main rules: replaced in place where it exists (keeping the
 * user's choice for when it cannot be checked), added where `home` says it belongs, removed
 * everywhere when `next` is null.
 */
export function setCondition(policy: Policy, match: (c: Condition) => boolean, next: Condition | null, home: (target: string) => boolean): Policy {
  return mapMainRules(policy, (conditions, target) => {
    const at = conditions.findIndex(match);
    if (next === null) return conditions.filter((c) => !match(c));
    if (at < 0) return home(target) ? [...conditions, next] : conditions;
    const old = conditions[at]!;
    const merged = { ...next, ...(old.ifUnavailable !== undefined && next.ifUnavailable === undefined ? { ifUnavailable: old.ifUnavailable } : {}) } as Condition;
    return conditions.flatMap((c, j) => (j === at ? [merged] : match(c) ? [] : [c]));
  });
}

/** The first matching condition in the main rules, home targets first. */
export function findCondition<K extends Condition['kind']>(
  policy: Policy,
  match: (c: Condition) => c is Extract<Condition, { kind: K }>,
  home: (target: string) => boolean = () => true,
): Extract<Condition, { kind: K }> | undefined {
  const targets = editableTargets(policy);
  for (const target of [...targets.filter(home), ...targets.filter((t) => !home(t))]) {
    const found = mainRule(policy, target)?.conditions.find(match);
    if (found) return found;
  }
  return undefined;
}

const kindIs =
  <K extends Condition['kind']>(...kinds: K[]) =>
  (c: Condition): c is Extract<Condition, { kind: K }> =>
    (kinds as string[]).includes(c.kind);

// ---- idle ----------------------------------------------------------------------------------

export const isIdle = kindIs('idle');

export function getIdleMinutes(policy: Policy): number | null {
  return findCondition(policy, isIdle, isComputeTarget)?.minMinutes ?? null;
}

export function setIdleMinutes(policy: Policy, minutes: number | null): Policy {
  return setCondition(policy, isIdle, minutes === null ? null : { kind: 'idle', minMinutes: minutes }, isComputeTarget);
}

// ---- battery --------------------------------------------------------------------------------

export type BatteryChoice = { kind: 'any' } | { kind: 'never' } | { kind: 'atLeast'; percent: number };
export const isBattery = kindIs('notOnBattery', 'batteryAtLeast');

export function getBattery(policy: Policy): BatteryChoice {
  const c = findCondition(policy, isBattery, isComputeTarget);
  if (!c) return { kind: 'any' };
  return c.kind === 'notOnBattery' ? { kind: 'never' } : { kind: 'atLeast', percent: c.percent };
}

export function setBattery(policy: Policy, choice: BatteryChoice): Policy {
  const next: Condition | null =
    choice.kind === 'any' ? null : choice.kind === 'never' ? { kind: 'notOnBattery' } : { kind: 'batteryAtLeast', percent: choice.percent };
  return setCondition(policy, isBattery, next, () => true);
}

// ---- temperatures ---------------------------------------------------------------------------

export type Sensor = 'cpu' | 'gpu';

const sensorHome = (sensor: Sensor) => (target: string) => (sensor === 'cpu' ? target === 'cpu' : target === 'gpu' || target.startsWith('gpu:'));
const isTemperature = (sensor: Sensor) => (c: Condition): c is Extract<Condition, { kind: 'temperatureBelow' }> =>
  c.kind === 'temperatureBelow' && c.sensor === sensor;

export function getTemperature(policy: Policy, sensor: Sensor): number | null {
  return findCondition(policy, isTemperature(sensor), sensorHome(sensor))?.celsius ?? null;
}

export function setTemperature(policy: Policy, sensor: Sensor, celsius: number | null): Policy {
  return setCondition(policy, isTemperature(sensor), celsius === null ? null : { kind: 'temperatureBelow', sensor, celsius }, sensorHome(sensor));
}

// ---- price, games ---------------------------------------------------------------------------

export const isPriceCap = kindIs('priceAtMost');

export function getPriceCap(policy: Policy): string | null {
  return findCondition(policy, isPriceCap, isComputeTarget)?.perKwh ?? null;
}

export function setPriceCap(policy: Policy, perKwh: string | null): Policy {
  return setCondition(policy, isPriceCap, perKwh === null ? null : { kind: 'priceAtMost', perKwh }, isComputeTarget);
}

export const isNetFloor = kindIs('netAtLeast');

export function getNetFloor(policy: Policy): string | null {
  return findCondition(policy, isNetFloor, isComputeTarget)?.perHour ?? null;
}

/** Until there is paid work to go on, the guard cannot judge: it lets work run rather than wait
 * for figures that only work can produce ('ignore'); the user can choose otherwise in Advanced. */
export function setNetFloor(policy: Policy, perHour: string | null): Policy {
  return setCondition(policy, isNetFloor, perHour === null ? null : { kind: 'netAtLeast', perHour, ifUnavailable: 'ignore' }, isComputeTarget);
}

export const isNoGame = kindIs('noGame');

export function getPauseForGames(policy: Policy): boolean {
  return findCondition(policy, isNoGame, isComputeTarget) !== undefined;
}

export function setPauseForGames(policy: Policy, on: boolean): Policy {
  return setCondition(policy, isNoGame, on ? { kind: 'noGame' } : null, isComputeTarget);
}

export function addName(list: readonly string[], name: string): string[] {
  const trimmed = name.trim();
  if (trimmed === '' || list.some((n) => n.toLowerCase() === trimmed.toLowerCase())) return [...list];
  return [...list, trimmed];
}

// ---- weekly grid ----------------------------------------------------------------------------

export const isTimeWindows = kindIs('timeWindows');

export function cellKey(day: Day, hour: number): string {
  return `${day}-${hour}`;
}

export interface GridCells {
  /** Cells `day-hour` where sharing is allowed (partly allowed ones included). */
  allowed: Set<string>;
  /** Cells only part of which is inside a window (a window that starts or ends off the hour). */
  partial: Set<string>;
}

export function allCells(): Set<string> {
  return new Set(DAYS.flatMap((d) => HOURS.map((h) => cellKey(d, h))));
}

/** Cells from windows; no windows at all (no time condition) is every hour. */
export function cellsFromWindows(windows: readonly TimeWindow[] | null): GridCells {
  if (windows === null) return { allowed: allCells(), partial: new Set() };
  const covered = new Map<string, number>();
  for (const w of windows) {
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    for (const day of w.days) {
      for (const h of HOURS) {
        const overlap = Math.min(end, (h + 1) * 60) - Math.max(start, h * 60);
        if (overlap > 0) covered.set(cellKey(day, h), (covered.get(cellKey(day, h)) ?? 0) + overlap);
      }
    }
  }
  const allowed = new Set(covered.keys());
  const partial = new Set([...covered].filter(([, minutes]) => minutes < 60).map(([key]) => key));
  return { allowed, partial };
}

const hhmm = (hour: number) => `${String(hour).padStart(2, '0')}:00`;

/**
 * Windows from painted cells: contiguous hours of a day merge into one window; the same hours on
 * several days share one window. A night across midnight is two windows (22:00–24:00 and
 * 00:00–07:00 the next day), as the protocol wants. No cells, or every cell, is no time condition.
 */
export function windowsFromCells(allowed: ReadonlySet<string>): TimeWindow[] | null {
  const total = DAYS.length * HOURS.length;
  const count = [...allowed].filter((k) => /^(mon|tue|wed|thu|fri|sat|sun)-(\d|1\d|2[0-3])$/.test(k)).length;
  if (count === 0 || count === total) return null;
  const bySpan = new Map<string, { start: number; end: number; days: Day[] }>();
  for (const day of DAYS) {
    let start: number | null = null;
    for (let h = 0; h <= 24; h++) {
      const on = h < 24 && allowed.has(cellKey(day, h));
      if (on && start === null) start = h;
      if (!on && start !== null) {
        const key = `${start}-${h}`;
        const span = bySpan.get(key) ?? { start, end: h, days: [] };
        span.days.push(day);
        bySpan.set(key, span);
        start = null;
      }
    }
  }
  return [...bySpan.values()]
    .sort((a, b) => a.start - b.start || a.end - b.end || DAYS.indexOf(a.days[0]!) - DAYS.indexOf(b.days[0]!))
    .map((s) => ({ days: s.days, start: hhmm(s.start), end: s.end === 24 ? '24:00' : hhmm(s.end) }));
}

/** The windows the grid shows (those of the first resource's main rule), and whether the main
 * rules of the resources disagree. */
export function getWindows(policy: Policy): { windows: TimeWindow[] | null; mixed: boolean } {
  const targets = editableTargets(policy);
  const of = (t: string) => mainRule(policy, t)?.conditions.find(isTimeWindows)?.windows ?? null;
  const first = targets[0] === undefined ? null : of(targets[0]);
  const key = JSON.stringify(first);
  return { windows: first, mixed: targets.some((t) => JSON.stringify(of(t)) !== key) };
}

/** The same windows for every resource's main rule; null removes the time condition. */
export function setWindows(policy: Policy, windows: TimeWindow[] | null): Policy {
  return mapMainRules(policy, (conditions) => {
    const at = conditions.findIndex(isTimeWindows);
    if (windows === null) return conditions.filter((c) => !isTimeWindows(c));
    const old = at >= 0 ? conditions[at] : undefined;
    const next: Condition = { kind: 'timeWindows', windows, ...(old?.ifUnavailable !== undefined ? { ifUnavailable: old.ifUnavailable } : {}) };
    // The schedule reads first in the rule, as it is the first thing people look for.
    return at >= 0 ? conditions.map((c, j) => (j === at ? next : c)) : [next, ...conditions];
  });
}

// ---- conditions that cannot be checked ------------------------------------------------------

/** Sets what to do when a condition cannot be checked, on the rule and condition the agent named. */
export function setIfUnavailable(policy: Policy, target: string, ruleId: string, condition: string, signal: string, choice: 'ignore' | 'block'): Policy {
  const list = policy.rules[target];
  if (!list) return policy;
  const sensor: Sensor | undefined = condition === 'temperatureBelow' ? (signal.startsWith('gpu') ? 'gpu' : 'cpu') : undefined;
  const matches = (c: Condition) => c.kind === condition && (sensor === undefined || (c.kind === 'temperatureBelow' && c.sensor === sensor));
  return {
    ...policy,
    rules: {
      ...policy.rules,
      [target]: list.map((rule) =>
        rule.id === ruleId ? { ...rule, conditions: rule.conditions.map((c) => (matches(c) ? ({ ...c, ifUnavailable: choice } as Condition) : c)) } : rule,
      ),
    },
  };
}

/** The choice the draft holds for a condition (the draft, not the last preview, is what is saved). */
export function ifUnavailableOf(policy: Policy, target: string, ruleId: string, condition: string, signal: string): 'ask' | 'ignore' | 'block' {
  const rule = policy.rules[target]?.find((r) => r.id === ruleId);
  const sensor = condition === 'temperatureBelow' ? (signal.startsWith('gpu') ? 'gpu' : 'cpu') : undefined;
  const c = rule?.conditions.find((x) => x.kind === condition && (sensor === undefined || (x.kind === 'temperatureBelow' && x.sensor === sensor)));
  return c?.ifUnavailable ?? 'ask';
}

// ---- comparing drafts -----------------------------------------------------------------------

/** JSON with object keys sorted: two policies that mean the same compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

// ---- where a field error belongs ------------------------------------------------------------

export type ControlId =
  | 'schedule-grid'
  | 'time-zone'
  | 'idle'
  | 'battery'
  | 'temp-cpu'
  | 'temp-gpu'
  | 'price-cap'
  | 'net-floor'
  | 'flat-price'
  | 'no-game'
  | 'games-extra'
  | 'games-ignore'
  | 'dedicated'
  | 'keep-awake'
  | 'quiet'
  | 'hysteresis'
  | 'release'
  | 'advanced'
  | 'general';

function controlForCondition(c: Condition | undefined): ControlId {
  switch (c?.kind) {
    case 'idle':
      return 'idle';
    case 'notOnBattery':
    case 'batteryAtLeast':
      return 'battery';
    case 'temperatureBelow':
      return c.sensor === 'cpu' ? 'temp-cpu' : 'temp-gpu';
    case 'noGame':
      return 'no-game';
    case 'timeWindows':
      return 'schedule-grid';
    case 'priceAtMost':
      return 'price-cap';
    case 'netAtLeast':
      return 'net-floor';
    default:
      return 'advanced';
  }
}

/** The control a field error's path (`policy.rules.cpu.0.conditions.2.perKwh`) belongs next to. */
export function controlForPath(policy: Policy, path: string): ControlId {
  const parts = path.split('.');
  if (parts[0] === 'policy') parts.shift();
  switch (parts[0]) {
    case 'rules': {
      const list = policy.rules[parts[1] ?? ''];
      const index = Number(parts[2]);
      if (!list || !Number.isInteger(index) || parts[3] !== 'conditions' || parts[4] === undefined) return 'advanced';
      if (index !== mainRuleIndex(list)) return 'advanced';
      return controlForCondition(list[index]?.conditions[Number(parts[4])]);
    }
    case 'quietPeriodMinutes':
      return 'quiet';
    case 'temperatureHysteresisC':
      return 'hysteresis';
    case 'releaseAfterMinutes':
      return 'release';
    case 'dedicatedMachine':
      return 'dedicated';
    case 'keepAwake':
      return 'keep-awake';
    case 'games':
      return parts[1] === 'ignore' ? 'games-ignore' : 'games-extra';
    case 'timeZone':
      return 'time-zone';
    case 'flatPrice':
      return 'flat-price';
    default:
      return 'general';
  }
}
