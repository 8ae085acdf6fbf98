import { describe, expect, it } from 'vitest';
import { Status, type EffectiveState, type SharingMode } from '../../protocol/api.js';
import { trayView, type AgentConnection, type TrayMenuItem } from '../../main/tray-menu.js';

function status(state: EffectiveState, opts: { mode?: SharingMode; reason?: string; consentRequired?: boolean } = {}): Status {
  // Parsed with the real schema, so the fixture cannot drift from what the agent sends.
  return Status.parse({
    agent: {
      version: '0.1.0',
      pid: 4242,
      startedAt: '2025-01-01T10:00:00.000Z',
      dataDir: '/home/ada/.local/share/offhours',
      host: 'box',
      platform: 'linux',
      headless: false,
    },
    consent: { required: opts.consentRequired ?? false, currentVersion: 1 },
    startAtLogin: false,
    sharing: {
      manual: { mode: opts.mode ?? 'on', until: null, changedAt: null },
      state,
      reason: { code: 'x', text: opts.reason ?? 'the machine is idle' },
    },
    problems: [],
    updatedAt: '2025-01-01T10:00:00.000Z',
  });
}

const connected = (s: Status): AgentConnection => ({ kind: 'connected', status: s });
const toggle = (items: TrayMenuItem[]) => items.find((i) => i.type === 'checkbox')!;
const actions = (items: TrayMenuItem[]) => items.flatMap((i) => (i.type !== 'separator' && i.action !== undefined ? [i.action] : []));
const statusLine = (items: TrayMenuItem[]) => items[0] as Extract<TrayMenuItem, { type: 'normal' }>;

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
    expect(actions(view.items)).toEqual(['sharing-on', 'restart-agent', 'open-dashboard', 'quit']);
    expect(view.items.find((i) => i.type === 'normal' && i.action === 'restart-agent')).toMatchObject({ enabled: true });
    expect(toggle(view.items).enabled).toBe(false);
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
