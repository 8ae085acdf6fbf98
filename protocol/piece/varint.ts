// Unsigned LEB128 varints as multiformats uses them (multicodec, multihash, FRC-0069 padding).
// Kept to the safe-integer range, and only the minimal encoding is accepted, so that one value has
// exactly one encoding and two CIDs of the same piece always compare equal as strings.

export function encodeUvarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Decodes a varint at `offset`; returns the value and how many bytes it took. */
export function decodeUvarint(bytes: Uint8Array, offset = 0): { value: number; length: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    const b = bytes[offset + i];
    if (b === undefined) throw new RangeError('varint runs past the end of the input');
    // 8 bytes carry 56 bits, already past 2^53: a ninth byte can only mean an unsafe value.
    if (i >= 8) throw new RangeError('varint is longer than a safe integer allows');
    value += (b & 0x7f) * scale;
    scale *= 0x80;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new RangeError('varint is not minimally encoded');
      if (!Number.isSafeInteger(value)) throw new RangeError('varint exceeds the safe integer range');
      return { value, length: i + 1 };
    }
  }
}
