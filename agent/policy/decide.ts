// The decision: a pure, clock-injected function from (signals, rules, manual mode, previous
// decision) to a state per resource with its reasons. It stops at once, resumes only after a quiet
// period, keeps temperatures on a hysteresis, and treats stale or unknown signals as "the user is
// there". A signal this machine cannot give never passes or blocks silently: the rule waits for the
// user's choice, and says so.
import {
  decimalToMicros,
  minutesOf,
  signalKey,
  type Condition,
  type Decision,
  type ManualSharing,
  type Policy,
  type Reason,
  type ResourceDecision,
  type ResourceState,
  type Rule,
  type SignalName,
  type SignalReading,
  type SignalSnapshot,
  type UncheckableCondition,
  type GameSeen,
  type Price,
} from '../../protocol/index.js';
import { clockText, dayName, nextDay, wallClock } from './local-time.js';

export interface ResourceInfo {
  id: string;
  kind: 'cpu' | 'gpu' | 'disk';
  label: string;
  /** Logical cores, for CPU limits. */
  cores?: number;
}

export interface DecideInput {
  now: Date;
  signals: SignalSnapshot;
  policy: Policy;
  manual: ManualSharing;
  consented: boolean;
  resources: readonly ResourceInfo[];
  /** Work items running per resource (drain finishes them). */
  activeWork?: Readonly<Record<string, number>>;
  previous: Decision | null;
  /** The zone weekly windows are read in. */
  timeZone: string;
}

type Read = { state: SignalReading['state']; value: unknown; note?: string | undefined; at: string | null };

/** A reading as of `now`: an ok reading older than its freshness is stale. */
export function readSignal(signals: SignalSnapshot, name: SignalName, device: string | undefined, now: Date): Read {
  // One decision reads the same few signals for every rule: judge each once per instant.
  let cached = readCache.get(signals);
  if (!cached || cached.ms !== now.getTime()) readCache.set(signals, (cached = { ms: now.getTime(), reads: new Map() }));
  const key = signalKey(name, device);
  let read = cached.reads.get(key);
  if (!read) cached.reads.set(key, (read = judge(signals[key], now)));
  return read;
}

const readCache = new WeakMap<SignalSnapshot, { ms: number; reads: Map<string, Read> }>();

function judge(r: SignalReading | undefined, now: Date): Read {
  if (!r) return { state: 'unknown', value: null, at: null };
  if (r.state === 'ok' && (r.readAt === null || now.getTime() - Date.parse(r.readAt) > r.maxAgeMs)) return { state: 'stale', value: r.value, note: r.note, at: r.readAt };
  return { state: r.state, value: r.value, note: r.note, at: r.readAt };
}

const SIGNAL_WORDS: Record<SignalName, string> = {
  idleSeconds: 'idle time',
  screenLocked: 'screen lock',
  onBattery: 'battery state',
  batteryPercent: 'battery charge',
  cpuTemperature: 'CPU temperature',
  gpuTemperature: 'GPU temperature',
  cpuForeignLoad: 'CPU load of other programs',
  gpuForeignLoad: 'GPU load of other programs',
  gamesRunning: 'game detection',
  fullscreen: 'full-screen detection',
  thermalState: 'thermal state',
  speedLimit: 'CPU speed limit',
  suspended: 'sleep state',
  price: 'electricity price',
  hourlyNet: 'earnings against electricity cost',
};

type Outcome =
  | { pass: true }
  | { pass: false; reason: Reason; game?: boolean }
  | { pass: 'uncheckable'; signal: SignalName; device?: string | undefined; note?: string | undefined };

const fail = (code: string, text: string, game = false): Outcome => ({ pass: false, reason: { code, text }, game });

function notReadable(r: Read, name: SignalName, device?: string): Outcome {
  if (r.state === 'not_available') return { pass: 'uncheckable', signal: name, device, note: r.note };
  const what = SIGNAL_WORDS[name];
  return r.state === 'stale'
    ? fail('signal_stale', `Paused: the ${what} reading is out of date (its source stopped answering)`)
    : fail('signal_unknown', `Paused: the ${what} is not known yet`);
}

interface EvalContext {
  input: DecideInput;
  resource: ResourceInfo;
  wasRunning: boolean;
}

