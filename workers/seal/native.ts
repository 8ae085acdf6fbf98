// The hashing core behind CommP and proofs: the C addon (SHA extensions, one call per batch) when
// it loads, otherwise node:crypto per node. The fallback is ~30x slower but gives identical
// results, so a machine without a compiler at install time still seals correctly.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fr32Pad } from '../../protocol/index.js';

export interface SealCore {
  /** 'x86-sha', 'armv8-sha2', 'portable' (the addon's C fallback) or 'js' (no addon). */
  readonly implementation: string;
  readonly native: boolean;
  /** One tree level: input holds n pairs (n*64 bytes), output receives n nodes (n*32 bytes). */
  hashNodes(input: Uint8Array, output: Uint8Array): void;
  /** Fr32-expands and hashes each run of 127*2^(levels-2) payload bytes into its subtree root. */
  hashPayload(payload: Uint8Array, roots: Uint8Array, levels: number): void;
}

interface Addon {
  hashNodes(input: Uint8Array, output: Uint8Array): void;
  hashPayload(payload: Uint8Array, roots: Uint8Array, levels: number): void;
  implementation(): string;
  useImplementation(name: 'best' | 'portable'): string;
}

const ADDON_FILE = join('build', 'Release', 'offhours_seal.node');

/**
 * Where the built addon lies: next to this source (workers/seal/native/…), or, from a bundled
 * chunk in dist/, under the package root. Inside a packaged app dlopen cannot read from the asar,
 * so the path is moved to app.asar.unpacked (electron-builder.yml unpacks the binary).
 */
export function addonCandidates(from = dirname(fileURLToPath(import.meta.url))): string[] {
  const out: string[] = [];
  if (process.env.OFFHOURS_SEAL_ADDON) out.push(process.env.OFFHOURS_SEAL_ADDON);
  out.push(join(from, 'native', ADDON_FILE));
  let dir = from;
  for (let i = 0; i < 6; i++) {
    out.push(join(dir, 'workers', 'seal', 'native', ADDON_FILE));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const asar = `${sep}app.asar${sep}`;
  return out.map((p) => p.replace(asar, `${sep}app.asar.unpacked${sep}`));
}

function jsNodes(input: Uint8Array, output: Uint8Array): void {
  const n = input.length / 64;
  for (let i = 0; i < n; i++) {
    const digest = createHash('sha256').update(input.subarray(i * 64, i * 64 + 64)).digest();
    digest[31]! &= 0x3f;
    output.set(digest, i * 32);
  }
}

function jsPayload(payload: Uint8Array, roots: Uint8Array, levels: number): void {
  const region = 127 << (levels - 2);
  const scratch = new Uint8Array(32 << levels);
  for (let r = 0; r * region < payload.length; r++) {
    fr32Pad(payload.subarray(r * region, (r + 1) * region), scratch);
    for (let n = (1 << levels) / 2; n >= 1; n /= 2) jsNodes(scratch.subarray(0, n * 64), scratch);
    roots.set(scratch.subarray(0, 32), r * 32);
  }
}

const JS_CORE: SealCore = { implementation: 'js', native: false, hashNodes: jsNodes, hashPayload: jsPayload };

let core: SealCore | undefined;
let warned = false;

function load(): SealCore {
  if (process.env.OFFHOURS_SEAL_NATIVE === '0') return JS_CORE;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) continue;
    try {
      const addon = require(path) as Addon;
      addon.useImplementation(process.env.OFFHOURS_SEAL_NATIVE === 'portable' ? 'portable' : 'best');
      return {
        implementation: addon.implementation(),
        native: true,
        hashNodes: (i, o) => addon.hashNodes(i, o),
        hashPayload: (p, r, l) => addon.hashPayload(p, r, l),
      };
    } catch (err) {
      tried.push(`${path}: ${(err as Error).message}`);
    }
  }
  if (!warned) {
    warned = true;
    const why = tried.length > 0 ? tried.join('; ') : 'not built (npm run build:native)';
    process.stderr.write(`offhours: the native CommP core is unavailable (${why}); using the slow JS fallback.\n`);
  }
  return JS_CORE;
}

/**
 * The core for this process. OFFHOURS_SEAL_NATIVE=0 forces the JS fallback, =portable the addon's
 * plain C code (tests compare all of them on one machine).
 */
export function sealCore(): SealCore {
  core ??= load();
  return core;
}

/** For tests that switch OFFHOURS_SEAL_NATIVE within one process. */
export function resetSealCore(): void {
  core = undefined;
}
