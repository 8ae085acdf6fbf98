/* SHA-256 nodes with the x86 SHA extensions. Only this file's hot functions are compiled for
 * SHA + SSE4.1 (target attributes), so the addon still loads on CPUs without them and the
 * dispatcher picks the portable code there. */
#include "sha256.h"
#ifdef OFFHOURS_X86
#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define TARGET_SHA
#else
#include <cpuid.h>
#define TARGET_SHA __attribute__((target("sha,sse4.1,ssse3")))
#endif

int x86_has_sha(void) {
#if defined(_MSC_VER) && !defined(__clang__)
  int r[4];
  __cpuid(r, 0);
  if (r[0] < 7) return 0;
  __cpuid(r, 1);
  int sse41 = (r[2] >> 19) & 1;
  __cpuidex(r, 7, 0);
  return sse41 && ((r[1] >> 29) & 1);
#else
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int sse41 = (c >> 19) & 1;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return sse41 && ((b >> 29) & 1);
#endif
}

/* Four rounds per group; message words live in m[g % 4]. The schedule steps (msg1/msg2) are
 * interleaved with the rounds the way Intel's reference does, to hide their latency. */
#define GROUP(g, wkv)                                                                     \
  do {                                                                                    \
    __m128i wk_ = (wkv);                                                                  \
    s1 = _mm_sha256rnds2_epu32(s1, s0, wk_);                                              \
    if ((g) >= 3 && (g) <= 14)                                                            \
      m[((g) + 1) & 3] = _mm_sha256msg2_epu32(                                            \
          _mm_add_epi32(m[((g) + 1) & 3], _mm_alignr_epi8(m[(g) & 3], m[((g) + 3) & 3], 4)), \
          m[(g) & 3]);                                                                    \
    s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk_, 0x0E));                     \
    if ((g) >= 1 && (g) <= 12) m[((g) + 3) & 3] = _mm_sha256msg1_epu32(m[((g) + 3) & 3], m[(g) & 3]); \
  } while (0)

#define KV(g) _mm_loadu_si128((const __m128i *)(SHA256_K + 4 * (g)))
#define PV(g) _mm_loadu_si128((const __m128i *)(SHA256_PAD_WK + 4 * (g)))

TARGET_SHA static inline void node_one(const uint8_t *in, uint8_t *out, __m128i iv0, __m128i iv1,
                                       __m128i bswap) {
  __m128i s0 = iv0, s1 = iv1, m[4];
  m[0] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 0)), bswap);
  m[1] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 16)), bswap);
  m[2] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 32)), bswap);
  m[3] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 48)), bswap);
  GROUP(0, _mm_add_epi32(m[0], KV(0)));
  GROUP(1, _mm_add_epi32(m[1], KV(1)));
  GROUP(2, _mm_add_epi32(m[2], KV(2)));
  GROUP(3, _mm_add_epi32(m[3], KV(3)));
  GROUP(4, _mm_add_epi32(m[0], KV(4)));
  GROUP(5, _mm_add_epi32(m[1], KV(5)));
  GROUP(6, _mm_add_epi32(m[2], KV(6)));
  GROUP(7, _mm_add_epi32(m[3], KV(7)));
  GROUP(8, _mm_add_epi32(m[0], KV(8)));
  GROUP(9, _mm_add_epi32(m[1], KV(9)));
  GROUP(10, _mm_add_epi32(m[2], KV(10)));
  GROUP(11, _mm_add_epi32(m[3], KV(11)));
  GROUP(12, _mm_add_epi32(m[0], KV(12)));
  GROUP(13, _mm_add_epi32(m[1], KV(13)));
  GROUP(14, _mm_add_epi32(m[2], KV(14)));
  GROUP(15, _mm_add_epi32(m[3], KV(15)));
  s0 = _mm_add_epi32(s0, iv0);
  s1 = _mm_add_epi32(s1, iv1);
  /* The padding block: its W + K is a constant table, so only the rounds remain. */
  __m128i a0 = s0, a1 = s1;
#define PGROUP(g)                                                  \
  do {                                                             \
    __m128i wk_ = PV(g);                                           \
    s1 = _mm_sha256rnds2_epu32(s1, s0, wk_);                       \
    s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk_, 0x0E)); \
  } while (0)
  PGROUP(0); PGROUP(1); PGROUP(2); PGROUP(3); PGROUP(4); PGROUP(5); PGROUP(6); PGROUP(7);
  PGROUP(8); PGROUP(9); PGROUP(10); PGROUP(11); PGROUP(12); PGROUP(13); PGROUP(14); PGROUP(15);
#undef PGROUP
  s0 = _mm_add_epi32(s0, a0);
  s1 = _mm_add_epi32(s1, a1);
  /* ABEF/CDGH back to ABCD/EFGH, then big-endian bytes. */
  __m128i t = _mm_shuffle_epi32(s0, 0x1B);
  s1 = _mm_shuffle_epi32(s1, 0xB1);
  __m128i abcd = _mm_blend_epi16(t, s1, 0xF0);
  __m128i efgh = _mm_alignr_epi8(s1, t, 8);
  abcd = _mm_shuffle_epi8(abcd, bswap);
  efgh = _mm_shuffle_epi8(efgh, bswap);
  /* Clear the top two bits of the last byte: the node is a field element (254 bits). */
  efgh = _mm_and_si128(efgh, _mm_set_epi32(0x3fffffff, -1, -1, -1));
  _mm_storeu_si128((__m128i *)out, abcd);
  _mm_storeu_si128((__m128i *)(out + 16), efgh);
}

TARGET_SHA void nodes_shani(const uint8_t *in, uint8_t *out, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  /* The IV in the ABEF/CDGH lane order that sha256rnds2 wants. */
  __m128i lo = _mm_loadu_si128((const __m128i *)SHA256_IV);
  __m128i hi = _mm_loadu_si128((const __m128i *)(SHA256_IV + 4));
  __m128i t = _mm_shuffle_epi32(lo, 0xB1);
  hi = _mm_shuffle_epi32(hi, 0x1B);
  __m128i iv0 = _mm_alignr_epi8(t, hi, 8);
  __m128i iv1 = _mm_blend_epi16(hi, t, 0xF0);
  for (size_t i = 0; i < n; i++) node_one(in + 64 * i, out + 32 * i, iv0, iv1, bswap);
}
#endif
