// The agent's one power sampler: the current draw of every device, and per-job energy meters the
// supervisor opens and closes for billing.
//
// Sources, best first per device:
// - NVIDIA GPUs: power.draw from the shared nvidia-smi stream (never a second nvidia-smi). Its
//   samples are taken in as they arrive, at the stream's own cadence.
// - AMD GPUs: hwmon power1_average / power1_input, polled.
// - CPU: RAPL package counters, polled.
// - Anything unreadable: the TDP estimate, labelled as such.
// Polled sources run on one poll loop: async reads only, and a slow read delays the next tick
// instead of overlapping it. Clocks are injected: a monotonic one for integration (see
// integrate.ts on wall-clock jumps) and a wall one for the timestamps people read.
import { performance } from 'node:perf_hooks';
import type { DeviceId, PowerBasis, PowerReading, PowerSnapshot, PowerSourceKind } from '../../protocol/index.js';
import { DEFAULT_PSU_EFFICIENCY } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { GpuSamplerListener } from '../signals/nvidia-smi-sampler.js';
import { NO_NVIDIA_NOTE } from '../signals/nvidia-smi-sampler.js';
import { startPollLoop, type PollLoop } from '../signals/poll-loop.js';
import { estimateCpu, estimateGpu, type Estimate } from './estimate.js';
import { amdGpuDevice, readAmdGpuPower, type AmdGpuPower } from './hwmon-power.js';
import { DEFAULT_MAX_GAP_MS, EnergyIntegrator, IdleBaseline, type IdleBaselineOptions } from './integrate.js';
import { RaplMeter, type RaplPower } from './rapl.js';

/** What the sampler needs of NvidiaSmiSampler. */
export interface GpuSampleFeed {
  subscribe(listener: GpuSamplerListener): () => void;
}

export interface PowerSettingsNow {
  psuEfficiency: number;
  calibrationFactor: number;
}

export interface PowerSamplerOptions {
  /** The shared stream; null where there is none (tests, non-NVIDIA builds). */
  nvidia?: GpuSampleFeed | null;
  sysRoot?: string;
  readAmd?: (sysRoot: string) => Promise<AmdGpuPower[]>;
  /** null skips RAPL (not Linux). */
  rapl?: { sample(t: number): Promise<RaplPower> } | null;
  cpu?: { logicalCores: number | null; mobile?: boolean; utilizationPercent?: () => number | null };
  /** AMD GPUs are numbered after this many NVIDIA GPUs (see hwmon-power.ts); by default it is
   * learned from the nvidia-smi stream, and AMD GPUs wait until it is known. */
  gpuIndexOffset?: () => number | null;
  periodMs?: number;
  /** The cadence while none of our work runs (default 3 s): the idle draw and the Power page need
   * no more, and polling every second would be most of the agent's idle CPU. */
  idlePeriodMs?: number;
  maxGapMs?: number;
  /** Read when a meter opens: a setting changed mid-job applies from the next job. */
  settings?: () => PowerSettingsNow;
  /** Our work runs on the device without a meter (keeps it out of the idle baseline). */
  busy?: (device: DeviceId) => boolean;
  baseline?: IdleBaselineOptions;
  monotonicMs?: () => number;
  now?: () => Date;
  log?: Logger;
}

export interface MeterResult {
  jobId: string;
  device: DeviceId;
  /** Wall energy above idle, after PSU efficiency and calibration: what the job is billed. */
  mwhMarginal: bigint;
  mwhDevice: bigint;
  basis: PowerBasis;
  from: string;
  to: string;
  coveredMs: number;
  uncoveredMs: number;
}

interface DeviceState {
  reading: PowerReading;
  t: number;
  kind: 'point' | 'average';
}

interface Meter {
  jobId: string;
  device: DeviceId;
  from: Date;
  fromT: number;
  settings: PowerSettingsNow;
  /** Made with the device's first reading when the meter opened before there was one. */
  integrator: EnergyIntegrator | null;
}

interface Feed {
  device: DeviceId;
  name: string;
  watts: number;
  basis: PowerBasis;
  source: PowerSourceKind;
  kind: 'point' | 'average';
  t: number;
  at: Date;
  estimate?: Estimate;
  note?: string;
}

const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quietLog, close() {} };

function deviceOrder(d: string): number {
  if (d === 'cpu') return -1;
  if (d === 'disk') return 1000;
  return Number(d.slice(4));
}

export class PowerSampler {
  private readonly devices = new Map<DeviceId, DeviceState>();
  private readonly baselines = new Map<string, IdleBaseline>();
  private readonly meters = new Map<string, Meter>();
  private loop: PollLoop | null = null;
  private unsubscribe: (() => void) | null = null;
  private nvidiaCount: number | null;
  private nvidiaNote: string | null = null;
  private cpuNote: string | null = null;
  private readonly sysRoot: string;
  private readonly periodMs: number;
  private readonly idlePeriodMs: number;
  private readonly maxGapMs: number;
  private readonly rapl: { sample(t: number): Promise<RaplPower> } | null;
  private readonly mono: () => number;
  private readonly now: () => Date;
  private readonly settings: () => PowerSettingsNow;

