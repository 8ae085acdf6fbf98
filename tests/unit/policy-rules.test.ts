// Table tests of the decision function, one condition kind at a time, then rule order, paused vs
// released, the quiet period, manual modes and the summary line. Fixed dates only.
import { describe, expect, it } from 'vitest';
import { decide, readSignal } from '../../agent/policy/decide.js';
import { Decision, defaultPolicy, type Condition, type GameSeen, type Policy, type Rule } from '../../protocol/index.js';
import {
  CPU,
  GPU0,
  GPU1,
  T0,
  at,
  calmSignals,
  decideOne,
  input,
  notAvailable,
  policyWith,
  previousWith,
  reading,
  resourceOf,
  rule,
  sameRules,
  signalsWith,
  snapshot,
} from '../support/policy-fixtures.js';

const only = (conditions: Condition[], overrides: Partial<Omit<Policy, 'rules'>> = {}) => policyWith(sameRules([rule('main', conditions, undefined, { name: 'Main rule' })]), overrides);

const game = (name: string, via: GameSeen['via'] = 'steam'): GameSeen => ({ name, via });

describe('readSignal', () => {
  it.each([
    ['fresh ok reading', reading('idleSeconds', 5, T0, { readAt: at(T0, 0, -60) }), 'ok'],
    ['ok reading older than its freshness', reading('idleSeconds', 5, T0, { readAt: at(T0, 0, -61) }), 'stale'],
    ['ok reading never read', reading('idleSeconds', 5, T0, { readAt: null }), 'stale'],
    ['stale reading', reading('idleSeconds', 5, T0, { state: 'stale' }), 'stale'],
    ['unknown reading', reading('idleSeconds', null, T0, { state: 'unknown', readAt: null }), 'unknown'],
    ['not available', notAvailable('idleSeconds', T0), 'not_available'],
  ] as const)('%s -> %s', (_what, r, state) => {
    expect(readSignal(snapshot(r), 'idleSeconds', undefined, T0).state).toBe(state);
  });

  it('a missing reading is unknown', () => {
    expect(readSignal({}, 'idleSeconds', undefined, T0).state).toBe('unknown');
  });
});

describe('condition: idle', () => {
  const idle10 = only([{ kind: 'idle', minMinutes: 10 }]);
  const run = (signals: ReturnType<typeof signalsWith>, policy: Policy = idle10) => decideOne({ signals, policy });

  it.each([
    ['idle exactly the threshold', 600, 'running'],
    ['idle longer', 3600, 'running'],
    ['idle one second short', 599, 'paused'],
    ['just used', 0, 'paused'],
  ] as const)('%s (%i s) -> %s', (_what, seconds, state) => {
    expect(run(signalsWith(T0, reading('idleSeconds', seconds, T0))).state).toBe(state);
  });

  it('says the user is there, in words that do not change with every idle sample', () => {
    const d = run(signalsWith(T0, reading('idleSeconds', 30, T0)));
    expect(d.reasons[0]).toEqual({ code: 'user_active', text: 'Paused: you are using the computer (it waits for 10 idle minutes)' });
    expect(run(signalsWith(T0, reading('idleSeconds', 240, T0))).reasons[0]).toEqual(d.reasons[0]);
  });

  it('a locked screen counts as idle', () => {
    expect(run(signalsWith(T0, reading('idleSeconds', 0, T0), reading('screenLocked', true, T0))).state).toBe('running');
  });

  it('a stale screen lock does not count as locked', () => {
    const d = run(signalsWith(T0, reading('idleSeconds', 0, T0), reading('screenLocked', true, T0, { readAt: at(T0, -10) })));
    expect(d.state).toBe('paused');
    expect(d.reasons[0]!.code).toBe('user_active');
  });

  it('a dedicated machine is always idle, even with no idle reading at all', () => {
    const policy = only([{ kind: 'idle', minMinutes: 10 }], { dedicatedMachine: true });
    expect(run(signalsWith(T0, reading('idleSeconds', 0, T0)), policy).state).toBe('running');
    const { idleSeconds: _gone, ...noIdle } = calmSignals(T0);
    expect(run(noIdle, policy).state).toBe('running');
  });

  it.each([
    ['stale (source stopped answering)', reading('idleSeconds', 3600, T0, { readAt: at(T0, -5) }), 'signal_stale', 'Paused: the idle time reading is out of date (its source stopped answering)'],
    ['reported stale', reading('idleSeconds', 3600, T0, { state: 'stale' }), 'signal_stale', 'Paused: the idle time reading is out of date (its source stopped answering)'],
    ['unknown', reading('idleSeconds', null, T0, { state: 'unknown', readAt: null }), 'signal_unknown', 'Paused: the idle time is not known yet'],
  ] as const)('%s counts as the user being there', (_what, r, code, text) => {
    const d = run(signalsWith(T0, r));
    expect(d.state).toBe('paused');
    expect(d.reasons[0]).toEqual({ code, text });
  });

  it('not available: waits for the user to choose, and says so', () => {
    const decision = decide(input({ resources: [CPU], policy: idle10, signals: signalsWith(T0, notAvailable('idleSeconds', T0, undefined, 'Wayland without an idle monitor')) }));
    const cpu = resourceOf(decision, 'cpu');
    expect(cpu.state).toBe('paused');
    expect(cpu.reasons[0]).toEqual({
      code: 'needs_choice',
      text: "Paused: the idle time can't be checked on this machine (Wayland without an idle monitor) — choose in Schedule whether to drop that condition",
    });
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'idle', signal: 'idleSeconds', note: 'Wayland without an idle monitor', choice: 'ask' }]);
  });

  it('not available, user chose ignore: the condition is dropped (but still listed)', () => {
    const policy = only([{ kind: 'idle', minMinutes: 10, ifUnavailable: 'ignore' }]);
    const decision = decide(input({ resources: [CPU], policy, signals: signalsWith(T0, notAvailable('idleSeconds', T0)) }));
    expect(resourceOf(decision, 'cpu').state).toBe('running');
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'idle', signal: 'idleSeconds', choice: 'ignore' }]);
  });

  it('not available, user chose block: the rule never runs here', () => {
    const policy = only([{ kind: 'idle', minMinutes: 10, ifUnavailable: 'block' }]);
    const d = run(signalsWith(T0, notAvailable('idleSeconds', T0)), policy);
    expect(d.state).toBe('paused');
    expect(d.reasons[0]).toEqual({ code: 'uncheckable_blocked', text: "Paused: rule “Main rule” never runs here, because the idle time can't be checked on this machine" });
  });
});

