// Signing in to a hub with the node key: ask for a challenge, check that it is one this node should
// sign, sign signInMessage() of it. The checks matter because a signature is a credential: a
// challenge naming another hub, another address or a past time could be replayed elsewhere.
import { ChallengeRequest, Session, SignInChallenge, SignInRequest, signInMessage } from '../../protocol/hub-auth.js';
import type { NodeKey } from './node-key.js';

/** A fetch bound to one hub: `path` is relative to that hub's origin. */
export interface HubFetch {
  /** The origin the client actually talks to (`https://hub.example`). */
  readonly origin: string;
  post(path: string, body: unknown): Promise<unknown>;
}

export class SignInRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInRefused';
  }
}

/** Why this challenge must not be signed, or null when it may be. */
export function challengeProblem(c: SignInChallenge, hubOrigin: string, address: string, now: Date): string | null {
  if (new URL(c.hub).origin !== new URL(hubOrigin).origin) return `the challenge is for ${c.hub}, not for ${new URL(hubOrigin).origin}`;
  if (c.address.toLowerCase() !== address.toLowerCase()) return `the challenge is for the address ${c.address}, not this node's ${address}`;
  const expires = Date.parse(c.expiresAt);
  if (!(expires > now.getTime())) return `the challenge expired at ${c.expiresAt}`;
  if (Date.parse(c.issuedAt) > expires) return 'the challenge expires before it was issued';
  return null;
}

export async function signIn(hub: HubFetch, key: Pick<NodeKey, 'address' | 'signMessage'>, now: () => Date = () => new Date()): Promise<Session> {
  const parsed = SignInChallenge.safeParse(await hub.post('/v1/auth/challenge', ChallengeRequest.parse({ address: key.address })));
  if (!parsed.success) throw new SignInRefused(`the hub's challenge is not valid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  const challenge = parsed.data;
  const problem = challengeProblem(challenge, hub.origin, key.address, now());
  if (problem !== null) throw new SignInRefused(`refused to sign in: ${problem}`);
  const signature = await key.signMessage(signInMessage(challenge));
  const body = SignInRequest.parse({ address: key.address, nonce: challenge.nonce, signature });
  const session = Session.safeParse(await hub.post('/v1/auth/sign-in', body));
  if (!session.success) throw new SignInRefused(`the hub's session is not valid: ${session.error.issues[0]?.message ?? 'unknown'}`);
  return session.data;
}
