// Hashes one aligned subtree of a piece from its file: reads 1 MiB-padded chunks (double
// buffered, so the disk works while C hashes), lets C expand and hash each chunk into its 32 KiB
// roots, and writes every node from 32 KiB upwards into the tree file. The same code runs in the
// calling thread for small pieces and in worker threads for large ones (one subtree each).
import { closeSync, openSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ZERO_SUBTREES } from '../../protocol/index.js';
import { geometry, nodeOffset, payloadBytes, type PieceGeometry } from './layout.js';
import { sealCore } from './native.js';

export interface SubtreeTask {
  piecePath: string;
  /** Tree file to write levels base..top into (already sized); none for a bare CommP. */
  treePath?: string | undefined;
  payloadSize: number;
  paddedSize: number;
  /** Level of the subtree's root (≥ the chunk level). */
  top: number;
  /** Its index at that level. */
  index: number;
}

/** `count` copies of Z(level): a level of an all-padding region. */
function zeroRun(level: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) out.set(ZERO_SUBTREES[level]!, i * 32);
  return out;
}

async function readFully(fh: FileHandle, buf: Uint8Array, length: number, position: number): Promise<Uint8Array> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new Error('piece file shrank while it was being hashed');
    got += bytesRead;
  }
  buf.fill(0, length);
  return buf;
}

class LevelWriter {
  constructor(
    private readonly fd: number | undefined,
    private readonly g: PieceGeometry,
  ) {}
  write(level: number, index: number, nodes: Uint8Array): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, nodes, 0, nodes.length, nodeOffset(this.g, level, index));
  }
}

export async function hashSubtree(task: SubtreeTask): Promise<Uint8Array> {
  const core = sealCore();
  const g = geometry(task.payloadSize, task.paddedSize);
  const c = g.chunkLevels;
  const chunkPayload = payloadBytes(c);
  const chunks = 2 ** (task.top - c);
  const first = task.index * chunks;
  const treeFd = task.treePath === undefined ? undefined : openSync(task.treePath, 'r+');
  const out = new LevelWriter(treeFd, g);
  const fh = await open(task.piecePath, 'r');
  const bufs = [new Uint8Array(chunkPayload), new Uint8Array(chunkPayload)];
  const pending: (Uint8Array | undefined)[] = [];
  let result: Uint8Array | undefined;

  // Carries a finished node up the levels: an odd index completes its parent.
  const push = (level: number, index: number, node: Uint8Array): void => {
    if (level > c) out.write(level, index, node);
    if (level === task.top) {
      result = node;
      return;
    }
    if (index % 2 === 0) {
      pending[level] = node;
      return;
    }
    const pair = new Uint8Array(64);
    pair.set(pending[level]!, 0);
    pair.set(node, 32);
    const parent = new Uint8Array(32);
    core.hashNodes(pair, parent);
    pending[level] = undefined;
    push(level + 1, Math.floor(index / 2), parent);
  };

  const read = (j: number): Promise<Uint8Array> | undefined => {
    const start = (first + j) * chunkPayload;
    if (j >= chunks || start >= task.payloadSize) return undefined;
    return readFully(fh, bufs[j % 2]!, Math.min(chunkPayload, task.payloadSize - start), start);
  };

  try {
    let next = read(0);
    for (let j = 0; j < chunks; j++) {
      const gj = first + j;
      const current = next;
      const payload = current === undefined ? undefined : await current;
      next = read(j + 1);
      if (payload === undefined) {
        for (let l = g.base; l <= c; l++) out.write(l, gj * 2 ** (c - l), zeroRun(l, 2 ** (c - l)));
        push(c, gj, ZERO_SUBTREES[c]!);
        continue;
      }
      let level = new Uint8Array(2 ** (c - g.base) * 32);
      core.hashPayload(payload, level, g.base);
      out.write(g.base, gj * 2 ** (c - g.base), level);
      for (let l = g.base + 1; l <= c; l++) {
        const up = new Uint8Array(level.length / 2);
        core.hashNodes(level, up);
        out.write(l, gj * 2 ** (c - l), up);
        level = up;
      }
      push(c, gj, level);
    }
  } finally {
    await fh.close();
    if (treeFd !== undefined) closeSync(treeFd);
  }
  return result!;
}