describe('conditions: notOnBattery and batteryAtLeast', () => {
  const cases: Array<[string, Condition, boolean, number | null, string | null]> = [
    ['on AC', { kind: 'notOnBattery' }, false, 100, null],
    ['on battery', { kind: 'notOnBattery' }, true, 100, 'Paused: you are on battery'],
    ['on AC, charge irrelevant', { kind: 'batteryAtLeast', percent: 50 }, false, 5, null],
    ['on battery above the floor', { kind: 'batteryAtLeast', percent: 50 }, true, 80, null],
    ['on battery at the floor', { kind: 'batteryAtLeast', percent: 50 }, true, 50, null],
    ['on battery below the floor', { kind: 'batteryAtLeast', percent: 50 }, true, 30, 'Paused: battery at 30% (needs 50%)'],
  ];
  it.each(cases)('%s', (_what, condition, onBattery, percent, text) => {
    const d = decideOne({ policy: only([condition]), signals: signalsWith(T0, reading('onBattery', onBattery, T0), reading('batteryPercent', percent, T0)) });
    if (text === null) expect(d.state).toBe('running');
    else {
      expect(d.state).toBe('paused');
      expect(d.reasons[0]!.text).toBe(text);
      expect(d.reasons[0]!.code).toBe(condition.kind === 'notOnBattery' ? 'on_battery' : 'battery_low');
    }
  });

  it('an unknown battery state is the safe side', () => {
    const d = decideOne({ policy: only([{ kind: 'notOnBattery' }]), signals: signalsWith(T0, reading('onBattery', null, T0, { state: 'unknown', readAt: null })) });
    expect(d.reasons[0]!.code).toBe('signal_unknown');
  });

  it('on battery with a stale charge is the safe side', () => {
    const d = decideOne({
      policy: only([{ kind: 'batteryAtLeast', percent: 20 }]),
      signals: signalsWith(T0, reading('onBattery', true, T0), reading('batteryPercent', 90, T0, { readAt: at(T0, -30) })),
    });
    expect(d.state).toBe('paused');
    expect(d.reasons[0]!.code).toBe('signal_stale');
  });
});