function evalIdle(c: Extract<Condition, { kind: 'idle' }>, x: EvalContext): Outcome {
  const { input } = x;
  if (input.policy.dedicatedMachine) return { pass: true };
  const locked = readSignal(input.signals, 'screenLocked', undefined, input.now);
  if (locked.state === 'ok' && locked.value === true) return { pass: true };
  const idle = readSignal(input.signals, 'idleSeconds', undefined, input.now);
  if (idle.state !== 'ok') return notReadable(idle, 'idleSeconds');
  const seconds = idle.value as number;
  if (seconds >= c.minMinutes * 60) return { pass: true };
  // A sentence that does not change with every idle sample: a new reason every 2 s would re-send
  // the status to every client and rebuild the tray menu under the user's pointer.
  return fail('user_active', `Paused: you are using the computer (it waits for ${c.minMinutes} idle minute${c.minMinutes === 1 ? '' : 's'})`);
}

function evalBattery(c: Extract<Condition, { kind: 'notOnBattery' | 'batteryAtLeast' }>, x: EvalContext): Outcome {
  const onBattery = readSignal(x.input.signals, 'onBattery', undefined, x.input.now);
  if (onBattery.state !== 'ok') return notReadable(onBattery, 'onBattery');
  if (onBattery.value !== true) return { pass: true };
  if (c.kind === 'notOnBattery') return fail('on_battery', 'Paused: you are on battery');
  const pct = readSignal(x.input.signals, 'batteryPercent', undefined, x.input.now);
  if (pct.state !== 'ok') return notReadable(pct, 'batteryPercent');
  if ((pct.value as number) >= c.percent) return { pass: true };
  return fail('battery_low', `Paused: battery at ${Math.round(pct.value as number)}% (needs ${c.percent}%)`);
}

function evalTemperature(c: Extract<Condition, { kind: 'temperatureBelow' }>, x: EvalContext): Outcome {
  const { input, resource } = x;
  // Hysteresis: once stopped for heat, resume only when clearly cooler.
  const limit = x.wasRunning ? c.celsius : c.celsius - input.policy.temperatureHysteresisC;
  let reads: Array<{ r: Read; device?: string }>;
  if (c.sensor === 'cpu') reads = [{ r: readSignal(input.signals, 'cpuTemperature', undefined, input.now) }];
  else if (resource.kind === 'gpu') reads = [{ r: readSignal(input.signals, 'gpuTemperature', resource.id, input.now), device: resource.id }];
  else {
    reads = Object.values(input.signals)
      .filter((s) => s.name === 'gpuTemperature')
      .map((s) => ({ r: readSignal(input.signals, 'gpuTemperature', s.device, input.now), device: s.device }));
    if (reads.length === 0) return { pass: 'uncheckable', signal: 'gpuTemperature', note: 'no GPU temperature sensor was found' };
  }
  // A GPU without a sensor must not hide another one that is hot or stale: failures first, then
  // "can't be checked".
  let unavailable: Outcome | null = null;
  for (const { r, device } of reads) {
    if (r.state === 'not_available') {
      unavailable ??= notReadable(r, c.sensor === 'cpu' ? 'cpuTemperature' : 'gpuTemperature', device);
      continue;
    }
    if (r.state !== 'ok') return notReadable(r, c.sensor === 'cpu' ? 'cpuTemperature' : 'gpuTemperature', device);
    const t = r.value as number;
    if (t >= limit) {
      const what = c.sensor === 'cpu' ? 'CPU' : `GPU${device ? ` ${device.slice(4)}` : ''}`;
      return x.wasRunning || t >= c.celsius
        ? fail('too_hot', `Paused: ${what} at ${Math.round(t)} °C (limit ${c.celsius} °C)`)
        : fail('cooling_down', `Paused: ${what} cooling down, at ${Math.round(t)} °C (resumes below ${limit} °C)`);
    }
  }
  return unavailable ?? { pass: true };
}

