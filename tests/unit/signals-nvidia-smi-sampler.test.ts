// The nvidia-smi stream and the GPU source, against a fake `nvidia-smi` (a shell script put first
// on PATH) that streams synthetic lines as a real child process: there is no GPU on this machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NvidiaGpuSource } from '../../agent/signals/nvidia-smi.js';
import { NO_NVIDIA_NOTE, NvidiaSmiSampler, type GpuSamplerEvent } from '../../agent/signals/nvidia-smi-sampler.js';
import { useTempDirs } from '../support/tmp.js';
import { fakeExecutable, isAlive, recordingSink, testContext, waitFor } from './signals-support.js';

const tempDir = useTempDirs();

// The fake: `pmon` and `--query-compute-apps` print files; the stream mode comes from a file, so a
// test can change what the next (re)start does.
const FAKE = `
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
case "$1" in
  pmon) cat "$dir/pmon.txt" 2>/dev/null; exit $(cat "$dir/pmon.rc" 2>/dev/null || echo 0) ;;
  --query-compute-apps=*) cat "$dir/apps.txt" 2>/dev/null; exit 0 ;;
esac
echo $$ > "$dir/pid"
case "$(cat "$dir/mode")" in
  stream) while :; do cat "$dir/lines.txt"; sleep 0.05; done ;;
  split) printf '0, Split GPU, GPU-s, 5'; sleep 0.2; printf '0, 10, 30.5, 100\\n'; while :; do sleep 1; done ;;
  nodriver) echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; exit 9 ;;
  die) exit 3 ;;
  hang) printf '0, Hang GPU, GPU-h, 40, 1, 20, 5\\n'; sleep 30 & echo $! > "$dir/sleep.pid"; wait ;;
esac
`;

