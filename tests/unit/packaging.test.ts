// Packaging, checked offline with electron-builder itself:
// (1) electron-builder.yml passes electron-builder's own schema validation (the same check a real
//     build runs before any download), an unknown key fails it, and every fuse is decided;
// (2) a real `--linux dir` build against a stand-in Electron folder: every entry the app loads
//     resolves inside app.asar, node-pty's native files sit in app.asar.unpacked, the tray icons
//     sit next to it, and the fuses were flipped in the binary.
// The stand-in Electron is a small script carrying Electron's fuse wire (sentinel + version +
// length + one byte per fuse, Electron 45's defaults), which is all @electron/fuses reads and writes.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProgram } from '../support/external.js';
import { TRAY_ICON_STATES, trayIconFile } from '../../main/tray-icons.js';

const root = resolve(import.meta.dirname, '..', '..');
const requireFromRoot = createRequire(join(root, 'package.json'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; devDependencies: Record<string, string> };

/** A missing tool skips with the reason printed; under CI=true it fails instead. */
function missing(what: string): string | null {
  try {
    requireFromRoot.resolve(what);
    return null;
  } catch {
    return `${what} is not installed (npm install)`;
  }
}
function skipOrFail(reason: string | null, suite: string): boolean {
  if (reason === null) return false;
  const message = `${suite}: skipped because ${reason}`;
  if (process.env.CI === 'true') throw new Error(`${message}. Under CI=true this is a failure.`);
  process.stderr.write(`\n[skip] ${message}\n`);
  return true;
}

// ---- (1) configuration ----------------------------------------------------------------------

interface BuilderConfig {
  electronFuses?: Record<string, boolean>;
  [key: string]: unknown;
}
type ConfigModule = {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, debugLogger: unknown): Promise<void>;
};

const configSkip = missing('app-builder-lib/out/util/config/config.js') ?? missing('builder-util');

