// Power, tariffs and earnings through the real agent API: tariffs saved and validated, the price as
// a policy signal (a price cap pauses work), a CSV price table previewed with its bad rows, and a
// job's run metered and booked in the ledger at the tariff, read back as earnings and as CSV.
// The CPU's power sensor is a stand-in (RAPL is root-only here and its figure would be the whole
// machine's): it reads 80 W while our job runs and 20 W otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerConnection, WorkerStarter } from '../../agent/jobs/worker-starter.js';
import {
  EarningsReport,
  PowerView,
  TariffCsvPreview,
  TariffSettings,
  decimalToMicros,
  defaultPolicy,
  energyCostMicros,
  microsToDecimal,
  type AgentToWorker,
  type Tariff,
  type WorkerToAgent,
} from '../../protocol/index.js';
import { inState, startAgent, waitForAsync, type TestAgent } from '../support/jobs.js';
import { useTempDirs } from '../support/tmp.js';

/** A worker whose engine is `sleep`: it "renders" for `ms`, then reports one good frame. */
class TimedWorker implements WorkerConnection {
  readonly pid: number;
  private listener: (m: WorkerToAgent) => void = () => undefined;
  private engine: ChildProcess | null = null;
  constructor(
    private readonly self: ChildProcess,
    private readonly ms: number,
    private readonly running: { now: boolean },
  ) {
    this.pid = self.pid!;
  }
  send(m: AgentToWorker) {
    const emit = (x: WorkerToAgent) => setImmediate(() => this.listener(x));
    if (m.type === 'ping') emit({ type: 'pong', seq: m.seq });
    if (m.type === 'start') {
      this.engine = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      this.running.now = true;
      emit({ type: 'engine', pid: this.engine.pid!, sandbox: 'none', device: 'CPU' });
      setTimeout(() => {
        this.running.now = false;
        this.engine?.kill('SIGKILL');
        const frame = { frame: 1, file: 'frame_0001.png', sha256: 'a'.repeat(64), width: 4, height: 4, bytes: 1 };
        emit({ type: 'finished', released: false, result: { jobId: m.spec.jobId, outcome: 'succeeded', failure: null, device: 'CPU', sandbox: 'none', exit: { code: 0, signal: null }, frames: [frame], extraFiles: [], wallS: this.ms / 1000 } });
      }, this.ms);
    }
  }
  onMessage(l: (m: WorkerToAgent) => void) {
    this.listener = l;
  }
  onInvalid() {}
  onExit(l: (code: number | null, signal: string | null) => void) {
    this.self.once('exit', (c, s) => l(c, s));
  }
  kill() {
    this.engine?.kill('SIGKILL');
    this.self.kill('SIGKILL');
  }
}

const waitFor = waitForAsync;

const flat = (perKwh: string): Tariff => ({ id: 'home', name: 'Home', currency: 'EUR', timeZone: 'Europe/Berlin', plan: { kind: 'flat', perKwh } });

