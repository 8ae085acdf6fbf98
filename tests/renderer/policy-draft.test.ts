import { describe, expect, it } from 'vitest';
import { defaultPolicy, Policy } from '../../protocol/index.js';
import {
  cellKey,
  cellsFromWindows,
  controlForPath,
  getBattery,
  getWindows,
  mainRuleIndex,
  setBattery,
  setIfUnavailable,
  setTemperature,
  setWindows,
  windowsFromCells,
} from '../../renderer/schedule/policy-draft.js';
import { conditionWords, daysWords, withoutStatePrefix } from '../../renderer/schedule/words.js';

describe('policy draft: grid cells and windows', () => {
  it('round-trips windows through cells', () => {
    const windows = [
      { days: ['sat', 'sun'] as const, start: '00:00', end: '09:00' },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '18:00', end: '24:00' },
    ].map((w) => ({ ...w, days: [...w.days] }));
    const { allowed, partial } = cellsFromWindows(windows);
    expect(partial.size).toBe(0);
    expect(allowed.size).toBe(2 * 9 + 5 * 6);
    expect(windowsFromCells(allowed)).toEqual(windows);
  });

  it('marks hours a window covers only in part, and rounds them out when turned back into windows', () => {
    const { allowed, partial } = cellsFromWindows([{ days: ['mon'], start: '22:30', end: '23:15' }]);
    expect([...allowed]).toEqual(['mon-22', 'mon-23']);
    expect([...partial]).toEqual(['mon-22', 'mon-23']);
    expect(windowsFromCells(allowed)).toEqual([{ days: ['mon'], start: '22:00', end: '24:00' }]);
  });

  it('no cells and all cells are both no condition', () => {
    expect(windowsFromCells(new Set())).toBeNull();
    expect(windowsFromCells(cellsFromWindows(null).allowed)).toBeNull();
    expect(windowsFromCells(new Set([cellKey('sun', 23)]))).toEqual([{ days: ['sun'], start: '23:00', end: '24:00' }]);
  });

  it('windows it makes never overlap on a shared day (the protocol refuses those)', () => {
    // A checkerboard-ish pattern with repeated spans.
    const cells = new Set<string>();
    for (const day of ['mon', 'tue', 'wed'] as const) for (const h of [1, 2, 5, 9, 10, 11, 20]) cells.add(cellKey(day, h));
    cells.add(cellKey('tue', 3));
    const windows = windowsFromCells(cells)!;
    expect(windows).toEqual([
      { days: ['mon', 'wed'], start: '01:00', end: '03:00' },
      { days: ['tue'], start: '01:00', end: '04:00' },
      { days: ['mon', 'tue', 'wed'], start: '05:00', end: '06:00' },
      { days: ['mon', 'tue', 'wed'], start: '09:00', end: '12:00' },
      { days: ['mon', 'tue', 'wed'], start: '20:00', end: '21:00' },
    ]);
    expect(Policy.safeParse(setWindows(defaultPolicy(), windows)).success).toBe(true);
  });

  it('sets the same windows on every main rule and reads them back; mixed schedules are flagged', () => {
    const w = [{ days: ['fri' as const], start: '10:00', end: '12:00' }];
    const policy = setWindows(defaultPolicy(), w);
    expect(getWindows(policy)).toEqual({ windows: w, mixed: false });
    const mixed: Policy = { ...policy, rules: { ...policy.rules, disk: defaultPolicy().rules.disk! } };
    expect(getWindows(mixed).mixed).toBe(true);
    expect(setWindows(policy, null).rules.cpu?.[0]?.conditions.some((c) => c.kind === 'timeWindows')).toBe(false);
  });
});

describe('policy draft: conditions', () => {
  it('keeps the user’s choice for an uncheckable condition when the value changes', () => {
    let p = setIfUnavailable(defaultPolicy(), 'gpu', 'main', 'temperatureBelow', 'gpuTemperature@gpu:0', 'ignore');
    p = setTemperature(p, 'gpu', 75);
    expect(p.rules.gpu?.[0]?.conditions.find((c) => c.kind === 'temperatureBelow')).toEqual({ kind: 'temperatureBelow', sensor: 'gpu', celsius: 75, ifUnavailable: 'ignore' });
    // The CPU's limit is a separate condition.
    expect(p.rules.cpu?.[0]?.conditions.find((c) => c.kind === 'temperatureBelow')).toEqual({ kind: 'temperatureBelow', sensor: 'cpu', celsius: 90 });
  });

  it('battery choices replace each other', () => {
    let p = setBattery(defaultPolicy(), { kind: 'atLeast', percent: 40 });
    expect(getBattery(p)).toEqual({ kind: 'atLeast', percent: 40 });
    expect(p.rules.disk?.[0]?.conditions).toEqual([{ kind: 'idle', minMinutes: 10 }, { kind: 'noGame' }, { kind: 'batteryAtLeast', percent: 40 }]);
    p = setBattery(p, { kind: 'any' });
    expect(getBattery(p)).toEqual({ kind: 'any' });
  });

  it('the main rule is the one called main, else the first enabled rule that runs', () => {
    const run = { kind: 'run' as const };
    expect(mainRuleIndex([{ id: 'quiet', name: 'Q', enabled: true, conditions: [], action: { kind: 'pause' } }, { id: 'x', name: 'X', enabled: true, conditions: [], action: run }])).toBe(1);
    expect(mainRuleIndex([{ id: 'x', name: 'X', enabled: false, conditions: [], action: run }])).toBe(-1);
  });

  it('puts a field error next to the control that edits it', () => {
    const p = defaultPolicy();
    expect(controlForPath(p, 'policy.rules.gpu.0.conditions.3.celsius')).toBe('temp-gpu');
    expect(controlForPath(p, 'policy.rules.cpu.0.conditions.0.minMinutes')).toBe('idle');
    expect(controlForPath(p, 'policy.rules.cpu.0.action')).toBe('advanced');
    expect(controlForPath(p, 'policy.flatPrice.perKwh')).toBe('flat-price');
    expect(controlForPath(p, 'policy.games.ignore.2')).toBe('games-ignore');
    expect(controlForPath(p, 'policy')).toBe('general');
  });
});

describe('words', () => {
  it('says days, conditions and reasons plainly', () => {
    expect(daysWords(['mon', 'tue', 'wed', 'thu', 'fri'])).toBe('Mon–Fri');
    expect(daysWords(['sat', 'sun'])).toBe('Weekends');
    expect(daysWords(['mon', 'wed', 'thu', 'fri', 'sun'])).toBe('Mon, Wed–Fri, Sun');
    expect(conditionWords({ kind: 'timeWindows', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '07:00' }] })).toBe('inside Every day 00:00–07:00');
    expect(conditionWords({ kind: 'idle', minMinutes: 5, ifUnavailable: 'block' })).toBe('idle for at least 5 min (never runs where it can’t be checked)');
    expect(withoutStatePrefix('Paused: you are on battery')).toBe('you are on battery');
    expect(withoutStatePrefix('Waiting: everything allows sharing')).toBe('Waiting: everything allows sharing');
  });
});
