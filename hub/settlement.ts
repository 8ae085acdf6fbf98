// Settlement on the chain: the operator (or anyone: the escrow pays each voucher's payee, never the
// caller) submits the stored vouchers in one redeemBatch transaction, and reads what the hub still
// has deposited. The ABI is written out here rather than compiled, so a running hub needs no
// Solidity compiler; its shapes are OffhoursEscrow.sol's.
import { Contract, type ContractRunner, type Signer } from 'ethers';
import type { HubStatusView, RedeemResponse, SignedVoucher } from '../protocol/index.js';
import type { Payments } from './payments.js';

const VOUCHER_TUPLE = 'tuple(address payer, address payee, address token, uint256 cumulativeAmount, uint64 expiry)';
export const ESCROW_ABI = [
  `function redeemBatch(${VOUCHER_TUPLE}[] vouchers, bytes[] signatures) returns (uint256 total)`,
  'function balanceOf(address payer, address token) view returns (uint256)',
  'function paid(address payer, address payee, address token) view returns (uint256)',
  'event Redeemed(address indexed payer, address indexed payee, address indexed token, uint256 cumulativeAmount, uint256 amount, address submitter)',
  'event VoucherSkipped(uint256 indexed index, address indexed payer, address indexed payee, bytes4 reason)',
] as const;

export interface BatchOutcome {
  txHash: string;
  /** Minor units paid out in all. */
  paid: bigint;
  redeemed: { payee: string; amount: bigint }[];
  /** Vouchers the escrow skipped (expired, already paid, not backed), with the error's selector. */
  skipped: { index: number; payee: string; reason: string }[];
}

/** Redeems `vouchers` in one transaction sent by `signer`, and reports what each one did. */
export async function redeemBatch(signer: Signer, escrowAddress: string, vouchers: readonly SignedVoucher[]): Promise<BatchOutcome> {
  if (vouchers.length === 0) throw new Error('redeemBatch: no vouchers');
  const escrow = new Contract(escrowAddress, ESCROW_ABI, signer);
  const tx = await escrow.getFunction('redeemBatch')(
    vouchers.map((s) => ({ ...s.voucher, cumulativeAmount: BigInt(s.voucher.cumulativeAmount), expiry: BigInt(s.voucher.expiry) })),
    vouchers.map((s) => s.signature),
  );
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`redeemBatch: transaction ${tx.hash} failed`);
  const out: BatchOutcome = { txHash: tx.hash as string, paid: 0n, redeemed: [], skipped: [] };
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== escrowAddress.toLowerCase()) continue;
    const ev = escrow.interface.parseLog(log);
    if (ev?.name === 'Redeemed') {
      const amount = ev.args.getValue('amount') as bigint;
      out.paid += amount;
      out.redeemed.push({ payee: ev.args.getValue('payee') as string, amount });
    } else if (ev?.name === 'VoucherSkipped') {
      out.skipped.push({ index: Number(ev.args.getValue('index')), payee: ev.args.getValue('payee') as string, reason: ev.args.getValue('reason') as string });
    }
  }
  return out;
}

/** The payer's unspent deposit in the escrow, in minor units. */
export async function escrowDeposit(runner: ContractRunner, escrowAddress: string, payer: string, token: string): Promise<bigint> {
  return (await new Contract(escrowAddress, ESCROW_ABI, runner).getFunction('balanceOf')(payer, token)) as bigint;
}

/**
 * The operator's view (GET /v1/status's payments): what the vouchers promise, and what the escrow
 * holds to pay it (read through `runner`, or the payment configuration's provider, when there is
 * one). Null when the hub has no payment configuration.
 */
export async function paymentsStatus(payments: Payments, runner: ContractRunner | null = payments.provider): Promise<HubStatusView['payments']> {
  const t = payments.terms;
  if (!t) return null;
  const owed = (await payments.owedTotal()).toString();
  const escrowBalance = runner ? (await escrowDeposit(runner, t.escrow, t.payer, t.token)).toString() : null;
  return { payer: t.payer, token: t.token, tokenSymbol: t.tokenSymbol, owed, escrowBalance };
}

/**
 * The operator's batch: every stored voucher the escrow has not paid in full and that has not
 * expired, submitted in one transaction from the payer's own key through the configured chain
 * connection. Expired ones are left for their nodes to have re-signed (a sync with reissue) rather
 * than re-signed here, so a voucher a node holds is never silently superseded without it asking.
 */
export async function redeemOwed(payments: Payments): Promise<RedeemResponse | 'no_chain'> {
  const nowS = payments.nowS();
  const signer = payments.chainSigner();
  const terms = payments.terms;
  if (!signer || !terms) return 'no_chain';
  const escrow = new Contract(terms.escrow, ESCROW_ABI, signer);
  const owed: SignedVoucher[] = [];
  const skipped: RedeemResponse['skipped'] = [];
  for (const v of await payments.vouchers()) {
    const paid = (await escrow.getFunction('paid')(v.voucher.payer, v.voucher.payee, v.voucher.token)) as bigint;
    if (BigInt(v.voucher.cumulativeAmount) <= paid) continue;
    if (v.voucher.expiry < nowS) {
      skipped.push({ payee: v.voucher.payee, reason: 'expired: the node asks for it to be re-signed' });
      continue;
    }
    owed.push(v);
  }
  if (owed.length === 0) return { txHash: null, paid: '0', redeemed: [], skipped };
  const out = await redeemBatch(signer, terms.escrow, owed);
  return {
    txHash: out.txHash,
    paid: out.paid.toString(),
    redeemed: out.redeemed.map((r) => ({ payee: r.payee, amount: r.amount.toString() })),
    skipped: [...skipped, ...out.skipped.map((k) => ({ payee: k.payee, reason: `refused by the escrow (${k.reason})` }))],
  };
}
