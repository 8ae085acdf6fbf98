// The fatal-line table: every known line maps to its typed failure code, harmless noise maps to
// nothing, and when a run prints several the most specific cause is reported.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderFailureCode } from '../../protocol/index.js';
import { FATAL_RULES, FatalScanner, matchFatalLine } from '../../workers/render/fatal-lines.js';
import { LineSplitter } from '../../workers/render/progress.js';
import { REPO } from '../support/blender.js';

const fixture = (name: string) => readFileSync(path.join(REPO, 'tests', 'fixtures', 'blender', name), 'utf8');

function scan(log: string): FatalScanner {
  const s = new LineSplitter();
  const scanner = new FatalScanner();
  for (const l of [...s.push(log), ...s.end()]) scanner.push(l);
  return scanner;
}

describe('fatal line table', () => {
  it.each([
    ['CUDA error: Out of memory in cuMemAlloc(&device_pointer, size), line 568', 'gpu_out_of_memory'],
    ['System is out of GPU and shared host memory', 'gpu_out_of_memory'],
    ['CUDA error at cuCtxCreate: Out of memory', 'gpu_error'],
    ['CUDA error: Launch failed in cuCtxSynchronize(), line 1372', 'gpu_error'],
    ['CUDA error: Illegal address in cuCtxSynchronize(), line 1372', 'gpu_error'],
    ['CUDA kernel compilation failed, see console for details.', 'gpu_error'],
    ["terminate called after throwing an instance of 'std::bad_alloc'", 'out_of_memory'],
    ['Malloc returns null: len=1073741824 in CDDerivedMesh.c:1170', 'out_of_memory'],
    ['Error   : EXCEPTION_ACCESS_VIOLATION', 'crash'],
    ['Writing: /JOB/tmp/scene.crash.txt', 'crash'],
    ['Fatal Python error: Py_Initialize: unable to load the file system codec', 'python_error'],
    ["Render error: cannot save /JOB/frames/frame_0001.png", 'cannot_save'],
    ["Warning: Unable to open '/JOB/textures/wood.png'", 'missing_file'],
    ['Build without OpenImageDenoiser', 'denoiser_unavailable'],
    ['Error: Cannot render, no camera', 'scene_error'],
    ['Error: Python: Traceback (most recent call last):', 'python_error'],
    ['Traceback (most recent call last):', 'python_error'],
    ["Error: script failed, file: '/JOB/offhours/setup.py', exiting.", 'python_error'],
    ['OFFHOURS_REFUSED external_reference image "/home/me/photo.png"', 'external_reference'],
    ['OFFHOURS_REFUSED missing_file image "/JOB/textures/gone.png"', 'missing_file'],
  ])('%s -> %s', (line, code) => {
    expect(matchFatalLine(line)?.code).toBe(code);
  });

  it.each([
    'EGL Error (0x3001): EGL_NOT_INITIALIZED: EGL is not initialized, or could not be initialized, for the specified EGL display connection.',
    "OIIO DEBUG: Don't know what to do with true cycles.passes.0.lightgroup",
    "WARN (bpy.rna): ./source/blender/python/intern/bpy_rna.c:1335 pyrna_enum_to_py: current value '4' matches no enum",
    'Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.08 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | Finished',
    "Saved: '/JOB/frames/frame_0001.png'",
    'Blender quit',
  ])('%s is not fatal', (line) => {
    expect(matchFatalLine(line)).toBeNull();
  });

  it('uses only codes the protocol knows, and says where each rule comes from', () => {
    for (const rule of FATAL_RULES) {
      expect(RenderFailureCode.options).toContain(rule.code);
      expect(['observed', 'reference', 'blender-source', 'offhours']).toContain(rule.source);
    }
  });
});

describe('fatal scanner', () => {
  it('finds nothing in the captured successful renders', () => {
    expect(scan(fixture('cycles-3.4.1-cpu-tiled-3-frames.log')).decisive).toBeNull();
    expect(scan(fixture('eevee-3.4.1-1-frame.log')).decisive).toBeNull();
  });

  it('reports the refusal, not the Python error it raises, in the captured refused run', () => {
    const s = scan(fixture('refused-3.4.1-external-texture.log'));
    expect(s.all.map((m) => m.code)).toEqual(['external_reference', 'python_error', 'python_error']);
    expect(s.decisive).toMatchObject({ code: 'external_reference', line: 'OFFHOURS_REFUSED external_reference image "/etc/hostname"' });
  });

  it('names the exception a traceback ends with', () => {
    const s = scan('Error: Python: Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    boom()\nNameError: name \'boom\' is not defined\n');
    expect(s.decisive).toMatchObject({ code: 'python_error', text: "Python error: NameError: name 'boom' is not defined" });
  });

  it('prefers the specific cause: GPU out of memory over the GPU error that follows it', () => {
    const s = scan('CUDA error: Launch failed in cuCtxSynchronize()\nCUDA error: Out of memory in cuMemAlloc\n');
    expect(s.decisive?.code).toBe('gpu_out_of_memory');
  });
});
