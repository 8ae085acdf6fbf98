// The escrow contract on hardhat's in-process chain, compiled from the repository's source with
// solc-js, and the node's offline check (verifyVoucher) held to the same verdict on every case:
// a voucher the node accepts and that has not expired is one the chain pays, and each voucher
// the chain refuses is one the node refuses too (or, if only expired, knows to have reissued).
import { BrowserProvider, Contract, TypedDataEncoder, Wallet, type Signer } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyVoucher, voucherDigest, voucherDomain, voucherTypedData, type SignedVoucher, type Voucher, type VoucherDomain } from '../../protocol/index.js';
import { deploy, revertName as chainRevertName, startChain, type Chain } from '../support/chain.js';

const USDC = 1_000_000n;
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const N = 2n * HALF_N + 1n;

let chain: Chain | undefined;
let provider: BrowserProvider;
let chainId: number;
let hub: Wallet;
let relayer: Signer;
let relayerAddress: string;
let usdc: Contract;
let escrow: Contract;
let escrowAddress: string;
let otherEscrowAddress: string;
let token: string;

const latest = async () => (await provider.getBlock('latest'))!.timestamp;
const balance = async (who: string): Promise<bigint> => usdc.getFunction('balanceOf')(who);
const paid = async (v: Voucher): Promise<bigint> => escrow.getFunction('paid')(v.payer, v.payee, v.token);

async function sign(signer: Signer, voucher: Voucher, domain: VoucherDomain = voucherDomain(chainId, escrowAddress)): Promise<SignedVoucher> {
  const t = voucherTypedData(domain, voucher);
  return { voucher, domain, signature: await signer.signTypedData(t.domain, t.types, t.message) };
}

async function voucher(payee: string, total: bigint, expiresIn = 3600): Promise<Voucher> {
  return { payer: hub.address, payee, token, cumulativeAmount: total.toString(), expiry: (await latest()) + expiresIn };
}

/** What the node would say about `signed` if it were `payee` and had accepted what the chain paid. */
async function nodeVerdict(signed: SignedVoucher, payee = signed.voucher.payee) {
  const last: bigint = await escrow.getFunction('paid')(hub.address, payee, token);
  return verifyVoucher(signed, { signer: hub.address, payee, token, chainId, escrow: escrowAddress, now: (await latest()) + 1, lastAccepted: last });
}

/** The custom error a call reverted with, whichever way the provider reported it. */
const revertName = (call: Promise<unknown>) => chainRevertName(call, escrow.interface);

const redeemAs = (s: Signer) => escrow.connect(s) as Contract;

/** Submits `signed` as the relayer and checks the chain refuses it with `error` and moves nothing. */
async function expectRefused(signed: SignedVoucher, error: string) {
  const payee = signed.voucher.payee;
  const before = { payee: await balance(payee), relayer: await balance(relayerAddress), escrow: await balance(escrowAddress), paid: await paid(signed.voucher) };
  expect(await revertName(redeemAs(relayer).getFunction('redeem')(signed.voucher, signed.signature))).toBe(error);
  expect({ payee: await balance(payee), relayer: await balance(relayerAddress), escrow: await balance(escrowAddress), paid: await paid(signed.voucher) }).toEqual(before);
}

/** Submits `signed` as the relayer and checks the payee, and only the payee, gets `amount`. */
async function expectPaid(signed: SignedVoucher, amount: bigint) {
  const payee = signed.voucher.payee;
  const before = { payee: await balance(payee), relayer: await balance(relayerAddress), escrow: await balance(escrowAddress) };
  const receipt = await (await redeemAs(relayer).getFunction('redeem')(signed.voucher, signed.signature)).wait();
  expect(receipt.status).toBe(1);
  expect(await balance(payee)).toBe(before.payee + amount);
  expect(await balance(relayerAddress)).toBe(before.relayer);
  expect(await balance(escrowAddress)).toBe(before.escrow - amount);
  expect(await paid(signed.voucher)).toBe(BigInt(signed.voucher.cumulativeAmount));
}

beforeAll(async () => {
  chain = await startChain();
  ({ provider, chainId } = chain);
  const deployer = await provider.getSigner(0);
  relayer = await provider.getSigner(1);
  relayerAddress = await relayer.getAddress();
  // The hub's key is a fresh one, as a real hub's would be, not one of hardhat's known accounts.
  hub = Wallet.createRandom().connect(provider) as unknown as Wallet;
  await provider.send('hardhat_setBalance', [hub.address, '0x56BC75E2D63100000']);
  usdc = await deploy('MockUSDC', deployer);
  token = await usdc.getAddress();
  escrow = await deploy('OffhoursEscrow', deployer);
  escrowAddress = await escrow.getAddress();
  otherEscrowAddress = await (await deploy('OffhoursEscrow', deployer)).getAddress();
  await (await usdc.getFunction('mint')(hub.address, 10_000n * USDC)).wait();
  await (await (usdc.connect(hub) as Contract).getFunction('approve')(escrowAddress, 10_000n * USDC)).wait();
  await (await (escrow.connect(hub) as Contract).getFunction('deposit')(token, 1_000n * USDC)).wait();
}, 60_000);