  constructor(private readonly opts: PowerSamplerOptions = {}) {
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.periodMs = opts.periodMs ?? 1_000;
    this.idlePeriodMs = Math.max(this.periodMs, opts.idlePeriodMs ?? 3_000);
    // A reading stays in the snapshot across an idle-cadence gap, so the Power page does not flicker.
    this.maxGapMs = opts.maxGapMs ?? Math.max(DEFAULT_MAX_GAP_MS, 3 * this.periodMs, 2 * this.idlePeriodMs);
    this.rapl = opts.rapl !== undefined ? opts.rapl : process.platform === 'linux' ? new RaplMeter(this.sysRoot) : null;
    this.mono = opts.monotonicMs ?? (() => performance.now());
    this.now = opts.now ?? (() => new Date());
    this.settings = opts.settings ?? (() => ({ psuEfficiency: DEFAULT_PSU_EFFICIENCY, calibrationFactor: 1 }));
    this.nvidiaCount = opts.nvidia ? null : 0;
  }

  /** `poll: false` takes the NVIDIA stream only, for tests that call tick() themselves. */
  start({ poll = true }: { poll?: boolean } = {}): void {
    if (this.unsubscribe || this.loop) return;
    this.unsubscribe = this.opts.nvidia?.subscribe((e) => this.onGpuEvent(e)) ?? null;
    if (poll) this.loop = startPollLoop({ name: 'power', periodMs: () => this.cadence(), log: this.opts.log ?? quietLog, tick: () => this.tick() });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.loop?.stop();
    this.loop = null;
  }

  /** Every second while a meter is open or our work runs anywhere, else the idle cadence. */
  private cadence(): number {
    if (this.meters.size > 0) return this.periodMs;
    for (const device of this.devices.keys()) if (this.opts.busy?.(device)) return this.periodMs;
    return this.idlePeriodMs;
  }

  /** One round of the polled sources; start() calls it on its cadence, tests call it directly. */
  async tick(): Promise<void> {
    const offset = this.opts.gpuIndexOffset ? this.opts.gpuIndexOffset() : this.nvidiaCount;
    if (offset !== null) {
      const gpus = await (this.opts.readAmd ?? readAmdGpuPower)(this.sysRoot);
      const t = this.mono();
      const at = this.now();
      gpus.forEach((g, i) => {
        const device = amdGpuDevice(i, offset);
        const name = `AMD GPU (${g.busId})`;
        if (g.watts !== null) this.feed({ device, name, watts: g.watts, basis: 'measured', source: 'hwmon', kind: 'point', t, at });
        else {
          const estimate = estimateGpu(null, g.utilizationPercent, this.isBusy(device), g.capWatts);
          this.feed({ device, name, watts: estimate.watts, basis: 'estimated', source: 'estimate', kind: 'point', t, at, estimate, note: `no power1_average or power1_input in hwmon; ${estimate.note}` });
        }
      });
    }
    const t = this.mono();
    const r: RaplPower = this.rapl ? await this.rapl.sample(t) : { state: 'unavailable', note: 'CPU power sensors are not read on this platform' };
    const at = this.now();
    if (r.state === 'ok') {
      this.cpuNote = null;
      this.feed({ device: 'cpu', name: 'CPU package', watts: r.watts, basis: 'measured', source: 'rapl', kind: 'average', t, at });
    } else if (r.state === 'unavailable') {
      this.cpuNote = r.note;
      const cpu = this.opts.cpu;
      const estimate = estimateCpu(cpu?.logicalCores ?? null, cpu?.utilizationPercent?.() ?? null, this.isBusy('cpu'), cpu?.mobile ?? false);
      this.feed({ device: 'cpu', name: 'CPU package', watts: estimate.watts, basis: 'estimated', source: 'estimate', kind: 'point', t, at, estimate, note: estimate.note });
    }
    // 'warming': the first counter read; the figure comes next tick.
  }

  private onGpuEvent(e: Parameters<GpuSamplerListener>[0]): void {
    if (e.type === 'unavailable') {
      this.nvidiaNote = e.note === NO_NVIDIA_NOTE ? null : e.note;
      // Keep a count already learned: AMD GPUs must not change ids while NVIDIA is briefly away.
      if (this.nvidiaCount === null) this.nvidiaCount = 0;
      return;
    }
    if (e.type !== 'sample') return;
    this.nvidiaNote = null;
    const s = e.sample;
    this.nvidiaCount = Math.max(this.nvidiaCount ?? 0, s.index + 1);
    const device: DeviceId = `gpu:${s.index}`;
    const name = s.name ?? `NVIDIA GPU ${s.index}`;
    const t = this.mono();
    if (s.powerDrawW !== null) {
      this.feed({ device, name, watts: s.powerDrawW, basis: 'measured', source: 'nvidia-smi', kind: 'point', t, at: e.at });
    } else {
      const estimate = estimateGpu(s.name, s.utilizationPercent, this.isBusy(device));
      this.feed({ device, name, watts: estimate.watts, basis: 'estimated', source: 'estimate', kind: 'point', t, at: e.at, estimate, note: `nvidia-smi reports no power.draw for this GPU; ${estimate.note}` });
    }
  }

