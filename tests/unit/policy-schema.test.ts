// The Policy schema refuses invalid rules with the field path the Schedule page needs to point at
// the mistake; every preset and the default pass.
import { describe, expect, it } from 'vitest';
import { Condition, Policy, PRESETS, TimeWindow, decimalToMicros, defaultPolicy, fieldErrors, type Action, type Rule } from '../../protocol/index.js';
import { policyWith, rule } from '../support/policy-fixtures.js';

type Issue = { path: string; message: string };

function issuesOf(value: unknown): Issue[] {
  const r = Policy.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

const windowsRule = (windows: unknown[]): Rule => rule('main', [{ kind: 'timeWindows', windows } as Condition]);
const limitRule = (action: Action, id = 'main'): Rule => rule(id, [], action);

describe('valid policies', () => {
  it('the default policy passes, and is the Gamer preset', () => {
    expect(issuesOf(defaultPolicy())).toEqual([]);
    expect(defaultPolicy().rules).toEqual(PRESETS.find((p) => p.id === 'gamer')!.apply(defaultPolicy()).rules);
  });

  it.each(PRESETS.map((p) => [p.id, p] as const))('preset %s passes', (_id, preset) => {
    const applied = preset.apply(defaultPolicy());
    expect(issuesOf(applied)).toEqual([]);
    expect(Object.keys(applied.rules).sort()).toEqual(['cpu', 'disk', 'gpu']);
  });

  it('the dedicated preset declares the machine dedicated; the others do not', () => {
    for (const p of PRESETS) expect(p.apply({ ...defaultPolicy(), dedicatedMachine: p.id !== 'dedicated' }).dedicatedMachine).toBe(p.id === 'dedicated');
  });

  it.each([
    ['adjacent windows on one day', [{ days: ['mon'], start: '10:00', end: '12:00' }, { days: ['mon'], start: '12:00', end: '14:00' }]],
    ['overlapping hours on different days', [{ days: ['mon'], start: '10:00', end: '12:00' }, { days: ['tue'], start: '11:00', end: '13:00' }]],
    ['a whole day ending at 24:00', [{ days: ['sun'], start: '00:00', end: '24:00' }]],
    ['an overnight window split at midnight', [{ days: ['fri'], start: '22:00', end: '24:00' }, { days: ['sat'], start: '00:00', end: '06:00' }]],
  ])('accepts %s', (_what, windows) => {
    expect(issuesOf(policyWith({ cpu: [windowsRule(windows)] }))).toEqual([]);
  });

  it('accepts each limit on the resource it applies to, and the same rule id under different resources', () => {
    const ok = policyWith({
      cpu: [limitRule({ kind: 'limit', cpuCores: 4, cpuPercent: 50 })],
      gpu: [limitRule({ kind: 'limit', gpuDutyPercent: 60 })],
      'gpu:1': [limitRule({ kind: 'limit', gpuDutyPercent: 30 })],
      disk: [rule('main', [])],
    });
    expect(issuesOf(ok)).toEqual([]);
  });

  it.each(['0', '0.3', '0.30', '-0.05', '123456789.123456', '-1'])('accepts the price %s', (perKwh) => {
    expect(issuesOf(policyWith({ cpu: [rule('main', [{ kind: 'priceAtMost', perKwh }])] }, { flatPrice: { currency: 'EUR', perKwh } }))).toEqual([]);
  });
});

describe('invalid rules, with their field paths', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['end before start', policyWith({ cpu: [windowsRule([{ days: ['mon'], start: '18:00', end: '08:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.end', /ends \(08:00\) before it starts \(18:00\)/],
    ['end equal to start', policyWith({ cpu: [windowsRule([{ days: ['mon'], start: '08:00', end: '08:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.end', /before it starts/],
    ['start at 24:00', policyWith({ cpu: [windowsRule([{ days: ['mon'], start: '24:00', end: '24:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.start', /cannot start at 24:00/],
    ['a time past 24:00', policyWith({ cpu: [windowsRule([{ days: ['mon'], start: '08:00', end: '24:30' }])] }), 'rules.cpu.0.conditions.0.windows.0.end', /a time such as 22:30/],
    ['a time without two digits', policyWith({ cpu: [windowsRule([{ days: ['mon'], start: '8:00', end: '09:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.start', /a time such as 22:30/],
    ['a duplicate day', policyWith({ cpu: [windowsRule([{ days: ['mon', 'tue', 'mon'], start: '08:00', end: '09:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.days', /listed twice/],
    ['no day', policyWith({ cpu: [windowsRule([{ days: [], start: '08:00', end: '09:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.days', /./],
    ['an unknown day', policyWith({ cpu: [windowsRule([{ days: ['monday'], start: '08:00', end: '09:00' }])] }), 'rules.cpu.0.conditions.0.windows.0.days.0', /./],
    [
      'overlapping windows on a shared day (contradictory)',
      policyWith({ cpu: [windowsRule([{ days: ['mon', 'wed'], start: '08:00', end: '12:00' }, { days: ['tue', 'wed'], start: '11:00', end: '13:00' }])] }),
      'rules.cpu.0.conditions.0.windows.1',
      /overlaps window 1 on wed/,
    ],
    [
      'a window inside another',
      policyWith({ gpu: [rule('r', []), windowsRule([{ days: ['sat'], start: '00:00', end: '24:00' }, { days: ['sat'], start: '10:00', end: '11:00' }])] }),
      'rules.gpu.1.conditions.0.windows.1',
      /overlaps window 1 on sat/,
    ],
    ['a duplicate rule id', policyWith({ cpu: [rule('night', []), rule('day', []), rule('night', [])] }), 'rules.cpu.2.id', /rule id "night" is used twice/],
    ['a bad rule id', policyWith({ cpu: [rule('Night Rule', [])] }), 'rules.cpu.0.id', /lowercase/],
    ['a CPU core limit on the GPUs', policyWith({ gpu: [limitRule({ kind: 'limit', cpuCores: 4 })] }), 'rules.gpu.0.action', /CPU limits do not apply to gpu/],
    ['a CPU percent limit on one GPU', policyWith({ 'gpu:0': [limitRule({ kind: 'limit', cpuPercent: 50, gpuDutyPercent: 50 })] }), 'rules.gpu:0.0.action', /CPU limits do not apply to gpu:0/],
    ['a GPU duty cycle on the CPU', policyWith({ cpu: [limitRule({ kind: 'limit', gpuDutyPercent: 50 })] }), 'rules.cpu.0.action', /GPU duty cycle does not apply to cpu/],
    ['a GPU duty cycle on the disk', policyWith({ disk: [limitRule({ kind: 'limit', gpuDutyPercent: 50 })] }), 'rules.disk.0.action', /GPU duty cycle does not apply to disk/],
    ['a CPU limit on the disk', policyWith({ disk: [limitRule({ kind: 'limit', cpuCores: 2 })] }), 'rules.disk.0.action', /CPU limits do not apply to disk/],
    ['an empty limit', policyWith({ cpu: [limitRule({ kind: 'limit' })] }), 'rules.cpu.0.action', /a limit needs at least one value/],
    ['a limit out of range', policyWith({ cpu: [limitRule({ kind: 'limit', cpuPercent: 150 })] }), 'rules.cpu.0.action.cpuPercent', /./],
    ['a power cap (not offered)', policyWith({ gpu: [limitRule({ kind: 'limit', gpuDutyPercent: 50, powerWatts: 200 } as Action)] }), 'rules.gpu.0.action', /powerWatts/],
    ['an unknown resource: tpu', policyWith({ tpu: [rule('main', [])] }), 'rules.tpu', /Invalid key/],
    ['an unknown resource: gpu:x', policyWith({ 'gpu:x': [rule('main', [])] }), 'rules.gpu:x', /Invalid key/],
    ['an unknown resource: gpu:123', policyWith({ 'gpu:123': [rule('main', [])] }), 'rules.gpu:123', /Invalid key/],
    ['an unknown condition', policyWith({ cpu: [rule('main', [{ kind: 'moonPhase' } as unknown as Condition])] }), 'rules.cpu.0.conditions.0.kind', /./],
    ['an idle threshold that is not whole minutes', policyWith({ cpu: [rule('main', [{ kind: 'idle', minMinutes: 2.5 }])] }), 'rules.cpu.0.conditions.0.minMinutes', /./],
    ['a temperature on an unknown sensor', policyWith({ cpu: [rule('main', [{ kind: 'temperatureBelow', sensor: 'disk', celsius: 60 } as unknown as Condition])] }), 'rules.cpu.0.conditions.0.sensor', /./],
    ['a bad choice for unavailable signals', policyWith({ cpu: [rule('main', [{ kind: 'noGame', ifUnavailable: 'ask' } as unknown as Condition])] }), 'rules.cpu.0.conditions.0.ifUnavailable', /./],
    ['a bad time zone', policyWith({}, { timeZone: 'Mars/Olympus_Mons' }), 'timeZone', /unknown time zone "Mars\/Olympus_Mons"/],
    ['a bad currency', policyWith({}, { flatPrice: { currency: 'eur', perKwh: '0.30' } }), 'flatPrice.currency', /three-letter currency/],
    ['an unknown top-level field', { ...defaultPolicy(), powerCapWatts: 100 }, '', /powerCapWatts/],
  ];

  it.each(cases)('%s', (_what, policy, path, message) => {
    const issues = issuesOf(policy);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.map((i) => i.path), JSON.stringify(issues)).toContain(path);
    expect(issues.find((i) => i.path === path)!.message).toMatch(message);
  });

  it.each(['0,30', '.3', '3.', '1e3', '0.1234567', '', ' 0.3', '+0.3', '1234567890', '0x10', 'NaN', '--1'])('a bad price text %j is refused in both places', (perKwh) => {
    expect(issuesOf(policyWith({ cpu: [rule('main', [{ kind: 'priceAtMost', perKwh }])] })).map((i) => i.path)).toEqual(['rules.cpu.0.conditions.0.perKwh']);
    expect(issuesOf(policyWith({}, { flatPrice: { currency: 'EUR', perKwh } })).map((i) => i.path)).toEqual(['flatPrice.perKwh']);
  });

  it('a TimeWindow alone reports both problems of a 24:00 start', () => {
    const r = TimeWindow.safeParse({ days: ['mon'], start: '24:00', end: '24:00' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['end', 'start']);
  });
});

describe('decimalToMicros compares prices exactly', () => {
  it.each([
    ['0.3', 300_000n],
    ['0.30', 300_000n],
    ['0.300000', 300_000n],
    ['-0.05', -50_000n],
    ['-0', 0n],
    ['12', 12_000_000n],
    ['123456789.123456', 123_456_789_123_456n],
  ])('%s -> %s', (text, micros) => {
    expect(decimalToMicros(text)).toBe(micros);
  });

  it('refuses non-decimal text', () => {
    expect(() => decimalToMicros('1e3')).toThrow(/not a decimal amount/);
  });
});

describe('contradictory window conditions in one rule', () => {
  const ruleWith = (...windowLists: Array<Array<{ days: string[]; start: string; end: string }>>) => ({
    ...defaultPolicy(),
    rules: { cpu: [{ id: 'r', name: 'r', enabled: true, conditions: windowLists.map((windows) => ({ kind: 'timeWindows', windows })), action: { kind: 'run' } }] },
  });

  it('refuses two window conditions that never overlap: the rule could never run', () => {
    const r = Policy.safeParse(ruleWith([{ days: ['mon'], start: '08:00', end: '12:00' }], [{ days: ['mon'], start: '13:00', end: '17:00' }]));
    expect(r.success).toBe(false);
    expect(fieldErrors(r.error!)).toContainEqual({ path: 'rules.cpu.0.conditions', message: 'these time-window conditions never overlap, so this rule could never run' });
  });

  it('accepts two that overlap somewhere in the week', () => {
    expect(Policy.safeParse(ruleWith([{ days: ['mon', 'tue'], start: '08:00', end: '12:00' }], [{ days: ['tue'], start: '11:00', end: '17:00' }])).success).toBe(true);
  });
});
