// Signals, decisions, the preview and policy validation over the real API of a real agent.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type RunningAgent } from '../../agent/agent.js';
import { Decision, PRESETS, SETTINGS_SCHEMA_VERSION, Settings, SignalsView, Status, defaultPolicy, type Policy } from '../../protocol/index.js';
import type { SignalSource } from '../../agent/signals/source.js';
import { api, openEvents } from '../support/agent-client.js';
import { useTempDirs } from '../support/tmp.js';
import { AWAY_USER } from '../support/signals.js';

/** Readings that let the Gamer preset run: idle for an hour, no game, on mains, cool. */
const calm = AWAY_USER;

function quiet(policy: Policy): Policy {
  return { ...policy, quietPeriodMinutes: 0 };
}

describe('policy over the API', () => {
  const tmp = useTempDirs();
  const running: RunningAgent[] = [];
  afterEach(async () => {
    for (const a of running.splice(0)) await a.stop();
  });

  async function start(sources: SignalSource[] = []) {
    const agent = await runAgent({ dataDir: tmp(), port: 0, rendererDir: join(tmp(), 'none'), sources });
    running.push(agent);
    const base = `http://127.0.0.1:${agent.port}`;
    const token = agent.token;
    await api(base, token, 'PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: quiet(defaultPolicy()) });
    await api(base, token, 'POST', '/sharing', { mode: 'on' });
    return { agent, base, token };
  }

  it('new settings carry the Gamer preset by default', async () => {
    const { base, token } = await start();
    const settings = Settings.parse((await api(base, token, 'GET', '/settings')).json);
    expect(settings.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(settings.policy.rules.gpu?.[0]?.conditions.map((c) => c.kind)).toEqual(['idle', 'noGame', 'notOnBattery', 'temperatureBelow']);
  });

  it('posted signals change the decision at once, with a reason a person can read', async () => {
    const { base, token } = await start();
    expect((await api(base, token, 'POST', '/signals', calm)).json).toEqual({ accepted: 5 });
    let d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    expect(d.resources.find((r) => r.resource === 'cpu')?.state).toBe('running');
    await api(base, token, 'POST', '/signals', { source: 'test.script', readings: [{ name: 'gamesRunning', value: [{ name: 'Cyberpunk2077.exe', via: 'user-list' }] }] });
    d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    const cpu = d.resources.find((r) => r.resource === 'cpu')!;
    expect(cpu.state).toBe('released');
    expect(cpu.reasons[0]!.text).toBe('Paused: Cyberpunk2077.exe is running');
    const status = Status.parse((await api(base, token, 'GET', '/status')).json);
    expect(status.sharing.state).toBe('paused');
    expect(status.sharing.reason.text).toBe('Paused: Cyberpunk2077.exe is running');
  });

  it('pushes decision changes on the events socket', async () => {
    const { agent, base, token } = await start();
    const r = await openEvents(agent.port, {
      token,
      tokenVia: 'protocol',
      ms: 4000,
      afterFirstStatus: () => api(base, token, 'POST', '/signals', calm),
      until: (m) => m.some((x) => x.type === 'status' && x.status.decision?.summary.state === 'running'),
    });
    const statuses = r.messages.filter((m) => m.type === 'status');
    expect(statuses[0].status.decision.summary.state).not.toBe('running');
    expect(statuses.at(-1).status.decision.summary.state).toBe('running');
  });

  it('GET /signals reports readings with their state and source, and the detectors', async () => {
    const fake: SignalSource = {
      name: 'fake.sensor',
      start: (ctx) => ctx.sink.publish('fake.sensor', [{ name: 'fullscreen', notAvailable: true, note: 'no full-screen state on this platform' }], 60_000),
      stop: () => undefined,
      detectors: () => [{ signal: 'fullscreen', available: false, how: 'not exposed on Linux' }],
      processesSeen: () => ['blender', 'steam'],
    };
    const { base, token } = await start([fake]);
    await api(base, token, 'POST', '/signals', calm);
    const view = SignalsView.parse((await api(base, token, 'GET', '/signals')).json);
    expect(view.readings.find((r) => r.name === 'fullscreen')).toMatchObject({ state: 'not_available', source: 'fake.sensor' });
    expect(view.readings.find((r) => r.name === 'idleSeconds')).toMatchObject({ state: 'ok', value: 3600, source: 'test.shell' });
    expect(view.processesSeen).toEqual(['blender', 'steam']);
    expect(view.detectors).toEqual([{ signal: 'fullscreen', available: false, how: 'not exposed on Linux' }]);
  });

  it.each([
    [{ source: 'x', readings: [{ name: 'idleSeconds', value: -1 }] }, 'readings.0.value'],
    [{ source: 'x', readings: [{ name: 'noSuchSignal', value: 1 }] }, 'readings.0.name'],
    [{ source: 'x', readings: [{ name: 'gpuTemperature', value: 50 }] }, 'readings.0.device'],
    [{ source: 'x', readings: [{ name: 'idleSeconds' }] }, 'readings.0.value'],
    [{ source: 'x', readings: [] }, 'readings'],
    [{ source: 'Bad Source!', readings: [{ name: 'onBattery', value: true }] }, 'source'],
  ])('refuses a bad signal update %j', async (body, field) => {
    const { base, token } = await start();
    const res = await api(base, token, 'POST', '/signals', body);
    expect(res.status).toBe(400);
    expect(res.json.error.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it('previews an unsaved policy without saving it', async () => {
    const { base, token } = await start();
    await api(base, token, 'POST', '/signals', { ...calm, readings: [...calm.readings, { name: 'onBattery', value: true }] });
    const saved = Settings.parse((await api(base, token, 'GET', '/settings')).json).policy;
    // Gamer says never on battery; a draft without that condition would run.
    const draft = quiet(PRESETS.find((p) => p.id === 'dedicated')!.apply(saved));
    const preview = Decision.parse((await api(base, token, 'POST', '/decision/preview', { policy: draft })).json);
    expect(preview.resources.find((r) => r.resource === 'cpu')?.state).toBe('running');
    const actual = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    expect(actual.resources.find((r) => r.resource === 'cpu')?.reasons[0]?.code).toBe('on_battery');
    expect(Settings.parse((await api(base, token, 'GET', '/settings')).json).policy).toEqual(saved);
  });

  it.each([
    ['end before start', (p: Policy) => addWindow(p, { days: ['mon'], start: '22:00', end: '06:00' }), 'policy.rules.cpu.0.conditions.4.windows.0.end'],
    ['overlapping windows', (p: Policy) => addWindow(p, { days: ['mon'], start: '20:00', end: '23:00' }, { days: ['mon', 'tue'], start: '22:00', end: '24:00' }), 'policy.rules.cpu.0.conditions.4.windows.1'],
    ['unknown resource', (p: Policy) => ({ ...p, rules: { ...p.rules, tpu: [] } }), 'policy.rules.tpu'],
    ['a GPU this machine lacks', (p: Policy) => ({ ...p, rules: { ...p.rules, 'gpu:3': [] } }), 'policy.rules.gpu:3'],
    ['a CPU limit on the disk', (p: Policy) => ({ ...p, rules: { ...p.rules, disk: [{ id: 'x', name: 'x', enabled: true, conditions: [], action: { kind: 'limit', cpuCores: 2 } }] } }), 'policy.rules.disk.0.action'],
  ])('refuses a bad policy (%s) with a field error and saves nothing', async (_name, mutate, field) => {
    const { base, token } = await start();
    const before = Settings.parse((await api(base, token, 'GET', '/settings')).json);
    const bad = mutate(before.policy);
    const res = await api(base, token, 'PATCH', '/settings', { policy: bad, startAtLogin: true });
    expect(res.status).toBe(400);
    expect(res.json.error.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(Settings.parse((await api(base, token, 'GET', '/settings')).json)).toEqual(before);
    const preview = await api(base, token, 'POST', '/decision/preview', { policy: bad });
    expect(preview.status).toBe(400);
  });

  it('keeps a GPU it has seen when its driver stops answering: paused on stale readings, not gone', async () => {
    let present = true;
    let sink: Parameters<SignalSource['start']>[0]['sink'] | undefined;
    const gpu: SignalSource = {
      name: 'fake.gpu',
      start: (ctx) => {
        sink = ctx.sink;
        ctx.sink.publish('fake.gpu', [{ name: 'gpuTemperature', device: 'gpu:0', value: 50 }], 60_000);
      },
      stop: () => undefined,
      detectors: () => [],
      devices: () => (present ? [{ id: 'gpu:0', kind: 'gpu', label: 'GPU 0 (fake)' }] : []),
    };
    const { base, token } = await start([gpu]);
    await api(base, token, 'POST', '/signals', calm);
    let d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    expect(d.resources.find((r) => r.resource === 'gpu:0')?.state).toBe('running');
    // The driver goes away: the sampler reports the GPU unreachable and lists no devices.
    present = false;
    sink!.publish('fake.gpu', [{ name: 'gpuTemperature', device: 'gpu:0', notAvailable: true, note: 'driver not answering' }], 60_000);
    d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    const g = d.resources.find((r) => r.resource === 'gpu:0');
    expect(g?.state).toBe('paused');
    expect(g?.reasons[0]?.code).toBe('signal_stale');
    // A rule for it can still be saved.
    const policy = Settings.parse((await api(base, token, 'GET', '/settings')).json).policy;
    expect((await api(base, token, 'PATCH', '/settings', { policy: { ...policy, rules: { ...policy.rules, 'gpu:0': policy.rules.gpu! } } })).status).toBe(200);
  });

  it('lists conditions this machine cannot check, and honours the user’s choice', async () => {
    const { base, token } = await start();
    await api(base, token, 'POST', '/signals', { ...calm, readings: [...calm.readings.filter((r) => r.name !== 'cpuTemperature'), { name: 'cpuTemperature', notAvailable: true, note: 'no CPU sensor' }] });
    let d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    const cpu = d.resources.find((r) => r.resource === 'cpu')!;
    expect(cpu.state).not.toBe('running');
    expect(cpu.reasons.map((r) => r.code)).toContain('needs_choice');
    expect(d.uncheckable).toContainEqual(expect.objectContaining({ target: 'cpu', condition: 'temperatureBelow', choice: 'ask' }));
    const policy = Settings.parse((await api(base, token, 'GET', '/settings')).json).policy;
    const conditions = policy.rules.cpu![0]!.conditions.map((c) => (c.kind === 'temperatureBelow' ? { ...c, ifUnavailable: 'ignore' as const } : c));
    const dropped = { ...policy, rules: { ...policy.rules, cpu: [{ ...policy.rules.cpu![0]!, conditions }] } };
    expect((await api(base, token, 'PATCH', '/settings', { policy: dropped })).status).toBe(200);
    d = Decision.parse((await api(base, token, 'GET', '/decision')).json);
    expect(d.resources.find((r) => r.resource === 'cpu')?.state).toBe('running');
    expect(d.uncheckable).toContainEqual(expect.objectContaining({ target: 'cpu', condition: 'temperatureBelow', choice: 'ignore' }));
  });
});

function addWindow(p: Policy, ...windows: Array<{ days: string[]; start: string; end: string }>): Policy {
  const rule = p.rules.cpu![0]!;
  return { ...p, rules: { ...p.rules, cpu: [{ ...rule, conditions: [...rule.conditions, { kind: 'timeWindows', windows } as never] }] } };
}
