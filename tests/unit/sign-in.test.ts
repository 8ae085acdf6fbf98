// Sign-in with a fake hub (an injected post): the node signs only a challenge for the hub it talks
// to, for its own address, not expired; what it signs is signInMessage() of that challenge.
import { verifyMessage } from 'ethers';
import { describe, expect, it } from 'vitest';
import { signInMessage, type SignInChallenge } from '../../protocol/hub-auth.js';
import { loadOrCreateNodeKey } from '../../agent/wallet/node-key.js';
import { signIn, SignInRefused, type HubFetch } from '../../agent/wallet/sign-in.js';
import { useTempDirs } from '../support/tmp.js';

const NOW = new Date('2026-05-01T12:00:00Z');
const ORIGIN = 'https://hub.example';

function fakeHub(challenge: (address: string) => unknown) {
  const posts: Array<{ path: string; body: any }> = [];
  const hub: HubFetch = {
    origin: ORIGIN,
    post: async (path, body) => {
      posts.push({ path, body });
      if (path === '/v1/auth/challenge') return challenge((body as { address: string }).address);
      return { token: 't'.repeat(40), expiresAt: '2026-05-01T13:00:00Z' };
    },
  };
  return { hub, posts };
}

const goodChallenge = (address: string): SignInChallenge => ({
  hub: ORIGIN,
  address,
  nonce: `0x${'ab'.repeat(32)}`,
  issuedAt: '2026-05-01T11:59:00Z',
  expiresAt: '2026-05-01T12:04:00Z',
});

describe('signIn', () => {
  const tmp = useTempDirs();
  const key = () => loadOrCreateNodeKey(tmp(), { kind: 'file-secret', get: async () => 'c'.repeat(64) }, { scryptN: 2 ** 10 });

  it('signs the message of a good challenge with the node key and returns the session', async () => {
    const k = await key();
    const { hub, posts } = fakeHub(goodChallenge);
    const session = await signIn(hub, k, () => NOW);
    expect(session.token).toBe('t'.repeat(40));
    expect(posts[0]).toEqual({ path: '/v1/auth/challenge', body: { address: k.address } });
    const sent = posts[1]!;
    expect(sent.path).toBe('/v1/auth/sign-in');
    expect(sent.body.nonce).toBe(`0x${'ab'.repeat(32)}`);
    expect(verifyMessage(signInMessage(goodChallenge(k.address)), sent.body.signature)).toBe(k.address);
  });

  it.each([
    ['another hub', (a: string) => ({ ...goodChallenge(a), hub: 'https://evil.example' }), /is for https:\/\/evil.example/],
    ['the same host on another scheme', (a: string) => ({ ...goodChallenge(a), hub: 'http://hub.example' }), /not for https:\/\/hub.example/],
    ['another address', (a: string) => ({ ...goodChallenge(a), address: '0x000000000000000000000000000000000000dEaD' }), /not this node's/],
    ['an expired challenge', (a: string) => ({ ...goodChallenge(a), expiresAt: '2026-05-01T11:59:59Z' }), /expired/],
    ['a malformed challenge', (a: string) => ({ ...goodChallenge(a), nonce: 'x' }), /not valid/],
  ])('refuses %s and signs nothing', async (_name, make, message) => {
    const k = await key();
    const { hub, posts } = fakeHub(make);
    const err = await signIn(hub, k, () => NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInRefused);
    expect(String(err)).toMatch(message);
    expect(posts.map((p) => p.path)).toEqual(['/v1/auth/challenge']);
  });
});