describe.skipIf(skipOrFail(configSkip, 'electron-builder.yml validation'))('electron-builder.yml', () => {
  let config: BuilderConfig;
  let validate: (c: BuilderConfig) => Promise<void>;

  beforeAll(async () => {
    const { getConfig, validateConfiguration } = requireFromRoot('app-builder-lib/out/util/config/config.js') as ConfigModule;
    const { DebugLogger } = requireFromRoot('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    config = await getConfig(root, join(root, 'electron-builder.yml'), null);
    validate = (c) => validateConfiguration(c, new DebugLogger(false));
  });

  it("passes electron-builder's own validation", async () => {
    await expect(validate(config)).resolves.toBeUndefined();
    expect(config).toMatchObject({ appId: 'net.offhours.app', productName: 'Offhours', npmRebuild: false, directories: { output: 'release' } });
  });

  it('rejects an unknown key (so the check above is a real one)', async () => {
    await expect(validate({ ...config, notAnOption: true })).rejects.toThrow(/unknown property 'notAnOption'/);
    await expect(validate({ ...config, electronFuses: { ...config.electronFuses, runAsNod: false } })).rejects.toThrow(/electronFuses/);
  });

  it('decides every fuse electron-builder knows, with RunAsNode off', () => {
    const scheme = requireFromRoot('app-builder-lib/scheme.json') as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
    const known = Object.keys(scheme.definitions.FuseOptionsV1.properties).filter((k) => k !== 'resetAdHocDarwinSignature');
    expect(Object.keys(config.electronFuses ?? {}).sort()).toEqual(known.sort());
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('targets NSIS one-click, dmg, AppImage and deb', () => {
    expect(config).toMatchObject({
      win: { target: 'nsis' },
      nsis: { oneClick: true },
      mac: { target: 'dmg', category: 'public.app-category.utilities' },
      linux: { target: ['AppImage', 'deb'], category: 'Utility' },
    });
  });

  it('npmRebuild: false holds because node-pty is a Node-API addon (one binary for Node and Electron)', () => {
    const ptyDir = join(root, 'node_modules', 'node-pty');
    expect(readFileSync(join(ptyDir, 'binding.gyp'), 'utf8')).toContain('node-addon-api');
    expect(readFileSync(join(ptyDir, 'src', 'unix', 'pty.cc'), 'utf8')).toContain('#include <napi.h>');
  });
});

// ---- (2) an offline --dir build ----------------------------------------------------------------

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ENABLE = 0x31;
const DISABLE = 0x30;
/** Electron 45's shipped fuse states, in FuseV1Options order (RunAsNode first). */
const ELECTRON_DEFAULT_WIRE = [ENABLE, DISABLE, ENABLE, ENABLE, DISABLE, DISABLE, DISABLE, ENABLE];

async function makeStandInElectron(dir: string, version: string): Promise<void> {
  await mkdir(join(dir, 'resources'), { recursive: true });
  await mkdir(join(dir, 'locales'), { recursive: true });
  const script = Buffer.from('#!/bin/sh\necho "stand-in for Electron (tests/unit/packaging.test.ts): it cannot run" >&2\nexit 1\n# ', 'utf8');
  const wire = Buffer.concat([Buffer.from(SENTINEL, 'ascii'), Buffer.from([1, ELECTRON_DEFAULT_WIRE.length, ...ELECTRON_DEFAULT_WIRE]), Buffer.from('\n')]);
  await writeFile(join(dir, 'electron'), Buffer.concat([script, wire]));
  await chmod(join(dir, 'electron'), 0o755);
  await writeFile(join(dir, 'version'), version);
  await writeFile(join(dir, 'LICENSE'), 'stand-in');
  await writeFile(join(dir, 'LICENSES.chromium.html'), 'stand-in');
  await writeFile(join(dir, 'locales', 'en-US.pak'), '');
}

function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const APP_ENTRIES = ['dist/main/preload.cjs', 'dist/agent/agent.js', 'dist/workers/worker.js', 'dist/renderer/index.html'];

type Asar = {
  listPackage(archive: string, options?: unknown): string[];
  extractFile(archive: string, filename: string): Buffer;
  statFile(archive: string, filename: string): { unpacked?: boolean; size?: number; files?: unknown };
};

const buildSkip = missing('electron-builder/cli.js') ?? missing('@electron/asar') ?? missing('@electron/fuses') ?? (findProgram('npm', []).found === null ? 'npm is not on PATH (electron-builder lists dependencies with it)' : null);

describe.skipIf(skipOrFail(buildSkip, 'offline --dir build'))('an offline linux --dir build', () => {
  let work: string;
  let appOutDir: string;
  let asarPath: string;
  let asar: Asar;
  let files: Set<string>;

  const read = (p: string) => asar.extractFile(asarPath, p).toString('utf8');
  const has = (p: string) => files.has(`/${posix.normalize(p)}`);

  beforeAll(async () => {
    // `npm test` builds first; a bare `vitest run` on a fresh clone gets one build here.
    if (![pkg.main, ...APP_ENTRIES].every((e) => existsSync(join(root, e)))) {
      const built = await run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--app'], { cwd: root });
      if (built.code !== 0) throw new Error(`vite build failed:\n${built.output}`);
    }
    const electronVersion = (JSON.parse(readFileSync(requireFromRoot.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
    expect(pkg.devDependencies.electron).toBe(electronVersion);

    work = await mkdtemp(join(tmpdir(), 'offhours-pack-'));
    const electronDist = join(work, 'electron-dist');
    await makeStandInElectron(electronDist, electronVersion);

    const started = Date.now();
    const result = await run(
      process.execPath,
      [
        requireFromRoot.resolve('electron-builder/cli.js'),
        '--linux',
        'dir',
        '--x64',
        '--publish',
        'never',
        `-c.electronDist=${electronDist}`,
        `-c.electronVersion=${electronVersion}`,
        `-c.directories.output=${join(work, 'release')}`,
      ],
      { cwd: root, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false', ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } },
    );
    process.stderr.write(`[packaging] electron-builder --linux dir took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (result.code !== 0) throw new Error(`electron-builder failed (${result.code}):\n${result.output}`);

    appOutDir = join(work, 'release', 'linux-unpacked');
    asarPath = join(appOutDir, 'resources', 'app.asar');
    asar = requireFromRoot('@electron/asar') as Asar;
    files = new Set(asar.listPackage(asarPath, { isPack: false }).map((p) => p.replace(/\\/g, '/')));
  }, 180_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('names the executable and puts the app in resources/app.asar', () => {
    expect(statSync(join(appOutDir, 'offhours')).isFile()).toBe(true);
    expect(statSync(asarPath).isFile()).toBe(true);
    expect(existsSync(join(appOutDir, 'resources', 'app'))).toBe(false);
  });

  it('flipped the fuses in the binary: RunAsNode, NODE_OPTIONS and --inspect off; asar-only with integrity on', async () => {
    const { getCurrentFuseWire, FuseV1Options } = requireFromRoot('@electron/fuses') as {
      getCurrentFuseWire(path: string): Promise<Record<number, number>>;
      FuseV1Options: Record<string, number>;
    };
    const wire = await getCurrentFuseWire(join(appOutDir, 'offhours'));
    const state = (name: string) => wire[FuseV1Options[name]!];
    expect(state('RunAsNode')).toBe(DISABLE);
    expect(state('EnableNodeOptionsEnvironmentVariable')).toBe(DISABLE);
    expect(state('EnableNodeCliInspectArguments')).toBe(DISABLE);
    expect(state('GrantFileProtocolExtraPrivileges')).toBe(DISABLE);
    expect(state('LoadBrowserProcessSpecificV8Snapshot')).toBe(DISABLE);
    expect(state('EnableCookieEncryption')).toBe(ENABLE);
    expect(state('OnlyLoadAppFromAsar')).toBe(ENABLE);
    expect(state('EnableEmbeddedAsarIntegrityValidation')).toBe(ENABLE);
  });

  it('contains package.json, and its "main" is dist/main/main.js inside the asar', () => {
    const packed = JSON.parse(read('package.json')) as { main: string };
    expect(packed.main).toBe('dist/main/main.js');
    expect(has(packed.main)).toBe(true);
  });

  it('contains every entry the app loads: preload, agent, worker and the dashboard', () => {
    for (const entry of APP_ENTRIES) expect(has(entry), entry).toBe(true);
  });

  it('resolves every import of the main, agent and worker bundles inside the asar', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const packageName = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
    const seen = new Set<string>();
    const unresolved: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = read(file);
      const specs = [
        ...[...code.matchAll(/^(?:import|export)\b[^;]*?["']([^"']+)["'];?\s*$/gm)].map((m) => m[1]!),
        ...[...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specs) {
        if (spec.startsWith('.')) {
          const target = posix.join(posix.dirname(file), spec);
          if (has(target)) visit(target);
          else unresolved.push(`${file} -> ${spec}`);
        } else if (spec === 'electron' || builtins.has(spec)) {
          // Provided by the runtime.
        } else if (!has(`node_modules/${packageName(spec)}/package.json`)) {
          unresolved.push(`${file} -> ${spec} (no node_modules/${packageName(spec)})`);
        }
      }
    };
    for (const entry of ['dist/main/main.js', 'dist/agent/agent.js', 'dist/workers/worker.js']) visit(entry);
    expect(unresolved).toEqual([]);
    expect(seen.size).toBeGreaterThan(3);
  });

  it('resolves every script, stylesheet and asset the dashboard references', () => {
    const html = read('dist/renderer/index.html');
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !/^(?:[a-z]+:|#|\/\/)/i.test(r));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = posix.join('dist/renderer', ref.split(/[?#]/)[0]!);
      expect(has(target), ref).toBe(true);
      if (target.endsWith('.css')) {
        for (const m of read(target).matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) {
          if (/^(?:data:|[a-z]+:|#)/i.test(m[1]!)) continue;
          expect(has(posix.join(posix.dirname(target), m[1]!.split(/[?#]/)[0]!)), `${target} -> ${m[1]}`).toBe(true);
        }
      }
    }
  });

  it('ships a sandbox-safe preload: CommonJS that requires only electron', () => {
    const preload = read('dist/main/preload.cjs');
    const requires = [...preload.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(requires).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*import\s/m);
  });

  it('ships the CommP addon, unpacked so Electron can load it, and not its sources', () => {
    const addon = 'workers/seal/native/build/Release/offhours_seal.node';
    // Built by npm install; where no compiler was present the app ships without it and hashes in JS
    // (said on stderr). CI installs a compiler, so there it must be present.
    if (!existsSync(join(root, addon))) {
      expect(process.env.CI, 'the CommP addon was not built (npm run build:native)').not.toBe('true');
      process.stderr.write('\n[note] packaging: no CommP addon built here; the app would hash in JavaScript\n');
      return;
    }
    expect(asar.statFile(asarPath, addon).unpacked).toBe(true);
    expect(statSync(join(appOutDir, 'resources', 'app.asar.unpacked', addon)).size).toBeGreaterThan(0);
    expect([...files].some((f) => f.startsWith('/workers/seal/native/src/'))).toBe(false);
  });

  it("keeps node-pty's native files in app.asar.unpacked", () => {
    const unpacked = join(appOutDir, 'resources', 'app.asar.unpacked');
    const ptyNode = 'node_modules/node-pty/build/Release/pty.node';
    expect(asar.statFile(asarPath, ptyNode).unpacked).toBe(true);
    expect(statSync(join(unpacked, ptyNode)).size).toBeGreaterThan(0);
    // node-pty builds spawn-helper only on macOS (binding.gyp: OS=="mac"); its macOS prebuilds carry it.
    const helpers = [...files].filter((f) => f.endsWith('/spawn-helper'));
    expect(helpers.length).toBeGreaterThan(0);
    for (const helper of helpers) {
      expect(asar.statFile(asarPath, helper.slice(1)).unpacked, helper).toBe(true);
      expect(existsSync(join(unpacked, helper))).toBe(true);
    }
    // Every native module, whichever package it comes from, must be loadable from disk.
    const natives = [...files].filter((f) => f.endsWith('.node'));
    for (const native of natives) expect(existsSync(join(unpacked, native)), native).toBe(true);
  });

  it('leaves sources, source maps and test folders out of the asar', () => {
    const own = [...files].filter((f) => !f.startsWith('/node_modules/'));
    expect(own.filter((f) => /\.(ts|tsx|map)$/.test(f))).toEqual([]);
    for (const folder of ['/main', '/agent', '/renderer', '/tests', '/protocol', '/tools', '/resources']) expect(files.has(folder), folder).toBe(false);
  });

  it('puts the tray icons for every OS and the window icon next to the asar (extraResources)', () => {
    for (const platform of ['linux', 'win32', 'darwin']) {
      for (const state of TRAY_ICON_STATES) expect(existsSync(join(appOutDir, 'resources', 'tray', trayIconFile(state, platform))), `${platform} ${state}`).toBe(true);
    }
    expect(existsSync(join(appOutDir, 'resources', 'icon.png'))).toBe(true);
  });
});
