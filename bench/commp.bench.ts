// CommP of 1 GiB of random data: MiB/s of payload on one thread and on every core, against raw
// node:crypto SHA-256 of the same file read the same way (goal: >= 0.12 of raw per core); proof
// generation per challenge from the tree file (goal <= 20 ms) and verification per proof.
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { verifyProof } from '../protocol/index.js';
import { commpFile } from '../workers/seal/commp.js';
import { sealCore } from '../workers/seal/native.js';
import { proveLeaf, readTree } from '../workers/seal/tree.js';
import { emit, root } from './lib.mjs';

const SIZE = Number(process.env.COMMP_BENCH_BYTES ?? 2 ** 30);
const MiB = 2 ** 20;
const dir = join(root, '.tmp', `commp-bench-${process.pid}`);
mkdirSync(dir, { recursive: true });
const piece = join(dir, 'piece');
const tree = `${piece}.tree`;
const cli = join(root, 'dist', 'cli', 'offhours.js');

function writeRandom(): void {
  const fd = openSync(piece, 'w');
  const buf = new Uint8Array(16 * MiB);
  for (let done = 0; done < SIZE; done += buf.length) writeSync(fd, randomFillSync(buf), 0, Math.min(buf.length, SIZE - done));
  closeSync(fd);
}

/** Raw SHA-256 of the file, read in the same 1 MiB steps CommP uses. */
function rawSha256(): number {
  const fd = openSync(piece, 'r');
  const buf = new Uint8Array(MiB);
  const h = createHash('sha256');
  const t = performance.now();
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
  }
  h.digest();
  const s = (performance.now() - t) / 1000;
  closeSync(fd);
  return SIZE / MiB / s;
}

async function commpRate(threads: number, treePath?: string): Promise<number> {
  const t = performance.now();
  await commpFile(piece, treePath === undefined ? { threads } : { threads, treePath });
  return SIZE / MiB / ((performance.now() - t) / 1000);
}

try {
  writeRandom();
  process.stderr.write(`# core: ${sealCore().implementation}, ${availableParallelism()} cores, ${SIZE} bytes\n`);
  rawSha256(); // warm the page cache so both sides read from memory
  const raw = rawSha256();
  emit('sha256 raw (node:crypto), MiB/s', raw, 'MiB/s', null);
  const single = await commpRate(1);
  emit('commp 1 thread, MiB/s of payload (vs raw sha256)', single, 'MiB/s', raw);
  const withTree = await commpRate(1, tree);
  emit('commp 1 thread + tree file, MiB/s of payload (vs 1 thread)', withTree, 'MiB/s', single);
  // All cores through the build (`npm run bench` builds first): worker threads started from the
  // TypeScript sources would spend a second compiling them with tsx, which the app never does.
  const cores = availableParallelism();
  if (existsSync(cli)) {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, 'commp', piece, '--json']);
    const all = SIZE / MiB / ((performance.now() - t0) / 1000);
    emit(`commp ${cores} cores (built CLI, incl. start-up), MiB/s of payload (vs 1 thread)`, all, 'MiB/s', single);
    emit('commp all cores, MiB/s per core (vs raw sha256)', all / cores, 'MiB/s', raw);
  } else process.stderr.write('# no build: all-cores figure skipped (npm run build)\n');

  const leaves = 2 ** readTree(tree).geometry.height;
  const picks = Array.from({ length: 200 }, () => Math.floor(Math.random() * leaves));
  const proofs = [];
  let t = performance.now();
  for (const leaf of picks) proofs.push(proveLeaf(piece, tree, leaf));
  const proveMs = (performance.now() - t) / picks.length;
  t = performance.now();
  let ok = 0;
  for (let i = 0; i < proofs.length; i++) if (verifyProof(proofs[i]!.root, picks[i]!, 2 ** proofs[i]!.height, proofs[i]!)) ok++;
  const verifyMs = (performance.now() - t) / proofs.length;
  if (ok !== proofs.length) throw new Error(`${proofs.length - ok} proofs failed to verify`);
  emit('proof generation per challenge (goal 20 ms)', proveMs, 'ms', 20);
  emit('proof verification per proof (pure, protocol/)', verifyMs, 'ms', null);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