function evalNoGame(x: EvalContext): Outcome {
  const { input } = x;
  const games = readSignal(input.signals, 'gamesRunning', undefined, input.now);
  // Full-screen detection exists only on some platforms; where it does, it is one more way to see a
  // game — also when the process list can't be read (and the user chose to ignore that).
  const fullscreen = readSignal(input.signals, 'fullscreen', undefined, input.now);
  const fullscreenGame = fullscreen.state === 'ok' && fullscreen.value === true;
  if (games.state !== 'ok') return fullscreenGame ? fail('fullscreen', 'Paused: a full-screen app is in front', true) : notReadable(games, 'gamesRunning');
  const ignore = new Set(input.policy.games.ignore.map((n) => n.toLowerCase()));
  const running = (games.value as GameSeen[]).filter((g) => !ignore.has(g.name.toLowerCase()));
  if (running.length > 0) {
    const names = running.map((g) => g.name);
    const text = names.length === 1 ? `${names[0]} is running` : `${names.slice(0, 2).join(' and ')}${names.length > 2 ? ` and ${names.length - 2} more` : ''} are running`;
    return fail('game_running', `Paused: ${text}`, true);
  }
  if (fullscreenGame) return fail('fullscreen', 'Paused: a full-screen app is in front', true);
  return { pass: true };
}

function nextWindowText(c: Extract<Condition, { kind: 'timeWindows' }>, x: EvalContext): string {
  let { day, minute } = wallClock(x.input.now, x.input.timeZone);
  for (let i = 0; i < 8; i++) {
    const starts = c.windows
      .filter((w) => w.days.includes(day))
      .map((w) => minutesOf(w.start))
      .filter((s) => i > 0 || s > minute)
      .sort((a, b) => a - b);
    if (starts.length > 0) {
      const s = starts[0]!;
      const hhmm = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
      return i === 0 ? `today at ${hhmm}` : i === 1 ? `tomorrow at ${hhmm}` : `${dayName(day)} at ${hhmm}`;
    }
    day = nextDay(day);
    minute = -1;
  }
  return 'never';
}

function evalWindows(c: Extract<Condition, { kind: 'timeWindows' }>, x: EvalContext): Outcome {
  const { day, minute } = wallClock(x.input.now, x.input.timeZone);
  if (c.windows.some((w) => w.days.includes(day) && minutesOf(w.start) <= minute && minute < minutesOf(w.end))) return { pass: true };
  return fail('outside_schedule', `Paused: outside your schedule (next window ${nextWindowText(c, x)})`);
}

function evalPrice(c: Extract<Condition, { kind: 'priceAtMost' }>, x: EvalContext): Outcome {
  const r = readSignal(x.input.signals, 'price', undefined, x.input.now);
  let price: Price | null = r.state === 'ok' ? (r.value as Price) : null;
  if (price === null && r.state !== 'stale') price = x.input.policy.flatPrice;
  if (price === null) return r.state === 'stale' ? notReadable(r, 'price') : { pass: 'uncheckable', signal: 'price', note: 'no electricity price is set' };
  if (decimalToMicros(price.perKwh) <= decimalToMicros(c.perKwh)) return { pass: true };
  return fail('price_high', `Paused: electricity costs ${price.perKwh} ${price.currency}/kWh (cap ${c.perKwh})`);
}

/** The profit guard. The device's own figures: a GPU's earnings never pay for the CPU's power. */
function evalNet(c: Extract<Condition, { kind: 'netAtLeast' }>, x: EvalContext): Outcome {
  const device = x.resource.id;
  const r = readSignal(x.input.signals, 'hourlyNet', device, x.input.now);
  if (r.state !== 'ok') return notReadable(r, 'hourlyNet', device);
  const v = r.value as { currency: string; earnPerHour: string; costPerHour: string };
  const net = decimalToMicros(v.earnPerHour) - decimalToMicros(v.costPerHour);
  if (net >= decimalToMicros(c.perHour)) return { pass: true };
  return fail('unprofitable', `Paused: electricity costs ${v.costPerHour} ${v.currency}/h, jobs pay ${v.earnPerHour} ${v.currency}/h (you want at least ${c.perHour} net)`);
}

