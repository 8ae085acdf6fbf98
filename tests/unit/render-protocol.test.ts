// The render job contract: what a spec may say, and the names the worker derives from it.
import { describe, expect, it } from 'vitest';
import { MAX_RENDER_FRAME, RenderJobSpec, RenderProgress, renderFrameFileName, renderFrameNumbers } from '../../protocol/index.js';

describe('render job spec', () => {
  it('fills in the defaults', () => {
    expect(RenderJobSpec.parse({ jobId: 'job_1-a', frames: { start: 1, end: 3 } })).toEqual({
      jobId: 'job_1-a',
      frames: { start: 1, end: 3 },
      device: 'auto',
      output: { format: 'PNG' },
    });
  });

  it('accepts every field it knows', () => {
    const spec = {
      jobId: 'j',
      frames: { start: 5, end: MAX_RENDER_FRAME },
      resolution: { width: 1920, height: 1080 },
      samples: 128,
      device: 'OPTIX',
      threads: 4,
      region: { minX: 0, minY: 0.25, maxX: 0.5, maxY: 1 },
      output: { format: 'PNG' },
    };
    expect(RenderJobSpec.parse(spec)).toEqual(spec);
  });

  it.each([
    ['a job id with a path in it', { jobId: '../etc', frames: { start: 1, end: 1 } }],
    ['a job id with spaces', { jobId: 'a b', frames: { start: 1, end: 1 } }],
    ['frame 0', { jobId: 'j', frames: { start: 0, end: 1 } }],
    ['a frame past Blender’s limit', { jobId: 'j', frames: { start: 1, end: MAX_RENDER_FRAME + 1 } }],
    ['end before start', { jobId: 'j', frames: { start: 5, end: 4 } }],
    ['a fractional frame', { jobId: 'j', frames: { start: 1.5, end: 2 } }],
    ['an unknown device', { jobId: 'j', frames: { start: 1, end: 1 }, device: 'OPENCL' }],
    ['a region outside 0..1', { jobId: 'j', frames: { start: 1, end: 1 }, region: { minX: 0, minY: 0, maxX: 1.5, maxY: 1 } }],
    ['an empty region', { jobId: 'j', frames: { start: 1, end: 1 }, region: { minX: 0.5, minY: 0, maxX: 0.5, maxY: 1 } }],
    ['another output format', { jobId: 'j', frames: { start: 1, end: 1 }, output: { format: 'OPEN_EXR' } }],
    ['an unknown field (a command line, say)', { jobId: 'j', frames: { start: 1, end: 1 }, args: ['--python-expr', 'x'] }],
  ])('refuses %s', (_what, spec) => {
    expect(RenderJobSpec.safeParse(spec).success).toBe(false);
  });
});

describe('frame names', () => {
  it('match what Blender writes for frame_####', () => {
    expect(renderFrameFileName(1)).toBe('frame_0001.png');
    expect(renderFrameFileName(9999)).toBe('frame_9999.png');
    expect(renderFrameFileName(12345)).toBe('frame_12345.png');
    expect(renderFrameNumbers({ start: 3, end: 5 })).toEqual([3, 4, 5]);
  });
});

describe('render progress', () => {
  it('allows nulls before the first status line', () => {
    const p = { frame: null, framesDone: 0, framesTotal: 2, sample: null, samples: null, tile: null, tiles: null, elapsedS: 0, remainingS: null, fraction: 0 };
    expect(RenderProgress.parse(p)).toEqual(p);
  });
});
