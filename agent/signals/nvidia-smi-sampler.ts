// One long-running `nvidia-smi --query-gpu=… -lms N` child per agent, parsed line by line. Never a
// synchronous call per sample: systeminformation's graphics() does that and blocks the event loop.
// The GPU source (temperatures, load) and the energy sampler (power.draw) both subscribe to this
// one stream: the child starts with the first subscriber and stops with the last.
//
// Lifecycle: nvidia-smi missing (ENOENT) -> unavailable for good ("no NVIDIA driver"); it runs but
// cannot reach a driver or finds no GPU -> unavailable, retried at the slowest backoff (a driver
// can come back after an update); it dies or goes quiet -> restarted with exponential backoff.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';
import { GPU_QUERY_FIELDS, LineSplitter, nvidiaUnavailableNote, parseGpuLine, type GpuSample } from './nvidia-smi-parse.js';

export type { GpuSample } from './nvidia-smi-parse.js';

export type GpuSamplerEvent =
  | { type: 'sample'; sample: GpuSample; at: Date }
  /** The stream cannot run here; `note` says why in words for the user. */
  | { type: 'unavailable'; note: string }
  /** It stopped unexpectedly and will be restarted in `retryInMs`. */
  | { type: 'down'; note: string; retryInMs: number };

export type GpuSamplerListener = (event: GpuSamplerEvent) => void;

export type GpuSamplerState = 'stopped' | 'running' | 'restarting' | 'unavailable';

export interface NvidiaSmiSamplerOptions {
  /** The program to run; 'nvidia-smi' is looked up on env.PATH. */
  command?: string;
  intervalMs?: number;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** First restart delay, doubled per failed start up to maxRestartMs. */
  minRestartMs?: number;
  maxRestartMs?: number;
  /** No line for this long and the child is taken for hung and restarted. */
  stallMs?: number;
  now?: () => Date;
}

export const NO_NVIDIA_NOTE = 'no NVIDIA driver (nvidia-smi not found)';

export class NvidiaSmiSampler {
  private readonly listeners = new Set<GpuSamplerListener>();
  private readonly samples = new Map<number, { sample: GpuSample; at: Date }>();
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private note: string | null = null;
  private current: GpuSamplerState = 'stopped';
  /** nvidia-smi is not installed: no point in trying again in this agent's life. */
  private permanent = false;
  private readonly command: string;
  private readonly intervalMs: number;
  private readonly minRestartMs: number;
  private readonly maxRestartMs: number;
  private readonly stallMs: number;
  private readonly now: () => Date;

  constructor(private readonly opts: NvidiaSmiSamplerOptions = {}) {
    this.command = opts.command ?? 'nvidia-smi';
    this.intervalMs = opts.intervalMs ?? 1_000;
    this.minRestartMs = opts.minRestartMs ?? 1_000;
    this.maxRestartMs = opts.maxRestartMs ?? 5 * 60_000;
    this.stallMs = opts.stallMs ?? Math.max(15_000, 10 * this.intervalMs);
    this.now = opts.now ?? (() => new Date());
  }

  /** The command line of the stream, for logs and docs. */
  get args(): string[] {
    return [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(this.intervalMs)];
  }

  get state(): GpuSamplerState {
    return this.current;
  }

  /** Why there are no samples, when there are none. */
  get unavailableNote(): string | null {
    return this.note;
  }

  get periodMs(): number {
    return this.intervalMs;
  }

  /** The newest sample of each GPU seen since the stream started. */
  latest(): Array<{ sample: GpuSample; at: Date }> {
    return [...this.samples.values()].sort((a, b) => a.sample.index - b.sample.index);
  }

