# The CommP hashing core as a Node-API addon: one binary serves Node and Electron (Node-API is
# ABI-stable), so electron-builder needs no rebuild. No OpenSSL: Electron does not ship one we could
# link against, and we only need the SHA-256 compression function anyway.
{
  "targets": [
    {
      "target_name": "offhours_seal",
      "sources": ["src/addon.c", "src/sha256.c", "src/sha256_x86.c", "src/sha256_arm.c", "src/commp.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-std=c11"],
      "cflags!": ["-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