function evalForeignLoad(c: Extract<Condition, { kind: 'foreignLoadBelow' }>, x: EvalContext): Outcome {
  const gpu = x.resource.kind === 'gpu';
  const name: SignalName = gpu ? 'gpuForeignLoad' : 'cpuForeignLoad';
  const device = gpu ? x.resource.id : undefined;
  const r = readSignal(x.input.signals, name, device, x.input.now);
  if (r.state !== 'ok') return notReadable(r, name, device);
  const load = r.value as number;
  if (load < c.percent) return { pass: true };
  return fail('foreign_load', `Paused: other programs use ${Math.round(load)}% of the ${gpu ? 'GPU' : 'CPU'} (limit ${c.percent}%)`);
}

function evalCondition(c: Condition, x: EvalContext): Outcome {
  switch (c.kind) {
    case 'idle':
      return evalIdle(c, x);
    case 'notOnBattery':
    case 'batteryAtLeast':
      return evalBattery(c, x);
    case 'temperatureBelow':
      return evalTemperature(c, x);
    case 'noGame':
      return evalNoGame(x);
    case 'timeWindows':
      return evalWindows(c, x);
    case 'priceAtMost':
      return evalPrice(c, x);
    case 'foreignLoadBelow':
      return evalForeignLoad(c, x);
    case 'netAtLeast':
      return evalNet(c, x);
  }
}

export function rulesFor(policy: Policy, resource: ResourceInfo): { target: string; rules: Rule[] } {
  if (resource.kind === 'gpu' && policy.rules[resource.id]) return { target: resource.id, rules: policy.rules[resource.id]! };
  const target = resource.kind;
  return { target, rules: policy.rules[target] ?? [] };
}

interface RuleOutcome {
  allowed: Rule | null;
  /** When nothing allowed it: why, most relevant first. */
  reasons: Reason[];
  game: boolean;
  /** The rules said stop (as opposed to manual off, consent, or a system guard). */
  uncheckable: UncheckableCondition[];
}

function evaluateRules(x: EvalContext): RuleOutcome {
  const { target, rules } = rulesFor(x.input.policy, x.resource);
  const reasons: Reason[] = [];
  const uncheckable: UncheckableCondition[] = [];
  let game = false;
  let allowed: Rule | null = null;
  for (const rule of rules) {
    if (!rule.enabled) continue;
    let ok = true;
    for (const c of rule.conditions) {
      const o = evalCondition(c, x);
      if (o.pass === true) continue;
      if (o.pass === 'uncheckable') {
        const choice = c.ifUnavailable ?? 'ask';
        uncheckable.push({ target, ruleId: rule.id, condition: c.kind, signal: o.device ? `${o.signal}@${o.device}` : o.signal, ...(o.note ? { note: o.note } : {}), choice });
        if (choice === 'ignore') continue;
        ok = false;
        const what = SIGNAL_WORDS[o.signal];
        reasons.push(
          choice === 'block'
            ? { code: 'uncheckable_blocked', text: `Paused: rule “${rule.name}” never runs here, because the ${what} can't be checked on this machine` }
            : { code: 'needs_choice', text: `Paused: the ${what} can't be checked on this machine${o.note ? ` (${o.note})` : ''} — choose in Schedule whether to drop that condition` },
        );
        continue;
      }
      ok = false;
      game ||= o.game === true;
      reasons.push(o.reason);
    }
    if (ok) {
      allowed = rule;
      break;
    }
  }
  // Rules after the one that decided are not needed for the decision, but the Schedule page must
  // still list the conditions in them that this machine cannot check.
  if (allowed !== null) {
    for (const rule of rules.slice(rules.indexOf(allowed) + 1)) {
      if (!rule.enabled) continue;
      for (const c of rule.conditions) {
        const o = evalCondition(c, x);
        if (o.pass === 'uncheckable') {
          uncheckable.push({ target, ruleId: rule.id, condition: c.kind, signal: o.device ? `${o.signal}@${o.device}` : o.signal, ...(o.note ? { note: o.note } : {}), choice: c.ifUnavailable ?? 'ask' });
        }
      }
    }
  }
  if (allowed === null && reasons.length === 0) {
    reasons.push({ code: 'no_rule', text: `Paused: no rule allows sharing the ${x.resource.label}` });
  }
  // Deduplicate: several rules often fail for the same reason.
  const seen = new Set<string>();
  const unique = reasons.filter((r) => (seen.has(r.text) ? false : (seen.add(r.text), true)));
  return { allowed, reasons: unique, game, uncheckable };
}

