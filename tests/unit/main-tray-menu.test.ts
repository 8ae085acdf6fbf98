// The tray as plain data: status line and icon from the agent's decision (falling back to the
// sharing state before the first decision), the manual controls (toggle, snoozes, drain) and when
// each is offered.
import { describe, expect, it } from 'vitest';
import { Status, type EffectiveState, type SharingMode } from '../../protocol/api.js';
import { Decision, type ResourceState } from '../../protocol/policy.js';
import { decisionIcon, trayView, type AgentConnection, type TrayMenuItem } from '../../main/tray-menu.js';

function decision(state: ResourceState, code: string, text: string, keepAwake = false): Decision {
  return Decision.parse({
    at: '2025-01-01T10:00:00.000Z',
    resources: [
      {
        resource: 'cpu',
        label: 'CPU',
        state,
        newWork: state === 'running' || state === 'limited',
        limits: null,
        matchedRule: null,
        reasons: [{ code, text }],
        since: '2025-01-01T10:00:00.000Z',
        lastBlockedAt: null,
      },
    ],
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: 'Storage proofs always run' } },
    keepAwake,
    uncheckable: [],
    summary: { state, reason: { code, text } },
  });
}

function status(
  state: EffectiveState,
  opts: { mode?: SharingMode; reason?: string; consentRequired?: boolean; decision?: Decision | null } = {},
): Status {
  // Parsed with the real schema, so the fixture cannot drift from what the agent sends.
  return Status.parse({
    agent: {
      version: '0.1.0',
      pid: 4242,
      startedAt: '2025-01-01T10:00:00.000Z',
      dataDir: '/home/ada/.local/share/offhours',
      host: 'box',
      platform: 'linux',
      timeZone: 'UTC',
      headless: false,
    },
    consent: { required: opts.consentRequired ?? false, currentVersion: 1 },
    startAtLogin: false,
    sharing: {
      manual: { mode: opts.mode ?? 'on', until: null, changedAt: null },
      state,
      reason: { code: 'x', text: opts.reason ?? 'the machine is idle' },
    },
    decision: opts.decision ?? null,
    revision: 0,
    settingsRevision: 0,
    problems: [],
    updatedAt: '2025-01-01T10:00:00.000Z',
  });
}

const connected = (s: Status): AgentConnection => ({ kind: 'connected', status: s });
const toggle = (items: TrayMenuItem[]) => items.find((i) => i.type === 'checkbox')!;
const actions = (items: TrayMenuItem[]) => items.flatMap((i) => (i.type !== 'separator' && i.action !== undefined ? [i.action] : []));
const statusLine = (items: TrayMenuItem[]) => items[0] as Extract<TrayMenuItem, { type: 'normal' }>;
const enabledActions = (items: TrayMenuItem[]) =>
  items.flatMap((i) => (i.type !== 'separator' && i.enabled && i.action !== undefined ? [i.action] : []));
const item = (items: TrayMenuItem[], action: string) => items.find((i) => i.type !== 'separator' && i.action === action)!;

