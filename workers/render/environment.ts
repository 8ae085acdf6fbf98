// What a render needs to know about this machine before it starts: which Blender (a `--version`
// run per candidate) and whether bubblewrap works with it (a sandboxed `--version` run). Each costs
// a Blender start, about 0.3 s, which on a short job is most of the supervision overhead; so the
// first worker finds out, the agent keeps the answer, and later workers reuse it after a stat that
// proves it is still the same Blender file and the same bubblewrap.
import { realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { BlenderInfo, EngineEnvironment, RenderFailure } from '../../protocol/index.js';
import { findBlender } from './find-blender.js';
import { defaultHiddenPaths, findBubblewrap, probeBubblewrap } from './sandbox.js';

/** `auto`: bubblewrap whenever it works here; `required`: fail rather than run without it. */
export type SandboxMode = 'auto' | 'off' | 'required';

export interface EnvironmentRequest {
  /** The user's Blender setting; null: look on PATH and in the usual places. */
  setting: string | null;
  known: EngineEnvironment | null;
  /** Extra directories the sandbox hides (the data directory). */
  hide: string[];
  sandbox: SandboxMode;
}

export type EnvironmentResult =
  | { ok: true; environment: EngineEnvironment; /** false: `known` was reused as it was. */ fresh: boolean }
  | { ok: false; failure: RenderFailure };

async function fingerprint(path: string): Promise<BlenderInfo['fingerprint'] | null> {
  try {
    const realPath = realpathSync(path);
    const st = await stat(realPath);
    return { realPath, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** The hidden set the probe and every sandboxed run use, with symlinks resolved. */
export function sandboxHide(extra: string[]): string[] {
  return defaultHiddenPaths(undefined, undefined)
    .concat(extra)
    .map((p) => {
      try {
        return realpathSync(p);
      } catch {
        return p;
      }
    });
}

async function stillValid(known: EngineEnvironment, r: EnvironmentRequest): Promise<boolean> {
  // A setting names one Blender; without one, only a Blender that was itself found by looking counts.
  if (r.setting !== null ? known.blender.path !== r.setting || known.blender.source !== 'setting' : known.blender.source === 'setting') return false;
  const now = await fingerprint(known.blender.path);
  const was = known.blender.fingerprint;
  if (!now || now.realPath !== was.realPath || now.size !== was.size || now.mtimeMs !== was.mtimeMs) return false;
  // Installing or removing bubblewrap changes the answer; a sandbox mode other than auto is decided per run.
  return r.sandbox !== 'auto' || known.sandbox.bwrap === findBubblewrap();
}

export async function resolveEngineEnvironment(r: EnvironmentRequest): Promise<EnvironmentResult> {
  if (r.known && (await stillValid(r.known, r))) return { ok: true, environment: r.known, fresh: false };
  const found = await findBlender(r.setting);
  if (!found.ok) return { ok: false, failure: { code: found.code, text: found.message } };
  const print = await fingerprint(found.path);
  if (!print) return { ok: false, failure: { code: 'blender_not_found', text: `${found.path} disappeared while it was being checked.` } };
  const blender: BlenderInfo = { path: found.path, version: found.version.text, source: found.source, fingerprint: print };
  const bwrap = findBubblewrap();
  let sandbox: EngineEnvironment['sandbox'];
  if (r.sandbox === 'off') sandbox = { bwrap, kind: 'none', note: 'the sandbox is turned off' };
  else if (!bwrap) sandbox = { bwrap, kind: 'none', note: process.platform === 'linux' ? 'bubblewrap is not installed (Debian/Ubuntu package `bubblewrap`)' : `no OS sandbox on ${process.platform} yet` };
  else {
    const probe = await probeBubblewrap(bwrap, found.path, sandboxHide(r.hide));
    sandbox = probe.ok ? { bwrap, kind: 'bubblewrap', note: null } : { bwrap, kind: 'none', note: probe.reason };
  }
  return { ok: true, environment: { blender, sandbox }, fresh: true };
}
