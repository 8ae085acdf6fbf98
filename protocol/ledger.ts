// The ledger: what sharing earned, what the electricity cost, what was paid out. Entries cross
// boundaries as these schemas (money as decimal text, energy as integer mWh); the agent keeps them
// in an append-only log and answers reports from small hourly aggregates. Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { Currency, DecimalAmount, DeviceId } from './signals.js';

/** Unique per entry and the idempotency key: appending an id the ledger already holds does nothing. */
export const LedgerEntryId = z.string().min(1).max(200);
const Name = z.string().min(1).max(100);
/** A token symbol such as USDC or FIL: not a fiat currency, so never mixed with one. */
export const TokenSymbol = z.string().regex(/^[A-Za-z0-9.$_-]{1,16}$/, 'a token symbol such as USDC');

export const FiatValue = z.object({ currency: Currency, amount: DecimalAmount }).strict();
export type FiatValue = z.infer<typeof FiatValue>;

export const EarningProof = z
  .object({
    /** local: a job run for the user (earns 0); voucher: signed by a hub; receipt: an on-chain reference. */
    kind: z.enum(['local', 'voucher', 'receipt']),
    ref: z.string().max(500),
    status: z.enum(['unverified', 'verified', 'failed']),
  })
  .strict();
export type EarningProof = z.infer<typeof EarningProof>;

export const EarningEntry = z
  .object({
    type: z.literal('earning'),
    id: LedgerEntryId,
    at: isoDateTime,
    network: Name,
    jobId: z.string().min(1).max(200).nullable(),
    device: DeviceId,
    amount: DecimalAmount,
    token: TokenSymbol,
    /** What the amount was worth when earned; absent when no price was known, never guessed. */
    fiatValue: FiatValue.nullable().optional(),
    proof: EarningProof,
  })
  .strict();
export type EarningEntry = z.infer<typeof EarningEntry>;

export const EnergyEntry = z
  .object({
    type: z.literal('energy'),
    id: LedgerEntryId,
    /** End of the measured span; the entry is counted in the hour that contains `from`. */
    at: isoDateTime,
    from: isoDateTime,
    /** Optional so energy can be grouped by network; null or absent reads as not attributable. */
    network: Name.nullable().optional(),
    jobId: z.string().min(1).max(200).nullable(),
    device: DeviceId,
    mwh: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    basis: z.enum(['measured', 'estimated']),
    cost: DecimalAmount,
    currency: Currency,
    tariffId: z.string().min(1).max(100).nullable(),
  })
  .strict();
export type EnergyEntry = z.infer<typeof EnergyEntry>;

export const PayoutEntry = z
  .object({
    type: z.literal('payout'),
    id: LedgerEntryId,
    at: isoDateTime,
    network: Name,
    token: TokenSymbol,
    amount: DecimalAmount,
    txRef: z.string().min(1).max(500),
  })
  .strict();
export type PayoutEntry = z.infer<typeof PayoutEntry>;

export const LedgerEntry = z.discriminatedUnion('type', [EarningEntry, EnergyEntry, PayoutEntry]);
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export const LedgerGroupBy = z.enum(['hour', 'day', 'month']);
export const LedgerBy = z.enum(['network', 'device', 'job']);

export const EarningsQuery = z
  .object({
    /** Inclusive start and exclusive end; hours are counted by the hour they start in. */
    from: isoDateTime,
    to: isoDateTime,
    groupBy: LedgerGroupBy,
    by: LedgerBy.optional(),
    /** IANA zone whose local days and months bound the buckets; UTC when absent. */
    timeZone: z.string().min(1).max(64).optional(),
  })
  .strict();
export type EarningsQuery = z.infer<typeof EarningsQuery>;

/** Amounts keyed by token symbol or currency code. */
const Amounts = z.record(z.string(), DecimalAmount);

export const EarningsFigures = z
  .object({
    /** Everything earned, per token, valued or not. */
    gross: Amounts,
    /** The fiat value of the earnings that had one, per currency. */
    fiatValue: Amounts,
    /** The part of `gross` with no fiat value, per token: it is left out of `net`, not guessed. */
    unvalued: Amounts,
    unvaluedCount: z.number().int().min(0),
    energyCost: Amounts,
    energyMwh: z.number().int().min(0),
    /** fiatValue - energyCost, per currency. */
    net: Amounts,
    payouts: Amounts,
    earnings: z.number().int().min(0),
  })
  .strict();
export type EarningsFigures = z.infer<typeof EarningsFigures>;

/** The key a bucket gets when the query has no `by`, or an entry has nothing to group it by. */
export const ALL_KEY = 'all';
export const NONE_KEY = '(none)';

export const EarningsBucket = EarningsFigures.extend({
  /** Start of the bucket (local midnight or month start, as a UTC instant). */
  start: isoDateTime,
  /** Local label: `2026-03-29T01` (hour), `2026-03-29` (day) or `2026-03` (month). */
  label: z.string(),
  key: z.string(),
}).strict();
export type EarningsBucket = z.infer<typeof EarningsBucket>;

export const EarningsReport = z
  .object({
    query: EarningsQuery,
    buckets: z.array(EarningsBucket),
    totals: EarningsFigures,
    /**
     * False when the zone's offset is not a whole number of hours in the range: buckets are built
     * from UTC hours, so a local day then starts up to an hour early or late.
     */
    hourAligned: z.boolean(),
  })
  .strict();
export type EarningsReport = z.infer<typeof EarningsReport>;
