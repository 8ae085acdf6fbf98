// POST /api/v1/jobs: checks the user's .blend and copies it into the job's own directory. The
// user's path is only read: the render, its outputs and Blender's temp files all live in
// <data>/jobs/<id>/, so a scene can never be made to write next to (or over) the user's files.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import type { QueueBenchmark, QueueRenderJob, RenderJobSpec } from '../../protocol/index.js';
import { InputError } from '../errors.js';

export const MAX_BLEND_BYTES = 2 * 1024 ** 3;

export const newJobId = (): string => `j_${randomBytes(9).toString('base64url')}`;

export interface PreparedLocalJob {
  id: string;
  title: string;
  spec: RenderJobSpec;
  jobDir: string;
}

export async function prepareLocalJob(dataDir: string, req: QueueRenderJob): Promise<PreparedLocalJob> {
  const bad = (message: string) => new InputError('invalid_request', message, [{ path: 'blendFile', message }]);
  if (!isAbsolute(req.blendFile)) throw bad('the .blend path must be absolute');
  let st;
  try {
    st = await stat(req.blendFile);
  } catch {
    throw bad('no such file');
  }
  if (!st.isFile()) throw bad('not a regular file');
  if (st.size > MAX_BLEND_BYTES) throw bad('the .blend is larger than 2 GiB');
  const id = newJobId();
  const jobDir = jobDirOf(dataDir, id);
  await mkdir(jobDir, { recursive: true, mode: 0o700 });
  await copyFile(req.blendFile, join(jobDir, 'scene.blend'), fsConstants.COPYFILE_EXCL);
  const spec: RenderJobSpec = {
    jobId: id,
    frames: req.frames,
    device: req.device,
    output: { format: 'PNG' },
    ...(req.samples !== undefined ? { samples: req.samples } : {}),
    ...(req.resolution !== undefined ? { resolution: req.resolution } : {}),
  };
  return { id, title: basename(req.blendFile), spec, jobDir };
}

export const jobDirOf = (dataDir: string, id: string) => join(dataDir, 'jobs', id);

/** A task leased from a hub: its scene (already downloaded and checked) is copied into the job's
 * own directory like a local one, so the render never touches the shared cache. */
export async function prepareHubJob(dataDir: string, req: { title: string; spec: Omit<RenderJobSpec, 'jobId'>; scene: string }): Promise<PreparedLocalJob> {
  const id = newJobId();
  const jobDir = jobDirOf(dataDir, id);
  await mkdir(jobDir, { recursive: true, mode: 0o700 });
  await copyFile(req.scene, join(jobDir, 'scene.blend'), fsConstants.COPYFILE_EXCL);
  return { id, title: req.title, spec: { ...req.spec, jobId: id }, jobDir };
}

/** The bundled benchmark scene's size and samples: small enough for a minute on a slow CPU, large
 * enough that Blender's per-frame overhead does not dominate the figure. */
export const BENCHMARK_RESOLUTION = 128;
export const BENCHMARK_SAMPLES = 64;

/** A benchmark job: an empty job directory (the worker builds the scene into it) and a spec. */
export async function prepareBenchmarkJob(dataDir: string, req: QueueBenchmark): Promise<PreparedLocalJob> {
  const id = newJobId();
  const jobDir = jobDirOf(dataDir, id);
  await mkdir(jobDir, { recursive: true, mode: 0o700 });
  const spec: RenderJobSpec = {
    jobId: id,
    frames: { start: 1, end: 1 },
    device: req.device,
    output: { format: 'PNG' },
    samples: BENCHMARK_SAMPLES,
    resolution: { width: BENCHMARK_RESOLUTION, height: BENCHMARK_RESOLUTION },
  };
  return { id, title: `Benchmark (${req.device === 'auto' ? 'best device' : req.device})`, spec, jobDir };
}
