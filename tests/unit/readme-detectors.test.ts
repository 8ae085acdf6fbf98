// The README's table of what each platform can check is generated from the code; this keeps the
// two from drifting apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { platformDetectorsMarkdown } from '../../agent/signals/default-sources.js';

describe('README detector table', () => {
  it('matches what the sources say', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const m = /<!-- detectors:start[^>]*-->\n([\s\S]*?)\n<!-- detectors:end -->/.exec(readme);
    expect(m, 'README has the detectors markers').not.toBeNull();
    expect(m![1]).toBe(platformDetectorsMarkdown());
  });
});
