// The node's identity as the API shows it, and EIP-55 checksums for addresses the user types.
// Only addresses cross this boundary: the node key itself never leaves agent/wallet/. Pure: the
// checksum needs only keccak-256, so the dashboard can show a typed address back checksummed
// before the agent ever sees it.
import { keccak_256 } from '@noble/hashes/sha3';
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';

/** Files in the data directory that hold the node key and what unlocks it. */
export const NODE_KEY_FILES = {
  /** The encrypted JSON keystore (scrypt). */
  keystore: 'node-key.json',
  /** Headless agent: the keystore's secret, protected only by the file's permissions. */
  secret: 'node-key.secret',
  /** Desktop app: the keystore's secret as Electron's safeStorage encrypted it. */
  appSecret: 'node-key.app-secret',
} as const;

/** Where the keystore's secret lives: with the desktop app (OS keychain) or in a file beside it. */
export const KeystoreSecret = z.enum(['app-secret', 'file-secret']);
export type KeystoreSecret = z.infer<typeof KeystoreSecret>;

/** `GET /api/v1/node`: the identity hubs see. */
export const NodeInfo = z
  .object({
    address: EthAddress,
    keystore: KeystoreSecret,
    /** When this node key was made: a later date than expected means a new identity. */
    created: isoDateTime,
  })
  .strict();
export type NodeInfo = z.infer<typeof NodeInfo>;

const hexDigits = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The EIP-55 form of a 0x + 40 hex digit address (any case in, mixed case out). */
export function checksumAddress(address: string): EthAddress {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new TypeError('not an Ethereum address');
  const lower = address.slice(2).toLowerCase();
  const hash = hexDigits(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

export type AddressCheck = { ok: true; address: EthAddress; hadChecksum: boolean } | { ok: false; message: string };

/**
 * Checks an address the user typed or pasted. Mixed case is an EIP-55 checksum and must match: a
 * typo then fails here instead of sending earnings to nobody. All-lowercase or all-uppercase
 * carries no checksum, so it is accepted only because the UI shows the checksummed form back for
 * the user to confirm.
 */
export function checkPayoutAddress(text: string): AddressCheck {
  const trimmed = text.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(trimmed)) return { ok: false, message: 'an Ethereum address is 0x followed by 40 hex digits (0-9, a-f)' };
  const digits = trimmed.slice(2);
  const checksummed = checksumAddress(trimmed);
  const noChecksum = digits === digits.toLowerCase() || digits === digits.toUpperCase();
  if (!noChecksum && checksummed !== trimmed) {
    return { ok: false, message: 'the checksum (the mix of capital letters) does not match: a character is probably mistyped; copy the address again from your wallet' };
  }
  return { ok: true, address: checksummed, hadChecksum: !noChecksum };
}

/** A payout address as a patch carries it: any case, but a mixed-case one must pass EIP-55. */
export const PayoutAddressInput = EthAddress.superRefine((value, ctx) => {
  // EthAddress already said what is wrong with the shape; one message per mistake.
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return;
  const check = checkPayoutAddress(value);
  if (!check.ok) ctx.addIssue({ code: 'custom', message: check.message });
});
