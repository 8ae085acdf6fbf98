import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { PRESETS, type Condition, type Policy, type TimeWindow } from '../../protocol/index.js';
import { FakeAgent, json, makeDecision, makeStatus } from './fake-agent.js';
import { renderDashboard, freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/schedule');
});

const button = (name: string | RegExp) => screen.getByRole('button', { name }) as HTMLButtonElement;
const cell = (day: string, hour: number) => screen.getByTestId(`cell-${day}-${hour}`);
const runNow = () => screen.getByTestId('would-run-now').textContent;

/** The agent's answer to a preview, by what the draft says: enough to see the draft reached it. */
function previewByBattery(policy: Policy) {
  const onBatteryBlocks = policy.rules.cpu?.[0]?.conditions.some((c) => c.kind === 'notOnBattery');
  return onBatteryBlocks
    ? makeDecision([
        { resource: 'cpu', state: 'paused', reason: 'Paused: you are on battery' },
        { resource: 'disk', state: 'paused', reason: 'Paused: you are on battery' },
      ])
    : makeDecision([
        { resource: 'cpu', state: 'running', reason: 'Sharing the CPU (rule “Main rule”)' },
        { resource: 'disk', state: 'running', reason: 'Sharing the Disk (rule “Main rule”)' },
      ]);
}

async function openSchedule(agent = new FakeAgent()) {
  const h = await renderDashboard({ agent });
  await screen.findByRole('heading', { name: 'Schedule', level: 1 });
  return h;
}

function paintDrag(day: string, from: number, to: number) {
  fireEvent.pointerDown(cell(day, from), { button: 0, pointerId: 1 });
  for (let h = from + 1; h <= to; h++) fireEvent.pointerEnter(cell(day, h), { pointerId: 1 });
  fireEvent.pointerUp(window, { pointerId: 1 });
}

async function saveAndGetPolicy(h: { agent: FakeAgent }): Promise<Policy> {
  fireEvent.click(button('Save schedule'));
  await waitFor(() => expect(h.agent.mutations().some((m) => m.method === 'PATCH')).toBe(true));
  const patch = h.agent.mutations().filter((m) => m.method === 'PATCH').at(-1)!;
  expect(Object.keys(patch.body as object)).toEqual(['policy']);
  return (patch.body as { policy: Policy }).policy;
}

const windowsOf = (policy: Policy, target: string): TimeWindow[] | undefined =>
  (policy.rules[target]?.[0]?.conditions.find((c) => c.kind === 'timeWindows') as Extract<Condition, { kind: 'timeWindows' }> | undefined)?.windows;