  /** Starts the stream with the first subscriber; the returned function unsubscribes (and stops
   * the stream after the last). The listener is told at once if the stream is known unavailable. */
  subscribe(listener: GpuSamplerListener): () => void {
    this.listeners.add(listener);
    if (this.current === 'unavailable' && this.note !== null) listener({ type: 'unavailable', note: this.note });
    if (this.current === 'stopped') this.spawnChild();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.shutdown();
    };
  }

  private emit(event: GpuSamplerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.opts.log?.warn('nvidia-smi listener failed', { err });
      }
    }
  }

  private spawnChild(): void {
    this.restartTimer = null;
    this.current = 'running';
    const splitter = new LineSplitter();
    let sawSample = false;
    let output = '';
    let child: ChildProcess;
    try {
      child = spawn(this.command, this.args, { env: this.opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (err) {
      this.giveUp(`nvidia-smi could not be started: ${(err as Error).message}`, true);
      return;
    }
    this.child = child;
    this.armStallTimer(child);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.armStallTimer(child);
      for (const line of splitter.push(chunk)) {
        const sample = parseGpuLine(line);
        if (!sample) {
          if (line.trim() !== '' && output.length < 4096) output += `${line}\n`;
          continue;
        }
        if (!sawSample) {
          sawSample = true;
          this.failures = 0;
          this.note = null;
        }
        const at = this.now();
        this.samples.set(sample.index, { sample, at });
        this.emit({ type: 'sample', sample, at });
      }
    });
    child.stderr!.on('data', (chunk: string) => {
      if (output.length < 4096) output += chunk;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = null;
      this.clearStallTimer();
      if (err.code === 'ENOENT') this.giveUp(NO_NVIDIA_NOTE, false);
      else this.giveUp(`nvidia-smi could not be started: ${err.message}`, true);
    });
    // 'close' waits for the pipes, which a leftover grandchild can hold open for ever; 'exit' can
    // come before the last output. So: the first of 'close', or 'exit' plus a short grace.
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished || this.child !== child) return;
      finished = true;
      this.child = null;
      this.clearStallTimer();
      splitter.reset();
      child.stdout!.destroy();
      child.stderr!.destroy();
      const known = sawSample ? null : nvidiaUnavailableNote(output);
      if (known) return this.giveUp(known, true);
      const why = `nvidia-smi stopped (${signal ?? `exit ${code}`})${output.trim() ? `: ${output.trim().split(/\r?\n/)[0]!.slice(0, 160)}` : ''}`;
      this.scheduleRestart(why);
    };
    // A child that never started (no pid) is reported by 'error', which says why.
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) finish(code, signal);
    });
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) setTimeout(() => finish(code, signal), 500).unref();
    });
  }

  private armStallTimer(child: ChildProcess): void {
    this.clearStallTimer();
    this.stallTimer = setTimeout(() => {
      this.opts.log?.warn('nvidia-smi went quiet; restarting it', { stallMs: this.stallMs });
      child.kill('SIGKILL');
    }, this.stallMs);
    this.stallTimer.unref();
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private scheduleRestart(why: string): void {
    if (this.listeners.size === 0) return this.shutdown();
    const delay = Math.min(this.maxRestartMs, this.minRestartMs * 2 ** this.failures);
    this.failures++;
    this.current = 'restarting';
    this.opts.log?.warn('nvidia-smi stream down', { why, retryInMs: delay });
    this.emit({ type: 'down', note: why, retryInMs: delay });
    this.restartTimer = setTimeout(() => this.spawnChild(), delay);
    this.restartTimer.unref();
  }

  private giveUp(note: string, retry: boolean): void {
    this.current = 'unavailable';
    this.permanent = !retry;
    this.note = note;
    this.samples.clear();
    this.opts.log?.info('nvidia-smi unavailable', { note, retry });
    this.emit({ type: 'unavailable', note });
    if (retry && this.listeners.size > 0) {
      this.restartTimer = setTimeout(() => this.spawnChild(), this.maxRestartMs);
      this.restartTimer.unref();
    }
  }

  private shutdown(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.clearStallTimer();
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
    // Known-missing stays known; anything else is tried again by the next subscriber.
    if (!(this.current === 'unavailable' && this.permanent)) this.current = 'stopped';
  }
}