afterAll(() => {
  chain?.stop();
});

describe('escrow: encoding', () => {
  it('has the domain separator and digest that protocol/voucher.ts computes', async () => {
    const domain = voucherDomain(chainId, escrowAddress);
    expect(await escrow.getFunction('DOMAIN_SEPARATOR')()).toBe(TypedDataEncoder.hashDomain(domain));
    const v = await voucher(Wallet.createRandom().address, 123n);
    expect(await escrow.getFunction('voucherDigest')(v)).toBe(voucherDigest(domain, v));
  });

  it('holds the deposit for the hub', async () => {
    expect(await escrow.getFunction('balanceOf')(hub.address, token)).toBe(1_000n * USDC);
    expect(await balance(escrowAddress)).toBe(1_000n * USDC);
  });
});

describe('escrow: redeeming cumulative vouchers', () => {
  const payee = Wallet.createRandom().address;

  it('pays the payee exactly the total, and the third-party caller nothing', async () => {
    const first = await sign(hub, await voucher(payee, 5n * USDC));
    expect(await nodeVerdict(first)).toEqual({ ok: true, expired: false, increment: (5n * USDC).toString() });
    await expectPaid(first, 5n * USDC);
  });

  it('pays only the difference for a higher total', async () => {
    const second = await sign(hub, await voucher(payee, 12n * USDC));
    expect(await nodeVerdict(second)).toMatchObject({ ok: true, increment: (7n * USDC).toString() });
    await expectPaid(second, 7n * USDC);
  });

  it('refuses a replay', async () => {
    const second = await sign(hub, await voucher(payee, 12n * USDC));
    expect(await nodeVerdict(second)).toMatchObject({ ok: false, reason: 'not-above-last' });
    await expectRefused(second, 'NotAboveAlreadyPaid');
  });

  it('refuses a lower total', async () => {
    const lower = await sign(hub, await voucher(payee, 10n * USDC));
    expect(await nodeVerdict(lower)).toMatchObject({ ok: false, reason: 'not-above-last' });
    await expectRefused(lower, 'NotAboveAlreadyPaid');
  });

  it('refuses a voucher signed by another key in the hub’s name', async () => {
    const forged = await sign(Wallet.createRandom(), await voucher(payee, 50n * USDC));
    expect(await nodeVerdict(forged)).toMatchObject({ ok: false, reason: 'wrong-signer' });
    await expectRefused(forged, 'SignerNotPayer');
  });

  it('refuses a voucher drawn on a payer of the forger’s own', async () => {
    const forger = Wallet.createRandom();
    const forged = await sign(forger, { ...(await voucher(payee, 50n * USDC)), payer: forger.address });
    expect(await nodeVerdict(forged)).toMatchObject({ ok: false, reason: 'wrong-payer' });
    // Correctly signed by its payer, but that payer deposited nothing.
    await expectRefused(forged, 'InsufficientBalance');
  });

  it('refuses a voucher signed for another chain id', async () => {
    const v = await voucher(payee, 50n * USDC);
    const otherChain = await sign(hub, v, voucherDomain(chainId + 1, escrowAddress));
    expect(await nodeVerdict(otherChain)).toMatchObject({ ok: false, reason: 'wrong-chain' });
    await expectRefused(otherChain, 'SignerNotPayer');
    // Relabelling the domain does not help: the signature no longer matches.
    const relabelled = { ...otherChain, domain: voucherDomain(chainId, escrowAddress) };
    expect(await nodeVerdict(relabelled)).toMatchObject({ ok: false, reason: 'wrong-signer' });
  });

  it('refuses a voucher signed for another escrow contract', async () => {
    const otherContract = await sign(hub, await voucher(payee, 50n * USDC), voucherDomain(chainId, otherEscrowAddress));
    expect(await nodeVerdict(otherContract)).toMatchObject({ ok: false, reason: 'wrong-contract' });
    await expectRefused(otherContract, 'SignerNotPayer');
  });

  it('refuses an expired voucher on chain, while the node keeps the earning and the reissue pays', async () => {
    const expired = await sign(hub, await voucher(payee, 20n * USDC, -1));
    expect(await nodeVerdict(expired)).toEqual({ ok: true, expired: true, increment: (8n * USDC).toString() });
    await expectRefused(expired, 'VoucherExpired');
    const reissued = await sign(hub, await voucher(payee, 20n * USDC));
    expect(await nodeVerdict(reissued)).toEqual({ ok: true, expired: false, increment: (8n * USDC).toString() });
    await expectPaid(reissued, 8n * USDC);
  });

  it('refuses the malleable (high-s) twin of a valid signature', async () => {
    const good = await sign(hub, await voucher(payee, 21n * USDC));
    const r = good.signature.slice(2, 66);
    const s = BigInt(`0x${good.signature.slice(66, 130)}`);
    const v = Number.parseInt(good.signature.slice(130), 16);
    const twin = { ...good, signature: `0x${r}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` };
    expect(await nodeVerdict(twin)).toMatchObject({ ok: false, reason: 'malformed' });
    await expectRefused(twin, 'BadSignature');
    await expectPaid(good, 1n * USDC);
  });

  it('refuses a voucher for someone else’s payout address (the node checks the payee)', async () => {
    const elsewhere = await sign(hub, await voucher(Wallet.createRandom().address, 1n * USDC));
    expect(await nodeVerdict(elsewhere, payee)).toMatchObject({ ok: false, reason: 'wrong-payee' });
  });

  it('refuses more than the hub deposited (the one check the node cannot make offline)', async () => {
    const tooMuch = await sign(hub, await voucher(Wallet.createRandom().address, 5_000n * USDC));
    expect(await nodeVerdict(tooMuch)).toMatchObject({ ok: true });
    await expectRefused(tooMuch, 'InsufficientBalance');
  });
});

