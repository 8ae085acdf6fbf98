// Signals: what the agent knows about the machine and its user, each with a source and a time.
// Three ways of not knowing are kept apart: not available on this machine, stale (the source
// stopped answering) and unknown (not read yet). Pure: shared by the agent, the shell and the UI.
import { z } from 'zod';
import { isoDateTime } from './common.js';

/** A device a resource or reading belongs to: `cpu`, `disk`, or `gpu:<index>`. */
export const DeviceId = z.string().regex(/^(cpu|disk|gpu:\d{1,2})$/, 'a device is cpu, disk or gpu:<index>');
export type DeviceId = z.infer<typeof DeviceId>;

/** A decimal money amount as text (no floating point money), e.g. "0.2450"; may be negative. */
export const DecimalAmount = z.string().regex(/^-?\d{1,9}(\.\d{1,6})?$/, 'a decimal amount such as 0.30');
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'a three-letter currency code such as EUR');
export const Price = z.object({ currency: Currency, perKwh: DecimalAmount }).strict();
export type Price = z.infer<typeof Price>;

export const GameSeen = z
  .object({
    /** The process or game name as shown to the user, e.g. "Cyberpunk2077.exe". */
    name: z.string().min(1).max(200),
    pid: z.number().int().positive().optional(),
    /** How we know it is a game. */
    via: z.enum(['steam', 'launcher', 'user-list', 'fullscreen']),
  })
  .strict();
export type GameSeen = z.infer<typeof GameSeen>;

export const ThermalState = z.enum(['nominal', 'fair', 'serious', 'critical']);

/** Every signal by name, with the type of its value. Device-specific ones carry a device. */
export const SIGNAL_VALUES = {
  idleSeconds: z.number().min(0).max(10 * 365 * 86_400),
  screenLocked: z.boolean(),
  onBattery: z.boolean(),
  batteryPercent: z.number().min(0).max(100),
  cpuTemperature: z.number().min(-40).max(150),
  gpuTemperature: z.number().min(-40).max(150),
  /** Load not caused by our own workers, in percent of the device. */
  cpuForeignLoad: z.number().min(0).max(100),
  gpuForeignLoad: z.number().min(0).max(100),
  gamesRunning: z.array(GameSeen).max(200),
  fullscreen: z.boolean(),
  /** macOS thermal pressure (Electron powerMonitor thermal-state-change). */
  thermalState: ThermalState,
  /** CPU speed limit in percent (Electron speed-limit-change; below 100 = throttled). */
  speedLimit: z.number().min(0).max(100),
  /** The system is about to sleep (true) or has resumed (false). */
  suspended: z.boolean(),
  price: Price,
  /** What work on the device pays and what its electricity costs, per hour (the profit guard). */
  hourlyNet: z.object({ currency: Currency, earnPerHour: DecimalAmount, costPerHour: DecimalAmount }).strict(),
} as const;

export type SignalName = keyof typeof SIGNAL_VALUES;
export const SignalName = z.enum(Object.keys(SIGNAL_VALUES) as [SignalName, ...SignalName[]]);
export type SignalValue<N extends SignalName> = z.infer<(typeof SIGNAL_VALUES)[N]>;

/** Signals that belong to one device and need `device`. */
export const DEVICE_SIGNALS: ReadonlySet<SignalName> = new Set<SignalName>(['gpuTemperature', 'gpuForeignLoad', 'hourlyNet']);

export const SignalState = z.enum(['ok', 'not_available', 'stale', 'unknown']);
export type SignalState = z.infer<typeof SignalState>;

/** The agent's view of one signal. */
export const SignalReading = z.object({
  name: SignalName,
  device: DeviceId.optional(),
  state: SignalState,
  value: z.unknown().nullable(),
  source: z.string().max(100),
  /** When it was last read; null when never. */
  readAt: isoDateTime.nullable(),
  /** Older than this and the reading is stale. */
  maxAgeMs: z.number().int().positive(),
  /** Why it is not available, in words ("no GPU temperature sensor on this machine"). */
  note: z.string().max(300).optional(),
});
export type SignalReading = z.infer<typeof SignalReading>;

/** Key of a reading in a snapshot: `name` or `name@device`. */
export function signalKey(name: SignalName, device?: string): string {
  return device === undefined ? name : `${name}@${device}`;
}

export type SignalSnapshot = Readonly<Record<string, SignalReading>>;

const SourceName = z.string().regex(/^[a-z][a-z0-9.-]{0,60}$/, 'a source is a short lowercase name such as electron.power-monitor');

const ReadingUpdate = z
  .object({
    name: SignalName,
    device: DeviceId.optional(),
    value: z.unknown().optional(),
    /** Set instead of a value when this machine cannot give this signal. */
    notAvailable: z.literal(true).optional(),
    note: z.string().max(300).optional(),
    at: isoDateTime.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (DEVICE_SIGNALS.has(r.name) && r.device === undefined) ctx.addIssue({ code: 'custom', path: ['device'], message: `${r.name} needs a device` });
    if (!DEVICE_SIGNALS.has(r.name) && r.device !== undefined) ctx.addIssue({ code: 'custom', path: ['device'], message: `${r.name} is not per device` });
    if (r.notAvailable && r.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'give a value or notAvailable, not both' });
    if (!r.notAvailable) {
      if (r.value === undefined) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'a reading needs a value (or notAvailable: true)' });
        return;
      }
      const parsed = SIGNAL_VALUES[r.name].safeParse(r.value);
      if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['value', ...issue.path], message: issue.message });
    }
  });
export type ReadingUpdate = z.infer<typeof ReadingUpdate>;

/** `POST /api/v1/signals`: readings from one source (the Electron shell, a script, a test). */
export const SignalUpdate = z
  .object({
    source: SourceName,
    /** How long these readings stay fresh; the shell sends idle time every few seconds. */
    maxAgeMs: z.number().int().min(1_000).max(24 * 3600_000).optional(),
    readings: z.array(ReadingUpdate).min(1).max(64),
  })
  .strict();
export type SignalUpdate = z.infer<typeof SignalUpdate>;

/** `GET /api/v1/signals`. */
export const SignalsView = z.object({
  readings: z.array(SignalReading),
  /** Process names seen running recently, offered as suggestions for the game list. */
  processesSeen: z.array(z.string()),
  /** Which platform detectors exist here, in words, for the Schedule page. */
  detectors: z.array(z.object({ signal: SignalName, available: z.boolean(), how: z.string() })),
});
export type SignalsView = z.infer<typeof SignalsView>;

/** Answer to `POST /api/v1/signals`. */
export const SignalsAccepted = z.object({ accepted: z.number().int().nonnegative() }).strict();
export type SignalsAccepted = z.infer<typeof SignalsAccepted>;
