// CommP across threads and through the built CLI: the split into subtrees hashed by worker
// threads must give the same root and the same tree file as one thread, and the pure reference.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { commpPure, verifyProof } from '../../protocol/index.js';
import { commpFile } from '../../workers/seal/commp.js';
import { proveLeaf } from '../../workers/seal/tree.js';
import { cliPath } from '../support/agent-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'offhours-seal-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CommP on several threads', () => {
  // 127·2^16 + 1 bytes: a 16 MiB piece whose second half is almost all padding, so some subtrees
  // are hashed by threads and the rest are zero constants.
  for (const size of [127 * 2 ** 16 + 1, 127 * 2 ** 17 - 5]) {
    it(`matches one thread and the pure reference for ${size} bytes`, async () => {
      const bytes = new Uint8Array(randomBytes(size));
      const piece = join(dir, `p-${size}`);
      writeFileSync(piece, bytes);
      const one = await commpFile(piece, { threads: 1, treePath: `${piece}.t1` });
      const many = await commpFile(piece, { threads: 2, parallelFrom: 1, treePath: `${piece}.t2` });
      expect(many.cidV2).toBe(one.cidV2);
      expect(readFileSync(`${piece}.t2`)).toEqual(readFileSync(`${piece}.t1`));
      const pure = commpPure(bytes);
      expect(Buffer.from(many.root).toString('hex')).toBe(Buffer.from(pure.root).toString('hex'));
      for (let i = 0; i < 8; i++) {
        const leaf = Math.floor(Math.random() * 2 ** many.height);
        expect(verifyProof(many.root, leaf, 2 ** many.height, proveLeaf(piece, `${piece}.t2`, leaf))).toBe(true);
      }
    });
  }
});

describe.skipIf(!existsSync(cliPath))('offhours commp', () => {
  const quad = join(dir, 'quad');
  writeFileSync(quad, Uint8Array.from({ length: 508 }, (_, i) => Math.floor(i / 127)));

  it('prints sizes and both piece CIDs', async () => {
    const { stdout } = await run(process.execPath, [cliPath, 'commp', quad]);
    expect(stdout).toContain('508 bytes');
    expect(stdout).toContain('512 bytes (padded)');
    expect(stdout).toContain('baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi');
    expect(stdout).toContain('bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi');
  });

  it('prints JSON with --json, the same with the JS fallback', async () => {
    for (const env of [process.env, { ...process.env, OFFHOURS_SEAL_NATIVE: '0' }]) {
      const { stdout } = await run(process.execPath, [cliPath, 'commp', quad, '--json'], { env });
      expect(JSON.parse(stdout)).toMatchObject({
        payloadSize: 508,
        paddedSize: 512,
        padding: 0,
        height: 4,
        cidV1: 'baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi',
        cidV2: 'bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi',
      });
    }
  });

  it('hashes a multi-MiB file on threads from the build', async () => {
    const big = join(dir, 'big');
    const bytes = new Uint8Array(randomBytes(40 * 1024 * 1024 + 3));
    writeFileSync(big, bytes);
    const { stdout } = await run(process.execPath, [cliPath, 'commp', big, '--json']);
    expect(JSON.parse(stdout).cidV1).toBe((await commpFile(big, { threads: 1 })).cidV1);
  });

  it('exits 2 on bad usage and 1 on a missing file', async () => {
    await expect(run(process.execPath, [cliPath, 'commp'])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [cliPath, 'commp', join(dir, 'missing')])).rejects.toMatchObject({ code: 1 });
    writeFileSync(join(dir, 'small'), new Uint8Array(10));
    await expect(run(process.execPath, [cliPath, 'commp', join(dir, 'small')])).rejects.toMatchObject({ code: 2 });
  });
});
