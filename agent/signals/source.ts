// A signal source reads one kind of machine state (a sensor, the process list, a D-Bus monitor)
// and publishes readings to the agent's signal store. Sources never block the event loop: they
// stream from a long-running child process, read small files, or poll with async calls.
import type { DeviceId, Policy, ReadingUpdate, SignalName } from '../../protocol/index.js';
import type { Logger } from '../logger.js';

export interface SignalSink {
  /** Readings from one source; `maxAgeMs` is how long they stay fresh without a new reading. */
  publish(source: string, readings: ReadingUpdate[], maxAgeMs: number): void;
}

export interface Detector {
  signal: SignalName;
  available: boolean;
  /** How this platform gets it, or why it cannot, in words for the Schedule page. */
  how: string;
}

export interface DiscoveredDevice {
  id: DeviceId;
  kind: 'gpu';
  label: string;
}

export interface SourceContext {
  sink: SignalSink;
  log: Logger;
  /** Pids of our own workers and engines, so their load is not counted as foreign. */
  ownPids: () => ReadonlySet<number>;
  /** The user's game list and the launcher children they said are not games. */
  games: () => Policy['games'];
  now: () => Date;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
}

export interface SignalSource {
  readonly name: string;
  start(ctx: SourceContext): void | Promise<void>;
  stop(): void | Promise<void>;
  detectors(): Detector[];
  /** GPUs this source found (nvidia-smi, hwmon). */
  devices?(): DiscoveredDevice[];
  /** Process names seen recently (the process-list source), offered as game-list suggestions. */
  processesSeen?(): string[];
}
