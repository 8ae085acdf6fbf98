// Hostile scenes against the real Blender. Each defence is tested on its own, with the others out
// of the way where they would hide it: the autoexec and reference checks with the OS sandbox off,
// the sandbox with no setup script at all.
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RenderJobSpec } from '../../protocol/index.js';
import { bwrapArgs, defaultHiddenPaths } from '../../workers/render/command.js';
import { render } from '../../workers/render/render-engine.js';
import { crc32 } from '../../workers/render/png.js';
import { blender, bubblewrap, buildScene, run, useRepoTempDirs } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { useTempDirs } from '../support/tmp.js';

const found = blender();
const enabled = requireProgram(found, 'render hostile scenes (real Blender)');
const BLENDER = found.found ?? '';
const bwrapFound = bubblewrap();
const sandboxEnabled = enabled && process.platform === 'linux' && requireProgram(bwrapFound, 'render sandbox (bubblewrap)');

const spec = (jobId: string) => RenderJobSpec.parse({ jobId, frames: { start: 1, end: 1 }, threads: 1 });
const py = JSON.stringify;

/** A small valid RGB PNG of one flat colour: the "user's private file". */
function writeSecretPng(file: string, rgb: [number, number, number]): void {
  const w = 4;
  const h = 4;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => rgb).flat())]);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: h }, () => row)))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/** Python that puts an image texture reading `imagePath` on the cube. */
const textureOnCube = (imagePath: string) => `
img = bpy.data.images.new('tex', 4, 4)
img.source = 'FILE'
img.filepath = ${py(imagePath)}
mat = bpy.data.materials.new('m'); mat.use_nodes = True
node = mat.node_tree.nodes.new('ShaderNodeTexImage'); node.image = img
mat.node_tree.links.new(node.outputs[0], mat.node_tree.nodes['Principled BSDF'].inputs[0])
bpy.data.objects['Cube'].data.materials.append(mat)
`;

const frameFiles = (job: string) => readdirSync(path.join(job, 'frames')).filter((f) => f.endsWith('.png'));