function setup(mode: string, lines = '0, Fake GPU 0, GPU-a, 61, 90, 250.5, 8000\n1, Fake GPU 1, GPU-b, 45, 30, [N/A], 300\n') {
  const dir = tempDir();
  fakeExecutable(dir, 'nvidia-smi', FAKE);
  writeFileSync(join(dir, 'mode'), mode);
  writeFileSync(join(dir, 'lines.txt'), lines);
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  const calls = () => {
    try {
      return readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };
  return { dir, env, calls };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function collect(sampler: NvidiaSmiSampler): GpuSamplerEvent[] {
  const events: GpuSamplerEvent[] = [];
  cleanups.push(sampler.subscribe((e) => events.push(e)));
  return events;
}

describe('nvidia-smi sampler', () => {
  it('runs one long-lived child with the -lms query and streams parsed samples', async () => {
    const { env, calls } = setup('stream');
    const sampler = new NvidiaSmiSampler({ env, intervalMs: 1000 });
    const events = collect(sampler);
    await waitFor(() => events.filter((e) => e.type === 'sample').length >= 6, 'several samples');
    expect(calls()).toEqual([`--query-gpu=index,name,uuid,temperature.gpu,utilization.gpu,power.draw,memory.used --format=csv,noheader,nounits -lms 1000`]);
    expect(sampler.state).toBe('running');
    expect(sampler.latest().map((l) => l.sample)).toEqual([
      { index: 0, name: 'Fake GPU 0', uuid: 'GPU-a', temperatureC: 61, utilizationPercent: 90, powerDrawW: 250.5, memoryUsedMiB: 8000 },
      { index: 1, name: 'Fake GPU 1', uuid: 'GPU-b', temperatureC: 45, utilizationPercent: 30, powerDrawW: null, memoryUsedMiB: 300 },
    ]);
  });

  it('shares one child between subscribers (GPU source and energy) and stops it after the last', async () => {
    const { dir, env, calls } = setup('stream');
    const sampler = new NvidiaSmiSampler({ env });
    const a: GpuSamplerEvent[] = [];
    const b: GpuSamplerEvent[] = [];
    const offA = sampler.subscribe((e) => a.push(e));
    const offB = sampler.subscribe((e) => b.push(e));
    await waitFor(() => a.length >= 2 && b.length >= 2, 'samples for both');
    expect(calls()).toHaveLength(1);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    offA();
    expect(isAlive(pid)).toBe(true);
    offB();
    await waitFor(() => !isAlive(pid), 'the child to exit');
    expect(sampler.state).toBe('stopped');
  });

  it('joins a line the pipe delivered in two pieces', async () => {
    const { env } = setup('split');
    const sampler = new NvidiaSmiSampler({ env });
    const events = collect(sampler);
    const e = await waitFor(() => events.find((x) => x.type === 'sample'), 'the joined sample');
    expect(e).toMatchObject({ sample: { name: 'Split GPU', temperatureC: 50, memoryUsedMiB: 100 } });
  });

  it('says "no NVIDIA driver" when nvidia-smi does not exist, and does not retry', async () => {
    const dir = tempDir();
    const sampler = new NvidiaSmiSampler({ env: { ...process.env, PATH: dir }, minRestartMs: 10 });
    const events = collect(sampler);
    await waitFor(() => events.some((e) => e.type === 'unavailable'), 'unavailable');
    expect(events).toEqual([{ type: 'unavailable', note: NO_NVIDIA_NOTE }]);
    expect(sampler.state).toBe('unavailable');
    // A later subscriber hears it at once.
    const late: GpuSamplerEvent[] = [];
    cleanups.push(sampler.subscribe((e) => late.push(e)));
    expect(late).toEqual([{ type: 'unavailable', note: NO_NVIDIA_NOTE }]);
  });

  it('reports a missing driver in words when nvidia-smi runs but cannot reach it', async () => {
    const { env } = setup('nodriver');
    const sampler = new NvidiaSmiSampler({ env, minRestartMs: 10, maxRestartMs: 60_000 });
    const events = collect(sampler);
    const e = await waitFor(() => events.find((x) => x.type === 'unavailable'), 'unavailable');
    expect(e).toEqual({ type: 'unavailable', note: expect.stringMatching(/cannot reach the NVIDIA driver/) });
    expect(sampler.unavailableNote).toMatch(/driver/);
  });

  it('restarts a child that dies, backing off exponentially', async () => {
    const { dir, env, calls } = setup('die');
    const sampler = new NvidiaSmiSampler({ env, minRestartMs: 20, maxRestartMs: 1000 });
    const events = collect(sampler);
    await waitFor(() => events.filter((e) => e.type === 'down').length >= 4, 'four restarts');
    const delays = events.flatMap((e) => (e.type === 'down' ? [e.retryInMs] : []));
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 160]);
    expect(events.find((e) => e.type === 'down')).toMatchObject({ note: expect.stringContaining('exit 3') });
    // Once it streams again the backoff starts over.
    writeFileSync(join(dir, 'mode'), 'stream');
    await waitFor(() => events.some((e) => e.type === 'sample'), 'samples after a restart');
    expect(calls().length).toBeGreaterThanOrEqual(5);
    expect(sampler.state).toBe('running');
  });

  it('kills and restarts a child that goes quiet', async () => {
    const { dir, env } = setup('hang');
    const sampler = new NvidiaSmiSampler({ env, stallMs: 300, minRestartMs: 20 });
    const events = collect(sampler);
    await waitFor(() => events.some((e) => e.type === 'down'), 'the stall to be noticed');
    expect(events[0]).toMatchObject({ type: 'sample' });
    expect(events.find((e) => e.type === 'down')).toMatchObject({ note: expect.stringContaining('SIGKILL') });
    writeFileSync(join(dir, 'mode'), 'stream');
    // The killed script's own child still holds the pipe: the sampler must not wait for it.
    await waitFor(() => events.some((e, i) => e.type === 'sample' && i > 0), 'samples after the restart');
    process.kill(Number(readFileSync(join(dir, 'sleep.pid'), 'utf8')), 'SIGKILL');
  });
});

