/* SHA-256 nodes with the ARMv8 cryptography extensions (SHA2). Compiled for +sha2 through a
 * target attribute so that the rest of the addon runs on any arm64, and chosen at run time. */
#include "sha256.h"
#ifdef OFFHOURS_ARM64
#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6)
#endif
#elif defined(_WIN32)
#include <windows.h>
#endif

#if defined(__clang__) || defined(__GNUC__)
#define TARGET_SHA2 __attribute__((target("+crypto")))
#else
#define TARGET_SHA2
#endif

int arm_has_sha2(void) {
#if defined(__APPLE__)
  return 1; /* every Apple arm64 CPU has the SHA2 instructions */
#elif defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#elif defined(_WIN32)
  return IsProcessorFeaturePresent(PF_ARM_V8_CRYPTO_INSTRUCTIONS_AVAILABLE) != 0;
#else
  return 0;
#endif
}

#define RND4(wk)                                  \
  do {                                            \
    uint32x4_t t_ = s0;                           \
    s0 = vsha256hq_u32(s0, s1, (wk));             \
    s1 = vsha256h2q_u32(s1, t_, (wk));            \
  } while (0)

TARGET_SHA2 static inline void node_one(const uint8_t *in, uint8_t *out, uint32x4_t iv0, uint32x4_t iv1) {
  uint32x4_t s0 = iv0, s1 = iv1;
  uint32x4_t m0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(in)));
  uint32x4_t m1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(in + 16)));
  uint32x4_t m2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(in + 32)));
  uint32x4_t m3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(in + 48)));
  for (int g = 0; g < 16; g++) {
    uint32x4_t wk = vaddq_u32(m0, vld1q_u32(SHA256_K + 4 * g));
    if (g < 12) {
      uint32x4_t next = vsha256su1q_u32(vsha256su0q_u32(m0, m1), m2, m3);
      m0 = m1; m1 = m2; m2 = m3; m3 = next;
    } else {
      m0 = m1; m1 = m2; m2 = m3;
    }
    RND4(wk);
  }
  s0 = vaddq_u32(s0, iv0);
  s1 = vaddq_u32(s1, iv1);
  uint32x4_t a0 = s0, a1 = s1;
  for (int g = 0; g < 16; g++) RND4(vld1q_u32(SHA256_PAD_WK + 4 * g));
  s0 = vaddq_u32(s0, a0);
  s1 = vaddq_u32(s1, a1);
  uint8x16_t o0 = vrev32q_u8(vreinterpretq_u8_u32(s0));
  uint8x16_t o1 = vrev32q_u8(vreinterpretq_u8_u32(s1));
  vst1q_u8(out, o0);
  vst1q_u8(out + 16, o1);
  out[31] &= 0x3f;
}

TARGET_SHA2 void nodes_armv8(const uint8_t *in, uint8_t *out, size_t n) {
  uint32x4_t iv0 = vld1q_u32(SHA256_IV), iv1 = vld1q_u32(SHA256_IV + 4);
  for (size_t i = 0; i < n; i++) node_one(in + 64 * i, out + 32 * i, iv0, iv1);
}
#endif
