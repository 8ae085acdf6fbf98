// Power draw per device, as the agent measures or estimates it, for GET /api/v1/power and the
// dashboard. Watts are floats (a reading, not money); energy that gets billed leaves the agent as
// integer milliwatt-hours (see money.ts). Every figure says whether it was measured by a sensor or
// estimated from a table, because the user is told which costs are real. Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { DeviceId } from './signals.js';

export const PowerBasis = z.enum(['measured', 'estimated']);
export type PowerBasis = z.infer<typeof PowerBasis>;

/** Where a figure came from: a sensor, or the TDP table when no sensor could be read. */
export const PowerSourceKind = z.enum(['nvidia-smi', 'hwmon', 'rapl', 'estimate']);
export type PowerSourceKind = z.infer<typeof PowerSourceKind>;

/** Sensors report device power, not wall power: the PSU loses a share on the way. 0.9 is a fair
 * middle for 80 PLUS Gold/Platinum units at partial load; the user can change it. */
export const DEFAULT_PSU_EFFICIENCY = 0.9;

/** Below this no real PSU works (and a typo such as 0.09 for 0.9 is caught). */
export const PsuEfficiency = z.number().min(0.5).max(1);
/** From a wall-meter calibration; outside this range the calibration was wrong, not the sensor. */
export const CalibrationFactor = z.number().min(0.2).max(5);

const Watts = z.number().min(0).max(100_000);

export const PowerReading = z
  .object({
    device: DeviceId,
    /** The GPU model, "CPU package", "AMD GPU (0000:03:00.0)". */
    name: z.string().min(1).max(200),
    watts: Watts,
    basis: PowerBasis,
    source: PowerSourceKind,
    at: isoDateTime,
    /** What the device draws while none of our work runs, by the same sensor; null until learned. */
    idleBaselineWatts: Watts.nullable(),
    /** Why a figure is estimated, in words ("RAPL is root-only on this kernel"). */
    note: z.string().max(300).optional(),
  })
  .strict();
export type PowerReading = z.infer<typeof PowerReading>;

export const PowerSnapshot = z
  .object({
    devices: z.array(PowerReading).max(64),
    psuEfficiency: PsuEfficiency,
    calibrationFactor: CalibrationFactor,
    /** Sensors that could not be read, and why (shown once, not per reading). */
    notes: z.array(z.string().max(300)).max(20),
  })
  .strict();
export type PowerSnapshot = z.infer<typeof PowerSnapshot>;

/** The user's power settings. */
export const PowerSettings = z
  .object({
    psuEfficiency: PsuEfficiency.default(DEFAULT_PSU_EFFICIENCY),
    calibrationFactor: CalibrationFactor.default(1),
  })
  .strict();
export type PowerSettings = z.infer<typeof PowerSettings>;

/** What the user reads off a wall meter: before the benchmark and while it runs. */
export const CalibrationInput = z
  .object({
    meterIdleWatts: z.number().min(0).max(100_000),
    meterLoadWatts: z.number().min(0).max(100_000),
  })
  .strict()
  .refine((c) => c.meterLoadWatts > c.meterIdleWatts, { message: 'the meter must show more while the benchmark runs than at idle' });
export type CalibrationInput = z.infer<typeof CalibrationInput>;
