// The native hashing core against the pure reference in protocol/: node levels and whole regions,
// for every implementation this machine can run (SHA extensions, the addon's plain C, node:crypto).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fr32Pad, hashPair, node, ZERO_SUBTREES } from '../../protocol/index.js';
import { resetSealCore, sealCore } from '../../workers/seal/native.js';

const MODES = ['best', 'portable', '0'] as const;

function withMode(mode: (typeof MODES)[number]) {
  if (mode === 'best') delete process.env.OFFHOURS_SEAL_NATIVE;
  else process.env.OFFHOURS_SEAL_NATIVE = mode;
  resetSealCore();
  return sealCore();
}

afterEach(() => withMode('best'));

describe('seal core', () => {
  it('loads the addon here (built at install) and uses the SHA extensions when the CPU has them', () => {
    const core = withMode('best');
    expect(core.native).toBe(true);
    expect(['x86-sha', 'armv8-sha2', 'portable']).toContain(core.implementation);
  });

  for (const mode of MODES) {
    describe(`implementation ${mode}`, () => {
      it('hashes a level of random pairs like the pure node function', () => {
        const core = withMode(mode);
        if (mode === '0') expect(core.implementation).toBe('js');
        if (mode === 'portable') expect(core.implementation).toBe('portable');
        for (const n of [1, 2, 3, 17, 256]) {
          const input = new Uint8Array(randomBytes(n * 64));
          const out = new Uint8Array(n * 32);
          core.hashNodes(input, out);
          for (let i = 0; i < n; i++) expect(out.subarray(i * 32, i * 32 + 32)).toEqual(hashPair(input.subarray(i * 64, i * 64 + 64)));
        }
      });

      it('hashes in place (output over input), as the level loop does', () => {
        const core = withMode(mode);
        const input = new Uint8Array(randomBytes(64 * 8));
        const expected = new Uint8Array(32 * 8);
        core.hashNodes(input.slice(), expected);
        core.hashNodes(input, input);
        expect(input.subarray(0, 256)).toEqual(expected);
      });

      it('reproduces the zero subtree constants', () => {
        const core = withMode(mode);
        for (let h = 0; h < 12; h++) {
          const out = new Uint8Array(32);
          const pair = new Uint8Array(64);
          pair.set(ZERO_SUBTREES[h]!, 0);
          pair.set(ZERO_SUBTREES[h]!, 32);
          core.hashNodes(pair, out);
          expect(out).toEqual(ZERO_SUBTREES[h + 1]);
        }
      });

      it('expands and hashes payload regions like fr32Pad and the pure tree', () => {
        const core = withMode(mode);
        for (const levels of [2, 3, 5, 10]) {
          const region = 127 * 2 ** (levels - 2);
          const payload = new Uint8Array(randomBytes(region * 3));
          const roots = new Uint8Array(96);
          core.hashPayload(payload, roots, levels);
          for (let r = 0; r < 3; r++) {
            let level: Uint8Array[] = Array.from({ length: 2 ** levels }, (_, i) => fr32Pad(payload.subarray(r * region, (r + 1) * region)).slice(i * 32, i * 32 + 32));
            while (level.length > 1) level = level.flatMap((_, i) => (i % 2 === 0 ? [node(level[i]!, level[i + 1]!)] : []));
            expect(roots.subarray(r * 32, r * 32 + 32)).toEqual(level[0]);
          }
        }
      });

      it('refuses misaligned input instead of reading past it', () => {
        const core = withMode(mode);
        if (!core.native) return;
        expect(() => core.hashNodes(new Uint8Array(63), new Uint8Array(32))).toThrow(RangeError);
        expect(() => core.hashPayload(new Uint8Array(128), new Uint8Array(32), 2)).toThrow(RangeError);
        expect(() => core.hashNodes(new Uint8Array(128), new Uint8Array(32))).toThrow(RangeError);
      });
    });
  }
});
