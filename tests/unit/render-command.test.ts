// Blender's command line, the device choice, the scrubbed environment and the bubblewrap arguments.
import { describe, expect, it } from 'vitest';
import {
  blenderArgs,
  blenderDirsToExpose,
  buildInvocation,
  bwrapArgs,
  chooseDevice,
  cyclesDeviceArg,
  defaultHiddenPaths,
  deviceFromHardware,
  engineEnv,
  findBubblewrap,
  shouldRetryOnCpu,
} from '../../workers/render/command.js';
import type { PreparedJob } from '../../workers/render/job-files.js';

const job: PreparedJob = {
  jobDir: '/data/jobs/j1',
  scene: '/data/jobs/j1/scene.blend',
  framesDir: '/data/jobs/j1/frames',
  tmpDir: '/data/jobs/j1/tmp',
  setupScript: '/data/jobs/j1/offhours/setup.py',
  jobFile: '/data/jobs/j1/offhours/job.json',
  nonce: 'n',
};
const base = { scene: job.scene, setupScript: job.setupScript, jobFile: job.jobFile, framesDir: job.framesDir };

describe('blender arguments', () => {
  it('load the scene, run the setup script, set the output, then render; the device after --', () => {
    expect(blenderArgs({ ...base, frames: { start: 1, end: 10 }, threads: 4, device: 'OPTIX' })).toEqual([
      '--background',
      '--factory-startup',
      '--disable-autoexec',
      '--python-exit-code',
      '1',
      '/data/jobs/j1/scene.blend',
      '--python',
      '/data/jobs/j1/offhours/setup.py',
      '-o',
      '/data/jobs/j1/frames/frame_####',
      '-F',
      'PNG',
      '-t',
      '4',
      '-s',
      '1',
      '-e',
      '10',
      '-a',
      '--',
      '--cycles-device',
      'OPTIX',
      '--offhours-job',
      '/data/jobs/j1/offhours/job.json',
    ]);
  });

  it('render a single frame with -f, and add the CPU next to a GPU when asked', () => {
    const args = blenderArgs({ ...base, frames: { start: 7, end: 7 }, device: 'CUDA', withCpu: true });
    expect(args.slice(args.indexOf('-F'))).toEqual(['-F', 'PNG', '-f', '7', '--', '--cycles-device', 'CUDA+CPU', '--offhours-job', job.jobFile]);
    expect(cyclesDeviceArg('CPU', true)).toBe('CPU');
  });

  it('refuse relative paths, which could be read as options', () => {
    expect(() => blenderArgs({ ...base, scene: '-P/evil.py', frames: { start: 1, end: 1 }, device: 'CPU' })).toThrow(/absolute/);
  });
});