describe('condition: temperatureBelow, with hysteresis', () => {
  // limit 80 °C, hysteresis 5 °C: stop at >= 80 while running; once stopped, resume only below 75.
  const cpu80 = only([{ kind: 'temperatureBelow', sensor: 'cpu', celsius: 80 }], { temperatureHysteresisC: 5, releaseAfterMinutes: 240 });
  const gpu80 = only([{ kind: 'temperatureBelow', sensor: 'gpu', celsius: 80 }], { temperatureHysteresisC: 5 });
  const longAgo = at(T0, -120);

  it.each([
    ['running', 79.9, 'running', null],
    ['running', 80, 'paused', 'Paused: CPU at 80 °C (limit 80 °C)'],
    ['running', 95, 'paused', 'Paused: CPU at 95 °C (limit 80 °C)'],
    ['paused', 85, 'paused', 'Paused: CPU at 85 °C (limit 80 °C)'],
    ['paused', 79, 'paused', 'Paused: CPU cooling down, at 79 °C (resumes below 75 °C)'],
    ['paused', 75, 'paused', 'Paused: CPU cooling down, at 75 °C (resumes below 75 °C)'],
    ['paused', 74.9, 'running', null],
  ] as const)('CPU was %s, now %f °C -> %s', (was, celsius, state, text) => {
    const previous = previousWith(CPU, was, T0, { since: longAgo, lastBlockedAt: was === 'paused' ? longAgo : null });
    const d = decideOne({ policy: cpu80, previous, signals: signalsWith(T0, reading('cpuTemperature', celsius, T0)) });
    expect(d.state).toBe(state);
    if (text !== null) expect(d.reasons[0]!.text).toBe(text);
    if (text !== null) expect(d.reasons[0]!.code).toBe(text.includes('cooling') ? 'cooling_down' : 'too_hot');
  });

  it('with no hysteresis, resumes just below the limit', () => {
    const policy = { ...cpu80, temperatureHysteresisC: 0 };
    const previous = previousWith(CPU, 'paused', T0, { since: longAgo, lastBlockedAt: longAgo });
    expect(decideOne({ policy, previous, signals: signalsWith(T0, reading('cpuTemperature', 79, T0)) }).state).toBe('running');
  });

  it('each GPU is judged by its own sensor, with hysteresis per GPU', () => {
    const now = T0;
    const signals = { ...calmSignals(now, ['gpu:0', 'gpu:1']), ...snapshot(reading('gpuTemperature', 85, now, { device: 'gpu:0' }), reading('gpuTemperature', 78, now, { device: 'gpu:1' })) };
    const running = previousWith(GPU1, 'running', now);
    const d = decide(input({ policy: gpu80, signals, resources: [GPU0, GPU1], previous: { ...running, resources: [...previousWith(GPU0, 'running', now).resources, ...running.resources] } }));
    expect(resourceOf(d, 'gpu:0').state).toBe('paused');
    expect(resourceOf(d, 'gpu:0').reasons[0]).toEqual({ code: 'too_hot', text: 'Paused: GPU 0 at 85 °C (limit 80 °C)' });
    expect(resourceOf(d, 'gpu:1').state).toBe('running');
  });

  it('a GPU-temperature condition on the CPU looks at every GPU', () => {
    const signals = { ...calmSignals(T0, ['gpu:0', 'gpu:1']), ...snapshot(reading('gpuTemperature', 90, T0, { device: 'gpu:1' })) };
    const d = decideOne({ policy: gpu80, signals, previous: previousWith(CPU, 'running', T0) });
    expect(d.state).toBe('paused');
    expect(d.reasons[0]!.text).toBe('Paused: GPU 1 at 90 °C (limit 80 °C)');
  });

  it('a GPU-temperature condition on the CPU with no GPU sensor at all cannot be checked', () => {
    const signals = calmSignals(T0, []);
    const decision = decide(input({ policy: gpu80, signals, resources: [CPU] }));
    expect(resourceOf(decision, 'cpu').reasons[0]!.code).toBe('needs_choice');
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'temperatureBelow', signal: 'gpuTemperature', note: 'no GPU temperature sensor was found', choice: 'ask' }]);
  });

  it('one GPU without a sensor does not hide another GPU that is too hot or stale (even when the user said ignore)', () => {
    const policy = only([{ kind: 'temperatureBelow', sensor: 'gpu', celsius: 80, ifUnavailable: 'ignore' }]);
    const hot = { ...calmSignals(T0, ['gpu:0', 'gpu:1']), ...snapshot(notAvailable('gpuTemperature', T0, 'gpu:0'), reading('gpuTemperature', 95, T0, { device: 'gpu:1' })) };
    expect(decideOne({ policy, signals: hot }).reasons[0]!.code).toBe('too_hot');
    const stale = { ...calmSignals(T0, ['gpu:0', 'gpu:1']), ...snapshot(notAvailable('gpuTemperature', T0, 'gpu:0'), reading('gpuTemperature', 50, T0, { device: 'gpu:1', state: 'stale' })) };
    expect(decideOne({ policy, signals: stale }).reasons[0]!.code).toBe('signal_stale');
    const cool = { ...calmSignals(T0, ['gpu:0', 'gpu:1']), ...snapshot(notAvailable('gpuTemperature', T0, 'gpu:0'), reading('gpuTemperature', 50, T0, { device: 'gpu:1' })) };
    const decision = decide(input({ policy, signals: cool, resources: [CPU] }));
    expect(resourceOf(decision, 'cpu').state).toBe('running');
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'temperatureBelow', signal: 'gpuTemperature@gpu:0', choice: 'ignore' }]);
  });

  it('a GPU with no temperature sensor waits for the user to choose', () => {
    const signals = signalsWith(T0, notAvailable('gpuTemperature', T0, 'gpu:0', 'no sensor'));
    const decision = decide(input({ policy: gpu80, signals, resources: [GPU0] }));
    expect(resourceOf(decision, 'gpu:0').reasons[0]!.code).toBe('needs_choice');
    expect(decision.uncheckable).toEqual([{ target: 'gpu', ruleId: 'main', condition: 'temperatureBelow', signal: 'gpuTemperature@gpu:0', note: 'no sensor', choice: 'ask' }]);
  });
});

