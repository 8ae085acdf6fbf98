// A progress bar on stderr. On a terminal it redraws one line in place (at most ten times a
// second); into a file or a pipe, where carriage returns would pile up into one endless line, it
// writes a line each time another 10 % is done, so logs stay short and readable.
import { formatBytes } from './storage-command.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  label: string;
  total: number;
  /** 'bytes' shows sizes and MiB/s; 'count' shows n/total. */
  unit: 'bytes' | 'count';
  stream?: ProgressStream;
  /** For tests; default Date.now. */
  now?: () => number;
}

/** `[#####.....]` for a fraction 0..1. */
export function bar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private startDone: number | null = null;
  private done = 0;
  private lastDraw = 0;
  private lastDecile = -1;
  private finished = false;

  constructor(private readonly opts: ProgressBarOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  private line(): string {
    const { total, unit, label } = this.opts;
    const fraction = total > 0 ? this.done / total : 1;
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    if (unit === 'count') return `${label} ${bar(fraction)} ${pct} ${this.done}/${total}`;
    const seconds = (this.now() - this.started) / 1000;
    // The speed counts what this run moved, not what a resumed upload had before it started.
    const moved = this.done - (this.startDone ?? 0);
    const rate = seconds > 0 ? moved / 1024 / 1024 / seconds : 0;
    return `${label} ${bar(fraction)} ${pct} ${formatBytes(this.done)} of ${formatBytes(total)}, ${rate.toFixed(1)} MiB/s`;
  }

  update(done: number): void {
    if (this.finished) return;
    this.startDone ??= done;
    this.done = Math.min(done, this.opts.total);
    if (this.tty) {
      const t = this.now();
      if (t - this.lastDraw < 100 && this.done < this.opts.total) return;
      this.lastDraw = t;
      const width = Math.max(20, (this.stream.columns ?? 100) - 1);
      this.stream.write(`\r${this.line().slice(0, width).padEnd(Math.min(width, 100))}`);
      return;
    }
    const decile = this.opts.total > 0 ? Math.floor((this.done / this.opts.total) * 10) : 10;
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.finished) return;
    if (this.tty) {
      this.lastDraw = 0;
      this.update(this.done);
      this.stream.write('\n');
    } else if (this.lastDecile < 0) {
      this.stream.write(`${this.line()}\n`);
    }
    this.finished = true;
  }
}
