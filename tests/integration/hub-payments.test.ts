// The money path end to end: a real hub (on PGlite, and on a Postgres server when one is installed)
// with payments configured for an escrow and MockUSDC deployed on hardhat's in-process chain, the
// operator's deposit in it; credits written the way verification writes them (payments.credit in
// a transaction); a real node signed in over loopback HTTP whose PaymentIntake verifies each
// voucher and books into a real agent Ledger; and the voucher redeemed on the chain. Every voucher
// the intake refuses is refused by the contract too.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserProvider, Contract, Wallet, type Signer } from 'ethers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { VOUCHER_TTL_S } from '../../hub/payments.js';
import { escrowDeposit, paymentsStatus, redeemBatch } from '../../hub/settlement.js';
import { Ledger } from '../../agent/ledger/ledger.js';
import type { Logger } from '../../agent/logger.js';
import { hubHttp, type HubHttp } from '../../agent/network/hub-http.js';
import { PaymentIntake } from '../../agent/network/payments.js';
import { NetworkService } from '../../agent/network/network-service.js';
import { HubClient } from '../../agent/network/hub-client.js';
import { signIn } from '../../agent/wallet/sign-in.js';
import {
  PaymentTerms,
  networkKey,
  voucherDigest,
  voucherDomain,
  voucherTypedData,
  type RegisterNodeRequest,
  type SignedVoucher,
  type Voucher,
  type VoucherDomain,
  RedeemResponse,
} from '../../protocol/index.js';
import { deploy, revertName as chainRevertName, startChain, type Chain } from '../support/chain.js';
import { requireProgram } from '../support/external.js';
import { findPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const USDC = 1_000_000n;
const skew = { ms: 0 };
const clock = { now: () => Date.now() + skew.ms };
const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => log, close: vi.fn() } as unknown as Logger;

const postgresFound = findPostgres();
const postgresEnabled = requireProgram(postgresFound, 'hub payments on a Postgres server');
let pgServer: Promise<PostgresServer> | undefined;
const postgres = () => (pgServer ??= startPostgres(postgresFound));
const BACKENDS = (['pglite', 'postgres'] as const).filter((b) => b === 'pglite' || postgresEnabled);

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'offhours-pay-'));
  dirs.push(d);
  return d;
};

let chain: Chain | undefined;
let provider: BrowserProvider;
let chainId: number;
let operator: Signer;
let relayer: Signer;
let usdc: Contract;
let token: string;
let escrow: Contract;
let escrowAddress: string;
let otherEscrowAddress: string;

const balance = async (who: string): Promise<bigint> => usdc.getFunction('balanceOf')(who);

/** The custom error a call reverted with, whichever way the provider reported it. */
const revertName = (call: Promise<unknown>) => chainRevertName(call, escrow.interface);

/** The contract's verdict on a voucher, without spending it. */
const chainRefusal = (s: SignedVoucher) => revertName(escrow.connect(relayer).getFunction('redeem').staticCall(s.voucher, s.signature));

beforeAll(async () => {
  chain = await startChain();
  ({ provider, chainId } = chain);
  operator = await provider.getSigner(0);
  relayer = await provider.getSigner(1);
  usdc = await deploy('MockUSDC', operator);
  token = await usdc.getAddress();
  escrow = await deploy('OffhoursEscrow', operator);
  escrowAddress = await escrow.getAddress();
  otherEscrowAddress = await (await deploy('OffhoursEscrow', operator)).getAddress();
  await (await usdc.getFunction('mint')(await operator.getAddress(), 100_000n * USDC)).wait();
  await (await usdc.getFunction('approve')(escrowAddress, 100_000n * USDC)).wait();
}, 120_000);

