// CommP, Fr32 and CIDs against deliberately simple references written here: bits one at a time,
// node:crypto for SHA-256, a whole tree in memory.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CommPHasher,
  PieceCidError,
  ZERO_SUBTREES,
  commpPure,
  decodePieceCid,
  decodePieceCidV1,
  decodePieceCidV2,
  encodePieceCidV1,
  encodePieceCidV2,
  fr32Pad,
  fr32Unpad,
  paddedPieceSize,
  zeroPaddedSize,
} from '../../protocol/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Bit-by-bit CommP: every payload bit is placed one at a time into 254-bit leaves. */
function referenceRoot(payload: Uint8Array): Uint8Array {
  let size = 127;
  while (size < payload.length) size *= 2;
  const bits = size * 8;
  const leaves: Uint8Array[] = [];
  for (let start = 0; start < bits; start += 254) {
    const leaf = new Uint8Array(32);
    for (let k = 0; k < 254; k++) {
      const bit = start + k;
      const byte = bit >> 3;
      const value = byte < payload.length ? (payload[byte]! >> (bit & 7)) & 1 : 0;
      leaf[k >> 3]! |= value << (k & 7);
    }
    leaves.push(leaf);
  }
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const d = new Uint8Array(createHash('sha256').update(level[i]!).update(level[i + 1]!).digest());
      d[31]! &= 0x3f;
      next.push(d);
    }
    level = next;
  }
  return level[0]!;
}

/** Sizes within a few bytes of 127·2^k, k = 0..6, never below the 65-byte minimum. */
const sizeNearBoundary = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -3, max: 3 }))
  .map(([k, d]) => Math.max(65, 127 * 2 ** k + d));

describe('piece sizes', () => {
  it('zero padding goes to the next 127·2^k, at least 127', () => {
    expect([1, 65, 127, 128, 254, 255, 1016, 1017].map(zeroPaddedSize)).toEqual([127, 127, 127, 254, 254, 508, 1016, 2032]);
    expect(paddedPieceSize(1017)).toBe(2048);
    expect(() => zeroPaddedSize(-1)).toThrow(RangeError);
  });
});

describe('CommP against a bit-by-bit reference', () => {
  it('agrees around every 127·2^k boundary', () => {
    fc.assert(
      fc.property(sizeNearBoundary.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (payload) => {
        const c = commpPure(payload);
        expect(hex(c.root)).toBe(hex(referenceRoot(payload)));
        expect(c.padding).toBe(zeroPaddedSize(payload.length) - payload.length);
        expect(2 ** c.height * 32).toBe(c.paddedSize);
      }),
      { numRuns: 80 },
    );
  });

  it('gives the same root however the input is chunked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 65, maxLength: 70_000 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1 }), (payload, cuts) => {
        const hasher = new CommPHasher();
        let o = 0;
        for (let i = 0; o < payload.length; i++) {
          const n = cuts[i % cuts.length]!;
          hasher.update(payload.subarray(o, o + n));
          o += n;
        }
        expect(hex(hasher.digest().root)).toBe(hex(commpPure(payload).root));
      }),
      { numRuns: 15 },
    );
  });

  it('refuses payloads under 65 bytes, as the Filecoin tools do', () => {
    expect(() => commpPure(new Uint8Array(64))).toThrow(/at least 65/);
  });
});

describe('Fr32', () => {
  it('leaves have their top two bits clear and unpad inverts pad', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }).chain((b) => fc.uint8Array({ minLength: 127 * b, maxLength: 127 * b })), (data) => {
        const padded = fr32Pad(data);
        for (let i = 31; i < padded.length; i += 32) expect(padded[i]! & 0xc0).toBe(0);
        expect(hex(fr32Unpad(padded))).toBe(hex(data));
      }),
    );
  });
});

describe('zero subtrees', () => {
  it('match REFERENCE.md and FilOzone/pdp src/Proofs.sol', () => {
    // Proofs.sol ZERO_ROOTS at commit 13989afa03daf829d866fead878eee96721d851b.
    const pinned: Record<number, string> = {
      0: '0'.repeat(64),
      1: 'f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb0b',
      2: '3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333',
      3: '642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f',
      10: '2c1a964bb90b59ebfe0f6da29ad65ae3e417724a8f7c11745a40cac1e5e74011',
      30: '077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e',
      49: '6f5246ae0f965e5424162403d3ab81ef8d15439c5f3a49038488e3640ef98718',
      50: '0b5b44ccf91ff135af58d2cf694b2ac99f22f5264863d6b9272b6155956aa10e',
    };
    expect(ZERO_SUBTREES.length).toBe(51);
    for (const [h, z] of Object.entries(pinned)) expect(hex(ZERO_SUBTREES[Number(h)]!)).toBe(z);
  });
});

describe('piece CIDs', () => {
  const root = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((r) => {
    r[31]! &= 0x3f;
    return r;
  });

  it('v1 round-trips', () => {
    fc.assert(
      fc.property(root, (r) => {
        expect(hex(decodePieceCidV1(encodePieceCidV1(r)).root)).toBe(hex(r));
      }),
    );
  });

  it('v2 round-trips with sizes', () => {
    const piece = fc
      .tuple(root, fc.integer({ min: 2, max: 48 }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([r, height, f]) => ({ root: r, height, padding: Math.floor(f * ((2 ** height / 4) * 127 - 1)) }));
    fc.assert(
      fc.property(piece, (p) => {
        const cid = encodePieceCidV2(p);
        expect(cid.startsWith('bafkzcib')).toBe(true);
        const d = decodePieceCid(cid);
        expect(d).toMatchObject({ version: 2, height: p.height, padding: p.padding });
        expect(hex(d.root)).toBe(hex(p.root));
      }),
    );
  });

  it('refuses malformed CIDs with a clear error', () => {
    const good = 'baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy';
    const cases: [string, RegExp][] = [
      ['', /non-empty/],
      ['z' + good.slice(1), /multibase 'b'/],
      [good.toUpperCase(), /multibase 'b'/],
      ['b' + good.slice(1).toUpperCase(), /base32/],
      [good.slice(0, -2), /length|base32/],
      ['bafkreiby3whddkpaz2a5u5xd72xvybynvpizu4bwcjomobkmuzrstv666m', /multihash/],
    ];
    for (const [text, message] of cases) expect(() => decodePieceCid(text), text).toThrow(message);
    expect(() => decodePieceCidV2(good)).toThrow(PieceCidError);
    expect(() => encodePieceCidV1(new Uint8Array(32).fill(0xff))).toThrow(/top two bits/);
    expect(() => encodePieceCidV2({ root: new Uint8Array(32), height: 1, padding: 0 })).toThrow(/height/);
    expect(() => encodePieceCidV2({ root: new Uint8Array(32), height: 2, padding: 127 })).toThrow(/padding/);
  });
});
