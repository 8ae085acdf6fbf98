#include "commp.h"
#include <string.h>

void fr32_expand_quad(const uint8_t *in, uint8_t *out) {
  /* Leaf c starts at input bit 254c = byte 31c + bit 6c/... : shifts of 0, 6, 4 and 2 bits. */
  memcpy(out, in, 31);
  out[31] = in[31] & 0x3f;
  for (int k = 0; k < 32; k++) out[32 + k] = (uint8_t)((in[31 + k] >> 6) | (in[32 + k] << 2));
  out[63] &= 0x3f;
  for (int k = 0; k < 32; k++) out[64 + k] = (uint8_t)((in[63 + k] >> 4) | (in[64 + k] << 4));
  out[95] &= 0x3f;
  for (int k = 0; k < 31; k++) out[96 + k] = (uint8_t)((in[95 + k] >> 2) | (in[96 + k] << 6));
  out[127] = (uint8_t)(in[126] >> 2);
}

void commp_regions(node_fn nodes, const uint8_t *payload, size_t regions, unsigned levels, uint8_t *scratch,
                   uint8_t *roots) {
  size_t quads = (size_t)1 << (levels - 2);
  for (size_t r = 0; r < regions; r++) {
    const uint8_t *p = payload + r * quads * 127;
    for (size_t q = 0; q < quads; q++) fr32_expand_quad(p + q * 127, scratch + q * 128);
    /* Level by level in place: the region fits in L1/L2, and a whole level per call lets the
     * hash loop run without branches. */
    size_t n = (size_t)1 << levels;
    while (n > 1) {
      n >>= 1;
      nodes(scratch, scratch, n);
    }
    memcpy(roots + 32 * r, scratch, 32);
  }
}
