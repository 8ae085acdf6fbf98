// PDP challenges (FilOzone/pdp): index = uint256(keccak256(abi.encodePacked(uint256 seed,
// uint256 setId, uint64 i))) % leafCount, over the leaves of the whole data set; a running sum of
// the pieces' leaf counts then maps the index to one piece and a leaf within it. All in bigint,
// because the contract's arithmetic is 256-bit and one rounding would pick another leaf.
import { keccak_256 } from '@noble/hashes/sha3';

const UINT256_MAX = (1n << 256n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function writeUint(out: Uint8Array, offset: number, bytes: number, value: bigint): void {
  let v = value;
  for (let k = bytes - 1; k >= 0; k--) {
    out[offset + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function checkRange(name: string, value: bigint, max: bigint): void {
  if (value < 0n || value > max) throw new RangeError(`${name} must fit in uint${max === UINT64_MAX ? 64 : 256}, got ${value}`);
}

/** The 72-byte abi.encodePacked(uint256 seed, uint256 setId, uint64 i). */
export function challengeMessage(seed: bigint, setId: bigint, i: bigint | number): Uint8Array {
  const counter = BigInt(i);
  checkRange('seed', seed, UINT256_MAX);
  checkRange('setId', setId, UINT256_MAX);
  checkRange('challenge counter', counter, UINT64_MAX);
  const msg = new Uint8Array(72);
  writeUint(msg, 0, 32, seed);
  writeUint(msg, 32, 32, setId);
  writeUint(msg, 64, 8, counter);
  return msg;
}

/** The leaf index (over the whole data set) that challenge `i` picks. */
export function challengeIndex(seed: bigint, setId: bigint, i: bigint | number, leafCount: bigint | number): bigint {
  const count = BigInt(leafCount);
  if (count <= 0n) throw new RangeError(`leaf count must be positive, got ${count}`);
  checkRange('leaf count', count, UINT256_MAX);
  const digest = keccak_256(challengeMessage(seed, setId, i));
  let value = 0n;
  for (const b of digest) value = (value << 8n) | BigInt(b);
  return value % count;
}

export interface ChallengeTarget {
  /** Position of the piece in the set. */
  readonly piece: number;
  /** Leaf index inside that piece. */
  readonly leafIndex: number;
}

/**
 * Maps a set-wide leaf index to a piece and a leaf in it, given each piece's leaf count in set
 * order. Binary search over the running sums, as PDP's sum tree does on-chain.
 */
export function locateLeaf(index: bigint | number, pieceLeafCounts: readonly number[]): ChallengeTarget {
  const target = BigInt(index);
  const cumulative: bigint[] = [];
  let sum = 0n;
  for (const [p, count] of pieceLeafCounts.entries()) {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`piece ${p} has an invalid leaf count ${count}`);
    sum += BigInt(count);
    cumulative.push(sum);
  }
  if (target < 0n || target >= sum) throw new RangeError(`leaf index ${target} is outside the set of ${sum} leaves`);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  const before = lo === 0 ? 0n : cumulative[lo - 1]!;
  return { piece: lo, leafIndex: Number(target - before) };
}

export interface Challenge extends ChallengeTarget {
  /** The challenge counter i. */
  readonly i: number;
  /** The set-wide leaf index. */
  readonly index: bigint;
}

/** The `count` challenges (i = 0..count-1) for a set whose pieces have `pieceLeafCounts` leaves. */
export function deriveChallenges(seed: bigint, setId: bigint, count: number, pieceLeafCounts: readonly number[]): Challenge[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`challenge count must be a non-negative integer, got ${count}`);
  const total = pieceLeafCounts.reduce((s, c) => s + BigInt(c), 0n);
  const out: Challenge[] = [];
  for (let i = 0; i < count; i++) {
    const index = challengeIndex(seed, setId, i, total);
    out.push({ i, index, ...locateLeaf(index, pieceLeafCounts) });
  }
  return out;
}