describe('schedule page: the weekly grid', () => {
  it('turns painted cells into windows: contiguous hours merge, a night across midnight is two windows', async () => {
    const h = await openSchedule();
    // No time condition yet (the Gamer preset): every hour is allowed.
    expect(cell('mon', 3).getAttribute('aria-label')).toBe('Monday 03:00–04:00, allowed');
    fireEvent.click(button('Clear the grid'));
    expect(cell('mon', 3).getAttribute('aria-label')).toBe('Monday 03:00–04:00, not allowed');

    paintDrag('mon', 22, 23);
    paintDrag('tue', 0, 6);
    expect(cell('mon', 22).getAttribute('aria-label')).toBe('Monday 22:00–23:00, allowed');
    expect(cell('tue', 6).getAttribute('aria-selected')).toBe('true');
    expect(cell('tue', 7).getAttribute('aria-selected')).toBe('false');

    const policy = await saveAndGetPolicy(h);
    const expected: TimeWindow[] = [
      { days: ['tue'], start: '00:00', end: '07:00' },
      { days: ['mon'], start: '22:00', end: '24:00' },
    ];
    for (const target of ['cpu', 'gpu', 'disk']) expect(windowsOf(policy, target)).toEqual(expected);
    // The schedule is the main rule's first condition; the rest of the rule is untouched.
    expect(policy.rules.cpu?.[0]?.conditions.slice(1)).toEqual(new FakeAgent().settings.policy.rules.cpu?.[0]?.conditions);
    await waitFor(() => expect(button('Save schedule').disabled).toBe(true));
    expect(h.agent.settings.policy).toEqual(policy);
  });

  it('merges the same hours on several days into one window, and erases by dragging from an allowed cell', async () => {
    const h = await openSchedule();
    fireEvent.click(button('Clear the grid'));
    paintDrag('mon', 9, 16);
    paintDrag('wed', 9, 16);
    paintDrag('fri', 9, 16);
    // Start a drag on an allowed cell: it erases.
    paintDrag('fri', 14, 16);
    const policy = await saveAndGetPolicy(h);
    expect(windowsOf(policy, 'cpu')).toEqual([
      { days: ['fri'], start: '09:00', end: '14:00' },
      { days: ['mon', 'wed'], start: '09:00', end: '17:00' },
    ]);
  });

  it('paints with the keyboard: arrows move, Space toggles, Shift+arrow carries the value', async () => {
    const h = await openSchedule();
    fireEvent.click(button('Clear the grid'));
    const start = cell('sat', 20);
    start.focus();
    fireEvent.keyDown(start, { key: ' ' });
    expect(start.getAttribute('aria-label')).toBe('Saturday 20:00–21:00, allowed');
    fireEvent.keyDown(start, { key: 'ArrowRight', shiftKey: true });
    await waitFor(() => expect(document.activeElement).toBe(cell('sat', 21)));
    expect(cell('sat', 21).getAttribute('aria-label')).toBe('Saturday 21:00–22:00, allowed');
    fireEvent.keyDown(cell('sat', 21), { key: 'ArrowDown' });
    await waitFor(() => expect(document.activeElement).toBe(cell('sun', 21)));
    expect(cell('sun', 21).getAttribute('tabindex')).toBe('0');
    expect(cell('sat', 21).getAttribute('tabindex')).toBe('-1');
    fireEvent.keyDown(cell('sun', 21), { key: ' ' });

    const policy = await saveAndGetPolicy(h);
    expect(windowsOf(policy, 'cpu')).toEqual([
      { days: ['sat'], start: '20:00', end: '22:00' },
      { days: ['sun'], start: '21:00', end: '22:00' },
    ]);
  });

  it('an empty grid and a full grid are both "no time condition"', async () => {
    const agent = new FakeAgent();
    agent.settings = { ...agent.settings, policy: PRESETS.find((p) => p.id === 'nights-only')!.apply(agent.settings.policy) };
    const h = await openSchedule(agent);
    expect(cell('mon', 6).getAttribute('aria-selected')).toBe('true');
    expect(cell('mon', 7).getAttribute('aria-selected')).toBe('false');
    fireEvent.click(button('Clear the grid'));
    expect(screen.getByTestId('schedule-summary').textContent).toMatch(/No hours painted/);
    const policy = await saveAndGetPolicy(h);
    expect(windowsOf(policy, 'cpu')).toBeUndefined();

    await waitFor(() => expect(button('Save schedule').disabled).toBe(true));

    // Paint every hour back in: the same as no condition, so nothing to save.
    fireEvent.click(button('Allow every hour'));
    expect(cell('mon', 7).getAttribute('aria-selected')).toBe('true');
    expect(button('Save schedule').disabled).toBe(true);
    expect(windowsOf(h.agent.settings.policy, 'gpu')).toBeUndefined();
  });
});

