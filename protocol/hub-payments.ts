// How a hub pays its providers, as the hub API v1 says it: the hub's payment terms (pinned by the
// node the first time it sees them), the credits its verified work earned, and the cumulative
// voucher (voucher.ts) that backs them. Pure: no I/O.
//
// A node books a credit in its ledger only together with a voucher that verifies offline and
// whose total rose by at least the credits' sum since the last voucher it accepted; a hub cannot
// make a node show earnings that no signature backs.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';
import { HubId, MinorUnits } from './hub.js';
import { SignedVoucher } from './voucher.js';

/** `GET /v1/payments/terms` (no auth): who pays, in what, on which chain and escrow. */
export const PaymentTerms = z
  .object({
    payer: EthAddress,
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    escrow: EthAddress,
    token: EthAddress,
    tokenSymbol: z.string().regex(/^[A-Za-z0-9.$_-]{1,16}$/),
    decimals: z.number().int().min(0).max(36),
    /** Prices, in the token's minor units. */
    prices: z.object({ renderPerFrame: MinorUnits, storagePerGiBDay: MinorUnits }).strict(),
  })
  .strict();
export type PaymentTerms = z.infer<typeof PaymentTerms>;

/** One verified piece of work and what it earned. Numbered per hub, so a node asks for what is new. */
export const PaymentCredit = z
  .object({
    seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** Unique at this hub: the node's ledger entry id is built from it. */
    id: HubId,
    kind: z.enum(['render', 'check', 'storage']),
    taskId: HubId.nullable(),
    jobId: HubId.nullable(),
    amount: MinorUnits,
    /** The node's device that did it, as the node named it when leasing; null when not known. */
    device: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/).nullable(),
    at: isoDateTime,
  })
  .strict();
export type PaymentCredit = z.infer<typeof PaymentCredit>;

/** `POST /v1/payments/sync`: credits after `after` (a seq), and the newest voucher for this node's payee. */
export const PaymentsSyncRequest = z
  .object({
    after: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Ask for the running total to be signed again with a fresh expiry (an expired voucher never voids earnings). */
    reissue: z.boolean().optional(),
  })
  .strict();
export type PaymentsSyncRequest = z.infer<typeof PaymentsSyncRequest>;

export const PaymentsSyncResponse = z
  .object({
    credits: z.array(PaymentCredit).max(1000),
    /** More credits wait after the last one here. */
    more: z.boolean(),
    /** The newest voucher for this node's payout address; covers every credit up to now. */
    voucher: SignedVoucher.nullable(),
  })
  .strict();
export type PaymentsSyncResponse = z.infer<typeof PaymentsSyncResponse>;

/** `POST /v1/payments/redeem` (operator, customer key): the hub submits every voucher the escrow has
 * not fully paid in one batch, paying the gas from its payer key; each payee is paid, never the hub. */
export const RedeemRequest = z.object({}).strict();
export const RedeemResponse = z
  .object({
    /** null when nothing was owed on chain, so no transaction was sent. */
    txHash: z.string().regex(/^0x[0-9a-f]{64}$/).nullable(),
    paid: MinorUnits,
    redeemed: z.array(z.object({ payee: EthAddress, amount: MinorUnits }).strict()),
    skipped: z.array(z.object({ payee: EthAddress, reason: z.string().max(100) }).strict()),
  })
  .strict();
export type RedeemResponse = z.infer<typeof RedeemResponse>;
