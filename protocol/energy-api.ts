// The agent API for power, tariffs and earnings (UI <-> agent). The figures themselves are defined
// next to their makers (power.ts, tariffs.ts, ledger.ts); this file is the shape of the requests and
// answers. Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { LedgerBy, LedgerGroupBy } from './ledger.js';
import { CalibrationFactor, DEFAULT_PSU_EFFICIENCY, PowerBasis, PowerSnapshot, PsuEfficiency } from './power.js';
import { Currency, DecimalAmount, DeviceId } from './signals.js';
import { DynamicSlot, PriceQuote, TariffId } from './tariffs.js';

/** The energy settings (in Settings, schema v4). */
export const EnergySettings = z
  .object({
    psuEfficiency: PsuEfficiency,
    calibrationFactor: CalibrationFactor,
    /** When the wall-meter calibration was made; null: never (factor 1). */
    calibratedAt: isoDateTime.nullable(),
  })
  .strict();
export type EnergySettings = z.infer<typeof EnergySettings>;

export function defaultEnergySettings(): EnergySettings {
  return { psuEfficiency: DEFAULT_PSU_EFFICIENCY, calibrationFactor: 1, calibratedAt: null };
}

/** The electricity one finished run of a job used, billed at the tariff in force (a ledger entry). */
export const JobEnergy = z
  .object({
    jobId: z.string(),
    /** The job's title when the agent still knows the job. */
    title: z.string().nullable(),
    device: DeviceId,
    from: isoDateTime,
    to: isoDateTime,
    /** Marginal energy at the wall: above the device's idle draw, through the PSU. */
    mwh: z.number().int().min(0),
    basis: PowerBasis,
    /** null when no price was known (no tariff, no flat price). */
    cost: DecimalAmount.nullable(),
    currency: Currency.nullable(),
    tariffId: TariffId.nullable(),
  })
  .strict();
export type JobEnergy = z.infer<typeof JobEnergy>;

/** Expected earnings against the electricity cost for one device, per hour, right now. */
export const HourlyProfit = z
  .object({
    device: DeviceId,
    currency: Currency,
    /** What work on this device pays per hour: from recent jobs (local renders pay 0). null: nothing to go on yet. */
    earnPerHour: DecimalAmount.nullable(),
    /** Marginal watts (measured while working, else estimated) at the current price. null: no price or no power figure. */
    costPerHour: DecimalAmount.nullable(),
    watts: z.number().min(0).nullable(),
    basis: PowerBasis,
    /** How the figures were made, in words. */
    note: z.string(),
  })
  .strict();
export type HourlyProfit = z.infer<typeof HourlyProfit>;

/** `GET /api/v1/power`. */
export const PowerView = z
  .object({
    snapshot: PowerSnapshot,
    settings: EnergySettings,
    /** The electricity price now, from the active tariff (or the schedule's flat price); null: none set. */
    price: PriceQuote.nullable(),
    profit: z.array(HourlyProfit),
    /** The most recent runs first. */
    recentJobs: z.array(JobEnergy).max(100),
  })
  .strict();
export type PowerView = z.infer<typeof PowerView>;

/** `PATCH /api/v1/power/settings`. */
export const EnergySettingsPatch = z
  .object({ psuEfficiency: PsuEfficiency.optional(), calibrationFactor: CalibrationFactor.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'the patch changes nothing' });
export type EnergySettingsPatch = z.infer<typeof EnergySettingsPatch>;

/** `POST /api/v1/power/calibrate`: what a wall meter shows at idle and while a job (the benchmark)
 * runs on `device`. The agent compares it with its own marginal figure for that device, now. */
export const CalibrationRequest = z
  .object({
    device: DeviceId,
    meterIdleWatts: z.number().min(0).max(100_000),
    meterLoadWatts: z.number().min(0).max(100_000),
  })
  .strict()
  .refine((c) => c.meterLoadWatts > c.meterIdleWatts, { message: 'the meter must show more while the benchmark runs than at idle', path: ['meterLoadWatts'] });
export type CalibrationRequest = z.infer<typeof CalibrationRequest>;

/** `POST /api/v1/tariffs/import`: parse a price table for a preview; nothing is stored. */
export const TariffCsvImport = z
  .object({
    csv: z.string().max(16 * 1024 * 1024),
    /** 'minor': prices are in pence/cents. Absent: guessed from the header (Octopus exports are pence). */
    unit: z.enum(['major', 'minor']).optional(),
  })
  .strict();
export type TariffCsvImport = z.infer<typeof TariffCsvImport>;

export const TariffCsvPreview = z
  .object({
    slots: z.array(DynamicSlot),
    /** Each bad row, by its 1-based line number in the file. */
    errors: z.array(z.object({ line: z.number().int().min(1), message: z.string() }).strict()),
    unit: z.enum(['major', 'minor']),
  })
  .strict();
export type TariffCsvPreview = z.infer<typeof TariffCsvPreview>;

/** The query string of `GET /api/v1/earnings` (strings, as a URL carries them). */
export const EarningsQueryParams = z
  .object({
    from: isoDateTime,
    to: isoDateTime,
    groupBy: LedgerGroupBy.default('day'),
    by: LedgerBy.optional(),
    timeZone: z.string().min(1).max(64).optional(),
  })
  .strict();
export type EarningsQueryParams = z.infer<typeof EarningsQueryParams>;
