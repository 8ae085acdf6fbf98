// A 53-bit fingerprint of an entry id. The ledger keeps fingerprints, not ids, for all history so
// memory and the snapshot stay small; a fingerprint match is only a hint and is confirmed against
// the exact ids (recent ones in memory, older ones by scanning the log), so a collision can never
// drop an entry. This is cyrb53: fast, good spread, not cryptographic (it need not be).
export function fingerprint(id: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
