// The files a render job needs next to its scene, written by the worker before Blender starts:
//   <job>/offhours/setup.py   the setup script (setup-script.py), copied in so that it is readable
//                             inside the sandbox, where the app's own folders may be hidden
//   <job>/offhours/job.json   its parameters: data, never Python source
//   <job>/frames/             where every output goes
//   <job>/tmp/                Blender's TMPDIR (Cycles' tile files, crash reports)
import { randomBytes } from 'node:crypto';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CyclesDevice, RenderJobSpec } from '../../protocol/index.js';
import setupScriptSource from './setup-script.py?raw';

export interface PreparedJob {
  jobDir: string;
  scene: string;
  framesDir: string;
  tmpDir: string;
  setupScript: string;
  jobFile: string;
  /** Shared only with the setup script; marks the lines a scene cannot forge. */
  nonce: string;
}

/** What the setup script reads (keep in step with setup-script.py). */
export interface SetupJob {
  jobDir: string;
  framesDir: string;
  nonce: string;
  device: CyclesDevice;
  resolution: { width: number; height: number } | null;
  samples: number | null;
  region: { minX: number; minY: number; maxX: number; maxY: number } | null;
  tileSize: number | null;
}

export class JobFilesError extends Error {}

/**
 * Writes the job's control files. The scene must already be inside `jobDir` (the caller put it
 * there); a scene outside would be a reference outside the job by itself.
 */
export async function prepareJob(
  jobDir: string,
  scene: string,
  spec: RenderJobSpec,
  device: CyclesDevice,
  opts: { tileSize?: number } = {},
): Promise<PreparedJob> {
  const root = await realpath(jobDir);
  const sceneReal = await realpath(path.resolve(root, scene)).catch(() => {
    throw new JobFilesError(`the scene ${scene} does not exist`);
  });
  if (path.relative(root, sceneReal).startsWith('..') || path.isAbsolute(path.relative(root, sceneReal))) {
    throw new JobFilesError(`the scene ${scene} is outside the job directory ${root}`);
  }
  const control = path.join(root, 'offhours');
  const framesDir = path.join(root, 'frames');
  const tmpDir = path.join(root, 'tmp');
  for (const d of [control, framesDir, tmpDir]) await mkdir(d, { recursive: true });
  const nonce = randomBytes(16).toString('hex');
  const setup: SetupJob = {
    jobDir: root,
    framesDir,
    nonce,
    device,
    resolution: spec.resolution ?? null,
    samples: spec.samples ?? null,
    region: spec.region ?? null,
    tileSize: opts.tileSize ?? null,
  };
  const setupScript = path.join(control, 'setup.py');
  const jobFile = path.join(control, 'job.json');
  await writeFile(setupScript, setupScriptSource, { mode: 0o644 });
  await writeFile(jobFile, `${JSON.stringify(setup, null, 2)}\n`, { mode: 0o600 });
  return { jobDir: root, scene: sceneReal, framesDir, tmpDir, setupScript, jobFile, nonce };
}
