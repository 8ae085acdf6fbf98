// The render engine layer against Debian's real Blender: a generated 64x64 scene renders, its PNGs
// decode at the right size and are hashed; progress arrives from the real console; a kill -9 of the
// engine mid-render is a typed failure, never a success.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderJobSpec, RenderResult, type RenderProgress } from '../../protocol/index.js';
import { decideOutcome } from '../../workers/render/outcome.js';
import { checkPngFile } from '../../workers/render/png.js';
import { render, startRender } from '../../workers/render/render-engine.js';
import { liveGroupMembers } from '../../workers/render/process-group.js';
import { blender, bubblewrap, buildScene } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { useTempDirs } from '../support/tmp.js';

const found = blender();
const enabled = requireProgram(found, 'render engine (real Blender)');
const BLENDER = found.found ?? '';

describe.runIf(enabled)('render engine', () => {
  const tempDir = useTempDirs();

  it('renders a generated 64x64 scene to PNGs of the right size and records their SHA-256', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'));
    const spec = RenderJobSpec.parse({ jobId: 'small-1', frames: { start: 1, end: 2 }, resolution: { width: 64, height: 64 }, threads: 1 });
    const progress: RenderProgress[] = [];
    const result = await render({ spec, jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off', onProgress: (p) => progress.push(p) });

    expect(RenderResult.parse(result)).toEqual(result);
    expect(result.failure).toBeNull();
    expect(result.outcome).toBe('succeeded');
    expect(result.sandbox).toBe('none');
    expect(result.exit).toEqual({ code: 0, signal: null });
    expect(result.frames.map((f) => f.file)).toEqual(['frame_0001.png', 'frame_0002.png']);
    for (const f of result.frames) {
      const file = path.join(job, 'frames', f.file);
      expect(await checkPngFile(file)).toMatchObject({ ok: true, width: 64, height: 64 });
      expect(f).toMatchObject({ width: 64, height: 64 });
      expect(f.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    }
    // Progress came from the console: tiles within a frame, then both frames done.
    expect(progress.some((p) => p.tiles !== null && p.tiles > 1)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ framesDone: 2, framesTotal: 2, fraction: 1, remainingS: 0 });
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    // The same run judged again after a frame lost its tail: bad output, whatever the exit code said.
    const second = path.join(job, 'frames', 'frame_0002.png');
    truncateSync(second, readFileSync(second).length - 100);
    const judged = await decideOutcome({
      spec,
      framesDir: path.join(job, 'frames'),
      exit: { code: 0, signal: null },
      fatal: null,
      expectedSize: { width: 64, height: 64 },
      aborted: false,
      device: 'CPU',
      sandbox: 'none',
      wallS: 0,
    });
    expect(judged.failure).toMatchObject({ code: 'bad_output', text: expect.stringMatching(/frame 2 .*not a valid PNG/) });
    expect(judged.frames.map((f) => f.frame)).toEqual([1]);
  });

  it('renders only the spec’s region at full frame size, and every frame despite the scene’s frame step', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.frame_step = 2\nscene.render.use_border = True\nscene.render.use_crop_to_border = True');
    const spec = RenderJobSpec.parse({
      jobId: 'region',
      frames: { start: 1, end: 2 },
      resolution: { width: 64, height: 64 },
      region: { minX: 0, minY: 0, maxX: 0.5, maxY: 0.5 },
      threads: 1,
    });
    const result = await render({ spec, jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
    expect(result.failure).toBeNull();
    expect(result.frames.map((f) => [f.frame, f.width, f.height])).toEqual([
      [1, 64, 64],
      [2, 64, 64],
    ]);
  });

  it('takes the expected size from the setup script when the spec leaves resolution to the scene', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.render.resolution_x = 48\nscene.render.resolution_y = 32');
    const spec = RenderJobSpec.parse({ jobId: 'scene-size', frames: { start: 3, end: 3 }, threads: 1 });
    const result = await render({ spec, jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
    expect(result.failure).toBeNull();
    expect(result.frames).toEqual([expect.objectContaining({ frame: 3, file: 'frame_0003.png', width: 48, height: 32 })]);
  });

  it('reports a kill -9 of the engine mid-render as a failure, not a success', async () => {
    const job = tempDir();
    // Big enough that the frame is certainly still rendering when its first tile line arrives.
    await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.cycles.samples = 4000\nscene.render.resolution_x = 256\nscene.render.resolution_y = 256');
    const spec = RenderJobSpec.parse({ jobId: 'killed', frames: { start: 1, end: 1 }, threads: 1 });
    let killed = false;
    const run = await startRender({
      spec,
      jobDir: job,
      scene: 'scene.blend',
      blender: BLENDER,
      sandbox: 'off',
      onProgress: (p) => {
        if (!killed && p.tiles !== null) {
          killed = true;
          process.kill(run.pid!, 'SIGKILL');
        }
      },
    });
    const result = await run.done;
    expect(killed).toBe(true);
    expect(result.outcome).toBe('failed');
    expect(result.failure?.code).toBe('engine_exit');
    expect(result.exit.signal).toBe('SIGKILL');
    expect(result.frames).toEqual([]);
    expect(readdirSync(path.join(job, 'frames'))).toEqual([]);
    expect(liveGroupMembers(run.pid!)).toEqual([]);
  });

  it.runIf(process.platform === 'linux' && bubblewrap().found)('under bubblewrap too: kill -9 of the engine leaves nothing of it running', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.cycles.samples = 4000\nscene.render.resolution_x = 256\nscene.render.resolution_y = 256');
    const spec = RenderJobSpec.parse({ jobId: 'killed-sandboxed', frames: { start: 1, end: 1 }, threads: 1 });
    let killed = false;
    const run = await startRender({
      spec,
      jobDir: job,
      scene: 'scene.blend',
      blender: BLENDER,
      sandbox: 'required',
      onProgress: (p) => {
        if (!killed && p.tiles !== null) {
          killed = true;
          process.kill(run.pid!, 'SIGKILL');
        }
      },
    });
    const result = await run.done;
    expect(result).toMatchObject({ outcome: 'failed', sandbox: 'bubblewrap', failure: { code: 'engine_exit' }, exit: { signal: 'SIGKILL' } });
    // Zombies may linger where PID 1 does not reap (as in this container); nothing may still run.
    expect(liveGroupMembers(run.pid!)).toEqual([]);
  });

  it('stops the whole engine when the abort signal fires', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'), 'scene.cycles.samples = 4000\nscene.render.resolution_x = 256\nscene.render.resolution_y = 256');
    const spec = RenderJobSpec.parse({ jobId: 'aborted', frames: { start: 1, end: 1 }, threads: 1 });
    const controller = new AbortController();
    const result = await render({
      spec,
      jobDir: job,
      scene: 'scene.blend',
      blender: BLENDER,
      sandbox: 'off',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.tiles !== null) controller.abort();
      },
    });
    expect(result.failure?.code).toBe('aborted');
    expect(result.outcome).toBe('failed');
  });
});
