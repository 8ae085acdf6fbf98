// Which sources each platform and mode gets, the platform table, the shared helpers (poll loop,
// command runner), and the sources running together: a fake nvidia-smi on PATH and a fake sysfs
// with an AMD card, to see the AMD GPU numbered after the NVIDIA one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDefaultSources, PLATFORM_DETECTORS, platformDetectors, platformDetectorsMarkdown } from '../../agent/signals/default-sources.js';
import { HwmonSource } from '../../agent/signals/hwmon.js';
import { NvidiaGpuSource } from '../../agent/signals/nvidia-smi.js';
import { NvidiaSmiSampler } from '../../agent/signals/nvidia-smi-sampler.js';
import { startPollLoop } from '../../agent/signals/poll-loop.js';
import { maxAgeFor } from '../../agent/signals/readings.js';
import { runCommand } from '../../agent/signals/run-command.js';
import type { SignalSource } from '../../agent/signals/source.js';
import { SignalName } from '../../protocol/index.js';
import { useTempDirs } from '../support/tmp.js';
import { fakeExecutable, recordingSink, silentLog, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const names = (sources: SignalSource[]) => sources.map((s) => s.name);

describe('createDefaultSources', () => {
  it.each([
    ['linux', false, {}, ['nvidia-smi', 'hwmon', 'battery', 'cpu-load', 'games', 'dbus-idle']],
    ['linux', true, { XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' }, ['nvidia-smi', 'hwmon', 'battery', 'cpu-load', 'games', 'dbus-idle']],
    ['linux', true, { XDG_SESSION_TYPE: 'wayland' }, ['nvidia-smi', 'hwmon', 'battery', 'cpu-load', 'games', 'dbus-idle']],
    ['win32', true, {}, ['nvidia-smi', 'cpu-temperature', 'battery', 'cpu-load', 'games']],
    ['win32', false, {}, ['nvidia-smi', 'cpu-temperature', 'battery', 'cpu-load', 'games']],
    ['darwin', true, {}, ['cpu-temperature', 'battery', 'cpu-load', 'games']],
  ] as const)('%s, electron %s, %j', (platform, electron, env, expected) => {
    expect(names(createDefaultSources({ platform, electron, env }))).toEqual(expected);
  });

  it('leaves onBattery to the Electron shell where it has events (macOS, Windows), not on Linux', () => {
    const battery = (platform: NodeJS.Platform, electron: boolean) => createDefaultSources({ platform, electron, env: {} }).find((s) => s.name === 'battery')!;
    expect(battery('win32', true).detectors().map((d) => d.signal)).toEqual(['batteryPercent']);
    expect(battery('win32', false).detectors().map((d) => d.signal)).toEqual(['onBattery', 'batteryPercent']);
    expect(battery('linux', true).detectors().map((d) => d.signal)).toEqual(['onBattery', 'batteryPercent']);
  });

  it('uses the sampler it is given, so energy and temperatures share one nvidia-smi', () => {
    const gpuSampler = new NvidiaSmiSampler();
    const nvidia = createDefaultSources({ platform: 'linux', electron: false, env: {}, gpuSampler })[0] as NvidiaGpuSource;
    expect(nvidia.sampler).toBe(gpuSampler);
  });

  it('numbers an AMD GPU after the NVIDIA ones, and not before nvidia-smi has reported', async () => {
    const bin = tempDir();
    fakeExecutable(bin, 'nvidia-smi', `case "$1" in pmon|--query-compute-apps=*) exit 0 ;; esac\nwhile :; do echo '0, Fake NVIDIA, GPU-n, 55, 10, 100, 1000'; sleep 0.05; done\n`);
    const sys = tempDir();
    mkdirSync(join(sys, 'class', 'hwmon', 'hwmon0'), { recursive: true });
    writeFileSync(join(sys, 'class', 'hwmon', 'hwmon0', 'name'), 'amdgpu\n');
    writeFileSync(join(sys, 'class', 'hwmon', 'hwmon0', 'temp1_input'), '47000\n');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const all = createDefaultSources({ platform: 'linux', electron: true, env: { XDG_SESSION_TYPE: 'x11', DISPLAY: ':0', PATH: env.PATH }, sysRoot: sys });
    // Only the two GPU sources, with a short hwmon period for the test.
    const nvidia = all[0] as NvidiaGpuSource;
    const hwmon = new HwmonSource({ sysRoot: sys, periodMs: 50, gpuIndexOffset: () => nvidia.gpuCount() });
    const sink = recordingSink();
    for (const s of [nvidia, hwmon]) {
      await s.start(testContext({ sink, env }));
      stops.push(() => s.stop());
    }
    await waitFor(() => sink.last('gpuTemperature', 'gpu:1'), 'the AMD GPU as gpu:1');
    expect(sink.last('gpuTemperature', 'gpu:0')).toMatchObject({ value: 55, source: 'nvidia-smi' });
    expect(sink.last('gpuTemperature', 'gpu:1')).toMatchObject({ value: 47, source: 'hwmon' });
    // gpu:0 never came from hwmon.
    expect(sink.published.filter((p) => p.source === 'hwmon').flatMap((p) => p.readings).filter((r) => r.device === 'gpu:0')).toEqual([]);
    expect([...nvidia.devices(), ...hwmon.devices()].map((d) => d.id)).toEqual(['gpu:0', 'gpu:1']);
  });
});

describe('the platform table', () => {
  it('has one row per signal, in the protocol order', () => {
    expect(PLATFORM_DETECTORS.map((r) => r.signal)).toEqual(SignalName.options);
  });
  it('differs between the app and the headless agent where Electron gives the signal', () => {
    const app = platformDetectors('win32', true);
    const headless = platformDetectors('win32', false);
    expect(app.find((d) => d.signal === 'idleSeconds')).toEqual({ signal: 'idleSeconds', available: true, how: 'Electron powerMonitor' });
    expect(headless.find((d) => d.signal === 'idleSeconds')?.available).toBe(false);
    expect(platformDetectors('darwin', true).find((d) => d.signal === 'thermalState')?.available).toBe(true);
    expect(platformDetectors('linux', true).find((d) => d.signal === 'fullscreen')).toEqual({ signal: 'fullscreen', available: false, how: 'Linux exposes no reliable full-screen state to an unprivileged process' });
  });
  it('renders as a Markdown table for the README', () => {
    const md = platformDetectorsMarkdown().split('\n');
    expect(md[0]).toBe('| signal | Linux | Windows | macOS |');
    expect(md).toHaveLength(2 + PLATFORM_DETECTORS.length);
    expect(md.find((l) => l.startsWith('| fullscreen'))).toContain('not available: Windows reports full-screen apps through SHQueryUserNotificationState');
  });
});

describe('poll loop', () => {
  it('never overlaps ticks, survives a failing tick, and waits for the running one on stop', async () => {
    let running = 0;
    let maxRunning = 0;
    let ticks = 0;
    const warnings: string[] = [];
    const log = { ...silentLog, warn: (m: string) => warnings.push(m) };
    let finished: boolean | undefined;
    const loop = startPollLoop({
      name: 'test',
      periodMs: 1,
      log,
      tick: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        ticks++;
        await new Promise((r) => setTimeout(r, 20));
        running--;
        finished = true;
        if (ticks === 2) throw new Error('boom');
      },
    });
    // Stop while a tick is running: stop() must wait for it.
    await waitFor(() => ticks >= 5 && running === 1, 'five ticks, one in progress');
    finished = false;
    await loop.stop();
    const after = ticks;
    expect(maxRunning).toBe(1);
    expect(warnings).toEqual(['signal source test: read failed']);
    expect(running).toBe(0);
    expect(finished).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(ticks).toBe(after);
  });

  it('freshness is three periods, at least 10 s', () => {
    expect(maxAgeFor(2_000)).toBe(10_000);
    expect(maxAgeFor(5_000)).toBe(15_000);
    expect(maxAgeFor(30_000)).toBe(90_000);
  });
});

describe('run a command', () => {
  it('tells not installed, failed and timed out apart', async () => {
    const dir = tempDir();
    const slow = fakeExecutable(dir, 'slow', 'exec sleep 5\n');
    const fails = fakeExecutable(dir, 'fails', 'echo "bad thing" >&2; exit 4\n');
    const fine = fakeExecutable(dir, 'fine', 'echo "$1"\n');
    expect(await runCommand(join(dir, 'missing'), [])).toMatchObject({ ok: false, reason: 'not-found' });
    expect(await runCommand(fails, [])).toMatchObject({ ok: false, reason: 'failed', code: 4, stderr: 'bad thing\n' });
    expect(await runCommand(slow, [], { timeoutMs: 100 })).toMatchObject({ ok: false, reason: 'timeout' });
    expect(await runCommand(fine, ['hello'])).toEqual({ ok: true, stdout: 'hello\n', stderr: '' });
  });
});