describe('condition: noGame', () => {
  const noGame = (ignore: string[] = []) => only([{ kind: 'noGame' }], { games: { extra: [], ignore } });
  const withGames = (games: GameSeen[], ...more: ReturnType<typeof reading>[]) => signalsWith(T0, reading('gamesRunning', games, T0), ...more);

  it.each([
    [[game('Cyberpunk2077.exe')], [], 'Paused: Cyberpunk2077.exe is running'],
    [[game('Cyberpunk2077.exe'), game('eldenring.exe', 'launcher')], [], 'Paused: Cyberpunk2077.exe and eldenring.exe are running'],
    [[game('a.exe'), game('b.exe'), game('c.exe'), game('d.exe')], [], 'Paused: a.exe and b.exe and 2 more are running'],
    [[game('Cyberpunk2077.exe'), game('EpicWebHelper.exe', 'launcher')], ['epicwebhelper.EXE'], 'Paused: Cyberpunk2077.exe is running'],
  ] as Array<[GameSeen[], string[], string]>)('%j (ignoring %j) -> released: %s', (games, ignore, text) => {
    const d = decideOne({ policy: noGame(ignore), signals: withGames(games), previous: previousWith(CPU, 'running', T0) });
    expect(d.state).toBe('released');
    expect(d.reasons[0]).toEqual({ code: 'game_running', text });
  });

  it('no game, or only ignored ones (any letter case), runs', () => {
    expect(decideOne({ policy: noGame(), signals: withGames([]) }).state).toBe('running');
    expect(decideOne({ policy: noGame(['steamwebhelper.exe']), signals: withGames([game('SteamWebHelper.exe', 'launcher')]) }).state).toBe('running');
  });

  it('a full-screen app counts as a game', () => {
    const d = decideOne({ policy: noGame(), signals: withGames([], reading('fullscreen', true, T0)) });
    expect(d.state).toBe('released');
    expect(d.reasons[0]).toEqual({ code: 'fullscreen', text: 'Paused: a full-screen app is in front' });
  });

  it('full-screen detection is optional: not available or stale does not block', () => {
    expect(decideOne({ policy: noGame(), signals: withGames([], notAvailable('fullscreen', T0)) }).state).toBe('running');
    expect(decideOne({ policy: noGame(), signals: withGames([], reading('fullscreen', true, T0, { state: 'stale' })) }).state).toBe('running');
  });

  it('a stale game list is the safe side (paused, not released: no game is known)', () => {
    const d = decideOne({ policy: noGame(), signals: signalsWith(T0, reading('gamesRunning', [], T0, { readAt: at(T0, -3) })) });
    expect(d.state).toBe('paused');
    expect(d.reasons[0]!.code).toBe('signal_stale');
  });

  it('full screen still counts when the process list cannot be read and the user said ignore', () => {
    const policy = only([{ kind: 'noGame', ifUnavailable: 'ignore' }]);
    const d = decideOne({ policy, signals: signalsWith(T0, notAvailable('gamesRunning', T0), reading('fullscreen', true, T0)) });
    expect(d.state).toBe('released');
    expect(d.reasons[0]!.code).toBe('fullscreen');
  });
});

describe('condition: timeWindows', () => {
  const evening = only([{ kind: 'timeWindows', windows: [{ days: ['wed'], start: '18:00', end: '20:00' }] }]);
  it.each([
    ['2026-06-03T17:59:00Z', 'paused'],
    ['2026-06-03T18:00:00Z', 'running'],
    ['2026-06-03T19:59:59Z', 'running'],
    ['2026-06-03T20:00:00Z', 'paused'],
  ] as const)('at %s -> %s', (iso, state) => {
    const now = new Date(iso);
    expect(decideOne({ now, signals: calmSignals(now), policy: evening }).state).toBe(state);
  });

  it('says when the next window opens', () => {
    const d = decideOne({ policy: evening });
    expect(d.reasons[0]).toEqual({ code: 'outside_schedule', text: 'Paused: outside your schedule (next window today at 18:00)' });
  });
});

describe('condition: priceAtMost (exact decimals)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['0.30', '0.3', true],
    ['0.3', '0.30', true],
    ['0.300001', '0.3', false],
    ['0.299999', '0.3', true],
    ['0.31', '0.3', false],
    ['-0.05', '0', true],
    ['-0.05', '-0.1', false],
    ['-0.050', '-0.05', true],
    ['-0.1', '-0.05', true],
    ['0', '-0.000001', false],
    ['12.5', '100', true],
    ['100', '12.5', false],
  ];
  it.each(cases)('price %s, cap %s -> allowed %s', (price, cap, allowed) => {
    const d = decideOne({ policy: only([{ kind: 'priceAtMost', perKwh: cap }]), signals: signalsWith(T0, reading('price', { currency: 'EUR', perKwh: price }, T0)) });
    expect(d.state).toBe(allowed ? 'running' : 'paused');
    if (!allowed) expect(d.reasons[0]).toEqual({ code: 'price_high', text: `Paused: electricity costs ${price} EUR/kWh (cap ${cap})` });
  });

  it('without a price reading, the flat price counts', () => {
    const { price: _none, ...signals } = calmSignals(T0);
    const cap = [{ kind: 'priceAtMost', perKwh: '0.30' }] as Condition[];
    expect(decideOne({ signals, policy: only(cap, { flatPrice: { currency: 'EUR', perKwh: '0.25' } }) }).state).toBe('running');
    expect(decideOne({ signals, policy: only(cap, { flatPrice: { currency: 'EUR', perKwh: '0.35' } }) }).reasons[0]!.code).toBe('price_high');
  });

  it('a stale price does not fall back to the flat price', () => {
    const signals = signalsWith(T0, reading('price', { currency: 'EUR', perKwh: '0.10' }, T0, { state: 'stale' }));
    const d = decideOne({ signals, policy: only([{ kind: 'priceAtMost', perKwh: '0.30' }], { flatPrice: { currency: 'EUR', perKwh: '0.10' } }) });
    expect(d.reasons[0]!.code).toBe('signal_stale');
  });

  it('no price anywhere cannot be checked', () => {
    const { price: _none, ...signals } = calmSignals(T0);
    const decision = decide(input({ signals, resources: [CPU], policy: only([{ kind: 'priceAtMost', perKwh: '0.30' }], { flatPrice: null }) }));
    expect(resourceOf(decision, 'cpu').reasons[0]!.code).toBe('needs_choice');
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'priceAtMost', signal: 'price', note: 'no electricity price is set', choice: 'ask' }]);
  });
});

