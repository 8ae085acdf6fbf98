// Lines in Blender's output that mean the render failed, whatever the exit code says: GPU errors
// and out-of-memory can leave half-rendered images behind an exit code of 0. Each rule names where
// the line comes from, so nobody mistakes a guess for an observation.
import type { RenderFailureCode } from '../../protocol/index.js';

export interface FatalRule {
  code: RenderFailureCode;
  /** A plain substring (case-sensitive, anywhere in the line) or a pattern. */
  match: string | RegExp;
  text: string;
  source: 'observed' | 'reference' | 'blender-source' | 'offhours';
}

export interface FatalMatch {
  code: RenderFailureCode;
  text: string;
  line: string;
}

// 'observed': printed by Debian's Blender 3.4.1 here. 'reference': REFERENCE.md's list of known
// fatal lines (GPU ones cannot be produced on this machine). 'blender-source': read from Blender's
// sources, not produced here. 'offhours': printed by our own setup script.
export const FATAL_RULES: readonly FatalRule[] = [
  { code: 'gpu_out_of_memory', match: 'CUDA error: Out of memory', text: 'The GPU ran out of memory.', source: 'reference' },
  { code: 'gpu_out_of_memory', match: 'System is out of GPU', text: 'The GPU ran out of memory.', source: 'blender-source' },
  { code: 'gpu_error', match: 'CUDA error at cuCtxCreate', text: 'The GPU could not be initialised (CUDA context).', source: 'reference' },
  { code: 'gpu_error', match: 'CUDA error: Launch failed', text: 'A GPU kernel launch failed.', source: 'reference' },
  { code: 'gpu_error', match: 'CUDA error: Illegal address', text: 'The GPU hit an illegal address.', source: 'reference' },
  { code: 'gpu_error', match: 'CUDA kernel compilation failed', text: 'The GPU kernels could not be compiled.', source: 'reference' },
  { code: 'out_of_memory', match: 'std::bad_alloc', text: 'Blender ran out of memory.', source: 'reference' },
  { code: 'out_of_memory', match: 'Malloc returns null', text: 'Blender ran out of memory.', source: 'reference' },
  { code: 'crash', match: 'EXCEPTION_ACCESS_VIOLATION', text: 'Blender crashed (access violation).', source: 'reference' },
  { code: 'crash', match: /^Writing: .*\.crash\.txt$/, text: 'Blender crashed and wrote a crash report.', source: 'blender-source' },
  { code: 'python_error', match: 'Fatal Python error: Py_Initialize', text: "Blender's Python could not start.", source: 'reference' },
  { code: 'cannot_save', match: 'Render error: cannot save', text: 'Blender could not save a rendered frame.', source: 'reference' },
  { code: 'missing_file', match: 'Warning: Unable to open', text: 'The scene needs a file that is not there.', source: 'reference' },
  { code: 'denoiser_unavailable', match: 'Build without OpenImageDenoiser', text: 'This Blender has no denoiser; the scene asks for one.', source: 'observed' },
  { code: 'scene_error', match: 'Error: Cannot render, no camera', text: 'The scene has no camera.', source: 'observed' },
  { code: 'python_error', match: /^(?:Error: Python: )?Traceback \(most recent call last\):/, text: 'A Python error stopped the render.', source: 'observed' },
  { code: 'python_error', match: /^Error: script failed, file: /, text: 'The render setup script failed.', source: 'observed' },
  {
    code: 'external_reference',
    match: /^OFFHOURS_REFUSED external_reference /,
    text: 'The scene refers to a file outside its job folder; it was refused before rendering.',
    source: 'offhours',
  },
  { code: 'missing_file', match: /^OFFHOURS_REFUSED missing_file /, text: 'The scene needs a file that is not in its job folder.', source: 'offhours' },
];

/** When several fatal lines appear, the most specific cause wins (a refused scene also raises a
 * Python error; a GPU out-of-memory is also a GPU error). Lower index = stronger. */
const PRECEDENCE: readonly RenderFailureCode[] = [
  'external_reference',
  'missing_file',
  'gpu_out_of_memory',
  'out_of_memory',
  'gpu_error',
  'denoiser_unavailable',
  'cannot_save',
  'scene_error',
  'crash',
  'python_error',
];

export function matchFatalLine(line: string): FatalMatch | null {
  for (const rule of FATAL_RULES) {
    const hit = typeof rule.match === 'string' ? line.includes(rule.match) : rule.match.test(line);
    if (hit) return { code: rule.code, text: rule.text, line };
  }
  return null;
}

/** Watches every line of a run; `decisive` is the failure to report, if any. */
export class FatalScanner {
  private readonly found: FatalMatch[] = [];
  private inTraceback: FatalMatch | null = null;

  push(line: string): FatalMatch | null {
    if (this.inTraceback) {
      // The first unindented line after a traceback names the exception: the useful part.
      if (line !== '' && !/^\s/.test(line)) {
        this.inTraceback.text = `Python error: ${line.replace(/^Error: Python: /, '')}`;
        this.inTraceback = null;
      }
      return null;
    }
    const match = matchFatalLine(line);
    if (!match) return null;
    this.found.push(match);
    if (match.code === 'python_error' && /Traceback/.test(line)) this.inTraceback = match;
    return match;
  }

  get all(): readonly FatalMatch[] {
    return this.found;
  }

  get decisive(): FatalMatch | null {
    let best: FatalMatch | null = null;
    for (const m of this.found) if (!best || PRECEDENCE.indexOf(m.code) < PRECEDENCE.indexOf(best.code)) best = m;
    return best;
  }
}
