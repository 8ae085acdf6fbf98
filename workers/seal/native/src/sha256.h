/* SHA-256 of 64-byte messages only: the CommP node is SHA-256(left || right) truncated to 254
 * bits, so every message is one data block plus one constant padding block. */
#ifndef OFFHOURS_SHA256_H
#define OFFHOURS_SHA256_H
#include <stddef.h>
#include <stdint.h>

extern const uint32_t SHA256_K[64];
extern const uint32_t SHA256_IV[8];
/* W[t] + K[t] of the padding block of a 64-byte message: the second compression never varies
 * in its input, so its message schedule is computed once. */
extern uint32_t SHA256_PAD_WK[64];

void sha256_init_tables(void);

/* n nodes: in holds n * 64 bytes, out receives n * 32 bytes (out may equal in: node i is written
 * only after inputs 2i and 2i+1 are read). */
typedef void (*node_fn)(const uint8_t *in, uint8_t *out, size_t n);

void nodes_portable(const uint8_t *in, uint8_t *out, size_t n);
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define OFFHOURS_X86 1
int x86_has_sha(void);
void nodes_shani(const uint8_t *in, uint8_t *out, size_t n);
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define OFFHOURS_ARM64 1
int arm_has_sha2(void);
void nodes_armv8(const uint8_t *in, uint8_t *out, size_t n);
#endif

/* The fastest implementation this CPU supports, and its name. */
node_fn sha256_select(const char **name);

#endif