const RUNNING: ReadonlySet<ResourceState> = new Set(['running', 'limited']);

function clampLimits(action: Extract<Rule['action'], { kind: 'limit' }>, resource: ResourceInfo): ResourceDecision['limits'] {
  const limits: NonNullable<ResourceDecision['limits']> = {};
  if (resource.kind === 'cpu') {
    if (action.cpuCores !== undefined) limits.cpuCores = resource.cores !== undefined ? Math.min(action.cpuCores, resource.cores) : action.cpuCores;
    if (action.cpuPercent !== undefined) limits.cpuPercent = action.cpuPercent;
  }
  if (resource.kind === 'gpu' && action.gpuDutyPercent !== undefined) limits.gpuDutyPercent = action.gpuDutyPercent;
  return limits;
}

/** Not running: paused, or released (memory freed) for a game, after a pause that has lasted, or if already released. */
function stoppedState(input: DecideInput, prev: ResourceDecision | undefined, game: boolean): ResourceState {
  const now = input.now.getTime();
  const pausedSince = prev && !RUNNING.has(prev.state) ? Date.parse(prev.since) : now;
  const long = now - pausedSince >= input.policy.releaseAfterMinutes * 60_000;
  return game || long || prev?.state === 'released' ? 'released' : 'paused';
}

function decideResource(input: DecideInput, resource: ResourceInfo, prev: ResourceDecision | undefined): { decision: ResourceDecision; uncheckable: UncheckableCondition[] } {
  const now = input.now;
  const iso = now.toISOString();
  const wasRunning = prev !== undefined && RUNNING.has(prev.state);
  const active = input.activeWork?.[resource.id] ?? 0;
  const make = (state: ResourceState, reasons: Reason[], extra: Partial<ResourceDecision> = {}): ResourceDecision => ({
    resource: resource.id,
    label: resource.label,
    state,
    newWork: RUNNING.has(state),
    limits: null,
    matchedRule: null,
    reasons,
    since: prev && prev.state === state ? prev.since : iso,
    lastBlockedAt: prev?.lastBlockedAt ?? null,
    ...extra,
  });

  // Evaluated even when the user has stopped sharing: the Schedule page lists the conditions this
  // machine cannot check whatever the current mode.
  const rules = evaluateRules({ input, resource, wasRunning });

  // What the user said comes first.
  if (!input.consented) return { decision: make('released', [{ code: 'consent_required', text: 'Off: finish the first-run screen to allow sharing' }]), uncheckable: rules.uncheckable };
  if (input.manual.mode === 'off') return { decision: make('released', [{ code: 'manual_off', text: 'Off: you turned sharing off' }]), uncheckable: rules.uncheckable };
  if (input.manual.mode === 'snooze') {
    const until = input.manual.until ? new Date(input.manual.until) : now;
    return { decision: make('released', [{ code: 'snoozed', text: `Snoozed until ${clockText(until, input.timeZone)}` }]), uncheckable: rules.uncheckable };
  }

  // The system's own alarms.
  const suspended = readSignal(input.signals, 'suspended', undefined, now);
  if (suspended.state === 'ok' && suspended.value === true) {
    return { decision: make(stoppedState(input, prev, false), [{ code: 'suspending', text: 'Paused: the computer is going to sleep' }], { lastBlockedAt: iso }), uncheckable: rules.uncheckable };
  }
  const thermal = readSignal(input.signals, 'thermalState', undefined, now);
  if (thermal.state === 'ok' && (thermal.value === 'serious' || thermal.value === 'critical')) {
    return { decision: make(stoppedState(input, prev, false), [{ code: 'thermal_pressure', text: `Paused: the system reports ${String(thermal.value)} thermal pressure` }], { lastBlockedAt: iso }), uncheckable: rules.uncheckable };
  }

  const draining = input.manual.mode === 'drain';

  if (rules.allowed === null || rules.allowed.action.kind === 'pause') {
    const reasons = rules.allowed ? [{ code: 'rule_pause', text: `Paused: rule “${rules.allowed.name}” says pause` }] : rules.reasons;
    // A game, or a pause that has lasted, frees memory: stop the engine rather than freeze it.
    const state = stoppedState(input, prev, rules.game);
    return {
      decision: make(state, reasons, { matchedRule: rules.allowed?.id ?? null, lastBlockedAt: iso, since: prev && prev.state === state ? prev.since : iso }),
      uncheckable: rules.uncheckable,
    };
  }

  const action = rules.allowed.action;
  const wanted: ResourceState = action.kind === 'limit' ? 'limited' : 'running';
  const limits = action.kind === 'limit' ? clampLimits(action, resource) : null;

  // Resume only after the quiet period: no flapping when the user glances at the screen.
  if (!wasRunning && prev?.lastBlockedAt) {
    const resumeAt = Date.parse(prev.lastBlockedAt) + input.policy.quietPeriodMinutes * 60_000;
    if (now.getTime() < resumeAt) {
      const state = stoppedState(input, prev, false);
      return {
        decision: make(state, [{ code: 'quiet_period', text: `Waiting: everything allows sharing; resumes at ${clockText(new Date(resumeAt), input.timeZone)} if nothing changes` }], {
          matchedRule: rules.allowed.id,
        }),
        uncheckable: rules.uncheckable,
      };
    }
  }

  if (draining) {
    if (active > 0 && wasRunning) {
      return { decision: make(wanted, [{ code: 'draining', text: 'Finishing the current work, then stopping' }], { newWork: false, limits, matchedRule: rules.allowed.id }), uncheckable: rules.uncheckable };
    }
    return { decision: make('released', [{ code: 'drained', text: 'Off: the current work is finished; nothing new starts until you turn sharing on' }]), uncheckable: rules.uncheckable };
  }

  const text = action.kind === 'limit' ? `Sharing the ${resource.label} within limits (rule “${rules.allowed.name}”)` : `Sharing the ${resource.label} (rule “${rules.allowed.name}”)`;
  return { decision: make(wanted, [{ code: wanted, text }], { limits, matchedRule: rules.allowed.id }), uncheckable: rules.uncheckable };
}

