#include "sha256.h"
#include <string.h>

const uint32_t SHA256_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

const uint32_t SHA256_IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

uint32_t SHA256_PAD_WK[64];

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define s0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define s1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

static void expand(uint32_t w[64]) {
  for (int t = 16; t < 64; t++) w[t] = s1(w[t - 2]) + w[t - 7] + s0(w[t - 15]) + w[t - 16];
}

void sha256_init_tables(void) {
  uint32_t w[64] = {0};
  w[0] = 0x80000000u; /* the 0x80 terminator right after the 64 message bytes */
  w[15] = 512;        /* message length in bits */
  expand(w);
  for (int t = 0; t < 64; t++) SHA256_PAD_WK[t] = w[t] + SHA256_K[t];
}

static void rounds(uint32_t st[8], const uint32_t wk[64]) {
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
  for (int t = 0; t < 64; t++) {
    uint32_t t1 = h + S1(e) + CH(e, f, g) + wk[t];
    uint32_t t2 = S0(a) + MAJ(a, b, c);
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

void nodes_portable(const uint8_t *in, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = in + i * 64;
    uint32_t w[64], st[8];
    for (int t = 0; t < 16; t++)
      w[t] = ((uint32_t)p[4 * t] << 24) | ((uint32_t)p[4 * t + 1] << 16) | ((uint32_t)p[4 * t + 2] << 8) | p[4 * t + 3];
    expand(w);
    for (int t = 0; t < 64; t++) w[t] += SHA256_K[t];
    memcpy(st, SHA256_IV, sizeof st);
    rounds(st, w);
    rounds(st, SHA256_PAD_WK);
    uint8_t *o = out + i * 32;
    for (int j = 0; j < 8; j++) {
      o[4 * j] = (uint8_t)(st[j] >> 24); o[4 * j + 1] = (uint8_t)(st[j] >> 16);
      o[4 * j + 2] = (uint8_t)(st[j] >> 8); o[4 * j + 3] = (uint8_t)st[j];
    }
    o[31] &= 0x3f;
  }
}

node_fn sha256_select(const char **name) {
  sha256_init_tables();
#ifdef OFFHOURS_X86
  if (x86_has_sha()) { *name = "x86-sha"; return nodes_shani; }
#endif
#ifdef OFFHOURS_ARM64
  if (arm_has_sha2()) { *name = "armv8-sha2"; return nodes_armv8; }
#endif
  *name = "portable";
  return nodes_portable;
}
