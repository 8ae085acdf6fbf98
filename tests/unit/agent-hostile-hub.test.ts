// The agent's side of the protocol against a hostile hub: thousands of generated challenge and
// session answers to signIn (agent/wallet/sign-in.ts) and thousands of hostile vouchers to
// verifyVoucher (protocol/voucher.ts). A challenge the node should not sign is refused with
// SignInRefused and nothing is signed; a voucher that is not exactly the one the hub signed is
// refused with { ok: false } and nothing throws.
import fc from 'fast-check';
import { Wallet } from 'ethers';
import { describe, expect, it, vi } from 'vitest';
import { SignInChallenge, signInMessage } from '../../protocol/hub-auth.js';
import { verifyVoucher, voucherDomain, voucherTypedData, type SignedVoucher, type VoucherExpectation } from '../../protocol/voucher.js';
import { signIn, SignInRefused, type HubFetch } from '../../agent/wallet/sign-in.js';
import { mutate, mutation, hostileScalar } from '../support/json-mutations.js';

const SEED = Number(process.env.OFFHOURS_FUZZ_SEED ?? 7_070_707);
const NOW = new Date('2026-05-01T12:00:00Z');
const ORIGIN = 'https://hub.example';
const wallet = new Wallet(`0x${'5a'.repeat(32)}`);
const stranger = new Wallet(`0x${'6b'.repeat(32)}`);

const good = (): SignInChallenge => ({
  hub: ORIGIN,
  address: wallet.address,
  nonce: `0x${'ab'.repeat(32)}`,
  issuedAt: '2026-05-01T11:59:00Z',
  expiresAt: '2026-05-01T12:04:00Z',
});
const goodSession = { token: 't'.repeat(40), expiresAt: '2026-05-01T12:15:00Z' };

// --- signIn ----------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();
const hubValues = fc.constantFrom(
  'https://evil.example', 'http://hub.example', 'https://hub.example:8443', 'https://hub.example.evil.com', 'https://hub.example@evil.com', 'https://evil.com#@hub.example',
  'https://evil.com/?https://hub.example', 'https://xn--hb-example-9db.com', 'wss://hub.example', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hub.example',
  'mailto:hub@hub.example', 'https://hub.example.', 'https://HUB.EXAMPLE', 'https://hub.example:443', 'https://hub.example/v1?x=1', 'https://127.0.0.1', 'https://[::1]',
  'hub.example', '//hub.example', 'https:hub.example', ' https://hub.example', 'https://hub.example\u0000', 'https://hüb.example', `https://${'a'.repeat(70_000)}.example`,
);
const addressValues = fc.constantFrom(
  stranger.address, wallet.address.toLowerCase(), `0x${wallet.address.slice(2).toUpperCase()}`, `${wallet.address}00`, wallet.address.slice(0, -1), '0x0000000000000000000000000000000000000000',
  wallet.address.replace('0x', '0X'), ` ${wallet.address}`,
);
const timeValues = fc.oneof(
  fc.integer({ min: Date.parse('1970-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') }).map(iso),
  fc.constantFrom(iso(NOW.getTime()), iso(NOW.getTime() - 1), iso(NOW.getTime() + 1), '2026-05-01T12:00:00+00:00', '2026-05-01T14:00:00+02:00', '2026-05-01T12:00:00', '2026-02-30T12:00:00Z', '2026-05-01T25:00:00Z', '+275760-09-13T00:00:00Z', 'tomorrow', '0', '2026-05-01'),
);

/** The challenge answers the fuzzer sends, each as what hub.post resolves to. */
const challengeAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hubValues.map((hub) => ({ ...good(), hub })) },
  { weight: 2, arbitrary: addressValues.map((address) => ({ ...good(), address })) },
  { weight: 3, arbitrary: fc.record({ issuedAt: timeValues, expiresAt: timeValues }).map((t) => ({ ...good(), ...t })) },
  { weight: 6, arbitrary: fc.array(mutation(fc.oneof(hostileScalar, hubValues, addressValues, timeValues)), { minLength: 1, maxLength: 3 }).map((ms) => mutate(good(), ms)) },
  { weight: 1, arbitrary: fc.oneof(fc.anything(), fc.jsonValue()) },
  // What a body that is not JSON (or not parsed) would look like to the caller.
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('<html>502 Bad Gateway</html>', JSON.stringify(good()), '')) },
);