describe('schedule page: would it run now?', () => {
  it('asks the agent about the unsaved draft and shows the first reason, then follows edits', async () => {
    const agent = new FakeAgent();
    agent.previewFor = previewByBattery;
    const h = await openSchedule(agent);

    await waitFor(() => expect(runNow()).toBe('Would it run now? — No: you are on battery'));
    expect(h.agent.previews().at(-1)).toEqual(h.agent.settings.policy);

    fireEvent.click(screen.getByRole('radio', { name: 'Also on battery' }));
    expect(screen.getByTestId('preview-checking').textContent).toMatch(/checking/);
    await waitFor(() => expect(runNow()).toBe('Would it run now? — Yes'));
    const asked = h.agent.previews().at(-1)!;
    expect(asked.rules.cpu?.[0]?.conditions.some((c) => c.kind === 'notOnBattery')).toBe(false);
    // Only the draft changed: nothing was saved.
    expect(h.agent.mutations()).toEqual([]);
    expect(screen.getAllByTestId('preview-resource').map((li) => li.textContent)).toEqual([
      'CPU Running — Sharing the CPU (rule “Main rule”)',
      'Disk Running — Sharing the Disk (rule “Main rule”)',
    ]);
  });

  it('answers for the CPU and GPUs: storage running alone is still "No", with the CPU’s reason', async () => {
    const agent = new FakeAgent();
    agent.previewFor = () =>
      makeDecision([
        { resource: 'cpu', state: 'released', reason: 'Paused: Cyberpunk2077.exe is running' },
        { resource: 'gpu:0', state: 'released', reason: 'Paused: Cyberpunk2077.exe is running' },
        { resource: 'disk', state: 'running', reason: 'Sharing the disk (rule “Main rule”)' },
      ]);
    await openSchedule(agent);
    await waitFor(() => expect(runNow()).toBe('Would it run now? — No: Cyberpunk2077.exe is running'));
    expect(screen.getAllByTestId('preview-resource').map((li) => li.textContent)).toEqual([
      'CPU Stopped — Paused: Cyberpunk2077.exe is running',
      'GPU 0 Stopped — Paused: Cyberpunk2077.exe is running',
      'Disk Running — Sharing the disk (rule “Main rule”)',
    ]);
  });

  it('debounces: a burst of edits sends one preview, of the last draft', async () => {
    const h = await openSchedule();
    await waitFor(() => expect(h.agent.previews()).toHaveLength(1));
    fireEvent.click(button('Clear the grid'));
    paintDrag('mon', 1, 3);
    paintDrag('tue', 1, 3);
    await waitFor(() => expect(h.agent.previews()).toHaveLength(2));
    expect(windowsOf(h.agent.previews()[1]!, 'cpu')).toEqual([{ days: ['mon', 'tue'], start: '01:00', end: '04:00' }]);
  });

  it('asks again when the live decision changes (a signal moved)', async () => {
    const agent = new FakeAgent();
    let battery = true;
    agent.previewFor = () =>
      makeDecision([{ resource: 'cpu', state: battery ? 'paused' : 'running', reason: battery ? 'Paused: you are on battery' : 'Sharing the CPU' }]);
    const h = await openSchedule(agent);
    await waitFor(() => expect(runNow()).toMatch(/No: you are on battery/));
    h.socket().accept(h.agent.status);
    battery = false;
    h.agent.setDecision(makeDecision([{ resource: 'cpu', state: 'running', reason: 'Sharing the CPU' }]));
    h.socket().receive({ type: 'status', status: h.agent.status });
    await waitFor(() => expect(runNow()).toBe('Would it run now? — Yes'));
  });

  it('shows the preview’s 400 field errors next to the control', async () => {
    const h = await openSchedule();
    fireEvent.click(screen.getByRole('checkbox', { name: 'electricity costs at most' }));
    const cap = screen.getByRole('textbox', { name: 'Price cap per kWh' });
    fireEvent.change(cap, { target: { value: 'cheap' } });
    const priceField = screen.getByTestId('price-field');
    await waitFor(() => expect(within(priceField).getByTestId('field-error').textContent).toMatch(/decimal amount/));
    expect(cap.getAttribute('aria-invalid')).toBe('true');
    expect(runNow()).toMatch(/can’t tell until the marked mistakes are fixed/);
    expect(h.agent.previews().at(-1)?.rules.cpu?.[0]?.conditions.at(-1)).toEqual({ kind: 'priceAtMost', perKwh: 'cheap' });

    fireEvent.change(cap, { target: { value: '0.25' } });
    await waitFor(() => expect(within(priceField).queryByTestId('field-error')).toBeNull());
  });
});

describe('schedule page: the profit guard', () => {
  it('adds a net-per-hour floor to the compute rules, letting work run until there are figures, and shows its errors next to it', async () => {
    const h = await openSchedule();
    fireEvent.click(screen.getByRole('checkbox', { name: 'work pays more than its electricity, by at least' }));
    const floor = screen.getByRole('textbox', { name: 'Net earnings per hour at least' });
    fireEvent.change(floor, { target: { value: '0,05' } });
    await waitFor(() => expect(h.agent.previews().at(-1)?.rules.cpu?.[0]?.conditions.at(-1)).toEqual({ kind: 'netAtLeast', perHour: '0.05', ifUnavailable: 'ignore' }));
    fireEvent.change(floor, { target: { value: 'lots' } });
    const field = screen.getByTestId('net-field');
    await waitFor(() => expect(within(field).getByTestId('field-error').textContent).toMatch(/decimal amount/));
    fireEvent.click(screen.getByRole('checkbox', { name: 'work pays more than its electricity, by at least' }));
    await waitFor(() => expect(h.agent.previews().at(-1)?.rules.cpu?.[0]?.conditions.some((c) => c.kind === 'netAtLeast')).toBe(false));
  });
});

