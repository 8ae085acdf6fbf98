// How a node signs in to a hub: the hub issues a one-time challenge, the node signs a plain-text
// message (in the spirit of EIP-4361 "Sign-In with Ethereum": a person could read what is signed)
// with its node key, and the hub answers with a short-lived session token. Both sides build the
// message with signInMessage(), so they sign and check the very same bytes. Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';

/** A 0x-prefixed, 20-byte Ethereum address (any case; EIP-55 is checked where one is typed). */
export const EthAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an Ethereum address (0x and 40 hex digits)');
export type EthAddress = z.infer<typeof EthAddress>;

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, '32 bytes as 0x-prefixed lowercase hex');

/** `POST /v1/auth/challenge` body. */
export const ChallengeRequest = z.object({ address: EthAddress }).strict();
export type ChallengeRequest = z.infer<typeof ChallengeRequest>;

/** The hub's answer: what to sign, valid for a few minutes, once. */
export const SignInChallenge = z
  .object({
    /** The hub's origin as it names itself (`https://hub.example`), bound into the message. */
    hub: z.string().url(),
    address: EthAddress,
    nonce: hex32,
    issuedAt: isoDateTime,
    expiresAt: isoDateTime,
  })
  .strict();
export type SignInChallenge = z.infer<typeof SignInChallenge>;

/** `POST /v1/auth/sign-in` body: the challenge's nonce and the signature (EIP-191 personal_sign) of its message. */
export const SignInRequest = z
  .object({
    address: EthAddress,
    nonce: hex32,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature as 0x-prefixed hex'),
  })
  .strict();
export type SignInRequest = z.infer<typeof SignInRequest>;

export const Session = z
  .object({
    /** Bearer token for the node's next requests. */
    token: z.string().min(32).max(200),
    expiresAt: isoDateTime,
  })
  .strict();
export type Session = z.infer<typeof Session>;

/**
 * The exact text a node signs. Every field is on its own line and named, so neither side can be
 * tricked into signing or accepting a message for another hub, address or time.
 */
export function signInMessage(c: SignInChallenge): string {
  return [
    `${new URL(c.hub).host} wants you to sign in with your Offhours node key:`,
    c.address,
    '',
    'Sign in to this hub as an Offhours provider node. This signs no transaction and moves no funds.',
    '',
    `URI: ${c.hub}`,
    'Version: 1',
    `Nonce: ${c.nonce}`,
    `Issued At: ${c.issuedAt}`,
    `Expiration Time: ${c.expiresAt}`,
  ].join('\n');
}