/** What the node may sign, from the protocol's words: the schema, this hub's origin, this address, not expired. */
function maySign(answer: unknown): SignInChallenge | null {
  const c = SignInChallenge.safeParse(answer);
  if (!c.success) return null;
  const sameOrigin = (() => {
    try {
      return new URL(c.data.hub).origin === ORIGIN;
    } catch {
      return false;
    }
  })();
  const issued = Date.parse(c.data.issuedAt);
  const expires = Date.parse(c.data.expiresAt);
  const ok = sameOrigin && c.data.address.toLowerCase() === wallet.address.toLowerCase() && expires > NOW.getTime() && !(issued > expires);
  return ok ? c.data : null;
}

function fakeHub(challenge: unknown, session: unknown) {
  const posts: string[] = [];
  const hub: HubFetch = {
    origin: ORIGIN,
    post: async (path) => {
      posts.push(path);
      return path === '/v1/auth/challenge' ? challenge : session;
    },
  };
  return { hub, posts };
}

describe('signIn against a hostile hub', () => {
  it('refuses every challenge it should not sign, without signing, and throws nothing but SignInRefused', async () => {
    let refused = 0;
    let signed = 0;
    await fc.assert(
      fc.asyncProperty(challengeAnswer, async (answer) => {
        const signMessage = vi.fn((text: string) => wallet.signMessage(text));
        const { hub, posts } = fakeHub(answer, goodSession);
        const expected = maySign(answer);
        const outcome = await signIn(hub, { address: wallet.address, signMessage }, () => NOW).then(
          (session) => ({ session }),
          (err: unknown) => ({ err }),
        );
        if (expected === null) {
          refused++;
          expect('err' in outcome && outcome.err instanceof SignInRefused, `not refused: ${String('err' in outcome ? outcome.err : 'signed in')}`).toBe(true);
          expect(signMessage).not.toHaveBeenCalled();
          expect(posts).toEqual(['/v1/auth/challenge']);
        } else {
          signed++;
          // Valid after all (a case change, a default port): it signs exactly that challenge's message.
          expect(outcome).toEqual({ session: goodSession });
          expect(signMessage).toHaveBeenCalledTimes(1);
          expect(signMessage).toHaveBeenCalledWith(signInMessage(expected));
        }
      }),
      { numRuns: 4000, seed: SEED },
    );
    expect(refused).toBeGreaterThan(3000);
    expect(signed).toBeGreaterThan(0);
  });

  it('refuses a hostile session answer to a good challenge with SignInRefused (having signed only that challenge)', async () => {
    const sessionAnswer = fc.oneof(
      fc.array(mutation(hostileScalar), { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodSession, ms)),
      fc.anything(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom({ token: 'short', expiresAt: goodSession.expiresAt }, { token: 'x'.repeat(201), expiresAt: goodSession.expiresAt }, { ...goodSession, expiresAt: 'soon' }),
    );
    await fc.assert(
      fc.asyncProperty(sessionAnswer, async (session) => {
        const signMessage = vi.fn((text: string) => wallet.signMessage(text));
        const { hub } = fakeHub(good(), session);
        const valid = (() => {
          const s = session as { token?: unknown; expiresAt?: unknown } | null;
          return (
            typeof s === 'object' && s !== null && !Array.isArray(s) && Object.keys(s).length === 2 && typeof s.token === 'string' && s.token.length >= 32 && s.token.length <= 200 && s.expiresAt === goodSession.expiresAt
          );
        })();
        const outcome = await signIn(hub, { address: wallet.address, signMessage }, () => NOW).then(
          (s) => ({ s }),
          (err: unknown) => ({ err }),
        );
        expect(signMessage).toHaveBeenCalledTimes(1);
        expect(signMessage).toHaveBeenCalledWith(signInMessage(good()));
        if (!valid) expect('err' in outcome && outcome.err instanceof SignInRefused, String('err' in outcome ? outcome.err : 'accepted')).toBe(true);
      }),
      { numRuns: 1500, seed: SEED },
    );
  });
});

// --- verifyVoucher ---------------------------------------------------------------------------

const hubKey = new Wallet(`0x${'7c'.repeat(32)}`);
const payee = '0x1111111111111111111111111111111111111111';
const token = '0x2222222222222222222222222222222222222222';
const escrow = '0x3333333333333333333333333333333333333333';
const expectation: VoucherExpectation = { signer: hubKey.address, payee, token, chainId: 31337, escrow, now: 1_780_000_000, lastAccepted: '1000' };

async function signed(): Promise<SignedVoucher> {
  const domain = voucherDomain(31337, escrow);
  const voucher = { payer: hubKey.address, payee, token, cumulativeAmount: '5000000', expiry: 1_800_000_000 };
  const t = voucherTypedData(domain, voucher);
  return { voucher, domain, signature: await hubKey.signTypedData(t.domain, t.types, t.message) };
}

/** The same voucher, ignoring what does not change its meaning (hex and address case). */
const normal = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? x.toLowerCase() : x));