describe('schedule page: saving', () => {
  it('shows the agent’s 400 field errors next to the right control, and keeps the draft', async () => {
    const agent = new FakeAgent();
    agent.override = (req) =>
      req.method === 'PATCH'
        ? json(
            {
              error: {
                code: 'invalid_request',
                message: 'The policy is not valid.',
                fields: [
                  { path: 'policy.rules.gpu.0.conditions.3.celsius', message: 'this GPU shuts down at 85 °C; pick a lower limit' },
                  { path: 'policy.quietPeriodMinutes', message: 'too short for this machine' },
                ],
              },
            },
            400,
          )
        : undefined;
    const h = await openSchedule(agent);
    fireEvent.change(screen.getByRole('spinbutton', { name: 'GPU temperature limit' }), { target: { value: '95' } });
    fireEvent.click(button('Save schedule'));

    const temperature = screen.getByTestId('temperature-field');
    expect((await within(temperature).findByTestId('field-error')).textContent).toMatch(/shuts down at 85/);
    expect(screen.getByRole('spinbutton', { name: 'GPU temperature limit' }).getAttribute('aria-invalid')).toBe('true');
    expect(within(screen.getByTestId('quiet-period')).getByTestId('field-error').textContent).toBe('too short for this machine');
    expect(screen.getByTestId('save-error').textContent).toMatch(/Not saved: The policy is not valid/);
    // Not the global alert: the page shows it where it belongs.
    expect(screen.queryByTestId('action-error')).toBeNull();
    // Nothing saved, the draft is still there.
    expect(h.agent.settings.policy).toEqual(new FakeAgent().settings.policy);
    expect(button('Save schedule').disabled).toBe(false);
    expect((screen.getByRole('spinbutton', { name: 'GPU temperature limit' }) as HTMLInputElement).value).toBe('95');
  });

  it('does not send a draft that cannot be valid, and says why next to the control', async () => {
    const h = await openSchedule();
    fireEvent.change(screen.getByRole('spinbutton', { name: 'CPU temperature limit' }), { target: { value: '200' } });
    fireEvent.click(button('Save schedule'));
    const temperature = screen.getByTestId('temperature-field');
    expect((await within(temperature).findByTestId('field-error')).textContent).toMatch(/110/);
    expect(h.agent.mutations()).toEqual([]);
  });

  it('Discard goes back to the saved schedule', async () => {
    await openSchedule();
    expect(button('Save schedule').disabled).toBe(true);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Keep the computer awake while sharing' }));
    expect(button('Save schedule').disabled).toBe(false);
    expect(screen.getByText('Unsaved changes')).toBeTruthy();
    fireEvent.click(button('Discard changes'));
    expect((screen.getByRole('checkbox', { name: 'Keep the computer awake while sharing' }) as HTMLInputElement).checked).toBe(false);
    expect(button('Save schedule').disabled).toBe(true);
  });

  it('saves the toggles and numbers of the whole policy at once', async () => {
    const h = await openSchedule();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Dedicated machine' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Keep the computer awake while sharing' }));
    fireEvent.change(screen.getByRole('spinbutton', { name: 'Quiet period in minutes' }), { target: { value: '0' } });
    fireEvent.change(screen.getByRole('spinbutton', { name: 'Idle minutes' }), { target: { value: '20' } });
    fireEvent.click(screen.getByRole('radio', { name: 'On battery only while charged to at least' }));
    fireEvent.change(screen.getByRole('spinbutton', { name: 'Minimum battery percent' }), { target: { value: '60' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'I pay a flat price for electricity' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Flat price per kWh' }), { target: { value: '0.2450' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'electricity costs at most' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Price cap per kWh' }), { target: { value: '0,30' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Time zone' }), { target: { value: 'UTC' } });

    const policy = await saveAndGetPolicy(h);
    expect(policy).toMatchObject({ dedicatedMachine: true, keepAwake: true, quietPeriodMinutes: 0, timeZone: 'UTC', flatPrice: { currency: 'EUR', perKwh: '0.2450' } });
    expect(policy.rules.cpu?.[0]?.conditions).toEqual([
      { kind: 'idle', minMinutes: 20 },
      { kind: 'noGame' },
      { kind: 'batteryAtLeast', percent: 60 },
      { kind: 'temperatureBelow', sensor: 'cpu', celsius: 90 },
      { kind: 'priceAtMost', perKwh: '0.30' },
    ]);
    // The disk's main rule follows the idle and battery settings it has, but never gets the
    // compute-only ones (temperature, price).
    expect(policy.rules.disk?.[0]?.conditions).toEqual([{ kind: 'idle', minMinutes: 20 }, { kind: 'noGame' }, { kind: 'batteryAtLeast', percent: 60 }]);
    await waitFor(() => expect(screen.getByText('Saved')).toBeTruthy());
    expect(button('Save schedule').disabled).toBe(true);
  });
});