describe('condition: netAtLeast (the profit guard)', () => {
  const net = (earnPerHour: string, costPerHour: string, device = 'cpu') => reading('hourlyNet', { currency: 'EUR', earnPerHour, costPerHour }, T0, { device });
  const cases: Array<[string, string, string, boolean]> = [
    ['0.30', '0.41', '0', false],
    ['0.41', '0.30', '0', true],
    ['0.41', '0.30', '0.11', true],
    ['0.41', '0.30', '0.110001', false],
    ['0', '0.02', '-0.05', true],
  ];
  it.each(cases)('pays %s/h, costs %s/h, wants %s net -> allowed %s', (earn, cost, floor, allowed) => {
    const d = decideOne({ policy: only([{ kind: 'netAtLeast', perHour: floor }]), signals: signalsWith(T0, net(earn, cost)) });
    expect(d.state).toBe(allowed ? 'running' : 'paused');
    if (!allowed) expect(d.reasons[0]).toEqual({ code: 'unprofitable', text: `Paused: electricity costs ${cost} EUR/h, jobs pay ${earn} EUR/h (you want at least ${floor} net)` });
  });

  it('reads the figures of the resource’s own device: a profitable GPU does not carry an unprofitable CPU', () => {
    const signals = signalsWith(T0, net('0.10', '0.40', 'cpu'), net('2.00', '0.40', 'gpu:0'));
    const decision = decide(input({ signals, resources: [CPU, GPU0], policy: only([{ kind: 'netAtLeast', perHour: '0' }]) }));
    expect(resourceOf(decision, 'cpu').state).toBe('paused');
    expect(resourceOf(decision, 'gpu:0').state).toBe('running');
  });

  it('with no paid work to go on, it cannot be checked and says why', () => {
    const signals = signalsWith(T0, notAvailable('hourlyNet', T0, 'cpu', 'no paid work on this device in the last 7 days to say what work pays'));
    const decision = decide(input({ signals, resources: [CPU], policy: only([{ kind: 'netAtLeast', perHour: '0' }]) }));
    expect(decision.uncheckable).toEqual([{ target: 'cpu', ruleId: 'main', condition: 'netAtLeast', signal: 'hourlyNet@cpu', note: 'no paid work on this device in the last 7 days to say what work pays', choice: 'ask' }]);
  });
});

describe('condition: foreignLoadBelow', () => {
  const below20 = only([{ kind: 'foreignLoadBelow', percent: 20 }]);
  it.each([
    [19.9, 'running'],
    [20, 'paused'],
    [100, 'paused'],
  ] as const)('CPU load of others %f%% -> %s', (load, state) => {
    const d = decideOne({ policy: below20, signals: signalsWith(T0, reading('cpuForeignLoad', load, T0)) });
    expect(d.state).toBe(state);
    if (state === 'paused') expect(d.reasons[0]).toEqual({ code: 'foreign_load', text: `Paused: other programs use ${load}% of the CPU (limit 20%)` });
  });

  it('a GPU reads its own foreign load, not the CPU one', () => {
    const signals = signalsWith(T0, reading('cpuForeignLoad', 100, T0), reading('gpuForeignLoad', 45, T0, { device: 'gpu:0' }));
    const gpu = decideOne({ policy: below20, signals }, GPU0);
    expect(gpu.reasons[0]!.text).toBe('Paused: other programs use 45% of the GPU (limit 20%)');
  });
});