describe('trayView', () => {
  it('has the same skeleton in every state: status line, toggle, Open dashboard, Quit', () => {
    const all: AgentConnection[] = [
      { kind: 'connecting' },
      { kind: 'disconnected', since: 0 },
      { kind: 'unauthorized' },
      { kind: 'degraded', reason: 'boom' },
      ...(['sharing', 'paused', 'draining', 'off', 'error'] as const).map((s) => connected(status(s))),
    ];
    for (const c of all) {
      const { items } = trayView(c);
      expect(statusLine(items)).toMatchObject({ type: 'normal', enabled: false });
      expect(statusLine(items).action).toBeUndefined();
      expect(toggle(items).label).toMatch(/^Sharing on/);
      expect(actions(items)).toContain('open-dashboard');
      expect(actions(items).at(-1)).toBe('quit');
      expect(items.at(-1)).toMatchObject({ enabled: true, label: 'Quit Offhours' });
    }
  });

  it.each([
    ['sharing', 'sharing', /^Sharing: the machine is idle$/],
    ['paused', 'paused', /^Paused: /],
    ['draining', 'sharing', /^Finishing the current job: /],
    ['off', 'off', /^Sharing is off: /],
    ['error', 'error', /^Error: /],
  ] as const)('state %s shows icon %s and says so with the reason', (state, icon, line) => {
    const view = trayView(connected(status(state)));
    expect(view.icon).toBe(icon);
    expect(statusLine(view.items).label).toMatch(line);
    expect(view.tooltip).toMatch(/^Offhours: /);
  });

  it('ticks the toggle from the manual mode, so unticking turns sharing off even while a rule pauses it', () => {
    const pausedButOn = trayView(connected(status('paused', { mode: 'on' })));
    expect(toggle(pausedButOn.items)).toMatchObject({ checked: true, enabled: true, action: 'sharing-off' });

    const off = trayView(connected(status('off', { mode: 'off' })));
    expect(toggle(off.items)).toMatchObject({ checked: false, enabled: true, action: 'sharing-on' });

    const snoozed = trayView(connected(status('paused', { mode: 'snooze' })));
    expect(toggle(snoozed.items)).toMatchObject({ checked: false, action: 'sharing-on' });
  });

  it('disables the toggle until the first-run consent is given', () => {
    const view = trayView(connected(status('off', { mode: 'off', consentRequired: true })));
    expect(toggle(view.items)).toMatchObject({ enabled: false, checked: false });
    expect(toggle(view.items).label).toMatch(/finish setup in the dashboard/);
  });

  it('without a connection: no sharing control, the dashboard still opens', () => {
    for (const c of [{ kind: 'connecting' }, { kind: 'disconnected', since: 1 }] as AgentConnection[]) {
      const view = trayView(c);
      expect(toggle(view.items)).toMatchObject({ enabled: false, checked: false });
      expect(view.icon).toBe('off');
      expect(actions(view.items)).not.toContain('restart-agent');
    }
    expect(statusLine(trayView({ kind: 'connecting' }).items).label).toBe('Starting…');
    expect(statusLine(trayView({ kind: 'disconnected', since: 1 }).items).label).toMatch(/Reconnecting/);
  });

  it('degraded: error icon, the reason, and a way to restart the agent', () => {
    const view = trayView({ kind: 'degraded', reason: 'it stopped 5 times in a row' });
    expect(view.icon).toBe('error');
    expect(statusLine(view.items).label).toBe('The agent keeps stopping: it stopped 5 times in a row');
    expect(actions(view.items)).toEqual(['sharing-on', 'snooze-15m', 'snooze-1h', 'snooze-tomorrow', 'drain', 'restart-agent', 'open-dashboard', 'quit']);
    expect(view.items.find((i) => i.type === 'normal' && i.action === 'restart-agent')).toMatchObject({ enabled: true });
    expect(toggle(view.items).enabled).toBe(false);
    expect(enabledActions(view.items)).toEqual(['restart-agent', 'open-dashboard', 'quit']);
  });

  it('unauthorized shows as an error', () => {
    const view = trayView({ kind: 'unauthorized' });
    expect(view.icon).toBe('error');
    expect(statusLine(view.items).label).toMatch(/refused/);
  });

  it('keeps the status line to one short line', () => {
    const view = trayView(connected(status('paused', { reason: `a very\nlong ${'reason '.repeat(40)}` })));
    const label = statusLine(view.items).label;
    expect(label).not.toMatch(/\n/);
    expect(label.length).toBeLessThanOrEqual(90);
    expect(label.endsWith('…')).toBe(true);
  });

  it('is a pure function of its input', () => {
    const s = status('sharing');
    expect(trayView(connected(s))).toEqual(trayView(connected(structuredClone(s))));
  });
});

