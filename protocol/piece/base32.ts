// RFC 4648 base32, lower case, no padding: the multibase 'b' encoding every CIDv1 string uses.

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LOOKUP: Readonly<Record<string, number>> = Object.fromEntries([...ALPHABET].map((c, i) => [c, i]));

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  // A length of 1, 3 or 6 mod 8 cannot come from whole bytes.
  if ([1, 3, 6].includes(text.length % 8)) throw new RangeError(`base32 text has an impossible length (${text.length})`);
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (const c of text) {
    const v = LOOKUP[c];
    if (v === undefined) throw new RangeError(`not a lower-case base32 character: ${JSON.stringify(c)}`);
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two strings would decode to the same bytes.
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new RangeError('base32 text has non-zero trailing bits');
  return out;
}