describe('rule order and actions', () => {
  const idle10: Condition = { kind: 'idle', minMinutes: 10 };
  const nightPause: Rule = rule('quiet-hours', [{ kind: 'timeWindows', windows: [{ days: ['wed'], start: '11:00', end: '13:00' }] }], { kind: 'pause' }, { name: 'Quiet hours' });

  it('the first matching rule wins', () => {
    const rules = [rule('idle-limit', [idle10], { kind: 'limit', cpuCores: 2, cpuPercent: 50 }), rule('always', [])];
    const policy = policyWith({ cpu: rules });
    const idle = decideOne({ policy });
    expect(idle).toMatchObject({ state: 'limited', matchedRule: 'idle-limit', limits: { cpuCores: 2, cpuPercent: 50 }, newWork: true });
    expect(idle.reasons[0]).toEqual({ code: 'limited', text: 'Sharing the CPU within limits (rule “Rule idle-limit”)' });
    const active = decideOne({ policy, signals: signalsWith(T0, reading('idleSeconds', 5, T0)) });
    expect(active).toMatchObject({ state: 'running', matchedRule: 'always', limits: null });
    expect(active.reasons[0]).toEqual({ code: 'running', text: 'Sharing the CPU (rule “Rule always”)' });
  });

  it('a matching pause rule pauses even if a later rule would run', () => {
    const d = decideOne({ policy: policyWith({ cpu: [nightPause, rule('always', [])] }) });
    expect(d).toMatchObject({ state: 'paused', matchedRule: 'quiet-hours', newWork: false });
    expect(d.reasons).toEqual([{ code: 'rule_pause', text: 'Paused: rule “Quiet hours” says pause' }]);
  });

  it('a pause rule that does not match falls through', () => {
    const now = at(T0, 120);
    expect(decideOne({ now, signals: calmSignals(now), policy: policyWith({ cpu: [nightPause, rule('always', [])] }) }).matchedRule).toBe('always');
  });

  it('disabled rules are skipped', () => {
    const d = decideOne({ policy: policyWith({ cpu: [{ ...nightPause, enabled: false }, rule('always', [])] }) });
    expect(d.matchedRule).toBe('always');
  });

  it('no rule for the resource: paused, and says so', () => {
    const d = decideOne({ policy: policyWith({ gpu: [rule('always', [])] }) });
    expect(d.reasons).toEqual([{ code: 'no_rule', text: 'Paused: no rule allows sharing the CPU' }]);
  });

  it('lists the reasons of every failing rule, each once', () => {
    const policy = policyWith({ cpu: [rule('a', [idle10, { kind: 'notOnBattery' }]), rule('b', [{ kind: 'notOnBattery' }])] });
    const d = decideOne({ policy, signals: signalsWith(T0, reading('idleSeconds', 5, T0), reading('onBattery', true, T0)) });
    expect(d.reasons.map((r) => r.code)).toEqual(['user_active', 'on_battery']);
  });

  it('limits: CPU cores are capped at the cores the machine has; a GPU gets its duty cycle', () => {
    const policy = policyWith({ cpu: [rule('l', [], { kind: 'limit', cpuCores: 16 })], gpu: [rule('l', [], { kind: 'limit', gpuDutyPercent: 40 })] });
    expect(decideOne({ policy }).limits).toEqual({ cpuCores: 8 });
    expect(decideOne({ policy }, { ...CPU, cores: 32 }).limits).toEqual({ cpuCores: 16 });
    expect(decideOne({ policy }, GPU0).limits).toEqual({ gpuDutyPercent: 40 });
  });

  it('a gpu:<index> rule list overrides the gpu one for that GPU only', () => {
    const policy = policyWith({ gpu: [rule('all', [])], 'gpu:1': [rule('second', [], { kind: 'pause' })] });
    const d = decide(input({ policy, resources: [GPU0, GPU1], signals: calmSignals(T0, ['gpu:0', 'gpu:1']) }));
    expect(resourceOf(d, 'gpu:0')).toMatchObject({ state: 'running', matchedRule: 'all' });
    expect(resourceOf(d, 'gpu:1')).toMatchObject({ state: 'paused', matchedRule: 'second' });
  });
});

describe('paused vs released', () => {
  const policy = only([{ kind: 'idle', minMinutes: 10 }, { kind: 'noGame' }], { releaseAfterMinutes: 10 });
  const active = signalsWith(T0, reading('idleSeconds', 5, T0));

  it('a game releases at once (GPU memory must be freed)', () => {
    const d = decideOne({ policy, previous: previousWith(CPU, 'running', T0), signals: signalsWith(T0, reading('gamesRunning', [game('Cyberpunk2077.exe')], T0)) });
    expect(d.state).toBe('released');
  });

  it.each([
    ['running', 0, 'paused'],
    ['paused', 9, 'paused'],
    ['paused', 10, 'released'],
    ['released', 1, 'released'],
  ] as const)('was %s for %i min, user active -> %s', (was, minutes, state) => {
    const since = at(T0, -minutes);
    const d = decideOne({ policy, signals: active, previous: previousWith(CPU, was, T0, { since, lastBlockedAt: was === 'running' ? null : since }) });
    expect(d.state).toBe(state);
    expect(d.since).toBe((d.state === was ? since : T0).toISOString());
    expect(d.lastBlockedAt).toBe(T0.toISOString());
  });

  it('releaseAfterMinutes 0 releases at once', () => {
    expect(decideOne({ policy: { ...policy, releaseAfterMinutes: 0 }, signals: active, previous: previousWith(CPU, 'running', T0) }).state).toBe('released');
  });

  it('a system alarm that lasts also releases, and never turns a release back into a pause', () => {
    const suspended = signalsWith(T0, reading('suspended', true, T0));
    const since = at(T0, -30);
    expect(decideOne({ policy, signals: suspended, previous: previousWith(CPU, 'paused', T0, { since, lastBlockedAt: T0 }) }).state).toBe('released');
    expect(decideOne({ policy, signals: suspended, previous: previousWith(CPU, 'released', T0, { since: at(T0, -1), lastBlockedAt: T0 }) }).state).toBe('released');
    expect(decideOne({ policy, signals: suspended, previous: previousWith(CPU, 'running', T0) }).state).toBe('paused');
  });
});