describe('NVIDIA GPU source', () => {
  async function started(mode: string, own: number[], files: Record<string, string>) {
    const s = setup(mode);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(s.dir, name), text);
    const sink = recordingSink();
    const sampler = new NvidiaSmiSampler({ env: s.env });
    const source = new NvidiaGpuSource({ sampler, processPollMs: 50 });
    await source.start(testContext({ sink, env: s.env, ownPids: () => new Set(own) }));
    cleanups.push(() => source.stop());
    return { ...s, sink, source, sampler };
  }

  it('publishes temperatures and splits the load with pmon (own render 60 %, a game 25 %)', async () => {
    const pmon = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'signals', 'pmon-synthetic.txt'), 'utf8');
    const { sink, source, calls } = await started('stream', [4242], { 'pmon.txt': pmon });
    await waitFor(() => sink.last('gpuForeignLoad', 'gpu:0'), 'a foreign-load reading');
    expect(sink.last('gpuTemperature', 'gpu:0')).toMatchObject({ value: 61, maxAgeMs: 10_000, source: 'nvidia-smi' });
    expect(sink.last('gpuTemperature', 'gpu:1')).toMatchObject({ value: 45 });
    expect(sink.last('gpuForeignLoad', 'gpu:0')).toMatchObject({ value: 25 });
    // Nothing of ours on GPU 1: all its utilization is someone else's.
    expect(sink.last('gpuForeignLoad', 'gpu:1')).toMatchObject({ value: 30 });
    expect(source.devices()).toEqual([
      { id: 'gpu:0', kind: 'gpu', label: 'Fake GPU 0' },
      { id: 'gpu:1', kind: 'gpu', label: 'Fake GPU 1' },
    ]);
    expect(calls()).toContain('pmon -c 1 -s u');
    expect(source.detectors().map((d) => [d.signal, d.available])).toEqual([
      ['gpuTemperature', true],
      ['gpuForeignLoad', true],
    ]);
  });

  it('asks for no process list while nothing of ours runs: all load is foreign', async () => {
    const { sink, calls } = await started('stream', [], { 'pmon.txt': 'should not be read' });
    await waitFor(() => sink.published.length >= 10, 'ten rounds of samples');
    expect(sink.last('gpuForeignLoad', 'gpu:0')).toMatchObject({ value: 90 });
    expect(calls().filter((c) => !c.startsWith('--query-gpu'))).toEqual([]);
  });

  it('falls back to --query-compute-apps where pmon is not supported', async () => {
    const { sink, source, calls } = await started('stream', [4242], {
      'pmon.txt': 'pmon is not supported on this platform\n',
      'pmon.rc': '2',
      'apps.txt': 'GPU-a, 4242, 8000\n',
    });
    await waitFor(() => calls().some((c) => c.startsWith('--query-compute-apps')), 'the fallback query');
    await waitFor(() => sink.last('gpuForeignLoad', 'gpu:0')?.value === 0, 'only our compute process on GPU 0 -> 0');
    expect(sink.last('gpuForeignLoad', 'gpu:1')).toMatchObject({ value: 30 });
    expect(source.detectors()[1]!.how).toMatch(/compute processes only/);
  });

  it('marks the GPU signals of a machine without NVIDIA as not available, through its detectors', async () => {
    const dir = tempDir();
    const sink = recordingSink();
    const env = { ...process.env, PATH: dir };
    const source = new NvidiaGpuSource({ sampler: new NvidiaSmiSampler({ env }) });
    await source.start(testContext({ sink, env }));
    cleanups.push(() => source.stop());
    await waitFor(() => source.detectors()[0]!.available === false, 'the detector to say why');
    expect(source.detectors()).toEqual([
      { signal: 'gpuTemperature', available: false, how: `NVIDIA: ${NO_NVIDIA_NOTE}` },
      { signal: 'gpuForeignLoad', available: false, how: `NVIDIA: ${NO_NVIDIA_NOTE}` },
    ]);
    expect(source.devices()).toEqual([]);
    // No GPU, so no per-device reading to publish.
    expect(sink.published).toEqual([]);
  });
});
