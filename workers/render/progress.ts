// Blender's console output -> lines -> progress. Streaming: feed chunks as they arrive (from a pipe
// or a pty), get clean lines and progress snapshots back. Everything here is pure and fed by
// recorded logs in tests (tests/fixtures/blender/).
//
// Formats (see tests/fixtures/blender/README.md for where each one comes from):
//   3.x/4.x status  `Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.07 | Remaining:00:00.05 | Mem:0.76M,
//                    Peak:0.76M | Scene, ViewLayer | Rendered 1/16 Tiles, Sample 8/8`
//                    (Remaining only on some lines; `Rendered n/N Tiles` only with more than one tile)
//   Eevee           `Fra:1 Mem:10.80M (Peak 11.92M) | Time:00:01.66 | Rendering 1 / 8 samples`
//   frame saved     `Saved: '/abs/frames/frame_0001.png'` then ` Time: 00:00.28 (Saving: 00:00.18)`
//   5.x             every log line gains `<time>  <category>  | ` in front and the frame is written
//                   `Fra: 1`. Blender 5's render pipeline logs only the engine's info string under
//                   the `render` category (blender/blender source/blender/render/intern/pipeline.cc,
//                   stats_background, at 71b1c5056218db1b355778ea030917995571907c), so the 3.x
//                   `Fra:%d Mem:` prefix is gone. One third-party parser reads
//                   `render  | Fra: 1 | Rendering 1 / 64 samples` as 5.x sample progress: unverified
//                   here, parsed because it costs nothing, never relied on for success.
import type { FrameRange, RenderProgress } from '../../protocol/index.js';

/** Longest line kept; a scene that prints an endless line must not grow memory without bound. */
export const MAX_LINE_CHARS = 64 * 1024;

// CSI (colours, cursor moves), OSC (window titles, hyperlinks), and two-character escapes.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]|\x1b/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export function stripTerminal(line: string): string {
  return line.replace(ESCAPES, '').replace(CONTROLS, '');
}

/**
 * Splits a stream into lines: `\n`, `\r\n` and a bare `\r` (a progress rewrite) each end a line,
 * even when a chunk ends between `\r` and `\n` or in the middle of a UTF-8 character or an escape.
 */
export class LineSplitter {
  private pending = '';
  private lastWasCr = false;
  private readonly decoder = new TextDecoder('utf-8');

  push(chunk: string | Uint8Array): string[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.lastWasCr && text.startsWith('\n')) text = text.slice(1);
    this.lastWasCr = false;
    if (text === '') return [];
    text = this.pending + text;
    const parts = text.split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    if (text.endsWith('\r')) this.lastWasCr = true;
    const lines = parts.map(stripTerminal);
    while (this.pending.length > MAX_LINE_CHARS) {
      lines.push(stripTerminal(this.pending.slice(0, MAX_LINE_CHARS)));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
    return lines;
  }

  /** The unterminated rest, at the end of the stream. */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest === '' ? [] : [stripTerminal(rest)];
  }
}

export type ParsedLine =
  | {
      kind: 'status';
      frame: number | null;
      frameElapsedS: number | null;
      frameRemainingS: number | null;
      sample: number | null;
      samples: number | null;
      tile: number | null;
      tiles: number | null;
    }
  | { kind: 'saved'; path: string; frame: number | null }
  | { kind: 'frame-time'; totalS: number; savingS: number | null };

const TIME = String.raw`(\d+(?::\d+){1,2}(?:\.\d+)?)`;
/** Blender 5's log prefix: `00:07.157  render  | `. */
const LOG_PREFIX = /^\s*(?:\d+:)?\d+:\d+\.\d+\s+[A-Za-z][\w.]*\s+\|\s?/;

/** `MM:SS.hh` or `HH:MM:SS.hh` (BLI_timecode_string_from_time_simple) -> seconds. */
export function parseTimecode(text: string): number | null {
  const parts = text.split(':').map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p))) return null;
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

const int = (s: string | undefined) => (s === undefined ? null : Number.parseInt(s, 10));

export function parseLine(raw: string): ParsedLine | null {
  const prefixed = LOG_PREFIX.exec(raw);
  const line = prefixed ? raw.slice(prefixed[0].length) : raw;

  const saved = /^Saved:\s*'(.*)'\s*$/.exec(line) ?? /^Saved:\s*(\S.*?)\s*$/.exec(line);
  if (saved) {
    const path = saved[1]!;
    const m = /(?:^|[\\/])frame_(\d+)\.png$/.exec(path);
    return { kind: 'saved', path, frame: m ? Number.parseInt(m[1]!, 10) : null };
  }

  const frameTime = new RegExp(`^\\s*Time:\\s*${TIME}\\s*\\(Saving:\\s*${TIME}\\)`).exec(line);
  if (frameTime) return { kind: 'frame-time', totalS: parseTimecode(frameTime[1]!) ?? 0, savingS: parseTimecode(frameTime[2]!) };
  if (prefixed) {
    const bare = new RegExp(`^Time:\\s*${TIME}\\s*$`).exec(line);
    if (bare) return { kind: 'frame-time', totalS: parseTimecode(bare[1]!) ?? 0, savingS: null };
  }

  const frame = /(?:^|\|\s*)Fra:\s*(\d+)/.exec(line);
  const tiles = /Rendered (\d+)\/(\d+) Tiles/.exec(line);
  const sample = /\bSample (\d+)\/(\d+)/.exec(line) ?? /\bRendering (\d+) \/ (\d+) samples/.exec(line);
  if (!frame && !sample && !tiles) return null;
  const elapsed = new RegExp(`\\|\\s*Time:\\s*${TIME}`).exec(line);
  const remaining = new RegExp(`Remaining:\\s*${TIME}`).exec(line);
  return {
    kind: 'status',
    frame: int(frame?.[1]),
    frameElapsedS: elapsed ? parseTimecode(elapsed[1]!) : null,
    frameRemainingS: remaining ? parseTimecode(remaining[1]!) : null,
    sample: int(sample?.[1]),
    samples: int(sample?.[2]) || null,
    tile: int(tiles?.[1]),
    tiles: int(tiles?.[2]) || null,
  };
}