describe('quiet period', () => {
  const policy = only([{ kind: 'idle', minMinutes: 10 }], { quietPeriodMinutes: 5 });

  it('waits quietPeriodMinutes after the last block, then runs', () => {
    const blocked = at(T0, -4);
    const previous = previousWith(CPU, 'paused', T0, { since: blocked, lastBlockedAt: blocked });
    const waiting = decideOne({ policy, previous });
    expect(waiting).toMatchObject({ state: 'paused', newWork: false, matchedRule: 'main', lastBlockedAt: blocked.toISOString() });
    expect(waiting.reasons).toEqual([{ code: 'quiet_period', text: 'Waiting: everything allows sharing; resumes at 12:01 if nothing changes' }]);
    const later = at(T0, 1);
    expect(decideOne({ policy, previous, now: later, signals: calmSignals(later) }).state).toBe('running');
  });

  it('the resume time is shown in the schedule zone', () => {
    const blocked = at(T0, -4);
    const previous = previousWith(CPU, 'paused', T0, { since: blocked, lastBlockedAt: blocked });
    expect(decideOne({ policy, previous, timeZone: 'Asia/Kolkata' }).reasons[0]!.text).toBe('Waiting: everything allows sharing; resumes at 17:31 if nothing changes');
  });

  it('a released resource stays released while it waits', () => {
    const blocked = at(T0, -1);
    expect(decideOne({ policy, previous: previousWith(CPU, 'released', T0, { since: blocked, lastBlockedAt: blocked }) }).state).toBe('released');
  });

  it('no quiet period: resumes at once', () => {
    const previous = previousWith(CPU, 'paused', T0, { since: T0, lastBlockedAt: T0 });
    expect(decideOne({ policy: { ...policy, quietPeriodMinutes: 0 }, previous }).state).toBe('running');
  });

  it('turning sharing off and on does not start a quiet period', () => {
    const previous = previousWith(CPU, 'released', T0, { since: at(T0, -1), lastBlockedAt: null });
    expect(decideOne({ policy, previous }).state).toBe('running');
  });
});

describe('manual modes, consent and system alarms', () => {
  it.each([
    ['consent missing', { consented: false }, 'consent_required', 'Off: finish the first-run screen to allow sharing'],
    ['off', { manual: { mode: 'off', until: null, changedAt: null } }, 'manual_off', 'Off: you turned sharing off'],
    ['snooze', { manual: { mode: 'snooze', until: '2026-06-03T14:30:00.000Z', changedAt: null } }, 'snoozed', 'Snoozed until 14:30'],
  ] as const)('%s: everything released, nothing new', (_what, partial, code, text) => {
    const d = decide(input({ ...partial, previous: previousWith(CPU, 'running', T0) }));
    for (const r of d.resources) {
      expect(r).toMatchObject({ state: 'released', newWork: false });
      expect(r.reasons).toEqual([{ code, text }]);
    }
    expect(d.summary).toEqual({ state: 'released', reason: { code, text } });
  });

  it('the snooze time is shown in the schedule zone', () => {
    const d = decideOne({ manual: { mode: 'snooze', until: '2026-06-03T14:30:00.000Z', changedAt: null }, timeZone: 'America/New_York' });
    expect(d.reasons[0]!.text).toBe('Snoozed until 10:30');
  });

  it('drain: running work finishes, nothing new starts', () => {
    const drain = { mode: 'drain', until: null, changedAt: null } as const;
    const busy = decideOne({ manual: drain, previous: previousWith(CPU, 'running', T0), activeWork: { cpu: 2 } });
    expect(busy).toMatchObject({ state: 'running', newWork: false, reasons: [{ code: 'draining', text: 'Finishing the current work, then stopping' }] });
    const done = decideOne({ manual: drain, previous: previousWith(CPU, 'running', T0), activeWork: { cpu: 0 } });
    expect(done).toMatchObject({ state: 'released', newWork: false, reasons: [{ code: 'drained', text: 'Off: the current work is finished; nothing new starts until you turn sharing on' }] });
    const stopped = decideOne({ manual: drain, previous: previousWith(CPU, 'paused', T0, { lastBlockedAt: at(T0, -30) }), activeWork: { cpu: 1 } });
    expect(stopped).toMatchObject({ state: 'released', newWork: false });
  });

  it('drain keeps applying the limits the rules set now', () => {
    const drain = { mode: 'drain', until: null, changedAt: null } as const;
    const policy = policyWith({ cpu: [rule('slow', [], { kind: 'limit', cpuCores: 2 })] });
    const d = decideOne({ manual: drain, policy, previous: previousWith(CPU, 'running', T0), activeWork: { cpu: 1 } });
    expect(d).toMatchObject({ state: 'limited', newWork: false, limits: { cpuCores: 2 }, matchedRule: 'slow' });
  });

  it.each([
    ['going to sleep', reading('suspended', true, T0), 'suspending', 'Paused: the computer is going to sleep'],
    ['serious thermal pressure', reading('thermalState', 'serious', T0), 'thermal_pressure', 'Paused: the system reports serious thermal pressure'],
    ['critical thermal pressure', reading('thermalState', 'critical', T0), 'thermal_pressure', 'Paused: the system reports critical thermal pressure'],
  ] as const)('%s pauses everything whatever the rules say', (_what, r, code, text) => {
    const d = decide(input({ signals: signalsWith(T0, r), previous: previousWith(CPU, 'running', T0) }));
    expect(resourceOf(d, 'cpu')).toMatchObject({ state: 'paused', reasons: [{ code, text }], lastBlockedAt: T0.toISOString() });
  });

  it('fair thermal pressure does not pause', () => {
    expect(decideOne({ signals: signalsWith(T0, reading('thermalState', 'fair', T0)) }).state).toBe('running');
  });
});

