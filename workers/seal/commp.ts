// CommP of a file, streaming in constant memory, on every core for large pieces: the padded piece
// splits into 2^k equal subtrees whose roots are independent, so threads hash them in parallel
// and this thread combines the k top levels. Optionally keeps the tree from 32 KiB upwards in a
// side file (layout.ts) so that proofs need one small read.
import { closeSync, openSync, renameSync, rmSync, statSync, writeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MIN_PAYLOAD_SIZE, encodePieceCidV1, encodePieceCidV2, paddedPieceSize, zeroPaddedSize } from '../../protocol/index.js';
import { encodeHeader, geometry, nodeOffset, payloadBytes, treeFileSize } from './layout.js';
import { sealCore } from './native.js';
import { hashSubtree, type SubtreeTask } from './subtree.js';

export interface PieceCommitment {
  payloadSize: number;
  /** 128·2^k bytes. */
  paddedSize: number;
  /** Zero bytes added before Fr32 expansion (FRC-0069). */
  padding: number;
  /** Levels above the leaves. */
  height: number;
  root: Uint8Array;
  cidV1: string;
  cidV2: string;
}

export interface CommPOptions {
  /** Write the tree levels from 32 KiB up to this file (written aside, then renamed into place). */
  treePath?: string;
  /** Threads to use; default: every core. 1 hashes in the calling thread. */
  threads?: number;
  /** Payload size from which threads are used (tests lower it to exercise the split cheaply). */
  parallelFrom?: number;
}

/** Below this, starting threads costs more than it saves. */
const PARALLEL_MIN_PAYLOAD = 32 * 1024 * 1024;
/** Subtrees per thread: more than one so a piece that ends early in a subtree leaves no thread idle. */
const SUBTREES_PER_THREAD = 4;

function splitLevels(height: number, chunkLevels: number, payloadSize: number, threads: number, from: number): number {
  if (threads <= 1 || payloadSize < from) return 0;
  return Math.max(0, Math.min(height - chunkLevels, Math.ceil(Math.log2(threads * SUBTREES_PER_THREAD))));
}

export async function commpFile(piecePath: string, options: CommPOptions = {}): Promise<PieceCommitment> {
  const payloadSize = statSync(piecePath).size;
  if (payloadSize < MIN_PAYLOAD_SIZE) throw new RangeError(`a piece needs at least ${MIN_PAYLOAD_SIZE} bytes of payload, ${piecePath} has ${payloadSize}`);
  const paddedSize = paddedPieceSize(payloadSize);
  const g = geometry(payloadSize, paddedSize);
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const k = splitLevels(g.height, g.chunkLevels, payloadSize, threads, options.parallelFrom ?? PARALLEL_MIN_PAYLOAD);
  const top = g.height - k;

  const tmp = options.treePath === undefined ? undefined : `${options.treePath}.${process.pid}.tmp`;
  if (tmp !== undefined) {
    const fd = openSync(tmp, 'w');
    ftruncateSync(fd, treeFileSize(g));
    closeSync(fd);
  }
  try {
    const task = (index: number): SubtreeTask => ({ piecePath, treePath: tmp, payloadSize, paddedSize, top, index });
    let level: Uint8Array;
    if (k === 0) {
      level = await hashSubtree(task(0));
    } else {
      // Subtrees past the payload are all padding: their roots are constants, hashed here quickly.
      const withData = Math.ceil(payloadSize / payloadBytes(top));
      const { runOnThreads } = await import('./pool.js');
      const roots = await runOnThreads(Array.from({ length: withData }, (_, i) => task(i)), threads);
      for (let i = withData; i < 2 ** k; i++) roots.push(await hashSubtree(task(i)));
      level = new Uint8Array(2 ** k * 32);
      roots.forEach((r, i) => level.set(r, i * 32));
    }
    const fd = tmp === undefined ? undefined : openSync(tmp, 'r+');
    try {
      for (let l = top + 1; l <= g.height; l++) {
        const up = new Uint8Array(level.length / 2);
        sealCore().hashNodes(level, up);
        if (fd !== undefined) writeSync(fd, up, 0, up.length, nodeOffset(g, l, 0));
        level = up;
      }
      const root = level.slice(0, 32);
      if (fd !== undefined) {
        writeSync(fd, encodeHeader(g, root), 0, undefined, 0);
        fsyncSync(fd);
      }
      const padding = zeroPaddedSize(payloadSize) - payloadSize;
      const commitment: PieceCommitment = {
        payloadSize,
        paddedSize,
        padding,
        height: g.height,
        root,
        cidV1: encodePieceCidV1(root),
        cidV2: encodePieceCidV2({ root, height: g.height, padding }),
      };
      if (fd !== undefined) {
        closeSync(fd);
        renameSync(tmp!, options.treePath!);
      }
      return commitment;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw err;
    }
  } catch (err) {
    if (tmp !== undefined) rmSync(tmp, { force: true });
    throw err;
  }
}