  private isBusy(device: DeviceId): boolean {
    for (const m of this.meters.values()) if (m.device === device) return true;
    return this.opts.busy?.(device) ?? false;
  }

  private baselineFor(device: DeviceId, source: PowerSourceKind): IdleBaseline {
    // Per sensor: a GPU whose figure moves from nvidia-smi to the estimate must not mix the two.
    const key = `${device}|${source}`;
    let b = this.baselines.get(key);
    if (!b) this.baselines.set(key, (b = new IdleBaseline(this.opts.baseline)));
    return b;
  }

  private feed(f: Feed): void {
    let idle: number | null;
    if (f.estimate) idle = f.estimate.idleWatts;
    else {
      const baseline = this.baselineFor(f.device, f.source);
      baseline.observe(f.t, f.watts, this.isBusy(f.device));
      idle = baseline.watts;
    }
    const reading: PowerReading = {
      device: f.device,
      name: f.name.slice(0, 200),
      watts: f.watts,
      basis: f.basis,
      source: f.source,
      at: f.at.toISOString(),
      idleBaselineWatts: idle,
      ...(f.note ? { note: f.note.slice(0, 300) } : {}),
    };
    this.devices.set(f.device, { reading, t: f.t, kind: f.kind });
    for (const m of this.meters.values()) {
      if (m.device !== f.device) continue;
      if (!m.integrator) {
        m.integrator = this.integratorFor(m, reading);
        // Its first reading stands for the time since the meter opened (capped like any gap).
        m.integrator.add({ t: m.fromT, watts: f.watts, basis: f.basis });
      }
      m.integrator.add({ t: f.t, watts: f.watts, basis: f.basis, kind: f.kind });
    }
  }

  private integratorFor(m: Meter, reading: PowerReading): EnergyIntegrator {
    let baseline = reading.idleBaselineWatts;
    let baselineBasis: PowerBasis = reading.basis;
    if (baseline === null) {
      // Not learned yet (the agent just started and work began at once): the table's idle figure
      // for this device, and the result says it is estimated.
      baseline = (m.device === 'cpu' ? estimateCpu(this.opts.cpu?.logicalCores ?? null, 0, false) : estimateGpu(reading.name, 0, false)).idleWatts;
      baselineBasis = 'estimated';
    }
    return new EnergyIntegrator({ maxGapMs: this.maxGapMs, baselineWatts: baseline, baselineBasis, ...m.settings });
  }

  /** Opens a job's meter on one device. Opening it again restarts it. */
  startMeter(jobId: string, device: DeviceId): void {
    const fromT = this.mono();
    const m: Meter = { jobId, device, from: this.now(), fromT, settings: this.settings(), integrator: null };
    const state = this.devices.get(device);
    if (state && fromT - state.t <= this.maxGapMs) {
      m.integrator = this.integratorFor(m, state.reading);
      m.integrator.add({ t: fromT, watts: state.reading.watts, basis: state.reading.basis });
    }
    this.meters.set(meterKey(jobId, device), m);
  }

  /** Closes a job's meter and returns its energy; null when none was open. */
  stopMeter(jobId: string, device: DeviceId): MeterResult | null {
    const key = meterKey(jobId, device);
    const m = this.meters.get(key);
    if (!m) return null;
    this.meters.delete(key);
    const t = this.mono();
    const to = this.now().toISOString();
    const base = { jobId, device, from: m.from.toISOString(), to };
    if (!m.integrator) return { ...base, mwhMarginal: 0n, mwhDevice: 0n, basis: 'estimated', coveredMs: 0, uncoveredMs: Math.max(0, t - m.fromT) };
    const last = m.integrator.lastPoint;
    // The newest reading holds until the meter closes (within the gap limit).
    if (last && t > last.t) m.integrator.add({ t, watts: last.watts, basis: last.basis, kind: 'point' });
    const r = m.integrator.result();
    return { ...base, mwhMarginal: r.mwhMarginal, mwhDevice: r.mwhDevice, basis: r.basis, coveredMs: r.coveredMs, uncoveredMs: r.uncoveredMs };
  }

  /** Meters open now, for the supervisor's restart bookkeeping. */
  openMeters(): Array<{ jobId: string; device: DeviceId }> {
    return [...this.meters.values()].map((m) => ({ jobId: m.jobId, device: m.device }));
  }

  snapshot(): PowerSnapshot {
    const t = this.mono();
    const settings = this.settings();
    const devices = [...this.devices.values()]
      .filter((d) => t - d.t <= this.maxGapMs)
      .map((d) => d.reading)
      .sort((a, b) => deviceOrder(a.device) - deviceOrder(b.device));
    const notes = [this.cpuNote, this.nvidiaNote].filter((n): n is string => n !== null).map((n) => n.slice(0, 300));
    return { devices, psuEfficiency: settings.psuEfficiency, calibrationFactor: settings.calibrationFactor, notes };
  }
}

function meterKey(jobId: string, device: DeviceId): string {
  return `${jobId}\u0000${device}`;
}
