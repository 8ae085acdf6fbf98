// Fr32 padding, as Filecoin defines it: every 127 payload bytes (1016 bits) become four 254-bit
// little-endian field elements, each stored as a 32-byte leaf whose top two bits are zero, so that
// every leaf is a valid BLS12-381 scalar. This file is the reference the native core is checked
// against, so it works on whole bytes (shifts across byte boundaries) rather than bit by bit.

/** Payload bytes per Fr32 block. */
export const FR32_BLOCK = 127;
/** Bytes per expanded Fr32 block (four 32-byte leaves). */
export const FR32_PADDED_BLOCK = 128;
/** Bytes per leaf (one 254-bit field element in 32 bytes). */
export const LEAF_SIZE = 32;

/**
 * The Filecoin tools (go-fil-commp-hashhash, data-segment, lotus) refuse payloads under 65 bytes,
 * so a smaller piece would have a commitment nobody else accepts.
 */
export const MIN_PAYLOAD_SIZE = 65;

/**
 * Sizes are plain numbers; the largest padded piece whose payload size is still an exact integer
 * in a double is 2^53 bytes (height 48), far beyond any disk this runs on.
 */
export const MAX_PADDED_SIZE = 2 ** 53;

function checkPayloadSize(payloadSize: number): void {
  if (!Number.isSafeInteger(payloadSize) || payloadSize < 0) {
    throw new RangeError(`payload size must be a non-negative safe integer, got ${payloadSize}`);
  }
}

/** The payload size after zero padding: the next 127·2^k bytes, at least 127. */
export function zeroPaddedSize(payloadSize: number): number {
  checkPayloadSize(payloadSize);
  let size = FR32_BLOCK;
  while (size < payloadSize) size *= 2;
  if ((size / FR32_BLOCK) * FR32_PADDED_BLOCK > MAX_PADDED_SIZE) {
    throw new RangeError(`payload of ${payloadSize} bytes exceeds the largest supported piece (${MAX_PADDED_SIZE} bytes padded)`);
  }
  return size;
}

/** The padded piece size (128·2^k) of a payload: what the network calls the piece size. */
export function paddedPieceSize(payloadSize: number): number {
  return (zeroPaddedSize(payloadSize) / FR32_BLOCK) * FR32_PADDED_BLOCK;
}

/** Bytes that fit unpadded into a piece of `paddedSize` bytes (a power of two, at least 128). */
export function unpaddedCapacity(paddedSize: number): number {
  if (!isPowerOfTwo(paddedSize) || paddedSize < FR32_PADDED_BLOCK || paddedSize > MAX_PADDED_SIZE) {
    throw new RangeError(`padded piece size must be a power of two from 128 to 2^53 bytes, got ${paddedSize}`);
  }
  return (paddedSize / FR32_PADDED_BLOCK) * FR32_BLOCK;
}

/** Whether n is 2^k for some k ≥ 0, for numbers beyond 32 bits too (where `&` would truncate). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Expands whole 127-byte blocks into 128-byte blocks of four leaves. `out` may be passed to avoid
 * an allocation per batch in a streaming hasher; it must hold 128/127 of the input.
 */
export function fr32Pad(input: Uint8Array, out?: Uint8Array): Uint8Array {
  if (input.length % FR32_BLOCK !== 0) {
    throw new RangeError(`Fr32 input must be whole ${FR32_BLOCK}-byte blocks, got ${input.length} bytes`);
  }
  const blocks = input.length / FR32_BLOCK;
  const dst = out ?? new Uint8Array(blocks * FR32_PADDED_BLOCK);
  if (dst.length < blocks * FR32_PADDED_BLOCK) throw new RangeError('Fr32 output buffer is too small');
  for (let b = 0; b < blocks; b++) {
    const i0 = b * FR32_BLOCK;
    const o0 = b * FR32_PADDED_BLOCK;
    // Leaf 0 is input bits 0..253: the first 31 bytes as they are, and 6 bits of byte 31.
    for (let j = 0; j < 32; j++) dst[o0 + j] = input[i0 + j]!;
    dst[o0 + 31]! &= 0x3f;
    // Leaf 1 starts at input bit 254 (byte 31, bit 6): each byte takes 2 bits from the byte before.
    for (let j = 32; j < 64; j++) dst[o0 + j] = (input[i0 + j]! << 2) | (input[i0 + j - 1]! >> 6);
    dst[o0 + 63]! &= 0x3f;
    // Leaf 2 starts at bit 508 (byte 63, bit 4).
    for (let j = 64; j < 96; j++) dst[o0 + j] = (input[i0 + j]! << 4) | (input[i0 + j - 1]! >> 4);
    dst[o0 + 95]! &= 0x3f;
    // Leaf 3 starts at bit 762 (byte 95, bit 2); its last 6 bits are the top of the last input byte.
    for (let j = 96; j < 127; j++) dst[o0 + j] = (input[i0 + j]! << 6) | (input[i0 + j - 1]! >> 2);
    dst[o0 + 127] = input[i0 + 126]! >> 2;
  }
  return dst;
}

/**
 * The inverse of fr32Pad, for retrieval: whole 128-byte blocks back to 127-byte blocks. The top two
 * bits of each leaf carry no data and are ignored.
 */
export function fr32Unpad(padded: Uint8Array): Uint8Array {
  if (padded.length % FR32_PADDED_BLOCK !== 0) {
    throw new RangeError(`Fr32 padded input must be whole ${FR32_PADDED_BLOCK}-byte blocks, got ${padded.length} bytes`);
  }
  const blocks = padded.length / FR32_PADDED_BLOCK;
  const out = new Uint8Array(blocks * FR32_BLOCK);
  for (let b = 0; b < blocks; b++) {
    const i0 = b * FR32_PADDED_BLOCK;
    const o0 = b * FR32_BLOCK;
    const p = (k: number): number => padded[i0 + k]!;
    for (let j = 0; j < 31; j++) out[o0 + j] = p(j);
    out[o0 + 31] = (p(31) & 0x3f) | ((p(32) & 0x03) << 6);
    for (let j = 32; j < 63; j++) out[o0 + j] = (p(j) >> 2) | ((p(j + 1) & 0x03) << 6);
    out[o0 + 63] = ((p(63) >> 2) & 0x0f) | ((p(64) & 0x0f) << 4);
    for (let j = 64; j < 95; j++) out[o0 + j] = (p(j) >> 4) | ((p(j + 1) & 0x0f) << 4);
    out[o0 + 95] = ((p(95) >> 4) & 0x03) | ((p(96) & 0x3f) << 2);
    for (let j = 96; j < 127; j++) out[o0 + j] = (p(j) >> 6) | ((p(j + 1) & 0x3f) << 2);
  }
  return out;
}