describe('the decision as a whole', () => {
  it('summary: lists what is shared', () => {
    const d = decide(input());
    expect(d.summary).toEqual({ state: 'running', reason: { code: 'running', text: 'Sharing CPU, GPU 0, Disk' } });
  });

  it('summary: some shared, some limited', () => {
    const policy = policyWith({ cpu: [rule('l', [], { kind: 'limit', cpuPercent: 50 })], disk: [rule('r', [])] });
    const d = decide(input({ policy }));
    // The headline speaks for the compute resources: the CPU is limited; the disk runs too.
    expect(d.summary).toEqual({ state: 'limited', reason: { code: 'limited', text: 'Sharing CPU, Disk' } });
    const onlyLimited = decide(input({ policy: policyWith({ cpu: [rule('l', [], { kind: 'limit', cpuPercent: 50 })] }) }));
    expect(onlyLimited.summary).toEqual({ state: 'limited', reason: { code: 'limited', text: 'Sharing CPU' } });
  });

  it('summary: nothing shared -> the state of the best-off resource, with its first reason', () => {
    const policy = policyWith({ cpu: [rule('m', [{ kind: 'idle', minMinutes: 10 }])], gpu: [rule('m', [{ kind: 'notOnBattery' }])] }, { releaseAfterMinutes: 10 });
    const signals = signalsWith(T0, reading('idleSeconds', 5, T0), reading('onBattery', true, T0));
    // The CPU has been paused for 20 minutes, so it is released; the GPU has just paused.
    const previous = previousWith(CPU, 'paused', T0, { since: at(T0, -20), lastBlockedAt: at(T0, -1) });
    const d = decide(input({ policy, signals, previous, resources: [CPU, GPU0] }));
    expect(resourceOf(d, 'cpu').state).toBe('released');
    expect(resourceOf(d, 'gpu:0').state).toBe('paused');
    expect(d.summary).toEqual({ state: 'paused', reason: { code: 'on_battery', text: 'Paused: you are on battery' } });
  });

  it('no resources', () => {
    expect(decide(input({ resources: [] })).summary).toEqual({ state: 'released', reason: { code: 'no_resources', text: 'Nothing to share on this machine' } });
  });

  it('proofs are always allowed; keepAwake only while something runs', () => {
    const awake = decide(input({ policy: { ...input().policy, keepAwake: true } }));
    expect(awake.proofs).toEqual({ allowed: true, reason: { code: 'proofs_exempt', text: 'Storage proofs always run: they are tiny and have deadlines' } });
    expect(awake.keepAwake).toBe(true);
    expect(decide(input({ policy: { ...input().policy, keepAwake: true }, manual: { mode: 'off', until: null, changedAt: null } })).keepAwake).toBe(false);
    expect(decide(input()).keepAwake).toBe(false);
  });

  it('one uncheckable condition shared by two GPUs is reported once', () => {
    const policy = only([{ kind: 'idle', minMinutes: 10 }]);
    const d = decide(input({ policy, resources: [GPU0, GPU1], signals: { ...calmSignals(T0, ['gpu:0', 'gpu:1']), ...snapshot(notAvailable('idleSeconds', T0)) } }));
    expect(d.uncheckable).toEqual([{ target: 'gpu', ruleId: 'main', condition: 'idle', signal: 'idleSeconds', choice: 'ask' }]);
  });

  it('two conditions on the same signal with different choices are both listed', () => {
    const policy = only([
      { kind: 'temperatureBelow', sensor: 'cpu', celsius: 90, ifUnavailable: 'ignore' },
      { kind: 'temperatureBelow', sensor: 'cpu', celsius: 80, ifUnavailable: 'block' },
    ]);
    const d = decide(input({ policy, resources: [CPU], signals: signalsWith(T0, notAvailable('cpuTemperature', T0)) }));
    expect(d.uncheckable.map((u) => u.choice)).toEqual(['ignore', 'block']);
    expect(resourceOf(d, 'cpu').reasons[0]!.code).toBe('uncheckable_blocked');
  });

  it('the Gamer default on a calm machine runs everything, and passes the schema', () => {
    const d = decide(input({ policy: defaultPolicy() }));
    expect(d.resources.map((r) => r.state)).toEqual(['running', 'running', 'running']);
    expect(Decision.safeParse(d).success).toBe(true);
  });
});