afterAll(async () => {
  chain?.stop();
  await (await pgServer?.catch(() => undefined))?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const paymentsConfig = (payerKey?: string) => ({
  chainId,
  escrow: escrowAddress,
  token,
  tokenSymbol: 'mUSDC',
  decimals: 6,
  prices: { renderPerFrame: '250000', storagePerGiBDay: '10' },
  ...(payerKey ? { payerKey } : {}),
});

const registration = (payout: string): RegisterNodeRequest => ({
  payoutAddress: payout,
  capabilities: {
    devices: [{ id: 'gpu:0', kind: 'gpu', name: 'Test GPU', cyclesBackend: 'optix', benchmarkSamplesPerS: 1234.5 }],
    engines: [{ name: 'blender', version: '4.2.3' }],
    diskOfferedBytes: 0,
    priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '1500', storagePerGiBDay: '10' },
  },
});

interface TestNode {
  key: Wallet;
  address: string;
  payout: string;
  http: HubHttp;
  ledger: Ledger;
  dataDir: string;
  intake: PaymentIntake;
}

/** A node signed in and registered over HTTP, with its own agent data directory and ledger. */
async function newNode(hub: RunningHub, opts: { payout?: string; networkKey?: string; dataDir?: string; ledger?: Ledger } = {}): Promise<TestNode> {
  const key = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  const payout = opts.payout ?? Wallet.createRandom().address;
  const http = hubHttp(hub.url, 10_000, new AbortController().signal);
  http.setToken((await signIn(http, key)).token);
  await http.post('/v1/nodes', registration(payout));
  const dataDir = opts.dataDir ?? tempDir();
  const ledger = opts.ledger ?? Ledger.open(dataDir);
  const intake = new PaymentIntake({ dataDir, networkKey: opts.networkKey ?? networkKey(hub.url), ledger, payout: () => payout, log, now: () => new Date(clock.now()) });
  return { key, address: key.address.toLowerCase(), payout, http, ledger, dataDir, intake };
}

let taskN = 0;
async function credit(hub: RunningHub, node: TestNode, amount: bigint, taskId = `t_${++taskN}`, device: string | null = 'gpu:0'): Promise<string> {
  await hub.db.transaction((tx) => hub.payments.credit(tx, { node: node.address, kind: 'render', taskId, jobId: 'j_test', amount: amount.toString(), device }));
  return taskId;
}

/** Everything the node's ledger holds from this hub, in minor units, and how many entries. */
function booked(node: TestNode, key: string): { total: bigint; count: number } {
  const r = node.ledger.query({ from: '2020-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z', groupBy: 'month', by: 'network' });
  let total = 0n;
  for (const b of r.buckets) {
    if (b.key !== key) continue;
    const [whole, frac = ''] = (b.gross.mUSDC ?? '0').split('.');
    total += BigInt(whole!) * USDC + BigInt(frac.padEnd(6, '0'));
  }
  return { total, count: node.ledger.count };
}

async function storedTotal(hub: RunningHub, payee: string): Promise<bigint> {
  const { rows } = await hub.db.query<{ c: string }>('select cumulative::text as c from payment_totals where payee = $1', [payee.toLowerCase()]);
  return BigInt(rows[0]?.c ?? '0');
}

async function sign(payer: Signer, voucher: Voucher, domain: VoucherDomain = voucherDomain(chainId, escrowAddress)): Promise<SignedVoucher> {
  const t = voucherTypedData(domain, voucher);
  return { voucher, domain, signature: await payer.signTypedData(t.domain, t.types, t.message) };
}

/** Makes the hub hand out `signed` as the payee's voucher (a hub gone wrong, or a forger in its place). */
async function plant(hub: RunningHub, signed: SignedVoucher): Promise<void> {
  const { rowCount } = await hub.db.query('update payment_totals set voucher = $2, expiry = $3 where payee = $1', [
    signed.voucher.payee.toLowerCase(),
    JSON.stringify(signed),
    Math.floor(clock.now() / 1000) + 3600,
  ]);
  expect(rowCount).toBe(1);
}

/** Has the hub sign its real total afresh (the stored voucher counts as expired). */
async function restore(hub: RunningHub, payee: string): Promise<void> {
  await hub.db.query('update payment_totals set expiry = 0 where payee = $1', [payee.toLowerCase()]);
}

const nowS = () => Math.floor(clock.now() / 1000);

describe.each(BACKENDS)('hub payments on %s', (backend) => {
  let hub: RunningHub;
  let payer: Wallet;
  let key: string;

  beforeAll(async () => {
    payer = new Wallet(`0x${randomBytes(32).toString('hex')}`);
    const databaseUrl = backend === 'postgres' ? await (await postgres()).newDatabase() : '';
    hub = await startHub({ dataDir: tempDir(), databaseUrl, port: 0, clock, log: () => {}, payments: paymentsConfig(payer.privateKey) });
    expect(hub.db.kind).toBe(backend);
    key = networkKey(hub.url);
    // The operator funds the hub's payer from its own (treasury) account.
    await (await escrow.connect(operator).getFunction('depositFor')(payer.address, token, 1_000n * USDC)).wait();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('publishes its terms without auth', async () => {
    const res = await fetch(`${hub.url}/v1/payments/terms`);
    expect(res.status).toBe(200);
    const terms = PaymentTerms.parse(await res.json());
    expect(terms).toEqual({ payer: payer.address, chainId, escrow: escrowAddress, token, tokenSymbol: 'mUSDC', decimals: 6, prices: { renderPerFrame: '250000', storagePerGiBDay: '10' } });
  });

  it('books credits backed by a verified voucher, equal to what was credited', async () => {
    const node = await newNode(hub);
    await credit(hub, node, 250_000n);
    await credit(hub, node, 1_500_000n, undefined, null);
    await credit(hub, node, 7n, undefined, 'weird device!');
    await node.intake.sync(node.http);
    expect(node.intake.view().refusedReason).toBeNull();
    expect(booked(node, key)).toEqual({ total: 1_750_007n, count: 3 });
    const v = node.intake.latestVoucher()!;
    expect(v.voucher.cumulativeAmount).toBe('1750007');
    expect(v.voucher.payee.toLowerCase()).toBe(node.payout.toLowerCase());
    expect(v.voucher.expiry).toBeGreaterThanOrEqual(nowS() + VOUCHER_TTL_S - 60);
    // The pinned terms are under a hashed folder name, never the host name.
    expect(node.intake.dir).not.toContain(key.split(':')[0]!);
    expect(PaymentTerms.parse(JSON.parse(readFileSync(join(node.intake.dir, 'terms.json'), 'utf8')).terms).payer).toBe(payer.address);
    // A sync with nothing new books nothing more.
    await node.intake.sync(node.http);
    expect(booked(node, key).count).toBe(3);
    // Re-opened from disk (a restart), it carries on from where it was.
    const again = new PaymentIntake({ dataDir: node.dataDir, networkKey: key, ledger: node.ledger, payout: () => node.payout, log, now: () => new Date(clock.now()) });
    expect(again.latestVoucher()).toEqual(v);
    await credit(hub, node, 3n);
    await again.sync(node.http);
    expect(booked(node, key)).toEqual({ total: 1_750_010n, count: 4 });
    expect(again.view().lastVoucher?.voucher.cumulativeAmount).toBe('1750010');
  });

  it('ledger entries carry the voucher digest as their proof', async () => {
    const node = await newNode(hub);
    await credit(hub, node, 42n);
    await node.intake.sync(node.http);
    const v = node.intake.latestVoucher()!;
    const lines = readFileSync(join(node.dataDir, 'history', 'ledger.jsonl'), 'utf8');
    expect(lines).toContain(voucherDigest(v.domain, v.voucher));
    expect(lines).toContain(`hub:${key}:cr_`);
  });

  it('50 concurrent credits for one payee: the total is exactly their sum', async () => {
    const payout = Wallet.createRandom().address;
    // Two nodes of one home lab paying to one address: both lock the same total.
    const a = await newNode(hub, { payout });
    const b = await newNode(hub, { payout });
    const amounts = Array.from({ length: 50 }, (_, i) => BigInt(1000 + i * 37));
    await Promise.all(amounts.map((amt, i) => credit(hub, i % 2 ? a : b, amt)));
    const sum = amounts.reduce((x, y) => x + y, 0n);
    expect(await storedTotal(hub, payout)).toBe(sum);
    await a.intake.sync(a.http);
    await b.intake.sync(b.http);
    expect(a.intake.latestVoucher()!.voucher.cumulativeAmount).toBe(sum.toString());
    expect(booked(a, key).total + booked(b, key).total).toBe(sum);
  });

  it('a repeated credit for the same task is a no-op', async () => {
    const node = await newNode(hub);
    const task = await credit(hub, node, 500n);
    await credit(hub, node, 500n, task);
    await credit(hub, node, 999n, task);
    expect(await storedTotal(hub, node.payout)).toBe(500n);
    const { rows } = await hub.db.query('select 1 from payment_credits where task_id = $1', [task]);
    expect(rows).toHaveLength(1);
    await node.intake.sync(node.http);
    expect(booked(node, key)).toEqual({ total: 500n, count: 1 });
  });

  it('pages through more than one answer of credits', async () => {
    const node = await newNode(hub);
    for (let i = 0; i < 1003; i++) await credit(hub, node, 1n);
    await node.intake.sync(node.http);
    expect(booked(node, key)).toEqual({ total: 1003n, count: 1003 });
    expect(node.intake.latestVoucher()!.voucher.cumulativeAmount).toBe('1003');
  }, 180_000);

  it('the voucher redeems on the chain: the payout address gains exactly the amount', async () => {
    const node = await newNode(hub);
    await credit(hub, node, 12n * USDC);
    await credit(hub, node, 3n * USDC);
    await node.intake.sync(node.http);
    const v = node.intake.latestVoucher()!;
    const depositBefore = await escrowDeposit(provider, escrowAddress, payer.address, token);
    const before = await balance(node.payout);
    const out = await redeemBatch(relayer, escrowAddress, [v]);
    expect(out.paid).toBe(15n * USDC);
    expect(out.skipped).toEqual([]);
    expect(await balance(node.payout)).toBe(before + 15n * USDC);
    expect(await escrowDeposit(provider, escrowAddress, payer.address, token)).toBe(depositBefore - 15n * USDC);
    // A second batch with the same voucher pays nothing: it is skipped, not reverted.
    const replay = await redeemBatch(relayer, escrowAddress, [v]);
    expect(replay.paid).toBe(0n);
    expect(replay.skipped).toHaveLength(1);
    const status = await paymentsStatus(hub.payments, provider);
    expect(status?.escrowBalance).toBe((depositBefore - 15n * USDC).toString());
    expect(BigInt(status!.owed)).toBeGreaterThanOrEqual(15n * USDC);
    // Without a chain connection the deposit is not guessed.
    expect((await paymentsStatus(hub.payments))?.escrowBalance).toBeNull();
  });

  it('the operator redeems every voucher owed in one batch paid by the payer key; a second run sends nothing', async () => {
    // A hub of its own with a chain connection, so only its vouchers are in the batch.
    const batchPayer = new Wallet(`0x${randomBytes(32).toString('hex')}`);
    await provider.send('hardhat_setBalance', [batchPayer.address, '0x56BC75E2D63100000']);
    await (await escrow.connect(operator).getFunction('depositFor')(batchPayer.address, token, 100n * USDC)).wait();
    const databaseUrl = backend === 'postgres' ? await (await postgres()).newDatabase() : '';
    const withChain = await startHub({ dataDir: tempDir(), databaseUrl, port: 0, clock, log: () => {}, payments: { ...paymentsConfig(batchPayer.privateKey), provider } });
    try {
      const a = await newNode(withChain);
      const b = await newNode(withChain);
      await credit(withChain, a, 2n * USDC);
      await credit(withChain, b, 5n * USDC);
      await credit(withChain, a, 1n * USDC);
      const [ba, bb] = [await balance(a.payout), await balance(b.payout)];
      const redeem = async () => {
        const res = await fetch(`${withChain.url}/v1/payments/redeem`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${withChain.customerKey}` }, body: '{}' });
        return { status: res.status, json: (await res.json()) as any };
      };
      const first = await redeem();
      expect(first.status, JSON.stringify(first.json)).toBe(200);
      const out = RedeemResponse.parse(first.json);
      expect(out.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(out.paid).toBe((8n * USDC).toString());
      expect(await balance(a.payout)).toBe(ba + 3n * USDC);
      expect(await balance(b.payout)).toBe(bb + 5n * USDC);
      const again = RedeemResponse.parse((await redeem()).json);
      expect(again).toEqual({ txHash: null, paid: '0', redeemed: [], skipped: [] });
      // A node may not trigger it: the route wants the operator's key.
      await expect(a.http.post('/v1/payments/redeem', {})).rejects.toMatchObject({ status: 401 });
    } finally {
      await withChain.stop();
    }
    // Without a chain connection the hub says what to configure.
    const res = await fetch(`${hub.url}/v1/payments/redeem`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.customerKey}` }, body: '{}' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).error.message).toMatch(/rpcUrl/);
  });

  it('the network service takes payment after each heartbeat and shows it in its view', async () => {
    const agentDir = tempDir();
    const ledger = Ledger.open(agentDir);
    const nodeKey = new Wallet(`0x${randomBytes(32).toString('hex')}`);
    const payout = Wallet.createRandom().address;
    const addedAt = new Date().toISOString();
    const service = new NetworkService({
      hubs: () => [{ url: hub.url, addedAt }],
      key: async () => nodeKey,
      payout: () => payout,
      capabilities: async () => registration(payout).capabilities,
      earnings: () => new Map(),
      log,
      now: () => new Date(clock.now()),
      onChange: () => {},
      timings: { heartbeatMs: 200 },
      payments: { dataDir: agentDir, ledger },
    });
    await service.sync();
    try {
      // Terms pinned: the node has registered and heartbeated at least once.
      await vi.waitFor(() => expect(service.view().hubs[0]!.payments).not.toBeNull(), { timeout: 30_000, interval: 50 });
      await credit(hub, { address: nodeKey.address.toLowerCase() } as TestNode, 123n);
      await vi.waitFor(() => expect(service.intake(hub.url)!.latestVoucher()?.voucher.cumulativeAmount).toBe('123'), { timeout: 30_000, interval: 50 });
      expect(booked({ ledger } as TestNode, key)).toEqual({ total: 123n, count: 1 });
      expect(service.view().hubs[0]!.payments).toMatchObject({ voucherTotal: '0.000123', token: 'mUSDC', refused: null });
    } finally {
      await service.close();
      ledger.close();
    }
  });

  it('a new payout address: later credits are backed by its own voucher', async () => {
    const node = await newNode(hub);
    await credit(hub, node, 5n);
    await node.intake.sync(node.http);
    const second = Wallet.createRandom().address;
    const payoutNow = { value: second };
    const moved = new PaymentIntake({ dataDir: node.dataDir, networkKey: key, ledger: node.ledger, payout: () => payoutNow.value, log, now: () => new Date(clock.now()) });
    await node.http.post('/v1/nodes', registration(second));
    await credit(hub, node, 8n);
    await moved.sync(node.http);
    expect(moved.view().refusedReason).toBeNull();
    expect(moved.latestVoucher()!.voucher).toMatchObject({ payee: second, cumulativeAmount: '8' });
    expect(booked(node, key)).toEqual({ total: 13n, count: 2 });
    // The first address's voucher is still there for it.
    payoutNow.value = node.payout;
    expect(moved.latestVoucher()!.voucher.cumulativeAmount).toBe('5');
  });

  it('a heartbeat stands even when the payment step after it fails', async () => {
    const failing = vi.fn(async () => {
      throw new Error('boom');
    });
    const payout = Wallet.createRandom().address;
    const client = new HubClient({
      origin: hub.url,
      key: async () => new Wallet(`0x${randomBytes(32).toString('hex')}`),
      payout: () => payout,
      capabilities: async () => registration(payout).capabilities,
      availability: () => [],
      log,
      now: () => new Date(clock.now()),
      onChange: () => {},
      heartbeatMs: 200,
      afterHeartbeat: failing,
    });
    client.start();
    try {
      await vi.waitFor(() => expect(failing.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 });
      expect(client.view()).toMatchObject({ state: 'connected', reason: null });
    } finally {
      await client.stop();
    }
  });

  describe('refusals: nothing booked by the node, nothing paid by the contract', () => {
    let node: TestNode;
    let good: SignedVoucher;

    beforeAll(async () => {
      node = await newNode(hub);
      await credit(hub, node, 10n * USDC);
      await node.intake.sync(node.http);
      good = node.intake.latestVoucher()!;
      expect(good.voucher.cumulativeAmount).toBe((10n * USDC).toString());
      await redeemBatch(relayer, escrowAddress, [good]);
    });

    /** A new credit, the hub handing out `bad` for it, and the intake refusing with `reason`. */
    async function expectIntakeRefuses(bad: SignedVoucher, reason: RegExp): Promise<void> {
      const before = booked(node, key);
      await credit(hub, node, 1n * USDC);
      await plant(hub, bad);
      await node.intake.sync(node.http);
      expect(node.intake.view().refusedReason).toMatch(reason);
      expect(booked(node, key)).toEqual(before);
      expect(node.intake.latestVoucher()).toEqual(good);
      // The hub's own voucher again: now the credit is booked, and the refusal cleared.
      await restore(hub, node.payout);
      await node.intake.sync(node.http);
      expect(node.intake.view().refusedReason).toBeNull();
      expect(booked(node, key).count).toBe(before.count + 1);
      good = node.intake.latestVoucher()!;
    }

    it('a voucher signed by another key in the hub’s name', async () => {
      const forged = await sign(Wallet.createRandom(), { ...good.voucher, cumulativeAmount: (50n * USDC).toString(), expiry: nowS() + 3600 });
      await expectIntakeRefuses(forged, /wrong-signer/);
      expect(await chainRefusal(forged)).toBe('SignerNotPayer');
    });

    it('a lower cumulative amount', async () => {
      const lower = await sign(payer, { ...good.voucher, cumulativeAmount: (5n * USDC).toString(), expiry: nowS() + 3600 });
      await expectIntakeRefuses(lower, /not-above-last/);
      expect(await chainRefusal(lower)).toBe('NotAboveAlreadyPaid');
    });

    it('a total that rose by less than the credits', async () => {
      const short = await sign(payer, { ...good.voucher, cumulativeAmount: (BigInt(good.voucher.cumulativeAmount) + 1n).toString(), expiry: nowS() + 3600 });
      await expectIntakeRefuses(short, /less than/);
    });

    it('a voucher for another chain id', async () => {
      const v = { ...good.voucher, cumulativeAmount: (50n * USDC).toString(), expiry: nowS() + 3600 };
      const otherChain = await sign(payer, v, voucherDomain(chainId + 1, escrowAddress));
      await expectIntakeRefuses(otherChain, /wrong-chain/);
      expect(await chainRefusal(otherChain)).toBe('SignerNotPayer');
    });

    it('a voucher for another escrow contract', async () => {
      const v = { ...good.voucher, cumulativeAmount: (50n * USDC).toString(), expiry: nowS() + 3600 };
      const otherContract = await sign(payer, v, voucherDomain(chainId, otherEscrowAddress));
      await expectIntakeRefuses(otherContract, /wrong-contract/);
      expect(await chainRefusal(otherContract)).toBe('SignerNotPayer');
    });

    it('changed terms: a hub at the same address with another signer', async () => {
      const impostor = await startHub({ dataDir: tempDir(), databaseUrl: '', port: 0, clock, log: () => {}, payments: paymentsConfig() });
      try {
        // Same agent data directory and network key: to the node this is the hub it pinned.
        const there = await newNode(impostor, { networkKey: key, dataDir: node.dataDir, ledger: node.ledger, payout: node.payout });
        await credit(impostor, there, 7n * USDC);
        const before = booked(node, key);
        await there.intake.sync(there.http);
        expect(there.intake.view().refusedReason).toMatch(/changed its payment terms \(signer/);
        expect(booked(node, key)).toEqual(before);
        expect(PaymentTerms.parse(JSON.parse(readFileSync(join(node.intake.dir, 'terms.json'), 'utf8')).terms).payer).toBe(payer.address);
        expect(statSync(join(impostor.payments.keyFile)).mode & 0o777).toBe(0o600);
      } finally {
        await impostor.stop();
      }
    });
  });

  describe('expiry', () => {
    it('an expired voucher is booked, reissued on request with a fresh expiry, and the reissue redeems', async () => {
      const node = await newNode(hub);
      await credit(hub, node, 2n * USDC);
      await node.intake.sync(node.http);
      const first = node.intake.latestVoucher()!;
      await credit(hub, node, 1n * USDC);
      // The hub's own key, the right total, but already expired; the hub's row says it is fresh,
      // so only the node's reissue request gets a new one.
      const expired = await sign(payer, { ...first.voucher, cumulativeAmount: (3n * USDC).toString(), expiry: nowS() - 10 });
      await plant(hub, expired);
      expect(await chainRefusal(expired)).toBe('VoucherExpired');
      await node.intake.sync(node.http);
      expect(node.intake.view().refusedReason).toBeNull();
      expect(booked(node, key).total).toBe(3n * USDC);
      const reissued = node.intake.latestVoucher()!;
      expect(reissued.voucher.cumulativeAmount).toBe((3n * USDC).toString());
      expect(reissued.voucher.expiry).toBeGreaterThan(nowS());
      const before = await balance(node.payout);
      expect((await redeemBatch(relayer, escrowAddress, [reissued])).paid).toBe(3n * USDC);
      expect(await balance(node.payout)).toBe(before + 3n * USDC);
    });

    it('the hub re-signs a stored voucher past its expiry by its own clock', async () => {
      const node = await newNode(hub);
      await credit(hub, node, 4n);
      await node.intake.sync(node.http);
      const first = node.intake.latestVoucher()!;
      skew.ms += (VOUCHER_TTL_S + 60) * 1000;
      try {
        // A month later the session is long gone too.
        node.http.setToken((await signIn(node.http, node.key)).token);
        await node.intake.sync(node.http);
        const fresh = node.intake.latestVoucher()!;
        expect(fresh.voucher.cumulativeAmount).toBe('4');
        expect(fresh.voucher.expiry).toBeGreaterThan(first.voucher.expiry);
        expect(booked(node, key).count).toBe(1);
      } finally {
        skew.ms -= (VOUCHER_TTL_S + 60) * 1000;
      }
    });
  });
});

describe('a hub without payment configuration', () => {
  it('answers 503, records credits anyway, and pays them once configured', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir, databaseUrl: '', port: 0, clock, log: () => {} });
    const payout = Wallet.createRandom().address;
    let node: TestNode;
    try {
      expect((await fetch(`${hub.url}/v1/payments/terms`)).status).toBe(503);
      node = await newNode(hub, { payout });
      const r = await fetch(`${hub.url}/v1/payments/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"after":0}' });
      expect(r.status).toBe(401);
      await credit(hub, node, 9n);
      await credit(hub, node, 11n);
      // Nothing to take yet, and not a refusal.
      await node.intake.sync(node.http);
      expect(node.intake.view().refusedReason).toBeNull();
      expect(node.intake.latestVoucher()).toBeNull();
    } finally {
      await hub.stop();
    }
    const port = Number(new URL(hub.url).port);
    hub = await startHub({ dataDir, databaseUrl: '', port, clock, log: () => {}, payments: paymentsConfig() });
    try {
      expect(statSync(join(dataDir, 'hub-key')).mode & 0o777).toBe(0o600);
      // The session survives the restart (it is in the database); the intake is the same one.
      await node!.intake.sync(node!.http);
      expect(node!.intake.view().refusedReason).toBeNull();
      expect(node!.intake.latestVoucher()!.voucher.cumulativeAmount).toBe('20');
      expect(booked(node!, networkKey(hub.url)).total).toBe(20n);
    } finally {
      await hub.stop();
    }
    // The generated key is reused on the next start: the same payer.
    const again = await startHub({ dataDir, databaseUrl: '', port: 0, clock, log: () => {}, payments: paymentsConfig() });
    try {
      expect(again.payments.terms!.payer).toBe(hub.payments.terms!.payer);
    } finally {
      await again.stop();
    }
  });
});