describe('device', () => {
  it.each([
    [[{ vendor: 'NVIDIA Corporation', model: 'NVIDIA GeForce RTX 4070' }], 'linux', 'OPTIX'],
    [[{ vendor: 'NVIDIA', model: 'GeForce GTX 1080 Ti' }], 'win32', 'CUDA'],
    [[{ vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Navi 21 [Radeon RX 6800]' }], 'linux', 'HIP'],
    [[{ vendor: 'Intel Corporation', model: 'Intel(R) Arc(TM) A770 Graphics' }], 'win32', 'ONEAPI'],
    [[{ vendor: 'Intel Corporation', model: 'UHD Graphics 630' }], 'linux', 'CPU'],
    [[{ vendor: 'Apple', model: 'Apple M2 Pro' }], 'darwin', 'METAL'],
    [[{ vendor: 'AMD', model: 'Radeon Pro 5500M' }], 'darwin', 'CPU'],
    [[], 'linux', 'CPU'],
    [[{ vendor: 'Intel Corporation', model: 'UHD Graphics 770' }, { vendor: 'NVIDIA', model: 'NVIDIA RTX A4000' }], 'linux', 'OPTIX'],
  ] as const)('%j on %s -> %s', (gpus, platform, device) => {
    expect(deviceFromHardware(gpus, platform)).toBe(device);
  });

  it('takes the spec’s device unless it says auto', () => {
    expect(chooseDevice('HIP', [{ vendor: 'NVIDIA', model: 'RTX 3080' }], 'linux')).toBe('HIP');
    expect(chooseDevice('auto', [{ vendor: 'NVIDIA', model: 'RTX 3080' }], 'linux')).toBe('OPTIX');
  });

  it('falls back to the CPU on device errors only', () => {
    expect(shouldRetryOnCpu('gpu_out_of_memory', 'OPTIX')).toBe(true);
    expect(shouldRetryOnCpu('gpu_error', 'HIP')).toBe(true);
    expect(shouldRetryOnCpu('gpu_error', 'CPU')).toBe(false);
    expect(shouldRetryOnCpu('external_reference', 'CUDA')).toBe(false);
    expect(shouldRetryOnCpu('out_of_memory', 'CUDA')).toBe(false);
  });
});

describe('environment', () => {
  it('passes nothing of the agent’s but PATH and LANG; HOME and TMPDIR are the job’s', () => {
    const parent = { PATH: '/usr/bin', LANG: 'de_DE.UTF-8', OFFHOURS_TOKEN: 'secret', AWS_SECRET_ACCESS_KEY: 'k', HTTPS_PROXY: 'http://p', DISPLAY: ':0' };
    expect(engineEnv('/data/jobs/j1', 'linux', parent)).toEqual({ PATH: '/usr/bin', LANG: 'de_DE.UTF-8', HOME: '/data/jobs/j1', TMPDIR: '/data/jobs/j1/tmp' });
    expect(Object.keys(engineEnv('C:\\jobs\\j1', 'win32', { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', API_KEY: 'x' })).sort()).toEqual([
      'HOME',
      'LANG',
      'PATH',
      'SystemRoot',
      'TEMP',
      'TMP',
      'TMPDIR',
      'USERPROFILE',
    ]);
  });
});

describe('invocation', () => {
  const plan = { bwrap: '/usr/bin/bwrap', jobDir: job.jobDir, hide: ['/home/me', '/data'], readOnly: [], gpu: false };

  it('is nice, then bwrap, then Blender', () => {
    const inv = buildInvocation({ blender: '/usr/bin/blender', job, frames: { start: 1, end: 1 }, device: 'CPU', sandbox: plan, platform: 'linux', niceBinary: '/usr/bin/nice' });
    expect(inv.file).toBe('/usr/bin/nice');
    expect(inv.args.slice(0, 3)).toEqual(['-n', '19', '/usr/bin/bwrap']);
    const dd = inv.args.indexOf('--');
    expect(inv.args.slice(dd + 1, dd + 3)).toEqual(['/usr/bin/blender', '--background']);
    expect(inv.cwd).toBe(job.jobDir);
    expect(inv.env.HOME).toBe(job.jobDir);
  });

  it('without a sandbox or nice, is Blender alone', () => {
    const inv = buildInvocation({ blender: 'C:\\Blender\\blender.exe', job, frames: { start: 1, end: 1 }, device: 'CPU', sandbox: null, platform: 'win32' });
    expect(inv.file).toBe('C:\\Blender\\blender.exe');
    expect(inv.args[0]).toBe('--background');
  });
});

describe('bubblewrap arguments', () => {
  const exists = (p: string) => ['/home', '/root', '/run', '/tmp', '/var/tmp', '/mnt', '/home/me', '/data'].includes(p);

  it('hide what exists, parents first and once, bind the job back writable, and cut every tie', () => {
    const args = bwrapArgs(
      { bwrap: '/usr/bin/bwrap', jobDir: '/home/me/.local/share/offhours/jobs/j1', hide: [...defaultHiddenPaths('/home/me'), '/data'], readOnly: ['/home/me/blender-4.2'], gpu: false },
      { exists, listDev: () => [] },
    );
    expect(args).toEqual([
      '--ro-bind', '/', '/',
      '--dev', '/dev',
      '--proc', '/proc',
      '--tmpfs', '/run',
      '--tmpfs', '/tmp',
      '--tmpfs', '/mnt',
      '--tmpfs', '/home',
      '--tmpfs', '/root',
      '--tmpfs', '/data',
      '--tmpfs', '/var/tmp',
      '--ro-bind', '/home/me/blender-4.2', '/home/me/blender-4.2',
      '--bind', '/home/me/.local/share/offhours/jobs/j1', '/home/me/.local/share/offhours/jobs/j1',
      '--chdir', '/home/me/.local/share/offhours/jobs/j1',
      '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
      '--die-with-parent', '--cap-drop', 'ALL', '--',
    ]); // prettier-ignore
    expect(args).not.toContain('--new-session');
  });

  it('bind the GPU device nodes in for GPU renders', () => {
    const args = bwrapArgs({ bwrap: 'b', jobDir: '/j', hide: [], readOnly: [], gpu: true }, { exists: () => true, listDev: () => ['null', 'nvidia0', 'nvidiactl', 'nvidia-uvm', 'dri', 'kfd', 'sda'] });
    const binds = args.flatMap((a, i) => (a === '--dev-bind-try' ? [args[i + 1]] : []));
    expect(binds).toEqual(['/dev/nvidia0', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/dri', '/dev/kfd']);
  });

  it('bind a Blender installed under a hidden directory back in, read-only', () => {
    expect(blenderDirsToExpose('/home/me/blender-4.2/blender', ['/home'], (p) => p)).toEqual(['/home/me/blender-4.2']);
    expect(blenderDirsToExpose('/usr/bin/blender', ['/home'], (p) => p)).toEqual([]);
  });

  it('exist only on Linux', () => {
    expect(findBubblewrap('win32', () => true)).toBeNull();
    expect(findBubblewrap('darwin', () => true)).toBeNull();
    expect(findBubblewrap('linux', (p) => p === '/usr/bin/bwrap')).toBe('/usr/bin/bwrap');
  });
});