describe('escrow: batches', () => {
  it('pays every good voucher and skips bad ones with an event', async () => {
    const payees = Array.from({ length: 10 }, () => Wallet.createRandom().address);
    const good = await Promise.all(payees.map(async (p, i) => sign(hub, await voucher(p, BigInt(i + 1) * USDC))));
    const forged = await sign(Wallet.createRandom(), await voucher(payees[0]!, 99n * USDC));
    const expired = await sign(hub, await voucher(payees[1]!, 99n * USDC, -1));
    // The first voucher twice: the second copy is a replay within the same batch.
    const batch = [good[0]!, forged, ...good.slice(1, 5), expired, good[0]!, ...good.slice(5)];
    for (const [i, s] of batch.entries()) {
      const expectOk = !(s === forged || s === expired || (s === good[0] && i > 0));
      if (expectOk) expect(await nodeVerdict(s)).toMatchObject({ ok: true, expired: false });
      else if (s !== good[0]) expect(await nodeVerdict(s)).not.toMatchObject({ ok: true, expired: false });
    }
    const before = await balance(relayerAddress);
    const total: bigint = await redeemAs(relayer).getFunction('redeemBatch').staticCall(batch.map((s) => s.voucher), batch.map((s) => s.signature));
    expect(total).toBe(55n * USDC);
    const receipt = await (await redeemAs(relayer).getFunction('redeemBatch')(batch.map((s) => s.voucher), batch.map((s) => s.signature))).wait();
    for (const [i, p] of payees.entries()) expect(await balance(p)).toBe(BigInt(i + 1) * USDC);
    expect(await balance(relayerAddress)).toBe(before);
    const skipped = receipt.logs.map((l: any) => escrow.interface.parseLog(l)).filter((e: any) => e?.name === 'VoucherSkipped');
    const reasons = skipped.map((e: any) => [Number(e.args.index), escrow.interface.getError(e.args.reason)?.name]);
    expect(reasons).toEqual([
      [1, 'SignerNotPayer'],
      [6, 'VoucherExpired'],
      [7, 'NotAboveAlreadyPaid'],
    ]);
  });

  it('refuses arrays of different lengths', async () => {
    const one = await sign(hub, await voucher(Wallet.createRandom().address, 1n));
    expect(await revertName(redeemAs(relayer).getFunction('redeemBatch')([one.voucher], []))).toBe('LengthMismatch');
  });
});

describe('escrow: withdrawal', () => {
  it('lets the hub take back only its own unspent deposit, and only the hub', async () => {
    const asHub = escrow.connect(hub) as Contract;
    const left: bigint = await escrow.getFunction('balanceOf')(hub.address, token);
    expect(await revertName(asHub.getFunction('withdraw')(token, left + 1n))).toBe('InsufficientBalance');
    // The relayer deposited nothing, so it has nothing to withdraw from the hub's funds.
    expect(await revertName(redeemAs(relayer).getFunction('withdraw')(token, 1n))).toBe('InsufficientBalance');
    const hubBefore = await balance(hub.address);
    await (await asHub.getFunction('withdraw')(token, left - 1n * USDC)).wait();
    expect(await balance(hub.address)).toBe(hubBefore + left - 1n * USDC);
    expect(await escrow.getFunction('balanceOf')(hub.address, token)).toBe(1n * USDC);
  });

  it('leaves a voucher beyond what remains unbacked: the documented race', async () => {
    const promise = await sign(hub, await voucher(Wallet.createRandom().address, 2n * USDC));
    expect(await nodeVerdict(promise)).toMatchObject({ ok: true });
    await expectRefused(promise, 'InsufficientBalance');
  });
});
