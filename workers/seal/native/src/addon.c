/* Node-API surface of the CommP core: JS crosses into C once per batch (a tree level, or a chunk
 * of payload), never per node. Context-aware (NAPI_MODULE_INIT), so worker threads can load it. */
#include <node_api.h>
#include <stdlib.h>
#include "commp.h"

static node_fn g_nodes;
static const char *g_impl;

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, NULL, "offhours_seal: Node-API call failed");    \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *base;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &base, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *data = (uint8_t *)base; /* base already includes the byte offset */
  *len = length;
  return 1;
}

/* hashNodes(input: Uint8Array (n*64), output: Uint8Array (>= n*32)): one tree level. */
static napi_value hash_nodes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *in, *out;
  size_t inLen, outLen;
  if (argc < 2 || !bytes_of(env, argv[0], &in, &inLen) || !bytes_of(env, argv[1], &out, &outLen)) return NULL;
  if (inLen % 64 != 0 || outLen < inLen / 2) {
    napi_throw_range_error(env, NULL, "input must be n*64 bytes and output at least n*32");
    return NULL;
  }
  g_nodes(in, out, inLen / 64);
  return NULL;
}

/* hashPayload(payload: Uint8Array, roots: Uint8Array, levels: number): Fr32-expands and hashes
 * each run of 127*2^(levels-2) payload bytes into the root of its 2^levels-leaf subtree. */
static napi_value hash_payload(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *in, *out;
  size_t inLen, outLen;
  uint32_t levels;
  if (argc < 3 || !bytes_of(env, argv[0], &in, &inLen) || !bytes_of(env, argv[1], &out, &outLen)) return NULL;
  if (napi_get_value_uint32(env, argv[2], &levels) != napi_ok || levels < 2 || levels > 20) {
    napi_throw_range_error(env, NULL, "levels must be 2..20");
    return NULL;
  }
  size_t region = (size_t)127 << (levels - 2);
  if (inLen % region != 0 || outLen < inLen / region * 32) {
    napi_throw_range_error(env, NULL, "payload must be whole regions and roots 32 bytes per region");
    return NULL;
  }
  uint8_t *scratch = malloc((size_t)32 << levels);
  if (!scratch) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  commp_regions(g_nodes, in, inLen / region, levels, scratch, out);
  free(scratch);
  return NULL;
}

/* useImplementation("portable" | "best"): lets tests compare the two on the same machine. */
static napi_value use_impl(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[16] = {0};
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  if (name[0] == 'p') {
    g_nodes = nodes_portable;
    g_impl = "portable";
  } else {
    g_nodes = sha256_select(&g_impl);
  }
  CHECK(napi_create_string_utf8(env, g_impl, NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value implementation(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, g_impl, NAPI_AUTO_LENGTH, &result));
  return result;
}

NAPI_MODULE_INIT() {
  if (!g_nodes) g_nodes = sha256_select(&g_impl);
  napi_property_descriptor props[] = {
      {"hashNodes", NULL, hash_nodes, NULL, NULL, NULL, napi_default, NULL},
      {"hashPayload", NULL, hash_payload, NULL, NULL, NULL, napi_default, NULL},
      {"useImplementation", NULL, use_impl, NULL, NULL, NULL, napi_default, NULL},
      {"implementation", NULL, implementation, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
