// What this node tells hubs about itself: devices with a measured benchmark (a device never
// benchmarked is not offered, since hubs price and order by the score), the Blender that renders
// here, the disk offered, and availability per resource from the policy's decision.
import type { Decision, NodeCapabilities, NodeDevice, RenderEngineInfo, ResourceAvailability } from '../../protocol/index.js';

export interface CapabilityInputs {
  /** The render engine and benchmarks; null where this agent runs no jobs. */
  engine: RenderEngineInfo | null;
  /** GPU labels by resource id (`gpu:0` → "NVIDIA GeForce RTX 3080"), as the sensors name them. */
  gpus: ReadonlyMap<string, string>;
  diskOfferedBytes: number;
}

/** "Blender 4.2.3 (hash …)" → "4.2.3"; null when the text has no version in it. */
export function blenderVersion(text: string): string | null {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? null;
}

export function buildCapabilities(inputs: CapabilityInputs): NodeCapabilities {
  const best = new Map<string, NodeDevice>();
  const firstGpu = [...inputs.gpus.entries()][0];
  for (const b of inputs.engine?.benchmarks ?? []) {
    if (!(b.samplesPerSecond > 0)) continue;
    // A benchmark names a backend, not a GPU: with one GPU seen it is that GPU; the worker renders
    // on the first one it finds, so with several it is still the first.
    const cpu = b.device === 'CPU';
    if (!cpu && !firstGpu) continue;
    const id = cpu ? 'cpu' : firstGpu![0];
    const device: NodeDevice = {
      id,
      kind: cpu ? 'cpu' : 'gpu',
      name: (cpu ? 'CPU' : firstGpu![1]).slice(0, 200) || id,
      cyclesBackend: b.device.toLowerCase() as NodeDevice['cyclesBackend'],
      benchmarkSamplesPerS: Math.min(b.samplesPerSecond, 1e9),
    };
    const known = best.get(id);
    if (!known || known.benchmarkSamplesPerS < device.benchmarkSamplesPerS) best.set(id, device);
  }
  const version = inputs.engine?.environment ? blenderVersion(inputs.engine.environment.blender.version) : null;
  return {
    devices: [...best.values()].sort((a, b) => a.id.localeCompare(b.id)),
    engines: version ? [{ name: 'blender', version }] : [],
    diskOfferedBytes: Math.max(0, Math.min(Math.floor(inputs.diskOfferedBytes), 2 ** 53)),
    // The protocol needs a floor; prices are not settable yet, so zero says "no floor" honestly
    // rather than inventing one.
    priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '0', storagePerGiBDay: '0' },
  };
}

const RESOURCE_ID = /^[A-Za-z0-9:._-]{1,64}$/;

/** Each resource's state for the hub: run or limit with new work allowed is available; the same
 * without new work is drain ("finish current"); anything else is paused. */
export function availabilityOf(decision: Decision | null): ResourceAvailability[] {
  if (!decision) return [];
  return decision.resources
    .filter((r) => RESOURCE_ID.test(r.resource))
    .slice(0, 64)
    .map((r) => {
      const running = r.state === 'running' || r.state === 'limited';
      return { resource: r.resource, state: running ? (r.newWork ? 'available' : 'draining') : 'paused' };
    });
}
