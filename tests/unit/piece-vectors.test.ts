// Public CommP vectors: the issue's own, storacha/data-segment's vector.csv and
// go-fil-commp-hashhash's testdata (see tests/fixtures/piece/README.md for sources and commits).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { describe, expect, it } from 'vitest';
import {
  CommPHasher,
  base32Encode,
  commpPure,
  decodePieceCid,
  encodePieceCidV1,
  encodePieceCidV2,
  pieceCidV2FromV1,
} from '../../protocol/index.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/piece/${name}`, import.meta.url)), 'utf8');

/** data-segment's test/util.js deriveBuffer: SHA-512 of the previous 64 bytes, from the empty input. */
function deriveBuffer(size: number): Uint8Array {
  const buffer = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 64) {
    const digest = sha512(offset < 64 ? buffer.subarray(0, offset) : buffer.subarray(offset - 64, offset));
    buffer.set(digest.subarray(0, size - offset), offset);
  }
  return buffer;
}

/** CIDv1 raw sha2-256, as data-segment names each payload. */
const rawCid = (bytes: Uint8Array) => 'b' + base32Encode(Uint8Array.of(0x01, 0x55, 0x12, 0x20, ...sha256(bytes)));

describe('issue 6 vectors', () => {
  it('127 zero bytes', () => {
    const c = commpPure(new Uint8Array(127));
    expect(c.paddedSize).toBe(128);
    expect(encodePieceCidV1(c.root)).toBe('baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy');
  });

  it('192 zero bytes', () => {
    const c = commpPure(new Uint8Array(192));
    expect(c.paddedSize).toBe(256);
    expect(encodePieceCidV1(c.root)).toBe('baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy');
  });

  it('127 bytes each of 0x00..0x03, v1 and v2', () => {
    const payload = new Uint8Array(508);
    for (let i = 0; i < 4; i++) payload.fill(i, i * 127, (i + 1) * 127);
    const c = commpPure(payload);
    const v1 = 'baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi';
    const v2 = 'bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi';
    expect(encodePieceCidV1(c.root)).toBe(v1);
    expect(encodePieceCidV2(c)).toBe(v2);
    expect(pieceCidV2FromV1(v1, 508)).toBe(v2);
    expect(decodePieceCid(v2)).toMatchObject({ version: 2, height: 4, padding: 0, paddedSize: 512, payloadSize: 508 });
  });
});

// SKIPPED: the rows' payloads come from `deriveBuffer('hello world', size)` (data-segment's
// test/commp.js), a seeded version of test/util.js that the readable copies of that repository do
// not hold; the unseeded deriveBuffer below does not reproduce the rows' payload CIDs, which is
// checked first so a wrong derivation cannot pass as a CommP bug. Un-skip once that util.js is read.
describe.skip('storacha/data-segment test/commp/vector.csv', () => {
  const rows = fixture('data-segment-commp-vector.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [size, payload, paddedSize, pieceSize, commP] = line.split(',');
      return { size: Number(size), payload: payload!, paddedSize: Number(paddedSize), pieceSize: Number(pieceSize), commP: commP! };
    });

  it('has every row of the fixture', () => expect(rows.length).toBe(37));

  it.each(rows)('$size bytes -> $commP', (row) => {
    const bytes = deriveBuffer(row.size);
    expect(rawCid(bytes)).toBe(row.payload);
    // Uneven chunks exercise the streaming path across Fr32 block and batch boundaries.
    const hasher = new CommPHasher();
    for (let o = 0; o < bytes.length; o += 1000) hasher.update(bytes.subarray(o, o + 1000));
    const c = hasher.digest();
    expect(c.paddedSize).toBe(row.pieceSize);
    expect(c.payloadSize + c.padding).toBe(row.paddedSize);
    expect(encodePieceCidV1(c.root)).toBe(row.commP);
    expect(decodePieceCid(encodePieceCidV2(c))).toMatchObject({ payloadSize: row.size, paddedSize: row.pieceSize });
  });
});

describe.each(['zero', '0xCC'])('go-fil-commp-hashhash testdata/%s.txt', (name) => {
  const byte = name === 'zero' ? 0x00 : 0xcc;
  const rows = fixture(`go-fil-commp-hashhash-${name}.txt`)
    .trim()
    .split('\n')
    .map((line) => line.split(','))
    .map(([size, pieceSize, cid]) => ({ size: Number(size), pieceSize: Number(pieceSize), cid: cid! }));

  it('has every row of the fixture', () => expect(rows.length).toBe(18));

  it.each(rows)('$size bytes -> $cid', (row) => {
    const c = commpPure(new Uint8Array(row.size).fill(byte));
    expect(c.paddedSize).toBe(row.pieceSize);
    expect(encodePieceCidV1(c.root)).toBe(row.cid);
  });
});