const ORDER: ResourceState[] = ['running', 'limited', 'paused', 'released'];

export function decide(input: DecideInput): Decision {
  const prevById = new Map(input.previous?.resources.map((r) => [r.resource, r]) ?? []);
  const results = input.resources.map((r) => decideResource(input, r, prevById.get(r.id)));
  const resources = results.map((r) => r.decision);
  // Several GPUs share one rule list: report each uncheckable condition once.
  const seen = new Set<string>();
  const uncheckable = results
    .flatMap((r) => r.uncheckable)
    .filter((u) => {
      const k = `${u.target}/${u.ruleId}/${u.condition}/${u.signal}/${u.choice}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });
  // The headline speaks for the compute resources (what a gamer notices); storage running on its
  // own is mentioned, not allowed to make a stopped machine read as "Sharing".
  const kinds = new Map(input.resources.map((r) => [r.id, r.kind]));
  const compute = resources.filter((r) => kinds.get(r.resource) !== 'disk');
  const basis = compute.length > 0 ? compute : resources;
  const best = [...basis].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state))[0];
  const sharing = resources.filter((r) => RUNNING.has(r.state)).map((r) => r.label);
  const summary = best
    ? RUNNING.has(best.state)
      ? { state: best.state, reason: { code: best.state, text: `Sharing ${sharing.join(', ')}` } }
      : {
          state: best.state,
          reason: sharing.length > 0 ? { ...best.reasons[0]!, text: `${best.reasons[0]!.text} (still sharing the ${sharing.join(', ')})` } : best.reasons[0]!,
        }
    : { state: 'released' as const, reason: { code: 'no_resources', text: 'Nothing to share on this machine' } };
  return {
    at: input.now.toISOString(),
    resources,
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: 'Storage proofs always run: they are tiny and have deadlines' } },
    // Awake for compute that may run, or for storage work actually in progress; a disk that is
    // merely allowed must not keep the machine up all night with nothing to do.
    keepAwake: input.policy.keepAwake && resources.some((r) => RUNNING.has(r.state) && (kinds.get(r.resource) !== 'disk' || (input.activeWork?.[r.resource] ?? 0) > 0)),
    uncheckable,
    summary,
  };
}
