// Everything the worker reads from one run's console, in one place, so that the plain-pipe engine
// (render-engine.ts) and the supervisor's pty see the same thing: clean lines, progress, fatal
// lines, which frames were saved before the first fatal line, the setup script's report, and the
// last lines for a failure message.
import type { FrameRange, RenderProgress } from '../../protocol/index.js';
import { FatalScanner, type FatalMatch } from './fatal-lines.js';
import { LineSplitter, ProgressTracker, parseLine } from './progress.js';

export interface Effective {
  width: number;
  height: number;
  engine: string;
  /** Samples per pixel the scene will render with, when the script could tell. */
  samples: number | null;
}

export interface RenderMonitorOptions {
  frames: FrameRange;
  /** The job's nonce (PreparedJob.nonce): only setup lines carrying it are believed. */
  nonce: string;
  tailLines?: number;
  onProgress?: (p: RenderProgress) => void;
  onLine?: (line: string) => void;
}

export class RenderMonitor {
  private readonly splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  private readonly tracker: ProgressTracker;
  private readonly scanner = new FatalScanner();
  private readonly tailMax: number;
  private readonly lines: string[] = [];
  private readonly saved = new Set<number>();
  private savedBeforeFatalSet: Set<number> | null = null;
  private effectiveValue: Effective | null = null;
  private progressValue: RenderProgress;
  private renderSeconds = 0;
  private framesTimed = 0;

  constructor(private readonly opts: RenderMonitorOptions) {
    this.tracker = new ProgressTracker(opts.frames);
    this.tailMax = opts.tailLines ?? 200;
    this.progressValue = this.tracker.snapshot();
  }

  /** Feed output as it arrives. Two pipes get a splitter each, so their lines never mix; a pty
   * is one stream. */
  push(chunk: string | Uint8Array, stream: 'stdout' | 'stderr' = 'stdout'): void {
    for (const line of this.splitters[stream].push(chunk)) this.onLine(line);
  }

  /** The stream ended: the last unterminated lines count too. */
  end(): void {
    for (const s of [this.splitters.stdout, this.splitters.stderr]) for (const line of s.end()) this.onLine(line);
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.tailMax) this.lines.shift();
    this.opts.onLine?.(line);

    const eff = /^OFFHOURS_EFFECTIVE (\S+) (\{.*\})\s*$/.exec(line);
    if (eff && eff[1] === this.opts.nonce && !this.effectiveValue) this.effectiveValue = parseEffective(eff[2]!);

    const parsed = parseLine(line);
    if (parsed?.kind === 'saved' && parsed.frame !== null) this.saved.add(parsed.frame);
    if (parsed?.kind === 'frame-time') {
      this.renderSeconds += Math.max(0, parsed.totalS - (parsed.savingS ?? 0));
      this.framesTimed++;
    }

    if (this.scanner.push(line) && !this.savedBeforeFatalSet) this.savedBeforeFatalSet = new Set(this.saved);

    const progress = this.tracker.onLine(line);
    if (progress) {
      this.progressValue = progress;
      this.opts.onProgress?.(progress);
    }
  }

  get progress(): RenderProgress {
    return this.progressValue;
  }

  get fatal(): FatalMatch | null {
    return this.scanner.decisive;
  }

  get savedBeforeFatal(): ReadonlySet<number> {
    return this.savedBeforeFatalSet ?? this.saved;
  }

  /** What the setup script said it would render, or null if it never said so (with our nonce). */
  get effective(): Effective | null {
    return this.effectiveValue;
  }

  /** Blender's own time for the frames it finished (saving excluded), and how many it timed. */
  get frameTimes(): { renderS: number; frames: number } {
    return { renderS: this.renderSeconds, frames: this.framesTimed };
  }

  get tail(): readonly string[] {
    return this.lines;
  }
}

function parseEffective(json: string): Effective | null {
  try {
    const v = JSON.parse(json) as Partial<Effective>;
    if (Number.isInteger(v.width) && Number.isInteger(v.height) && v.width! > 0 && v.height! > 0) {
      const samples = Number.isInteger(v.samples) && v.samples! > 0 ? v.samples! : null;
      return { width: v.width!, height: v.height!, engine: String(v.engine ?? ''), samples };
    }
  } catch {}
  return null;
}