describe('verifyVoucher against hostile input', () => {
  it('refuses every voucher that is not the one the hub signed, and never throws', async () => {
    const original = await signed();
    const sig = original.signature;
    const HALF_N_PLUS = (0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n + 1n).toString(16).padStart(64, '0');
    const signatures = fc.constantFrom(
      `${sig.slice(0, -2)}00`, `${sig.slice(0, -2)}01`, `${sig.slice(0, -2)}1d`, `${sig.slice(0, -2)}${sig.slice(-2) === '1b' ? '1c' : '1b'}`,
      `0x${'00'.repeat(65)}`, `0x${'ff'.repeat(65)}`, `0x${sig.slice(2, 66)}${HALF_N_PLUS}1b`, `0x${'00'.repeat(32)}${sig.slice(66)}`, `${sig.slice(0, 66)}${'00'.repeat(32)}${sig.slice(-2)}`,
      sig.slice(0, -2), `${sig}00`, sig.replace('0x', '0X'), `0x${sig.slice(4)}00`,
    );
    const amounts = fc.constantFrom('0', '1000', '999', '-1', '1e6', '05000000', ' 5000000', '5000000.0', (2n ** 256n).toString(), (2n ** 256n - 1n).toString(), '9'.repeat(78), '9'.repeat(100_000), '0x10');
    const numbers = fc.constantFrom<unknown>(0, -1, 1.5, NaN, Infinity, 2 ** 53, 2 ** 64, 31337.0000001, '31337', 1, 137, Number.MAX_SAFE_INTEGER + 2);
    const addresses = fc.constantFrom(payee, token, escrow, hubKey.address, stranger.address, `${payee}1`, payee.slice(0, -1), '0x', 'payee', `0x${'g'.repeat(40)}`, hubKey.address.replace(/[a-f]/, (c) => c.toUpperCase()));
    const hostileVoucher = fc.oneof(
      { weight: 6, arbitrary: fc.array(mutation(fc.oneof(hostileScalar, signatures, amounts, numbers, addresses)), { minLength: 1, maxLength: 3 }).map((ms) => mutate(original, ms)) },
      { weight: 2, arbitrary: signatures.map((signature) => ({ ...original, signature })) },
      { weight: 1, arbitrary: amounts.map((cumulativeAmount) => ({ ...original, voucher: { ...original.voucher, cumulativeAmount } })) },
      { weight: 1, arbitrary: fc.anything() },
    );
    let refused = 0;
    fc.assert(
      fc.property(hostileVoucher, fc.constantFrom<string | bigint | undefined>(undefined, '0', 1000n, '4999999', '5000000'), (input, lastAccepted) => {
        let verdict: ReturnType<typeof verifyVoucher> | undefined;
        expect(() => (verdict = verifyVoucher(input, { ...expectation, lastAccepted }))).not.toThrow();
        if (verdict!.ok) {
          // Only the very voucher the hub signed (up to letter case), and only above what was accepted.
          expect(normal(input)).toBe(normal(original));
          expect(BigInt(lastAccepted ?? 0)).toBeLessThan(5_000_000n);
        } else {
          refused++;
          expect(typeof verdict!.reason).toBe('string');
          expect(typeof verdict!.detail).toBe('string');
        }
      }),
      { numRuns: 4000, seed: SEED },
    );
    expect(refused).toBeGreaterThan(3500);
    // And the original itself verifies, so the refusals above are not an artefact.
    expect(verifyVoucher(original, expectation)).toEqual({ ok: true, expired: false, increment: '4999000' });
  });
});
