// How a hub pays: a cumulative EIP-712 voucher. The hub (payer) signs the running total it owes
// one payee in one token; the escrow contract (hub/contracts/OffhoursEscrow.sol) pays the
// difference to what it already paid, so only the newest voucher matters and a replay pays
// nothing. The node checks every voucher offline with verifyVoucher before it enters the ledger,
// with exactly the rules the contract applies, so a voucher the node accepts is one the chain
// honours. Pure: no I/O (ethers' hashing and recovery are plain JavaScript).
import { Signature, TypedDataEncoder, recoverAddress } from 'ethers';
import { z } from 'zod';
import { EthAddress } from './hub-auth.js';

export const VOUCHER_DOMAIN_NAME = 'Offhours Escrow';
export const VOUCHER_DOMAIN_VERSION = '1';

/** Field order and types are the contract's VOUCHER_TYPEHASH; change both or neither. */
export const VOUCHER_TYPES = {
  Voucher: [
    { name: 'payer', type: 'address' },
    { name: 'payee', type: 'address' },
    { name: 'token', type: 'address' },
    { name: 'cumulativeAmount', type: 'uint256' },
    { name: 'expiry', type: 'uint64' },
  ],
} as const;

const MAX_UINT256 = (1n << 256n) - 1n;
/** secp256k1's n / 2: the contract, like EIP-2, refuses s above it so a signature has one form. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** A uint256 as decimal text (token minor units: 1 USDC = "1000000"), so JSON never rounds it. */
export const Uint256Decimal = z
  .string()
  // One check, not regex then refine: zod runs every check even after one fails, and BigInt would
  // throw on text the regex already refused.
  .refine((s) => /^(0|[1-9][0-9]{0,77})$/.test(s) && BigInt(s) <= MAX_UINT256, 'an integer from 0 to 2^256 - 1 as decimal text');

/** Unix seconds; the contract stores expiry as a uint64, and JSON keeps integers exact to 2^53. */
const UnixSeconds = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const Voucher = z
  .object({
    /** The hub's signing address; the escrow pays out of this address's deposit. */
    payer: EthAddress,
    /** The node's registered payout address, never the node key. */
    payee: EthAddress,
    /** The ERC-20 paid in. */
    token: EthAddress,
    /** Everything this payer has ever owed this payee in this token, in minor units. */
    cumulativeAmount: Uint256Decimal,
    expiry: UnixSeconds,
  })
  .strict();
export type Voucher = z.infer<typeof Voucher>;

export const VoucherDomain = z
  .object({
    name: z.literal(VOUCHER_DOMAIN_NAME),
    version: z.literal(VOUCHER_DOMAIN_VERSION),
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** The escrow contract. */
    verifyingContract: EthAddress,
  })
  .strict();
export type VoucherDomain = z.infer<typeof VoucherDomain>;

/** What a hub hands a node: the voucher, the hub's signature, and the domain it was signed in. */
export const SignedVoucher = z
  .object({
    voucher: Voucher,
    /** 65 bytes r ‖ s ‖ v, v being 27 or 28 (what the contract accepts). */
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature as 0x-prefixed hex'),
    domain: VoucherDomain,
  })
  .strict();
export type SignedVoucher = z.infer<typeof SignedVoucher>;

/** The voucher's domain for an escrow on a chain. */
export function voucherDomain(chainId: number, escrow: string): VoucherDomain {
  return { name: VOUCHER_DOMAIN_NAME, version: VOUCHER_DOMAIN_VERSION, chainId, verifyingContract: escrow };
}

/**
 * Arguments for ethers' `signer.signTypedData(domain, types, message)` (types without
 * EIP712Domain, which ethers derives from the domain itself).
 */
export function voucherTypedData(domain: VoucherDomain, voucher: Voucher) {
  return {
    domain: { ...domain },
    types: { Voucher: VOUCHER_TYPES.Voucher.map((f) => ({ ...f })) },
    primaryType: 'Voucher' as const,
    message: { ...voucher },
  };
}

