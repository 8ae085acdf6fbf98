// Finding Blender: version lines, the supported range, and where each OS keeps it (with the file
// system and `--version` faked), plus one run against the real /usr/bin/blender.
import { describe, expect, it } from 'vitest';
import { candidatePaths, findBlender, parseBlenderVersion, unsupportedReason, type FindBlenderDeps } from '../../workers/render/find-blender.js';
import { blender } from '../support/blender.js';
import { requireProgram } from '../support/external.js';

function fakeDeps(platform: NodeJS.Platform, installed: Record<string, string>, extra: Partial<FindBlenderDeps> = {}): FindBlenderDeps & { ran: string[] } {
  const ran: string[] = [];
  return {
    platform,
    env: { PATH: platform === 'win32' ? 'C:\\Windows\\System32' : '/usr/local/sbin:/usr/bin' },
    home: platform === 'win32' ? 'C:\\Users\\me' : platform === 'darwin' ? '/Users/me' : '/home/me',
    isExecutable: async (p) => p in installed,
    listDir: async () => [],
    runVersion: async (p) => {
      ran.push(p);
      return { stdout: installed[p] ?? '', stderr: '', code: 0 };
    },
    ran,
    ...extra,
  };
}

describe('blender --version', () => {
  it.each([
    ['Blender 3.4.1\n', { major: 3, minor: 4, patch: 1, text: 'Blender 3.4.1' }],
    ['Blender 4.2.3 LTS\n\tbuild date: 2024-10-15\n\tbuild time: 00:43:12\n', { major: 4, minor: 2, patch: 3, text: 'Blender 4.2.3 LTS' }],
    ['Blender 3.6.5\n\tbuild date: 2023-10-16\n', { major: 3, minor: 6, patch: 5 }],
    // SYNTHETIC: no Blender 5 here; the version banner is assumed to keep its words.
    ['Blender 5.0.0\n\tbuild date: 2025-11-18\n', { major: 5, minor: 0, patch: 0 }],
    ['Color management: using fallback mode\nBlender 4.1.1\n', { major: 4, minor: 1, patch: 1 }],
  ])('%j', (out, expected) => {
    expect(parseBlenderVersion(out)).toMatchObject(expected);
  });

  it('finds no version in other output', () => {
    expect(parseBlenderVersion('bash: blender: command not found')).toBeNull();
  });

  it('refuses versions outside 3.0 up to 5.x with a sentence a user can act on', () => {
    expect(unsupportedReason(parseBlenderVersion('Blender 2.93.18')!)).toMatch(/too old.*3\.0 up to 5\.x/);
    expect(unsupportedReason(parseBlenderVersion('Blender 6.0.0')!)).toMatch(/newer than Offhours understands/);
    expect(unsupportedReason(parseBlenderVersion('Blender 3.0.0')!)).toBeNull();
    expect(unsupportedReason(parseBlenderVersion('Blender 5.9.2')!)).toBeNull();
  });
});

describe('finding Blender', () => {
  it('uses the path the user set, and only that one', async () => {
    const deps = fakeDeps('linux', { '/opt/blender-4.2/blender': 'Blender 4.2.3 LTS', '/usr/bin/blender': 'Blender 3.4.1' });
    expect(await findBlender('/opt/blender-4.2/blender', deps)).toMatchObject({ ok: true, path: '/opt/blender-4.2/blender', source: 'setting' });
    const missing = await findBlender('/opt/nowhere/blender', deps);
    expect(missing).toMatchObject({ ok: false, code: 'blender_not_found', message: expect.stringContaining('/opt/nowhere/blender (your setting)') });
    expect(deps.ran).toEqual(['/opt/blender-4.2/blender']);
  });

  it('looks on PATH before the install locations', async () => {
    const deps = fakeDeps('linux', { '/usr/bin/blender': 'Blender 3.4.1', '/snap/bin/blender': 'Blender 4.2.0' });
    expect(await findBlender(null, deps)).toMatchObject({ ok: true, path: '/usr/bin/blender', version: { major: 3, minor: 4 }, source: 'PATH' });
  });

  it.each([
    ['linux', '/snap/bin/blender', 'snap'],
    ['linux', '/var/lib/flatpak/exports/bin/org.blender.Blender', 'flatpak'],
    ['linux', '/home/me/.steam/steam/steamapps/common/Blender/blender', 'Steam'],
    ['darwin', '/Applications/Blender.app/Contents/MacOS/Blender', 'Applications'],
    ['darwin', '/Users/me/Library/Application Support/Steam/steamapps/common/Blender/Blender.app/Contents/MacOS/Blender', 'Steam'],
    ['win32', 'C:\\Program Files (x86)\\Steam\\steamapps\\common\\Blender\\blender.exe', 'Steam'],
  ] as const)('on %s: %s', async (platform, where, source) => {
    expect(await findBlender(undefined, fakeDeps(platform, { [where]: 'Blender 4.2.3 LTS' }))).toMatchObject({ ok: true, path: where, source });
  });

  it('on Windows picks the newest "Blender X.Y" folder of the installer', async () => {
    const deps = fakeDeps(
      'win32',
      {
        'C:\\Program Files\\Blender Foundation\\Blender 3.6\\blender.exe': 'Blender 3.6.5',
        'C:\\Program Files\\Blender Foundation\\Blender 4.2\\blender.exe': 'Blender 4.2.3 LTS',
      },
      { listDir: async (p) => (p === 'C:\\Program Files\\Blender Foundation' ? ['Blender 3.6', 'Blender 4.2', 'readme.txt'] : []) },
    );
    expect(await findBlender(null, deps)).toMatchObject({ ok: true, path: 'C:\\Program Files\\Blender Foundation\\Blender 4.2\\blender.exe' });
    expect((await candidatePaths(deps))[0]!.path).toBe('C:\\Program Files\\Blender Foundation\\Blender 4.2\\blender.exe');
  });

  it('skips an unsupported Blender for a supported one, and says why when there is none', async () => {
    const both = fakeDeps('linux', { '/usr/bin/blender': 'Blender 2.79', '/snap/bin/blender': 'Blender 4.2.0' });
    expect(await findBlender(null, both)).toMatchObject({ ok: true, path: '/snap/bin/blender' });
    const old = await findBlender(null, fakeDeps('linux', { '/usr/bin/blender': 'Blender 2.79' }));
    expect(old).toMatchObject({ ok: false, code: 'blender_unsupported', message: expect.stringMatching(/Blender 2\.79 is too old/) });
  });

  it('says where it looked when there is no Blender at all', async () => {
    const none = await findBlender(null, fakeDeps('linux', {}));
    expect(none).toMatchObject({ ok: false, code: 'blender_not_found', message: expect.stringMatching(/No usable Blender found on PATH or in the usual install locations/) });
  });

  it('reports a program that is not Blender', async () => {
    const r = await findBlender('/usr/bin/python3', fakeDeps('linux', { '/usr/bin/python3': 'Python 3.11.2' }));
    expect(r).toMatchObject({ ok: false, code: 'blender_not_found', rejected: [{ path: '/usr/bin/python3', reason: expect.stringMatching(/did not print a Blender version/) }] });
  });
});

const real = blender();
describe.runIf(requireProgram(real, 'find-blender against the real Blender'))('finding the real Blender', () => {
  it('finds and runs Debian’s Blender', async () => {
    const found = await findBlender(real.found);
    expect(found).toMatchObject({ ok: true, version: { major: expect.any(Number) } });
    if (found.ok) expect(unsupportedReason(found.version)).toBeNull();
  });
});
