// The node's payment intake against a hub that answers whatever the test scripts (a hostile or
// broken hub; the honest one runs for real in tests/integration/hub-payments.test.ts): it books
// nothing that a verified voucher does not back, and says why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { describe, expect, it, vi } from 'vitest';
import { Ledger } from '../../agent/ledger/ledger.js';
import type { Logger } from '../../agent/logger.js';
import { PaymentIntake, type PaymentsHttp } from '../../agent/network/payments.js';
import { voucherDigest, voucherDomain, type PaymentCredit, type PaymentTerms, type SignedVoucher } from '../../protocol/index.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => log, close: vi.fn() } as unknown as Logger;
const payer = new Wallet(`0x${'11'.repeat(32)}`);
const payout = Wallet.createRandom().address;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const nowS = Math.floor(NOW / 1000);

const terms = (over: Partial<PaymentTerms> = {}): PaymentTerms => ({
  payer: payer.address,
  chainId: 31337,
  escrow: '0x' + 'e'.repeat(40),
  token: '0x' + 'a'.repeat(40),
  tokenSymbol: 'USDC',
  decimals: 6,
  prices: { renderPerFrame: '1000', storagePerGiBDay: '1' },
  ...over,
});

function sign(total: bigint, t: PaymentTerms = terms(), expiry = nowS + 3600): SignedVoucher {
  const voucher = { payer: t.payer, payee: payout, token: t.token, cumulativeAmount: total.toString(), expiry };
  const domain = voucherDomain(t.chainId, t.escrow);
  return { voucher, domain, signature: payer.signingKey.sign(voucherDigest(domain, voucher)).serialized };
}

let n = 0;
const credit = (amount: string, seq = ++n, over: Partial<PaymentCredit> = {}): PaymentCredit => ({
  seq,
  id: `cr_${seq}`,
  kind: 'render',
  taskId: `t_${seq}`,
  jobId: 'j_1',
  amount,
  device: 'gpu:0',
  at: '2026-06-01T11:00:00.000Z',
  ...over,
});

/** A hub scripted per call: terms, then one sync answer per POST. */
function hub(t: PaymentTerms, answers: { credits: PaymentCredit[]; more?: boolean; voucher: SignedVoucher | null }[]) {
  const posts: unknown[] = [];
  const http: PaymentsHttp = {
    origin: 'https://hub.example',
    get: async () => t,
    post: async (_path, body) => {
      posts.push(body);
      const a = answers.shift();
      if (!a) throw new Error('no more answers scripted');
      return { credits: a.credits, more: a.more ?? false, voucher: a.voucher };
    },
  };
  return { http, posts };
}

function intake(dataDir = tempDir(), ledger = Ledger.open(dataDir)) {
  return { dataDir, ledger, intake: new PaymentIntake({ dataDir, networkKey: 'hub.example', ledger, payout: () => payout, log, now: () => new Date(NOW) }) };
}

describe('PaymentIntake', () => {
  it('books credits with a voucher that covers them, and persists where it is', async () => {
    const { intake: i, ledger, dataDir } = intake();
    const c = [credit('1500000'), credit('250000', undefined, { device: null, kind: 'storage' })];
    await i.sync(hub(terms(), [{ credits: c, voucher: sign(1_750_000n) }]).http);
    expect(i.view().refusedReason).toBeNull();
    expect(ledger.count).toBe(2);
    const state = JSON.parse(readFileSync(join(i.dir, 'state.json'), 'utf8'));
    expect(state.lastSeq).toBe(c[1]!.seq);
    const lines = readFileSync(join(dataDir, 'history', 'ledger.jsonl'), 'utf8');
    expect(lines).toContain('"amount":"1.5"');
    expect(lines).toContain('"device":"disk"');
    expect(lines).toContain(`"id":"hub:hub.example:${c[0]!.id}"`);
    expect(i.networkView()).toMatchObject({ voucherTotal: '1.75', token: 'USDC', refused: null });
  });

  it('refuses credits without a voucher', async () => {
    const { intake: i, ledger } = intake();
    await i.sync(hub(terms(), [{ credits: [credit('5')], voucher: null }]).http);
    expect(i.view().refusedReason).toMatch(/without a voucher/);
    expect(ledger.count).toBe(0);
  });

  it('refuses credits out of order', async () => {
    const { intake: i, ledger } = intake();
    await i.sync(hub(terms(), [{ credits: [credit('5', 10), credit('5', 9)], voucher: sign(10n) }]).http);
    expect(i.view().refusedReason).toMatch(/out of order/);
    expect(ledger.count).toBe(0);
  });

  it('refuses a voucher for another payee', async () => {
    const { intake: i, ledger } = intake();
    const other = sign(5n);
    const forged = { ...other, voucher: { ...other.voucher, payee: Wallet.createRandom().address } };
    await i.sync(hub(terms(), [{ credits: [credit('5')], voucher: forged }]).http);
    expect(i.view().refusedReason).toMatch(/wrong-payee/);
    expect(ledger.count).toBe(0);
  });

  it('refuses an amount the ledger cannot hold exactly, rather than rounding it', async () => {
    const { intake: i, ledger } = intake();
    const t = terms({ decimals: 18 });
    await i.sync(hub(t, [{ credits: [credit('1')], voucher: sign(1n, t) }]).http);
    expect(i.view().refusedReason).toMatch(/cannot be booked exactly/);
    expect(ledger.count).toBe(0);
  });

  it('collects every page before judging the voucher', async () => {
    const { intake: i, ledger } = intake();
    const v = sign(3n);
    const { http, posts } = hub(terms(), [
      { credits: [credit('1'), credit('1')], more: true, voucher: v },
      { credits: [credit('1')], voucher: v },
    ]);
    await i.sync(http);
    expect(i.view().refusedReason).toBeNull();
    expect(ledger.count).toBe(3);
    expect((posts[1] as { after: number }).after).toBe(n - 1);
  });

  it('refuses terms that changed since they were pinned, and keeps the first ones', async () => {
    const dataDir = tempDir();
    const ledger = Ledger.open(dataDir);
    const first = intake(dataDir, ledger).intake;
    await first.sync(hub(terms(), [{ credits: [], voucher: null }]).http);
    expect(first.pinnedTerms()?.escrow).toBe(terms().escrow);
    // A restart: the pinned terms come from disk.
    const later = intake(dataDir, ledger).intake;
    const moved = terms({ escrow: '0x' + 'f'.repeat(40) });
    await later.sync(hub(moved, [{ credits: [credit('5')], voucher: sign(5n, moved) }]).http);
    expect(later.view().refusedReason).toMatch(/changed its payment terms \(escrow/);
    expect(ledger.count).toBe(0);
    expect(later.pinnedTerms()?.escrow).toBe(terms().escrow);
  });

  it('asks once for a reissue of an expired voucher, and keeps the fresh one', async () => {
    const { intake: i, ledger } = intake();
    const { http, posts } = hub(terms(), [
      { credits: [credit('7')], voucher: sign(7n, terms(), nowS - 1) },
      { credits: [], voucher: sign(7n, terms(), nowS + 100) },
    ]);
    await i.sync(http);
    expect(posts).toEqual([{ after: 0 }, { after: n, reissue: true }]);
    expect(ledger.count).toBe(1);
    expect(i.latestVoucher()?.voucher.expiry).toBe(nowS + 100);
  });
});
