// Real Blender for the render worker's tests: where it is, and a way to build small scenes. A scene
// is built by running Blender itself on a Python expression that edits the factory startup scene
// (a cube, a light, a camera) and saves it, so no binary .blend lives in the repo.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { findProgram } from './external.js';

export const blender = () => findProgram('blender', ['/usr/bin/blender'], 'BLENDER_PATH');
export const bubblewrap = () => findProgram('bwrap', ['/usr/bin/bwrap']);

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cycles, 64x64, 8 samples, frames 1-3: renders in about a second per frame here. */
export const BASE_SCENE_PY = `
import bpy
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.cycles.samples = 8
scene.cycles.use_denoising = False
scene.render.resolution_x = 64
scene.render.resolution_y = 64
scene.render.resolution_percentage = 100
scene.frame_start = 1
scene.frame_end = 3
`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Builds `<dir>/<name>` from the base scene plus `extraPy` (which may use `scene`, `bpy`, `os`). */
export async function buildScene(blenderPath: string, blendPath: string, extraPy = ''): Promise<void> {
  const py = `${BASE_SCENE_PY}\nimport os\n${extraPy}\nbpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blendPath)})\n`;
  const r = await run(blenderPath, ['--background', '--factory-startup', '--python-exit-code', '1', '--python-expr', py]);
  // Not stderr: a hostile scene's disabled driver complains there while being built, as it should.
  if (r.code !== 0 || !existsSync(blendPath)) throw new Error(`building ${blendPath} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Temporary directories outside /tmp (under the repo's ignored .tmp/): the sandbox hides all of
 * /tmp, so a file meant to be hidden by some other rule must not live there.
 */
export function useRepoTempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const base = path.join(REPO, '.tmp');
    mkdirSync(base, { recursive: true });
    const d = mkdtempSync(path.join(base, 'render-'));
    made.push(d);
    return d;
  };
}