describe.runIf(enabled)('hostile scenes', () => {
  const tempDir = useTempDirs();

  it('never runs a registered text block or a Python driver embedded in the scene', async () => {
    const job = tempDir();
    const outside = tempDir();
    const onLoad = path.join(outside, 'registered-script-ran');
    const byDriver = path.join(outside, 'driver-ran');
    await buildScene(
      BLENDER,
      path.join(job, 'scene.blend'),
      `text = bpy.data.texts.new('startup.py')
text.write("open(" + ${py(py(onLoad))} + ", 'w').write('pwned')\\n")
text.use_module = True
fc = bpy.data.objects['Cube'].driver_add('location', 0)
fc.driver.type = 'SCRIPTED'
fc.driver.expression = "open(" + ${py(py(byDriver))} + ", 'w').write('pwned') and 0"`,
    );

    // Control: with scripts allowed, the same file does write both markers, so the scene is armed.
    const armed = await run(BLENDER, ['--background', '--enable-autoexec', path.join(job, 'scene.blend'), '--python-expr', 'import bpy; bpy.context.scene.frame_set(2)']);
    expect(armed.code).toBe(0);
    expect(existsSync(onLoad)).toBe(true);
    expect(existsSync(byDriver)).toBe(true);
    rmSync(onLoad);
    rmSync(byDriver);

    const result = await render({ spec: spec('autoexec'), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
    expect(existsSync(onLoad)).toBe(false);
    expect(existsSync(byDriver)).toBe(false);
    expect(result.failure).toBeNull();
  });

  describe('references outside the job are refused before rendering', () => {
    const cases: { kind: string; build: (secretDir: string, job: string) => string }[] = [
      { kind: 'image', build: (s) => textureOnCube(path.join(s, 'secret.png')) },
      { kind: 'image', build: (s, job) => textureOnCube(`//${path.relative(job, path.join(s, 'secret.png'))}`) },
      {
        kind: 'image',
        build: (s, job) => {
          symlinkSync(path.join(s, 'secret.png'), path.join(job, 'innocent.png'));
          return textureOnCube('//innocent.png');
        },
      },
      {
        kind: 'library',
        build: (s) =>
          `with bpy.data.libraries.load(${py(path.join(s, 'lib.blend'))}, link=True) as (src, dst):\n    dst.objects = ['Cube']\nfor o in dst.objects:\n    scene.collection.objects.link(o)`,
      },
      { kind: 'volume', build: (s) => `vol = bpy.data.volumes.new('v'); vol.filepath = ${py(path.join(s, 'smoke.vdb'))}\nbpy.data.objects.new('vo', vol)` },
      { kind: 'mesh_cache', build: (s) => `m = bpy.data.objects['Cube'].modifiers.new('mc', 'MESH_CACHE'); m.filepath = ${py(path.join(s, 'anim.mdd'))}` },
      { kind: 'text', build: (s) => `bpy.data.texts.load(${py(path.join(s, 'notes.txt'))})` },
      {
        kind: 'sound',
        build: (s) =>
          `spk = bpy.data.speakers.new('spk')\nspk.sound = bpy.data.sounds.load(${py(path.join(s, 'secret.wav'))}, check_existing=False)\nscene.collection.objects.link(bpy.data.objects.new('spk', spk))`,
      },
      {
        kind: 'sequencer_image',
        build: (s) => `ed = scene.sequence_editor_create()\ned.sequences.new_image('strip', ${py(path.join(s, 'secret.png'))}, 1, 1)`,
      },
    ];

    for (const [i, c] of cases.entries()) {
      it(`${c.kind} (${i})`, async () => {
        const job = tempDir();
        const secretDir = tempDir();
        writeSecretPng(path.join(secretDir, 'secret.png'), [201, 13, 77]);
        writeFileSync(path.join(secretDir, 'notes.txt'), 'private notes');
        writeFileSync(path.join(secretDir, 'secret.wav'), 'RIFF');
        writeFileSync(path.join(secretDir, 'smoke.vdb'), 'not really');
        writeFileSync(path.join(secretDir, 'anim.mdd'), 'not really');
        if (c.kind === 'library') await buildScene(BLENDER, path.join(secretDir, 'lib.blend'));
        await buildScene(BLENDER, path.join(job, 'scene.blend'), c.build(secretDir, job));

        const lines: string[] = [];
        const result = await render({ spec: spec(`ref-${i}`), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off', onLine: (l) => lines.push(l) });
        expect(result.outcome).toBe('failed');
        expect(result.failure?.code).toBe('external_reference');
        expect(result.failure?.line).toMatch(new RegExp(`^OFFHOURS_REFUSED external_reference \\S+ "${secretDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
        expect(lines.some((l) => l.startsWith(`OFFHOURS_REFUSED external_reference ${c.kind} `))).toBe(true);
        // Refused before the render: nothing of the file can be in any output.
        expect(lines.some((l) => l.startsWith('Fra:'))).toBe(false);
        expect(frameFiles(job)).toEqual([]);
        expect(result.frames).toEqual([]);
        expect(result.exit.code).toBe(1);
      });
    }

    it('a texture packed into the scene is fine', async () => {
      const job = tempDir();
      const secretDir = tempDir();
      writeSecretPng(path.join(secretDir, 'secret.png'), [201, 13, 77]);
      await buildScene(BLENDER, path.join(job, 'scene.blend'), `${textureOnCube(path.join(secretDir, 'secret.png'))}\nimg.pack()`);
      const result = await render({ spec: spec('packed'), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
      expect(result.failure).toBeNull();
    });

    it('a texture that should be inside the job but is missing fails as missing_file', async () => {
      const job = tempDir();
      await buildScene(BLENDER, path.join(job, 'scene.blend'), textureOnCube('//textures/gone.png'));
      const result = await render({ spec: spec('missing'), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
      expect(result.failure?.code).toBe('missing_file');
    });
  });

  it('redirects a File Output node aimed outside the job into the job, and writes nothing outside', async () => {
    const job = tempDir();
    const outside = tempDir();
    await buildScene(
      BLENDER,
      path.join(job, 'scene.blend'),
      `scene.use_nodes = True
tree = scene.node_tree
rl = tree.nodes['Render Layers']
out = tree.nodes.new('CompositorNodeOutputFile')
out.base_path = ${py(`${outside}/`)}
out.file_slots[0].path = 'beauty_'
out.file_slots.new('../../../../escape_')
tree.links.new(rl.outputs['Image'], out.inputs[0])
tree.links.new(rl.outputs['Image'], out.inputs[1])`,
    );
    const result = await render({ spec: spec('file-output'), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'off' });
    expect(result.failure).toBeNull();
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(path.dirname(job)).filter((f) => f.startsWith('escape_'))).toEqual([]);
    expect(result.extraFiles.map((f) => f.path).sort()).toEqual(['file-output/1/beauty_0001.png', 'file-output/1/escape_0001.png']);
    expect(result.frames.map((f) => f.file)).toEqual(['frame_0001.png']);
  });
});

describe.runIf(sandboxEnabled)('bubblewrap sandbox', () => {
  const tempDir = useTempDirs();
  const repoTempDir = useRepoTempDirs();
  const BWRAP = bwrapFound.found ?? '';

  it('hides the home directory, /run and /tmp, keeps / read-only and the job writable, and has no network', async () => {
    const job = tempDir();
    // A stand-in for the user's home outside /tmp, so that only the home rule can hide it.
    const home = repoTempDir();
    mkdirSync(path.join(job, 'frames'));
    writeSecretPng(path.join(home, 'secret.png'), [201, 13, 77]);
    await buildScene(BLENDER, path.join(job, 'scene.blend'), textureOnCube(path.join(home, 'secret.png')));
    const probe = `
import bpy, os, socket, json
img = bpy.data.images['tex']
img.reload()
def writable(p):
    try:
        open(p, 'w').write('x'); return True
    except OSError:
        return False
print('PROBE', json.dumps({
  'secret_exists': os.path.exists(${py(path.join(home, 'secret.png'))}),
  'image_size': list(img.size),
  'home_listing': sorted(os.listdir(${py(home)})) if os.path.isdir(${py(home)}) else None,
  'run': sorted(os.listdir('/run')),
  'interfaces': [n for _, n in socket.if_nameindex()],
  'root_writable': writable('/usr/offhours-probe'),
  'home_writable': writable(${py(path.join(home, 'written-from-sandbox'))}),
  'job_writable': writable(${py(path.join(job, 'written-from-sandbox'))}),
}))
`;
    const blenderArgs = ['--background', '--factory-startup', '--disable-autoexec', path.join(job, 'scene.blend'), '--python-expr', probe];
    const parse = (out: string) => JSON.parse(/^PROBE (.*)$/m.exec(out)![1]!);

    const outsideRun = await run(BLENDER, blenderArgs);
    expect(parse(outsideRun.stdout)).toMatchObject({ secret_exists: true, image_size: [4, 4], home_writable: true });
    for (const dir of [home, job]) rmSync(path.join(dir, 'written-from-sandbox'), { force: true });

    const hide = [...defaultHiddenPaths(), home];
    const sandboxArgs = bwrapArgs({ bwrap: BWRAP, jobDir: job, hide, readOnly: [], gpu: false });
    const inside = await run(BWRAP, [...sandboxArgs, BLENDER, ...blenderArgs], { env: { PATH: '/usr/bin:/bin', HOME: job } });
    expect(inside.code).toBe(0);
    const seen = parse(inside.stdout);
    expect(seen).toMatchObject({ secret_exists: false, image_size: [0, 0], run: [], interfaces: ['lo'] });
    // Hidden either way: an empty tmpfs, or not there at all (when the checkout itself lies under
    // /tmp, which the sandbox also replaces).
    expect([[], null]).toContainEqual(seen.home_listing);
    // The hidden home is an empty tmpfs: writable inside, gone with the sandbox, never the real one.
    expect(seen).toMatchObject({ root_writable: false, job_writable: true });
    expect(existsSync(path.join(job, 'written-from-sandbox'))).toBe(true);
    expect(existsSync(path.join(home, 'written-from-sandbox'))).toBe(false);
  });

  it('renders through the engine under bubblewrap, and still refuses the outside reference there', async () => {
    const job = tempDir();
    await buildScene(BLENDER, path.join(job, 'scene.blend'));
    const ok = await render({ spec: spec('sandboxed'), jobDir: job, scene: 'scene.blend', blender: BLENDER, sandbox: 'required' });
    expect(ok.sandbox).toBe('bubblewrap');
    expect(ok.failure).toBeNull();
    expect(ok.frames).toHaveLength(1);

    const job2 = tempDir();
    const home = repoTempDir();
    writeSecretPng(path.join(home, 'secret.png'), [201, 13, 77]);
    await buildScene(BLENDER, path.join(job2, 'scene.blend'), textureOnCube(path.join(home, 'secret.png')));
    const refused = await render({ spec: spec('sandboxed-ref'), jobDir: job2, scene: 'scene.blend', blender: BLENDER, sandbox: 'required', hide: [home] });
    expect(refused.sandbox).toBe('bubblewrap');
    expect(refused.failure?.code).toBe('external_reference');
    expect(frameFiles(job2)).toEqual([]);
  });
});
