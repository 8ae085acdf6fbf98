// Renders the bundled benchmark scene (resources/benchmark/benchmark-scene.py, built inside
// Blender) on one device through the normal engine path, sandbox included, and reports its speed
// as samples per second: pixels x samples / render seconds. The render seconds are Blender's own
// frame time minus the time it spent saving the PNG, so Blender's start-up and our checks do not
// count, while scene sync (BVH, kernels) does, as it does in every real job.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RenderJobSpec, type CyclesDevice, type RenderFailure } from '../../protocol/index.js';
import benchmarkSceneSource from '../../resources/benchmark/benchmark-scene.py?raw';
import { engineEnv } from './command.js';
import { render, type SandboxMode } from './render-engine.js';

export interface BenchmarkOptions {
  blender: string;
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

export interface BuildSceneOptions {
  blender: string;
  /** The job directory: the script is written into it, and Blender's HOME and TMPDIR are in it. */
  workDir: string;
  /** Where the .blend goes. */
  out: string;
  resolution: number;
  samples: number;
  signal?: AbortSignal;
}

/** Builds the benchmark scene with our own script (shipped inside the bundle); null when it
 * worked, else what went wrong. The script is ours, not a stranger's, so it runs unsandboxed. */
export async function buildBenchmarkScene(o: BuildSceneOptions): Promise<string | null> {
  const script = path.join(o.workDir, 'offhours', 'benchmark-scene.py');
  await mkdir(path.dirname(script), { recursive: true });
  await mkdir(path.join(o.workDir, 'tmp'), { recursive: true });
  await writeFile(script, benchmarkSceneSource);
  const args = ['--background', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python', script];
  args.push('--', o.out, '--resolution', String(o.resolution), '--samples', String(o.samples));
  return new Promise((resolve) => {
    execFile(o.blender, args, { cwd: o.workDir, env: engineEnv(o.workDir), timeout: 120_000, windowsHide: true, signal: o.signal }, (err, stdout, stderr) => {
      resolve(err ? `${err.message}\n${String(stdout).slice(-2000)}${String(stderr).slice(-2000)}` : null);
    });
  });
}

export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkResult> {
  const resolution = o.resolution ?? 128;
  const samples = o.samples ?? 64;
  const blend = path.join(o.workDir, 'benchmark.blend');
  const buildError = await buildBenchmarkScene({ blender: o.blender, workDir: o.workDir, out: blend, resolution, samples, signal: o.signal });
  if (buildError) return { ok: false, device: o.device, failure: { code: 'python_error', text: `The benchmark scene could not be built: ${buildError.trim()}` } };

  const spec = RenderJobSpec.parse({
    jobId: `benchmark-${o.device.toLowerCase()}`,
    frames: { start: 1, end: 1 },
    resolution: { width: resolution, height: resolution },
    samples,
    device: o.device,
    threads: o.threads,
  });
  const result = await render({ spec, jobDir: o.workDir, scene: blend, blender: o.blender, device: o.device, withCpu: o.withCpu, sandbox: o.sandbox, hide: o.hide, signal: o.signal });
  if (result.failure) return { ok: false, device: o.device, failure: result.failure };
  if (!result.speed) return { ok: false, device: o.device, failure: { code: 'bad_output', text: 'Blender did not print the frame time the speed is computed from.' } };
  return { ok: true, device: o.device, width: resolution, height: resolution, samples, renderS: result.speed.renderS, samplesPerSecond: result.speed.samplesPerSecond };
}
