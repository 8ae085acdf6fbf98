// Renders the bundled benchmark scene (resources/benchmark/benchmark-scene.py, built inside
// Blender) on one device through the normal engine path, sandbox included, and reports its speed
// as samples per second: pixels x samples / render seconds. The render seconds are Blender's own
// frame time minus the time it spent saving the PNG, so Blender's start-up and our checks do not
// count, while scene sync (BVH, kernels) does, as it does in every real job.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RenderJobSpec, type CyclesDevice, type RenderFailure } from '../../protocol/index.js';
import { engineEnv } from './command.js';
import { parseLine } from './progress.js';
import { render, type SandboxMode } from './render-engine.js';

export interface BenchmarkOptions {
  blender: string;
  /** Path of benchmark-scene.py (the app ships it under resources/benchmark/). */
  sceneScript: string;
  /** An empty directory inside the data directory; the scene and the frame go there. */
  workDir: string;
  device: CyclesDevice;
  withCpu?: boolean;
  threads?: number;
  /** Square image side in pixels (default 128). */
  resolution?: number;
  samples?: number;
  sandbox?: SandboxMode;
  hide?: string[];
  signal?: AbortSignal;
}

export type BenchmarkResult =
  | { ok: true; device: CyclesDevice; width: number; height: number; samples: number; renderS: number; samplesPerSecond: number }
  | { ok: false; device: CyclesDevice; failure: RenderFailure };

function buildScene(o: BenchmarkOptions, out: string, resolution: number, samples: number): Promise<string | null> {
  const args = ['--background', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python', o.sceneScript];
  args.push('--', out, '--resolution', String(resolution), '--samples', String(samples));
  return new Promise((resolve) => {
    execFile(o.blender, args, { cwd: o.workDir, env: engineEnv(o.workDir), timeout: 120_000, windowsHide: true, signal: o.signal }, (err, stdout, stderr) => {
      resolve(err ? `${err.message}\n${String(stdout).slice(-2000)}${String(stderr).slice(-2000)}` : null);
    });
  });
}

export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkResult> {
  const resolution = o.resolution ?? 128;
  const samples = o.samples ?? 64;
  await mkdir(path.join(o.workDir, 'tmp'), { recursive: true });
  const blend = path.join(o.workDir, 'benchmark.blend');
  const buildError = await buildScene(o, blend, resolution, samples);
  if (buildError) return { ok: false, device: o.device, failure: { code: 'python_error', text: `The benchmark scene could not be built: ${buildError.trim()}` } };

  let frameS: number | null = null;
  const spec = RenderJobSpec.parse({
    jobId: `benchmark-${o.device.toLowerCase()}`,
    frames: { start: 1, end: 1 },
    resolution: { width: resolution, height: resolution },
    samples,
    device: o.device,
    threads: o.threads,
  });
  const result = await render({
    spec,
    jobDir: o.workDir,
    scene: blend,
    blender: o.blender,
    device: o.device,
    withCpu: o.withCpu,
    sandbox: o.sandbox,
    hide: o.hide,
    signal: o.signal,
    onLine: (line) => {
      const parsed = parseLine(line);
      if (parsed?.kind === 'frame-time') frameS = parsed.totalS - (parsed.savingS ?? 0);
    },
  });
  if (result.failure) return { ok: false, device: o.device, failure: result.failure };
  const renderS: number = frameS !== null && frameS > 0 ? frameS : result.wallS;
  return {
    ok: true,
    device: o.device,
    width: resolution,
    height: resolution,
    samples,
    renderS,
    samplesPerSecond: Math.round((resolution * resolution * samples) / renderS),
  };
}

/** One benchmark per device, one after the other (they would only slow each other down). */
export async function runBenchmarks(o: Omit<BenchmarkOptions, 'device' | 'workDir'> & { devices: CyclesDevice[]; workDirFor: (d: CyclesDevice) => string }): Promise<BenchmarkResult[]> {
  const out: BenchmarkResult[] = [];
  for (const device of o.devices) {
    const workDir = o.workDirFor(device);
    await mkdir(workDir, { recursive: true });
    out.push(await runBenchmark({ ...o, device, workDir }));
  }
  return out;
}
