// Decides whether a render succeeded, honestly: exit code 0 alone means little (a GPU error can
// leave half-rendered frames behind a clean exit). Success needs all of: a clean exit, no known
// fatal line, and every expected frame present as a whole PNG of the expected size. Each frame that
// passes is hashed (SHA-256, streamed) for the result record.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  renderFrameFileName,
  renderFrameNumbers,
  type CyclesDevice,
  type RenderExtraFile,
  type RenderFailure,
  type RenderJobSpec,
  type RenderResult,
  type RenderSandbox,
  type RenderedFrame,
} from '../../protocol/index.js';
import type { FatalMatch } from './fatal-lines.js';
import { checkPngFile } from './png.js';

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OutcomeInput {
  spec: RenderJobSpec;
  framesDir: string;
  exit: EngineExit;
  /** The decisive fatal line of the run, if any (FatalScanner.decisive). */
  fatal: FatalMatch | null;
  /** With a fatal line, only frames saved before it are trusted (a GPU error can leave a
   * half-rendered frame that still decodes). Ignored when there is no fatal line. */
  savedBeforeFatal?: ReadonlySet<number>;
  /** The frame size to expect: the spec's resolution, or what the setup script reported. */
  expectedSize: { width: number; height: number } | null;
  aborted: boolean;
  device: CyclesDevice;
  sandbox: RenderSandbox;
  wallS: number;
}

const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP', 'SIGSYS']);
/** Windows NTSTATUS codes Blender dies with when it crashes (access violation, stack overflow…). */
const WINDOWS_CRASH_CODES = new Set([0xc0000005, 0xc00000fd, 0xc0000409, 0xc000001d]);

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * bubblewrap reports a child killed by a signal as exit status 128+signal; seen from outside, the
 * engine "exited" with 137 where it was really killed. Turn that back into the signal.
 */
export function exitFromSandbox(exit: EngineExit): EngineExit {
  if (exit.signal !== null || exit.code === null || exit.code <= 128 || exit.code >= 128 + 65) return exit;
  const name = Object.entries(osConstants.signals).find(([, n]) => n === exit.code! - 128)?.[0];
  return name ? { code: null, signal: name as NodeJS.Signals } : exit;
}

function exitFailure(exit: EngineExit): RenderFailure | null {
  if (exit.signal !== null) {
    return CRASH_SIGNALS.has(exit.signal)
      ? { code: 'crash', text: `Blender crashed (${exit.signal}).` }
      : { code: 'engine_exit', text: `Blender was stopped by ${exit.signal} before it finished.` };
  }
  if (exit.code === 0) return null;
  if (exit.code !== null && WINDOWS_CRASH_CODES.has(exit.code >>> 0)) {
    return { code: 'crash', text: `Blender crashed (exit code 0x${(exit.code >>> 0).toString(16)}).` };
  }
  return { code: 'engine_exit', text: `Blender exited with code ${exit.code ?? 'unknown'}.` };
}

async function checkFrame(
  framesDir: string,
  frame: number,
  expected: { width: number; height: number } | null,
): Promise<{ ok: true; frame: RenderedFrame } | { ok: false; reason: string }> {
  const file = renderFrameFileName(frame);
  const path = join(framesDir, file);
  const st = await lstat(path).catch(() => null);
  if (!st) return { ok: false, reason: `frame ${frame} is missing (${file})` };
  if (!st.isFile()) return { ok: false, reason: `frame ${frame} is not a regular file (${file})` };
  const png = await checkPngFile(path);
  if (!png.ok) return { ok: false, reason: `frame ${frame} (${file}) is not a valid PNG: ${png.reason}` };
  if (!expected) return { ok: false, reason: 'the expected frame size is unknown (the setup script did not report it)' };
  if (png.width !== expected.width || png.height !== expected.height) {
    return { ok: false, reason: `frame ${frame} is ${png.width}x${png.height}, expected ${expected.width}x${expected.height}` };
  }
  return { ok: true, frame: { frame, file, sha256: await sha256File(path), width: png.width, height: png.height, bytes: st.size } };
}

/** Files the scene's File Output nodes wrote (redirected under frames/file-output/). */
export async function listExtraFiles(framesDir: string): Promise<RenderExtraFile[]> {
  const root = join(framesDir, 'file-output');
  const out: RenderExtraFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await lstat(p);
        out.push({ path: relative(framesDir, p).split(sep).join('/'), sha256: await sha256File(p), bytes: st.size });
      }
    }
  };
  await walk(root);
  return out;
}

export async function decideOutcome(input: OutcomeInput): Promise<RenderResult> {
  const { spec, exit } = input;
  let failure: RenderFailure | null = input.aborted
    ? { code: 'aborted', text: 'The render was stopped before it finished.' }
    : input.fatal
      ? { code: input.fatal.code, text: input.fatal.text, line: input.fatal.line }
      : exitFailure(exit);

  const frames: RenderedFrame[] = [];
  for (const n of renderFrameNumbers(spec.frames)) {
    const checked = await checkFrame(input.framesDir, n, input.expectedSize);
    if (checked.ok) {
      if (!input.fatal || input.savedBeforeFatal?.has(n)) frames.push(checked.frame);
    } else if (!failure) {
      failure = { code: 'bad_output', text: checked.reason };
    }
  }

  return {
    jobId: spec.jobId,
    outcome: failure ? 'failed' : 'succeeded',
    failure,
    device: input.device,
    sandbox: input.sandbox,
    exit: { code: exit.code, signal: exit.signal },
    frames,
    extraFiles: await listExtraFiles(input.framesDir),
    wallS: Math.round(input.wallS * 100) / 100,
  };
}