describe('schedule page: presets', () => {
  it('each preset button is named by the preset and replaces the rules in the draft', async () => {
    const h = await openSchedule();
    for (const preset of PRESETS) {
      const b = button(preset.name);
      expect(b.getAttribute('aria-describedby')).toBeTruthy();
      expect(document.getElementById(b.getAttribute('aria-describedby')!)?.textContent).toBe(preset.description);
    }
    // The saved policy is the Gamer preset.
    expect(button('Gamer').getAttribute('aria-current')).toBe('true');

    fireEvent.click(button('Nights only'));
    expect(button('Nights only').getAttribute('aria-current')).toBe('true');
    expect(button('Gamer').getAttribute('aria-current')).toBeNull();
    expect(cell('wed', 6).getAttribute('aria-selected')).toBe('true');
    expect(cell('wed', 7).getAttribute('aria-selected')).toBe('false');
    await waitFor(() => expect(windowsOf(h.agent.previews().at(-1)!, 'cpu')).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '07:00' }]));

    fireEvent.click(button('Dedicated machine'));
    expect((screen.getByRole('checkbox', { name: 'Dedicated machine' }) as HTMLInputElement).checked).toBe(true);
    const policy = await saveAndGetPolicy(h);
    expect(policy).toEqual(PRESETS.find((p) => p.id === 'dedicated')!.apply(new FakeAgent().settings.policy));
  });
});