/** Turns parsed lines into progress for a job over `frames`. */
export class ProgressTracker {
  private readonly framesTotal: number;
  private readonly done = new Set<number>();
  private readonly durations: number[] = [];
  private frame: number | null = null;
  private sample: number | null = null;
  private samples: number | null = null;
  private tile: number | null = null;
  private tiles: number | null = null;
  private frameElapsed = 0;
  private frameRemaining: number | null = null;
  private inFrame = false;
  private lastWasSaved = false;
  private fraction = 0;
  private last = '';

  constructor(private readonly frames: FrameRange) {
    this.framesTotal = frames.end - frames.start + 1;
  }

  /** Feeds one clean line; returns the new progress when it changed. */
  onLine(line: string): RenderProgress | null {
    const parsed = parseLine(line);
    if (!parsed) return null;
    if (parsed.kind === 'status') this.onStatus(parsed);
    else if (parsed.kind === 'saved') this.onSaved(parsed.frame);
    else if (this.lastWasSaved) this.durations[this.durations.length - 1] = parsed.totalS;
    this.lastWasSaved = parsed.kind === 'saved';
    const snapshot = this.snapshot();
    const key = JSON.stringify(snapshot);
    if (key === this.last) return null;
    this.last = key;
    return snapshot;
  }

  private onStatus(s: Extract<ParsedLine, { kind: 'status' }>): void {
    if (s.frame !== null && s.frame !== this.frame) {
      this.frame = s.frame;
      this.resetFrame();
    }
    this.inFrame = true;
    if (s.frameElapsedS !== null) this.frameElapsed = s.frameElapsedS;
    if (s.frameRemainingS !== null) this.frameRemaining = s.frameRemainingS;
    if (s.samples !== null) {
      this.sample = s.sample;
      this.samples = s.samples;
    }
    if (s.tiles !== null) {
      this.tile = s.tile;
      this.tiles = s.tiles;
    }
  }

  private onSaved(frame: number | null): void {
    // Only the job's own frames count: File Output nodes print Saved lines too.
    if (frame === null || frame < this.frames.start || frame > this.frames.end || this.done.has(frame)) return;
    this.done.add(frame);
    this.durations.push(this.frameElapsed);
    this.resetFrame();
    this.inFrame = false;
  }

  private resetFrame(): void {
    this.sample = this.samples = this.tile = this.tiles = null;
    this.frameElapsed = 0;
    this.frameRemaining = null;
  }

  private frameFraction(): number {
    if (!this.inFrame) return 0;
    const s = this.samples && this.sample !== null && this.sample < this.samples ? this.sample / this.samples : 0;
    if (this.tiles && this.tile !== null) return Math.min(1, (this.tile + s) / this.tiles);
    if (this.samples && this.sample !== null) return Math.min(1, this.sample / this.samples);
    return 0;
  }

  snapshot(): RenderProgress {
    const framesDone = this.done.size;
    const finished = this.durations.reduce((a, b) => a + b, 0);
    const current = this.inFrame ? this.frameElapsed : 0;
    this.fraction = Math.max(this.fraction, Math.min(1, (framesDone + this.frameFraction()) / this.framesTotal));
    return {
      frame: this.frame,
      framesDone,
      framesTotal: this.framesTotal,
      sample: this.sample,
      samples: this.samples,
      tile: this.tile,
      tiles: this.tiles,
      elapsedS: round(finished + current),
      remainingS: this.remaining(framesDone),
      fraction: round(this.fraction, 4),
    };
  }

  private remaining(framesDone: number): number | null {
    if (framesDone >= this.framesTotal) return 0;
    const average =
      this.durations.length > 0
        ? this.durations.reduce((a, b) => a + b, 0) / this.durations.length
        : this.inFrame && this.frameRemaining !== null
          ? this.frameElapsed + this.frameRemaining
          : null;
    if (average === null) return null;
    const currentLeft = this.inFrame ? (this.frameRemaining ?? Math.max(0, average - this.frameElapsed)) : 0;
    const after = this.framesTotal - framesDone - (this.inFrame ? 1 : 0);
    return round(currentLeft + Math.max(0, after) * average);
  }
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