/** The 32-byte hash the hub signs and the contract recovers from. */
export function voucherDigest(domain: VoucherDomain, voucher: Voucher): string {
  const t = voucherTypedData(domain, voucher);
  return TypedDataEncoder.hash(t.domain, t.types, t.message);
}

/**
 * Is this a signature the contract accepts: v 27 or 28 and s in the lower half? ethers alone
 * would also take v 0/1 and a few high-s values, which the chain refuses.
 */
export function isCanonicalSignature(signature: string): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return (v === 27 || v === 28) && s > 0n && s <= HALF_N;
}

/** The address that signed, or null when the signature is not one the contract accepts. */
export function recoverVoucherSigner(signed: SignedVoucher): string | null {
  if (!isCanonicalSignature(signed.signature)) return null;
  try {
    return recoverAddress(voucherDigest(signed.domain, signed.voucher), Signature.from(signed.signature));
  } catch {
    return null;
  }
}

export interface VoucherExpectation {
  /** The hub's signing address (its payer address), known from the hub's configuration. */
  signer: string;
  /** This node's payout address. */
  payee: string;
  token: string;
  chainId: number;
  escrow: string;
  /** Unix seconds. */
  now: number;
  /** The cumulativeAmount of the newest voucher from this payer, payee and token already accepted. */
  lastAccepted?: string | bigint;
}

export type VoucherRefusal =
  | 'malformed'
  | 'wrong-domain'
  | 'wrong-chain'
  | 'wrong-contract'
  | 'wrong-payee'
  | 'wrong-token'
  | 'wrong-payer'
  | 'wrong-signer'
  | 'not-above-last';

export type VoucherVerdict =
  | {
      ok: true;
      /** Past its expiry: the chain will not redeem this one, but it still proves the total. */
      expired: boolean;
      /** What this voucher adds over lastAccepted, in minor units (decimal text). */
      increment: string;
    }
  | { ok: false; reason: VoucherRefusal; detail: string };

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const refuse = (reason: VoucherRefusal, detail: string): VoucherVerdict => ({ ok: false, reason, detail });

/**
 * Checks a voucher as the escrow would, offline. Expiry does not refuse it: an expired voucher
 * still proves, under the hub's signature, what was earned, and the hub reissues the same total
 * with a fresh expiry on request; so the earning enters the ledger and `expired` tells the caller
 * to ask for a reissue before redeeming.
 */
export function verifyVoucher(input: unknown, expect: VoucherExpectation): VoucherVerdict {
  const parsed = SignedVoucher.safeParse(input);
  if (!parsed.success) return refuse('malformed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const { voucher, domain, signature } = parsed.data;
  if (domain.chainId !== expect.chainId) return refuse('wrong-chain', `signed for chain ${domain.chainId}, expected ${expect.chainId}`);
  if (!sameAddress(domain.verifyingContract, expect.escrow)) return refuse('wrong-contract', `signed for ${domain.verifyingContract}, expected ${expect.escrow}`);
  if (!sameAddress(voucher.payee, expect.payee)) return refuse('wrong-payee', `pays ${voucher.payee}, not this node's ${expect.payee}`);
  if (!sameAddress(voucher.token, expect.token)) return refuse('wrong-token', `pays in ${voucher.token}, expected ${expect.token}`);
  if (!sameAddress(voucher.payer, expect.signer)) return refuse('wrong-payer', `drawn on ${voucher.payer}, not the hub's ${expect.signer}`);
  if (!isCanonicalSignature(signature)) return refuse('malformed', 'signature must have v 27 or 28 and s in the lower half');
  const signer = recoverVoucherSigner(parsed.data);
  if (signer === null || !sameAddress(signer, voucher.payer)) return refuse('wrong-signer', `signed by ${signer ?? 'nobody'}, not the payer ${voucher.payer}`);
  const last = BigInt(expect.lastAccepted ?? 0n);
  const total = BigInt(voucher.cumulativeAmount);
  // Equal is refused too: the contract pays nothing for it, so it adds nothing to the ledger.
  if (total <= last) return refuse('not-above-last', `total ${total} is not above ${last} already accepted`);
  return { ok: true, expired: expect.now > voucher.expiry, increment: (total - last).toString() };
}