describe('energy API', () => {
  const tmp = useTempDirs();
  const agents: TestAgent[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.agent.stop();
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  async function agent(jobMs = 1_500) {
    const running = { now: false };
    const starter: WorkerStarter = {
      start: async () => {
        const self = spawn('sleep', ['60'], { stdio: 'ignore' });
        children.push(self);
        return new TimedWorker(self, jobMs, running);
      },
    };
    const a = await startAgent(tmp(), {
      workerStarter: starter,
      power: {
        periodMs: 50,
        idlePeriodMs: 50,
        baseline: { minSamples: 3, settleMs: 0 },
        rapl: { sample: async () => ({ state: 'ok', watts: running.now ? 80 : 20, packages: 1 }) },
      },
    });
    agents.push(a);
    return a;
  }

  it('saves tariffs whole, refuses a bad one with the field named, and quotes the active price', async () => {
    const a = await agent();
    expect(TariffSettings.parse((await a.call('GET', '/tariffs')).json)).toEqual({ active: null, tariffs: [] });
    const bad = await a.call('PUT', '/tariffs', { active: 'nope', tariffs: [flat('0.30')] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'active' })]));
    const tou: Tariff = {
      id: 'tou',
      name: 'Night rate',
      currency: 'EUR',
      timeZone: 'Europe/Berlin',
      plan: { kind: 'timeOfUse', seasons: [{ name: 'All year', from: '01-01', to: '12-31', defaultPerKwh: '0.40', bands: [{ name: 'Night', days: 'all', from: '00:00', to: '06:00', perKwh: '0.12' }] }] },
    };
    const saved = await a.call('PUT', '/tariffs', { active: 'home', tariffs: [flat('0.30'), tou] });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const view = PowerView.parse((await a.call('GET', '/power')).json);
    expect(view.price).toMatchObject({ currency: 'EUR', perKwh: '0.3', source: 'flat' });
    // Kept across a restart, in its own file.
    await a.agent.stop();
    agents.splice(agents.indexOf(a), 1);
    const b = await startAgent(a.dataDir);
    agents.push(b);
    expect(TariffSettings.parse((await b.call('GET', '/tariffs')).json).tariffs.map((t) => t.id)).toEqual(['home', 'tou']);
  });

  it('creates, replaces, reads and deletes one tariff by id, keeping the set valid', async () => {
    const a = await agent();
    expect((await a.call('PUT', '/tariffs/home', flat('0.30'))).status).toBe(201);
    expect((await a.call('PUT', '/tariffs/home', flat('0.31'))).status).toBe(200);
    expect((await a.call('GET', '/tariffs/home')).json).toEqual(flat('0.31'));
    const mismatch = await a.call('PUT', '/tariffs/other', flat('0.31'));
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.error.fields).toEqual([{ path: 'id', message: 'must be other, as in the address' }]);
    expect((await a.call('PUT', '/tariffs', { active: 'home', tariffs: [flat('0.31')] })).status).toBe(200);
    expect((await a.call('DELETE', '/tariffs/home')).status).toBe(204);
    // The active one went with it: nothing is active, nothing dangles.
    expect(TariffSettings.parse((await a.call('GET', '/tariffs')).json)).toEqual({ active: null, tariffs: [] });
    expect((await a.call('GET', '/tariffs/home')).status).toBe(404);
    expect((await a.call('DELETE', '/tariffs/Bad_Id')).status).toBe(400);
  });

  it('the price is a policy signal: a price cap above it runs, below it pauses with the price in the reason', async () => {
    const a = await agent();
    await a.call('PUT', '/tariffs', { active: 'home', tariffs: [flat('0.35')] });
    const policy = defaultPolicy();
    const cap = (perKwh: string) => ({ ...policy, quietPeriodMinutes: 0, rules: { ...policy.rules, cpu: [{ id: 'cheap', name: 'Only when cheap', enabled: true, conditions: [{ kind: 'priceAtMost', perKwh }], action: { kind: 'run' } }] } });
    expect((await a.call('PATCH', '/settings', { policy: cap('0.40') })).status).toBe(200);
    await waitFor(async () => (await a.call('GET', '/decision')).json.resources.find((r: { resource: string }) => r.resource === 'cpu')?.state === 'running', 'the CPU to run under a cap above the price');
    expect((await a.call('PATCH', '/settings', { policy: cap('0.20') })).status).toBe(200);
    const paused = await waitFor(async () => {
      const cpu = (await a.call('GET', '/decision')).json.resources.find((r: { resource: string }) => r.resource === 'cpu');
      return cpu?.state !== 'running' ? cpu : null;
    }, 'the CPU to pause under a cap below the price');
    expect(JSON.stringify(paused.reasons)).toContain('0.35');
  });

  it('previews a CSV price table with each bad row named by its line, storing nothing', async () => {
    const a = await agent();
    const csv = ['start,end,price', '2026-11-25T00:00:00Z,2026-11-25T00:30:00Z,0.21', '2026-11-25T00:30:00,2026-11-25T01:00:00Z,0.22', '2026-11-25T01:00:00Z,2026-11-25T01:30:00Z,-0.05', 'garbage'].join('\n');
    const r = await a.call('POST', '/tariffs/import', { csv, unit: 'major' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const preview = TariffCsvPreview.parse(r.json);
    expect(preview.slots.map((s) => s.perKwh)).toEqual(['0.21', '-0.05']);
    expect(preview.errors.map((e) => e.line)).toEqual([3, 5]);
    expect(preview.errors[0]!.message).toMatch(/offset/i);
    expect(TariffSettings.parse((await a.call('GET', '/tariffs')).json).tariffs).toEqual([]);
  });

  it('meters a run above the idle draw, books it at the tariff, and reports it as earnings, cost per job and CSV', async () => {
    const a = await agent(1_500);
    await a.call('PUT', '/tariffs', { active: 'home', tariffs: [flat('0.30')] });
    // The idle draw is learned before any work.
    await waitFor(async () => PowerView.parse((await a.call('GET', '/power')).json).snapshot.devices.find((d) => d.device === 'cpu')?.idleBaselineWatts === 20, 'the idle baseline');
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const q = await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 1 }, device: 'CPU' });
    expect(q.status).toBe(201);
    await a.waitJob(q.json.id, inState('succeeded'), 'the job to finish');

    const view = PowerView.parse((await a.call('GET', '/power')).json);
    const run = view.recentJobs[0]!;
    expect(run).toMatchObject({ jobId: q.json.id, title: 'scene.blend', device: 'cpu', basis: 'measured', currency: 'EUR', tariffId: 'home' });
    // 60 W above idle for about 1.5 s, through a 0.9 PSU: about 28 mWh. Its cost is exactly that energy at 0.30/kWh.
    expect(run.mwh).toBeGreaterThan(10);
    expect(run.mwh).toBeLessThan(60);
    expect(run.cost).toBe(microsToDecimal(energyCostMicros(BigInt(run.mwh), decimalToMicros('0.30'))));

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = EarningsReport.parse((await a.call('GET', `/earnings?from=${from}&to=${to}&groupBy=day&by=job&timeZone=Europe/Berlin`)).json);
    expect(report.totals.energyMwh).toBe(run.mwh);
    expect(report.totals.energyCost).toEqual({ EUR: run.cost });
    // A local render earns nothing; its net is what its electricity cost.
    expect(report.totals.gross).toEqual({ USDC: '0' });
    expect(report.totals.net).toEqual({ EUR: microsToDecimal(-decimalToMicros(run.cost!)) });
    expect(report.buckets.map((b) => b.key)).toEqual([q.json.id]);

    const res = await fetch(`http://127.0.0.1:${a.agent.port}/api/v1/earnings/export.csv?from=${from}&to=${to}&timeZone=Europe/Berlin`, { headers: { authorization: `Bearer ${a.agent.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^date_time_utc,date_time_local,/);
    expect(lines.filter((l) => l.includes(q.json.id))).toHaveLength(2);
  });

  it('refuses a bad earnings query and a calibration with nothing running, saying why', async () => {
    const a = await agent();
    const bad = await a.call('GET', '/earnings?from=yesterday&to=2026-01-01T00:00:00Z');
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path)).toContain('from');
    const zone = await a.call('GET', '/earnings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&timeZone=Mars/Olympus');
    expect(zone.status).toBe(400);
    const cal = await a.call('POST', '/power/calibrate', { device: 'cpu', meterIdleWatts: 60, meterLoadWatts: 140 });
    expect(cal.status).toBe(409);
    expect(cal.json.error.message).toMatch(/benchmark/);
    const psu = await a.call('PATCH', '/power/settings', { psuEfficiency: 0.09 });
    expect(psu.status).toBe(400);
    const ok = await a.call('PATCH', '/power/settings', { psuEfficiency: 0.87 });
    expect(ok.json).toMatchObject({ psuEfficiency: 0.87, calibrationFactor: 1 });
  });

  it('calibrates against a wall meter while work runs: the factor applies from then on', async () => {
    const a = await agent(4_000);
    await a.call('PUT', '/tariffs', { active: 'home', tariffs: [flat('0.30')] });
    await waitFor(async () => PowerView.parse((await a.call('GET', '/power')).json).snapshot.devices.find((d) => d.device === 'cpu')?.idleBaselineWatts === 20, 'the idle baseline');
    const blend = join(tmp(), 'scene.blend');
    writeFileSync(blend, 'BLENDER-v304');
    const q = await a.call('POST', '/jobs', { kind: 'render', blendFile: blend, frames: { start: 1, end: 1 }, device: 'CPU' });
    await a.waitJob(q.json.id, inState('running'), 'the job to run');
    await waitFor(async () => PowerView.parse((await a.call('GET', '/power')).json).snapshot.devices.find((d) => d.device === 'cpu')?.watts === 80, 'the load reading');
    // Our figure: 60 W above idle through a 0.9 PSU = 66.7 W at the wall. The meter says 80 W more.
    const r = await a.call('POST', '/power/calibrate', { device: 'cpu', meterIdleWatts: 70, meterLoadWatts: 150 });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.calibrationFactor).toBeCloseTo(80 / (60 / 0.9), 2);
    expect(r.json.calibratedAt).not.toBeNull();
  });
});
