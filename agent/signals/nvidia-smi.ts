// GPU temperature and foreign GPU load for NVIDIA cards, from the shared nvidia-smi stream plus a
// slower look at which processes use each GPU (so our own render is not counted against us).
//
// Per-process users: `nvidia-smi pmon -c 1 -s u` first — it lists graphics (G) and compute (C)
// users with each one's SM share; where pmon is not supported (Windows WDDM, some datacenter
// modes) `--query-compute-apps`, which lists compute users only and no shares. See foreignGpuLoad()
// for how each case becomes a number. pmon samples for about a second, so it runs every 5 s, async,
// and only while some process of ours runs.
import type { DeviceId, ReadingUpdate } from '../../protocol/index.js';
import { foreignGpuLoad, parseComputeApps, parsePmon, type GpuProcessUse } from './nvidia-smi-parse.js';
import type { GpuSamplerEvent, NvidiaSmiSampler } from './nvidia-smi-sampler.js';
import { startPollLoop, type PollLoop } from './poll-loop.js';
import { inRange, maxAgeFor, unavailable } from './readings.js';
import { firstLine, runCommand, type RunCommand } from './run-command.js';
import type { Detector, DiscoveredDevice, SignalSource, SourceContext } from './source.js';

export interface NvidiaGpuSourceOptions {
  /** The one stream shared with the energy sampler. */
  sampler: NvidiaSmiSampler;
  /** The program for the process queries; the same one the sampler runs. */
  command?: string;
  processPollMs?: number;
  run?: RunCommand;
}

interface GpuUsers {
  rows: GpuProcessUse[];
  perProcess: boolean;
  at: number;
}

export class NvidiaGpuSource implements SignalSource {
  readonly name = 'nvidia-smi';
  private ctx: SourceContext | null = null;
  private unsubscribe: (() => void) | null = null;
  private loop: PollLoop | null = null;
  private users: GpuUsers | null = null;
  /** Set once neither pmon nor --query-compute-apps works here. */
  private usersNote: string | null = null;
  private pmonWorks = true;
  private readonly seen = new Map<number, string>();
  /** All GPUs have reported once nvidia-smi comes round to one it has already printed. */
  private countKnown = false;
  private startedAt = 0;
  readonly sampler: NvidiaSmiSampler;
  private readonly command: string;
  private readonly processPollMs: number;
  private readonly run: RunCommand;

  constructor(opts: NvidiaGpuSourceOptions) {
    this.sampler = opts.sampler;
    this.command = opts.command ?? 'nvidia-smi';
    this.processPollMs = opts.processPollMs ?? 5_000;
    this.run = opts.run ?? runCommand;
  }

  start(ctx: SourceContext): void {
    this.ctx = ctx;
    this.startedAt = Date.now();
    this.unsubscribe = this.sampler.subscribe((e) => this.onEvent(e));
    this.loop = startPollLoop({ name: this.name, periodMs: this.processPollMs, log: ctx.log, tick: () => this.readUsers() });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.loop?.stop();
    this.loop = null;
  }

  /** How many NVIDIA GPUs there are, or null while the first round of samples is still coming
   * in (other GPU sources number their GPUs after these, and must not guess). */
  gpuCount(): number | null {
    return this.countKnown || Date.now() - this.startedAt > 30_000 ? this.sampler.latest().length : null;
  }

  devices(): DiscoveredDevice[] {
    return this.sampler.latest().map(({ sample }) => ({ id: `gpu:${sample.index}` as DeviceId, kind: 'gpu' as const, label: sample.name ?? `NVIDIA GPU ${sample.index}` }));
  }

  detectors(): Detector[] {
    const note = this.sampler.state === 'unavailable' ? this.sampler.unavailableNote : null;
    if (note !== null) {
      return [
        { signal: 'gpuTemperature', available: false, how: `NVIDIA: ${note}` },
        { signal: 'gpuForeignLoad', available: false, how: `NVIDIA: ${note}` },
      ];
    }
    return [
      { signal: 'gpuTemperature', available: true, how: `NVIDIA: one nvidia-smi stream, a sample every ${this.sampler.periodMs / 1000} s` },
      this.usersNote !== null
        ? { signal: 'gpuForeignLoad', available: false, how: `NVIDIA: ${this.usersNote}` }
        : {
            signal: 'gpuForeignLoad',
            available: true,
            how: this.pmonWorks
              ? 'NVIDIA: utilization from the stream, split between our processes and others with nvidia-smi pmon every 5 s'
              : "NVIDIA: utilization from the stream; nvidia-smi lists compute processes only here, so another program's graphics load is missed while we use the GPU",
          },
    ];
  }