describe('schedule page: conditions this machine can’t check', () => {
  const uncheckable = [
    { target: 'gpu', ruleId: 'main', condition: 'temperatureBelow', signal: 'gpuTemperature@gpu:0', note: 'no GPU temperature sensor on this machine', choice: 'ask' as const },
    { target: 'cpu', ruleId: 'main', condition: 'idle', signal: 'idleSeconds', note: 'Wayland without a D-Bus idle monitor', choice: 'ask' as const },
  ];

  it('lists them with their note, and the choices set ifUnavailable on the right condition', async () => {
    const agent = new FakeAgent(makeStatus({ decision: makeDecision([{ resource: 'cpu', state: 'paused', reason: 'Paused: the idle time can’t be checked' }], uncheckable) }));
    agent.signals = {
      readings: [],
      processesSeen: [],
      detectors: [
        { signal: 'gpuTemperature', available: false, how: 'no nvidia-smi and no hwmon GPU sensor' },
        { signal: 'onBattery', available: true, how: '/sys/class/power_supply' },
      ],
    };
    const h = await openSchedule(agent);
    const items = await screen.findAllByTestId('uncheckable-item');
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toMatch(/GPU temperature \(GPU 0\) can’t be checked on this machine\.No GPU temperature sensor on this machine\./);
    expect(items[0]!.textContent).toMatch(/This rule waits until you choose/);
    expect(screen.getByTestId('uncheckable').textContent).toMatch(/2 to decide/);
    expect(screen.getByTestId('detectors').textContent).toMatch(/GPU temperature \(not available\) — no nvidia-smi/);

    fireEvent.click(within(items[0]!).getByRole('radio', { name: 'Never run under this rule' }));
    fireEvent.click(within(items[1]!).getByRole('radio', { name: 'Drop this condition' }));
    expect((within(items[0]!).getByRole('radio', { name: 'Never run under this rule' }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('uncheckable').textContent).not.toMatch(/to decide/);

    const policy = await saveAndGetPolicy(h);
    expect(policy.rules.gpu?.[0]?.conditions.find((c) => c.kind === 'temperatureBelow')).toEqual({ kind: 'temperatureBelow', sensor: 'gpu', celsius: 80, ifUnavailable: 'block' });
    expect(policy.rules.cpu?.[0]?.conditions.find((c) => c.kind === 'idle')).toEqual({ kind: 'idle', minMinutes: 10, ifUnavailable: 'ignore' });
    // Only those two conditions changed.
    expect(policy.rules.cpu?.[0]?.conditions.filter((c) => c.ifUnavailable !== undefined)).toHaveLength(1);
    expect(policy.rules.disk).toEqual(new FakeAgent().settings.policy.rules.disk);
  });

  it('says so when everything can be checked', async () => {
    await openSchedule();
    expect(await screen.findByTestId('uncheckable-none')).toBeTruthy();
  });
});

describe('schedule page: game lists', () => {
  it('adds from suggestions and by name, removes, and saves both lists', async () => {
    const agent = new FakeAgent();
    agent.signals = { readings: [], processesSeen: ['Cyberpunk2077.exe', 'steam.exe', 'Discord.exe'], detectors: [] };
    const h = await openSchedule(agent);
    const games = screen.getByTestId('games-extra');
    const notGames = screen.getByTestId('games-ignore');

    fireEvent.click(await within(games).findByRole('button', { name: 'Add Cyberpunk2077.exe to also count as games' }));
    expect(within(games).getByRole('list', { name: 'Also count as games' }).textContent).toContain('Cyberpunk2077.exe');
    // Offered no more once listed.
    expect(within(games).queryByRole('button', { name: 'Add Cyberpunk2077.exe to also count as games' })).toBeNull();
    // The same names are offered in the input's datalist.
    const input = within(games).getByRole('combobox', { name: 'Also count as games' }) as HTMLInputElement;
    const datalist = document.getElementById(input.getAttribute('list')!)!;
    expect([...datalist.querySelectorAll('option')].map((o) => o.getAttribute('value'))).toEqual(['steam.exe', 'Discord.exe']);

    fireEvent.change(input, { target: { value: '  witcher3.exe ' } });
    fireEvent.click(within(games).getByRole('button', { name: 'Add game' }));
    // A name already listed (any case) is not added twice.
    fireEvent.change(input, { target: { value: 'WITCHER3.EXE' } });
    fireEvent.submit(input.form!);
    fireEvent.click(within(games).getByRole('button', { name: 'Remove Cyberpunk2077.exe' }));

    fireEvent.click(within(notGames).getByRole('button', { name: 'Add Discord.exe to not games' }));

    const policy = await saveAndGetPolicy(h);
    expect(policy.games).toEqual({ extra: ['witcher3.exe'], ignore: ['Discord.exe'] });
  });

  it('the "pause while a game runs" switch adds and removes the no-game condition', async () => {
    const h = await openSchedule();
    const toggle = screen.getByTestId('pause-for-games') as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    fireEvent.click(toggle);
    const policy = await saveAndGetPolicy(h);
    for (const target of ['cpu', 'gpu', 'disk']) expect(policy.rules[target]?.[0]?.conditions.some((c) => c.kind === 'noGame')).toBe(false);
  });
});

describe('schedule page: advanced', () => {
  it('shows every rule of every resource in words', async () => {
    const agent = new FakeAgent();
    const policy = agent.settings.policy;
    agent.settings = {
      ...agent.settings,
      policy: {
        ...policy,
        rules: {
          ...policy.rules,
          cpu: [
            ...policy.rules.cpu!,
            { id: 'evenings', name: 'Evenings, gently', enabled: true, conditions: [{ kind: 'foreignLoadBelow', percent: 20 }], action: { kind: 'limit', cpuCores: 2 } },
          ],
        },
      },
    };
    await openSchedule(agent);
    const rules = screen.getByTestId('advanced-rules');
    expect(rules.textContent).toContain('Evenings, gently');
    expect(rules.textContent).toContain('Share within limits: 2 cores');
    expect(rules.textContent).toContain('When other programs use less than 20 %.');
    expect(rules.textContent).toContain('When idle for at least 10 min, and no game running, and not on battery, and CPU below 90 °C.');
  });
});
