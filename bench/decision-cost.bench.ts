// Cost of one decision with 50 rules per resource (none matching until the last, the worst case),
// against the single-rule Gamer preset, in the same run.
import { decide, type DecideInput, type ResourceInfo } from '../agent/policy/decide.js';
import { defaultPolicy, type Policy, type Rule, type SignalReading } from '../protocol/index.js';
import { emit } from './lib.mjs';

const now = new Date('2026-06-01T12:00:00Z');
const at = new Date(now.getTime() - 1000).toISOString();
const reading = (name: SignalReading['name'], value: unknown, device?: string): [string, SignalReading] => [
  device ? `${name}@${device}` : name,
  { name, ...(device ? { device } : {}), state: 'ok', value, source: 'bench', readAt: at, maxAgeMs: 60_000 },
];
const signals = Object.fromEntries([
  reading('idleSeconds', 3600),
  reading('screenLocked', false),
  reading('onBattery', false),
  reading('gamesRunning', []),
  reading('cpuTemperature', 50),
  reading('gpuTemperature', 60, 'gpu:0'),
  reading('cpuForeignLoad', 5),
  reading('gpuForeignLoad', 0, 'gpu:0'),
]);
const resources: ResourceInfo[] = [
  { id: 'gpu:0', kind: 'gpu', label: 'GPU 0' },
  { id: 'cpu', kind: 'cpu', label: 'CPU', cores: 16 },
  { id: 'disk', kind: 'disk', label: 'disk' },
];

function fiftyRules(): Policy {
  const rules: Rule[] = [];
  for (let i = 0; i < 49; i++) {
    rules.push({
      id: `r${i}`,
      name: `Rule ${i}`,
      enabled: true,
      conditions: [
        { kind: 'idle', minMinutes: 5 },
        { kind: 'noGame' },
        { kind: 'timeWindows', windows: [{ days: ['sat', 'sun'], start: `${String(i % 20).padStart(2, '0')}:00`, end: `${String((i % 20) + 1).padStart(2, '0')}:00` }] },
        { kind: 'temperatureBelow', sensor: 'cpu', celsius: 80 },
      ],
      action: { kind: 'run' },
    });
  }
  rules.push({ id: 'last', name: 'Last', enabled: true, conditions: [{ kind: 'idle', minMinutes: 5 }, { kind: 'noGame' }], action: { kind: 'run' } });
  return { ...defaultPolicy(), rules: { cpu: rules, gpu: rules, disk: rules } };
}

function cost(policy: Policy): number {
  // Like the engine: a new snapshot and a new instant for every evaluation, so nothing cached for
  // one evaluation is reused by the next.
  const input = (i: number, previous: ReturnType<typeof decide> | null): DecideInput => ({
    now: new Date(now.getTime() + i),
    signals: { ...signals },
    policy,
    manual: { mode: 'on', until: null, changedAt: null },
    consented: true,
    resources,
    previous,
    timeZone: 'Europe/Berlin',
  });
  let prev = decide(input(0, null));
  for (let i = 1; i <= 2000; i++) prev = decide(input(i, prev)); // warm-up
  const n = 20_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) prev = decide(input(3000 + i, prev));
  return ((performance.now() - t) / n) * 1000;
}

const base = cost(defaultPolicy());
const fifty = cost(fiftyRules());
emit('decision_cost_50_rules_us', fifty, 'µs per evaluation (3 resources × 50 rules)', base);