  private onEvent(e: GpuSamplerEvent): void {
    const ctx = this.ctx;
    if (!ctx) return;
    if (e.type === 'sample') {
      const s = e.sample;
      const device = `gpu:${s.index}` as DeviceId;
      if (this.seen.has(s.index)) this.countKnown = true;
      this.seen.set(s.index, device);
      const readings: ReadingUpdate[] = [];
      const temp = inRange(s.temperatureC, -40, 150);
      readings.push(temp !== null ? { name: 'gpuTemperature', device, value: temp, at: e.at.toISOString() } : unavailable('gpuTemperature', 'this GPU reports no temperature through nvidia-smi', device));
      const load = this.foreignLoadOf(s.index, s.utilizationPercent, ctx.ownPids());
      if (load.value !== null) readings.push({ name: 'gpuForeignLoad', device, value: load.value, at: e.at.toISOString() });
      else if (load.note !== null) readings.push(unavailable('gpuForeignLoad', load.note, device));
      ctx.sink.publish(this.name, readings, maxAgeFor(this.sampler.periodMs));
    } else if (e.type === 'unavailable') {
      this.countKnown = true;
      // Only GPUs seen before can be marked: a per-device signal needs a device. A machine that
      // never had one says so through detectors().
      const readings = [...this.seen.values()].flatMap((device) => [unavailable('gpuTemperature', e.note, device as DeviceId), unavailable('gpuForeignLoad', e.note, device as DeviceId)]);
      if (readings.length > 0) ctx.sink.publish(this.name, readings, maxAgeFor(this.sampler.periodMs));
    }
    // 'down': no reading; the last ones go stale on their own, and stale counts as the safe side.
  }

  private foreignLoadOf(index: number, utilization: number | null, own: ReadonlySet<number>): { value: number | null; note: string | null } {
    const util = inRange(utilization, 0, 100);
    if (util === null) return { value: null, note: 'this GPU reports no utilization through nvidia-smi' };
    const fresh = this.users && Date.now() - this.users.at <= 3 * this.processPollMs + 10_000 ? this.users : null;
    const rows = fresh ? fresh.rows.filter((r) => r.gpu === index) : null;
    const value = foreignGpuLoad(util, rows, own, fresh?.perProcess ?? false);
    if (value !== null) return { value, note: null };
    // Unknown until the first process list arrives; not available once none can be read.
    return { value: null, note: this.usersNote };
  }

  private async readUsers(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx || this.sampler.latest().length === 0) return;
    // While nothing of ours runs, all load is foreign and no process list is needed: no nvidia-smi
    // start every 5 s on an idle gaming PC.
    if (ctx.ownPids().size === 0) {
      this.users = null;
      return;
    }
    const opts = { timeoutMs: 10_000, env: ctx.env };
    if (this.pmonWorks) {
      const r = await this.run(this.command, ['pmon', '-c', '1', '-s', 'u'], opts);
      if (r.ok && /^#\s*gpu\s+pid/m.test(r.stdout)) {
        this.users = { rows: parsePmon(r.stdout), perProcess: true, at: Date.now() };
        this.usersNote = null;
        return;
      }
      if (r.ok || r.reason === 'failed') {
        ctx.log.info('nvidia-smi pmon is not usable here; falling back to --query-compute-apps', { why: r.ok ? 'no pmon table' : firstLine(r.stderr || r.stdout || r.message) });
        this.pmonWorks = false;
      }
    }
    const uuids = new Map<string, number>();
    for (const { sample } of this.sampler.latest()) if (sample.uuid) uuids.set(sample.uuid, sample.index);
    const r = await this.run(this.command, ['--query-compute-apps=gpu_uuid,pid,used_memory', '--format=csv,noheader,nounits'], opts);
    if (r.ok) {
      this.users = { rows: parseComputeApps(r.stdout, uuids), perProcess: false, at: Date.now() };
      this.usersNote = null;
    } else if (r.reason === 'failed') {
      this.users = null;
      this.usersNote = `nvidia-smi cannot list the processes using the GPU (${firstLine(r.stderr || r.stdout || r.message)}), so our own load cannot be told from others'`;
    }
  }
}