describe('trayView with a decision', () => {
  it.each([
    ['running', 'running', 'Sharing CPU, GPU 0', 'sharing'],
    ['limited', 'limited', 'Sharing CPU', 'sharing'],
    ['paused by idle time', 'paused', 'Paused: you used the computer 2 min ago (waits for 10 minutes idle)', 'paused'],
    ['released for a game', 'released', 'Paused: Cyberpunk2077.exe is running', 'paused'],
    ['snoozed', 'released', 'Snoozed until 07:00', 'paused'],
    ['going to sleep', 'paused', 'Paused: the computer is going to sleep', 'paused'],
    ['manual off', 'released', 'Off: you turned sharing off', 'off'],
    ['consent missing', 'released', 'Off: finish the first-run screen to allow sharing', 'off'],
    ['drained', 'released', 'Off: the current work is finished; nothing new starts until you turn sharing on', 'off'],
  ] as const)('%s: the status line is the first reason, the icon %s', (_name, state, text, icon) => {
    const code = { 'manual off': 'manual_off', 'consent missing': 'consent_required', drained: 'drained' }[_name as string] ?? `${state}-code`;
    const d = decision(state, code, text);
    // The sharing state says something else on purpose: the decision wins.
    const view = trayView(connected(status('sharing', { reason: 'the old reason', decision: d })));
    expect(statusLine(view.items).label).toBe(text);
    expect(view.icon).toBe(icon);
    expect(view.tooltip).toBe(`Offhours: ${text}`);
    expect(decisionIcon(d.summary)).toBe(icon);
  });

  it('falls back to the sharing state while the agent has not decided yet (decision null)', () => {
    const view = trayView(connected(status('paused', { reason: 'snoozed', decision: null })));
    expect(statusLine(view.items).label).toBe('Paused: snoozed');
    expect(view.icon).toBe('paused');
  });

  it('agent trouble (sharing state error) outranks the decision', () => {
    const view = trayView(connected(status('error', { reason: 'the settings file is unreadable', decision: decision('running', 'running', 'Sharing CPU') })));
    expect(view.icon).toBe('error');
    expect(statusLine(view.items).label).toBe('Error: the settings file is unreadable');
  });

  it('an empty reason still says something; a long one is clipped to one line', () => {
    expect(statusLine(trayView(connected(status('sharing', { decision: decision('limited', 'limited', '  ') }))).items).label).toBe('Sharing within limits');
    const long = trayView(connected(status('sharing', { decision: decision('paused', 'x', `Paused:\n${'a game is running '.repeat(20)}`) })));
    expect(statusLine(long.items).label).toMatch(/^Paused: a game is running a game/);
    expect(statusLine(long.items).label.length).toBeLessThanOrEqual(90);
    expect(statusLine(long.items).label.endsWith('…')).toBe(true);
    expect(long.tooltip.length).toBeLessThanOrEqual(90);
  });
});

describe('trayView snooze and drain items', () => {
  const SNOOZES = ['snooze-15m', 'snooze-1h', 'snooze-tomorrow'] as const;

  it('lists the snoozes and drain between the toggle and Open dashboard, with their labels', () => {
    const { items } = trayView(connected(status('sharing', { mode: 'on' })));
    expect(actions(items)).toEqual(['sharing-off', ...SNOOZES, 'drain', 'open-dashboard', 'quit']);
    expect(SNOOZES.map((a) => (item(items, a) as { label: string }).label)).toEqual(['Snooze 15 minutes', 'Snooze 1 hour', 'Snooze until tomorrow 7:00']);
    expect((item(items, 'drain') as { label: string }).label).toBe('Finish current work, then stop');
  });

  it('while sharing is on: snoozes and drain are offered', () => {
    const { items } = trayView(connected(status('sharing', { mode: 'on', decision: decision('running', 'running', 'Sharing CPU') })));
    expect(enabledActions(items)).toEqual(['sharing-off', ...SNOOZES, 'drain', 'open-dashboard', 'quit']);
  });

  it('while snoozed: snoozing again (a new end) is offered, draining is not', () => {
    const { items } = trayView(connected(status('paused', { mode: 'snooze' })));
    expect(enabledActions(items)).toEqual(['sharing-on', ...SNOOZES, 'open-dashboard', 'quit']);
  });

  it('while draining: drain is not offered again', () => {
    const { items } = trayView(connected(status('draining', { mode: 'drain' })));
    expect(item(items, 'drain')).toMatchObject({ enabled: false });
    expect(item(items, 'snooze-1h')).toMatchObject({ enabled: true });
  });

  it('turned off by the user: no snooze (its end would turn sharing on) and no drain', () => {
    const { items } = trayView(connected(status('off', { mode: 'off' })));
    expect(enabledActions(items)).toEqual(['sharing-on', 'open-dashboard', 'quit']);
  });

  it('before consent, or without an agent: all disabled, but present', () => {
    const views = [
      trayView(connected(status('off', { mode: 'on', consentRequired: true }))),
      trayView({ kind: 'connecting' }),
      trayView({ kind: 'disconnected', since: 0 }),
      trayView({ kind: 'unauthorized' }),
    ];
    for (const { items } of views) {
      for (const a of [...SNOOZES, 'drain']) expect(item(items, a)).toMatchObject({ enabled: false });
    }
  });
});
