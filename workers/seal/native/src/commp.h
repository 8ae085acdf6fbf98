#ifndef OFFHOURS_COMMP_H
#define OFFHOURS_COMMP_H
#include "sha256.h"

/* 127 payload bytes -> four 32-byte leaves, each a 254-bit little-endian chunk. */
void fr32_expand_quad(const uint8_t *in, uint8_t *out);

/* Hashes `regions` consecutive payload regions of 127 * 2^(levels-2) bytes each into the roots of
 * their padded subtrees (2^levels leaves each), one 32-byte root per region. `scratch` holds one
 * expanded region (32 << levels bytes). */
void commp_regions(node_fn nodes, const uint8_t *payload, size_t regions, unsigned levels, uint8_t *scratch,
                   uint8_t *roots);
#endif
