// The piece tree: a binary Merkle tree over 32-byte Fr32 leaves with SHA-256 truncated to 254 bits
// (the last byte masked with 0x3F, so every node is a field element like the leaves). Zero
// padding never gets hashed: a subtree of zero leaves has a constant root, Z(h).
import { sha256 } from '@noble/hashes/sha2';
import { FR32_BLOCK, FR32_PADDED_BLOCK, LEAF_SIZE, MIN_PAYLOAD_SIZE, fr32Pad, paddedPieceSize, zeroPaddedSize } from './fr32.js';

/** SHA-254 of 64 contiguous bytes (two nodes side by side). */
export function hashPair(pair: Uint8Array): Uint8Array {
  const digest = sha256(pair);
  digest[31]! &= 0x3f;
  return digest;
}

/** node(l, r) = SHA-256(l ‖ r) with the last byte & 0x3F. */
export function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  const pair = new Uint8Array(64);
  pair.set(left, 0);
  pair.set(right, 32);
  return hashPair(pair);
}

/** The deepest zero subtree kept: 2^50 leaves (32 EiB), as FilOzone/pdp's Proofs.sol. */
export const MAX_ZERO_HEIGHT = 50;

function computeZeroSubtrees(): readonly Uint8Array[] {
  const zs: Uint8Array[] = [new Uint8Array(LEAF_SIZE)];
  for (let h = 1; h <= MAX_ZERO_HEIGHT; h++) zs.push(node(zs[h - 1]!, zs[h - 1]!));
  return Object.freeze(zs);
}

/**
 * Z(h), the root of 2^h zero leaves, for h = 0..50. Computed (50 hashes) rather than pasted so no
 * typo can hide in it; a test pins it against Proofs.sol. Do not mutate the arrays.
 */
export const ZERO_SUBTREES: readonly Uint8Array[] = computeZeroSubtrees();

export function zeroSubtree(height: number): Uint8Array {
  const z = ZERO_SUBTREES[height];
  if (!z) throw new RangeError(`zero subtree height must be 0..${MAX_ZERO_HEIGHT}, got ${height}`);
  return z;
}

export interface CommP {
  /** Bytes of payload hashed. */
  readonly payloadSize: number;
  /** Padded piece size, 128·2^k bytes. */
  readonly paddedSize: number;
  /** The 32-byte piece commitment (CommP). */
  readonly root: Uint8Array;
  /** Levels above the leaves: log2(paddedSize / 32). */
  readonly height: number;
  /** Zero bytes added to the payload before Fr32 expansion (FRC-0069's padding). */
  readonly padding: number;
}

/** Fr32 blocks expanded per batch: 64 KiB of leaves, so hashing works on one contiguous buffer. */
const BATCH_BLOCKS = 512;

/**
 * Streaming CommP in constant memory: one batch buffer plus one pending node per tree level.
 * Leaves of a batch are hashed in pairs straight from the expansion buffer; every node above goes
 * through the stack, where a level holding a node waits for its right sibling.
 */
export class CommPHasher {
  private readonly staging = new Uint8Array(BATCH_BLOCKS * FR32_BLOCK);
  private readonly expanded = new Uint8Array(BATCH_BLOCKS * FR32_PADDED_BLOCK);
  private staged = 0;
  private total = 0;
  /** pending[h] = a finished subtree of height h whose right sibling has not arrived yet. */
  private readonly pending: (Uint8Array | undefined)[] = [];
  private done = false;

  update(chunk: Uint8Array): this {
    if (this.done) throw new Error('CommPHasher: update after digest');
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.staging.length - this.staged);
      this.staging.set(chunk.subarray(offset, offset + take), this.staged);
      this.staged += take;
      offset += take;
      if (this.staged === this.staging.length) this.flush(BATCH_BLOCKS);
    }
    this.total += chunk.length;
    return this;
  }

  digest(): CommP {
    if (this.done) throw new Error('CommPHasher: digest called twice');
    this.done = true;
    const payloadSize = this.total;
    if (payloadSize < MIN_PAYLOAD_SIZE) {
      throw new RangeError(`payload must be at least ${MIN_PAYLOAD_SIZE} bytes (the Filecoin minimum), got ${payloadSize}`);
    }
    const paddedSize = paddedPieceSize(payloadSize);
    const height = Math.round(Math.log2(paddedSize / LEAF_SIZE));
    // The last partial block is zero-filled; whole zero blocks after it are folded in as Z(h).
    const blocks = Math.ceil(this.staged / FR32_BLOCK);
    this.staging.fill(0, this.staged, blocks * FR32_BLOCK);
    this.flush(blocks);
    let carry: Uint8Array | undefined;
    for (let h = 1; h < height; h++) {
      const left = this.pending[h];
      if (carry && left) carry = node(left, carry);
      else if (left) carry = node(left, zeroSubtree(h));
      else if (carry) carry = node(carry, zeroSubtree(h));
      this.pending[h] = undefined;
    }
    const root = carry ?? this.pending[height];
    if (!root) throw new Error('CommPHasher: internal error, no root');
    return { payloadSize, paddedSize, root, height, padding: zeroPaddedSize(payloadSize) - payloadSize };
  }

  private flush(blocks: number): void {
    if (blocks === 0) return;
    fr32Pad(this.staging.subarray(0, blocks * FR32_BLOCK), this.expanded);
    const pairs = blocks * 2;
    for (let p = 0; p < pairs; p++) this.push(hashPair(this.expanded.subarray(p * 64, p * 64 + 64)), 1);
    this.staged = 0;
  }

  private push(n: Uint8Array, height: number): void {
    let cur = n;
    let h = height;
    for (;;) {
      const left = this.pending[h];
      if (!left) {
        this.pending[h] = cur;
        return;
      }
      this.pending[h] = undefined;
      cur = node(left, cur);
      h++;
    }
  }
}

/** CommP of bytes, or of a sequence of chunks (a file read in pieces), in constant memory. */
export function commpPure(input: Uint8Array | Iterable<Uint8Array>): CommP {
  const hasher = new CommPHasher();
  if (input instanceof Uint8Array) hasher.update(input);
  else for (const chunk of input) hasher.update(chunk);
  return hasher.digest();
}

/** commpPure over an async source (a web ReadableStream, a Node stream), still constant memory. */
export async function commpPureAsync(input: AsyncIterable<Uint8Array>): Promise<CommP> {
  const hasher = new CommPHasher();
  for await (const chunk of input) hasher.update(chunk);
  return hasher.digest();
}
