// Re-captures the Blender console logs in tests/fixtures/blender/ from the real engine path
// (startRender, Debian's Blender). Off by default: the fixtures are checked in and the parser tests
// read them. Run with
//   OFFHOURS_CAPTURE_FIXTURES=1 npx vitest run --project e2e tests/integration/render-capture-fixtures.test.ts
// and review the diff (times and memory figures change from run to run; the shape must not).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderJobSpec } from '../../protocol/index.js';
import { render } from '../../workers/render/render-engine.js';
import { REPO, blender, buildScene } from '../support/blender.js';

const capture = process.env.OFFHOURS_CAPTURE_FIXTURES === '1';
const OUT = path.join(REPO, 'tests', 'fixtures', 'blender');

/** The job dir is renamed in the log so fixtures do not depend on where they were captured. */
const JOB_PLACEHOLDER = '/JOB';

async function captureLog(name: string, extraPy: string, spec: RenderJobSpec, sandbox: 'off' | 'auto' = 'off'): Promise<void> {
  const BLENDER = blender().found!;
  const job = mkdtempSync(path.join(tmpdir(), 'offhours-capture-'));
  try {
    await buildScene(BLENDER, path.join(job, 'scene.blend'), extraPy);
    let log = '';
    await render({ spec, jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox, onOutput: (chunk) => (log += chunk) });
    writeFileSync(path.join(OUT, name), log.split(job).join(JOB_PLACEHOLDER));
    expect(log.length).toBeGreaterThan(0);
  } finally {
    rmSync(job, { recursive: true, force: true });
  }
}

describe.runIf(capture)('capture Blender console fixtures', () => {
  it('Cycles CPU, tiled (16 px tiles on 64x64), three frames', async () => {
    await captureLog('cycles-3.4.1-cpu-tiled-3-frames.log', '', RenderJobSpec.parse({ jobId: 'fx-cycles', frames: { start: 1, end: 3 }, threads: 1 }));
  });

  it('Eevee, one frame (surfaceless EGL, headless)', async () => {
    await captureLog(
      'eevee-3.4.1-1-frame.log',
      "scene.render.engine = 'BLENDER_EEVEE'\nscene.eevee.taa_render_samples = 8",
      RenderJobSpec.parse({ jobId: 'fx-eevee', frames: { start: 1, end: 1 }, threads: 1 }),
    );
  });

  it('a scene refused for a texture outside its job', async () => {
    await captureLog(
      'refused-3.4.1-external-texture.log',
      `img = bpy.data.images.new('outside', 4, 4)
img.source = 'FILE'
img.filepath = '/etc/hostname'
mat = bpy.data.materials.new('m'); mat.use_nodes = True
node = mat.node_tree.nodes.new('ShaderNodeTexImage'); node.image = img
bpy.data.objects['Cube'].data.materials.append(mat)`,
      RenderJobSpec.parse({ jobId: 'fx-refused', frames: { start: 1, end: 1 }, threads: 1 }),
    );
  });
});
