// What the hub owes its providers, and the vouchers that promise it. Every credit and the new
// running total it makes are written in the transaction that verified the work (credit(), called
// as the CreditSink), under a row lock on that total: two credits for one payee can never both
// read the old total, so the voucher always signs exactly the sum of what was credited, and a
// repeated credit for the same task is a no-op. The node books nothing a voucher does not back
// (agent/network/payments.ts), so what it shows as earned is what the escrow pays.
//
// The signing key: HubOptions.payments.payerKey, or a random key created once in
// <dataDir>/hub-key. That file is protected by its permissions (0600) and nothing else: whoever
// can read it can sign vouchers against the hub's escrow deposit. Keep the deposit small, top it
// up as vouchers are redeemed, and prefer depositFor() from a treasury key kept elsewhere.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Wallet, getAddress, type ContractRunner, type Signer } from 'ethers';
import {
  PaymentCredit,
  SignedVoucher,
  voucherDigest,
  voucherDomain,
  type PaymentTerms,
  type PaymentsSyncRequest,
  type PaymentsSyncResponse,
  type Voucher,
} from '../protocol/index.js';
import type { CreditSink } from './credit-sink.js';
import type { Db, Queryable } from './db/db.js';
import { iso, type Clock } from './clock.js';

export interface PaymentsConfig {
  chainId: number;
  /** The OffhoursEscrow contract. */
  escrow: string;
  /** The ERC-20 paid in. */
  token: string;
  tokenSymbol: string;
  decimals: number;
  /** In the token's minor units, as decimal text. */
  prices: { renderPerFrame: string; storagePerGiBDay: string };
  /** 0x-prefixed private key; default: read from, or else created in, DATA_DIR/hub-key. */
  payerKey?: string;
  /** A chain connection, so the operator's status can show the escrow deposit (read only). */
  provider?: ContractRunner;
}

/** How long a voucher stays redeemable; a node asks for a fresh one (reissue) after that. */
export const VOUCHER_TTL_S = 30 * 24 * 3600;
/** Credits per sync answer (the protocol's maximum). */
export const SYNC_PAGE = 1000;

const MINOR_UNITS = /^(0|[1-9]\d{0,29})$/;
/** What PaymentCredit.device admits; anything else is stored as unknown rather than failing the node's sync. */
const DEVICE = /^[A-Za-z0-9:._-]{1,64}$/;
const HUB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The payer key persists with the data, so a restarted hub keeps signing as the same payer. */
export function loadPayerKey(dataDir: string, configured?: string): { wallet: Wallet; file: string } {
  if (configured) return { wallet: new Wallet(configured), file: '' };
  const file = join(dataDir, 'hub-key');
  if (existsSync(file)) return { wallet: new Wallet(readFileSync(file, 'utf8').trim()), file };
  const key = `0x${randomBytes(32).toString('hex')}`;
  // wx: two hubs starting on one data directory must not each write their own key.
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { wallet: new Wallet(key), file };
}

interface CreditRow {
  seq: number;
  id: string;
  kind: PaymentCredit['kind'];
  task_id: string | null;
  job_id: string | null;
  amount: string;
  device: string | null;
  created_ms: number;
}

interface TotalRow {
  cumulative: string;
  voucher: SignedVoucher | null;
  expiry: number | null;
}

const newCreditId = () => `cr_${randomBytes(12).toString('base64url')}`;

export class Payments implements CreditSink {
  private readonly wallet: Wallet | null;
  readonly terms: PaymentTerms | null;
  /** Where the generated key lives ('' when configured or unconfigured). */
  readonly keyFile: string;
  readonly provider: ContractRunner | null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    config: PaymentsConfig | null,
    dataDir: string,
  ) {
    if (!config) {
      this.wallet = null;
      this.terms = null;
      this.keyFile = '';
      this.provider = null;
      return;
    }
    if (!Number.isSafeInteger(config.chainId) || config.chainId <= 0) throw new Error(`payments: chainId must be a positive integer, got ${config.chainId}`);
    for (const [name, v] of Object.entries(config.prices)) if (!MINOR_UNITS.test(v)) throw new Error(`payments: prices.${name} must be minor units as decimal text, got ${v}`);
    const { wallet, file } = loadPayerKey(dataDir, config.payerKey);
    this.wallet = wallet;
    this.keyFile = file;
    this.provider = config.provider ?? null;
    this.terms = {
      payer: wallet.address,
      chainId: config.chainId,
      escrow: getAddress(config.escrow),
      token: getAddress(config.token),
      tokenSymbol: config.tokenSymbol,
      decimals: config.decimals,
      prices: { ...config.prices },
    };
  }

  /** The payer key on the configured chain connection, to send transactions; null without one. */
  chainSigner(): Signer | null {
    // A provider is its own `.provider`; a signer given as the runner brings its provider along.
    const provider = this.provider?.provider ?? null;
    return this.wallet && provider ? this.wallet.connect(provider) : null;
  }

  get configured(): boolean {
    return this.terms !== null;
  }

  /**
   * Records one credit and, with payments configured, adds it to the payee's running total and
   * signs the new total, all in `tx` (the caller's transaction). A credit for a (task, kind)
   * already credited does nothing.
   */
  async credit(tx: Queryable, c: { node: string; kind: 'render' | 'check' | 'storage'; taskId: string; jobId: string; amount: string; device: string | null }): Promise<void> {
    if (!MINOR_UNITS.test(c.amount)) throw new Error(`credit: amount must be minor units as decimal text, got ${c.amount}`);
    // The node's row lock orders this node's credits: seq is drawn after it, so a node that has
    // seen seq n can never later find a committed credit below n that it skipped.
    const { rows: nodes } = await tx.query<{ payout_address: string }>('select payout_address from nodes where address = $1 for update', [c.node.toLowerCase()]);
    const node = nodes[0];
    if (!node) throw new Error(`credit: ${c.node} is not a registered node`);
    const payee = node.payout_address.toLowerCase();
    const t = this.terms;
    const { rows } = await tx.query<{ seq: number }>(
      `insert into payment_credits (id, node, kind, task_id, job_id, amount, device, payee, payer, token, created_ms)
       values ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11)
       on conflict (task_id, kind) do nothing
       returning seq`,
      [newCreditId(), c.node.toLowerCase(), c.kind, c.taskId, c.jobId, c.amount, c.device !== null && DEVICE.test(c.device) ? c.device : null, payee, t?.payer.toLowerCase() ?? null, t?.token.toLowerCase() ?? null, this.clock.now()],
    );
    if (rows.length === 0 || !t || c.amount === '0') return;
    await this.addToTotal(tx, payee, BigInt(c.amount));
  }

  /**
   * Folds credits recorded while the hub had no payment configuration into the totals, so work
   * done then is paid now. Run at start, before nodes can sync.
   */
  async foldUnassigned(): Promise<number> {
    const t = this.terms;
    if (!t) return 0;
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ payee: string; amount: string }>(
        'update payment_credits set payer = $1, token = $2 where payer is null returning payee, amount::text as amount',
        [t.payer.toLowerCase(), t.token.toLowerCase()],
      );
      const sums = new Map<string, bigint>();
      for (const r of rows) sums.set(r.payee, (sums.get(r.payee) ?? 0n) + BigInt(r.amount));
      // A fixed order, so two hubs folding at once on one server cannot deadlock on the rows.
      for (const [payee, sum] of [...sums].sort(([a], [b]) => (a < b ? -1 : 1))) if (sum > 0n) await this.addToTotal(tx, payee, sum);
      return rows.length;
    });
  }

  /**
   * This node's credits after `after` (at most SYNC_PAGE) and the newest voucher for its current
   * payout address, re-signed with a fresh expiry when asked or when the stored one has expired.
   * Null when payments are not configured or the node is not registered.
   */
  async sync(node: string, req: PaymentsSyncRequest): Promise<PaymentsSyncResponse | null> {
    const t = this.terms;
    if (!t) return null;
    const address = node.toLowerCase();
    const { rows: nodes } = await this.db.query<{ payout_address: string }>('select payout_address from nodes where address = $1', [address]);
    if (!nodes[0]) return null;
    const payee = nodes[0].payout_address.toLowerCase();
    // Credits first, then the total: a credit visible here was committed with its total, so the
    // voucher read after it covers it (and maybe more, never less). Only credits to the current
    // payout address: the voucher is that address's, and credits to an earlier one (made before
    // the node changed it, not yet synced) are paid by that address's voucher, which could never
    // back them here.
    const { rows } = await this.db.query<CreditRow>(
      `select seq, id, kind, task_id, job_id, amount::text as amount, device, created_ms from payment_credits
       where node = $1 and seq > $2 and payee = $3 and payer is not null order by seq limit $4`,
      [address, req.after, payee, SYNC_PAGE + 1],
    );
    const more = rows.length > SYNC_PAGE;
    const credits = rows.slice(0, SYNC_PAGE).map(creditView);
    const key = [t.payer.toLowerCase(), payee, t.token.toLowerCase()];
    const { rows: totals } = await this.db.query<TotalRow>('select cumulative::text as cumulative, voucher, expiry from payment_totals where payer = $1 and payee = $2 and token = $3', key);
    let voucher = totals[0]?.voucher ?? null;
    const expiry = totals[0]?.expiry === null || totals[0]?.expiry === undefined ? null : Number(totals[0].expiry);
    if (voucher && (req.reissue === true || expiry === null || expiry <= this.nowS())) {
      voucher = await this.db.transaction(async (tx) => {
        const { rows: locked } = await tx.query<TotalRow>(
          'select cumulative::text as cumulative, voucher, expiry from payment_totals where payer = $1 and payee = $2 and token = $3 for update',
          key,
        );
        const total = BigInt(locked[0]!.cumulative);
        const signed = this.sign(payee, total);
        await this.store(tx, payee, total, signed);
        return signed;
      });
    }
    return { credits, more, voucher: voucher ? SignedVoucher.parse(voucher) : null };
  }

  /** Every stored voucher (one per payee), for a settlement run. */
  async vouchers(): Promise<SignedVoucher[]> {
    const t = this.terms;
    if (!t) return [];
    const { rows } = await this.db.query<{ voucher: SignedVoucher }>(
      'select voucher from payment_totals where payer = $1 and token = $2 and voucher is not null order by payee',
      [t.payer.toLowerCase(), t.token.toLowerCase()],
    );
    return rows.map((r) => SignedVoucher.parse(r.voucher));
  }

  /** The sum of every running total this payer has signed: what it has promised in all. */
  async owedTotal(): Promise<bigint> {
    const t = this.terms;
    if (!t) {
      const { rows } = await this.db.query<{ sum: string | null }>('select sum(amount)::text as sum from payment_credits');
      return BigInt(rows[0]?.sum ?? '0');
    }
    const { rows } = await this.db.query<{ sum: string | null }>('select sum(cumulative)::text as sum from payment_totals where payer = $1 and token = $2', [
      t.payer.toLowerCase(),
      t.token.toLowerCase(),
    ]);
    return BigInt(rows[0]?.sum ?? '0');
  }

  nowS(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  private async addToTotal(tx: Queryable, payee: string, amount: bigint): Promise<void> {
    const t = this.terms!;
    const key = [t.payer.toLowerCase(), payee, t.token.toLowerCase()];
    await tx.query('insert into payment_totals (payer, payee, token, cumulative, updated_ms) values ($1, $2, $3, 0, $4) on conflict do nothing', [...key, this.clock.now()]);
    const { rows } = await tx.query<{ cumulative: string }>(
      'select cumulative::text as cumulative from payment_totals where payer = $1 and payee = $2 and token = $3 for update',
      key,
    );
    const total = BigInt(rows[0]!.cumulative) + amount;
    await this.store(tx, payee, total, this.sign(payee, total));
  }

  private async store(tx: Queryable, payee: string, total: bigint, signed: SignedVoucher): Promise<void> {
    const t = this.terms!;
    await tx.query(
      'update payment_totals set cumulative = $4::numeric, voucher = $5, expiry = $6, updated_ms = $7 where payer = $1 and payee = $2 and token = $3',
      [t.payer.toLowerCase(), payee, t.token.toLowerCase(), total.toString(), JSON.stringify(signed), signed.voucher.expiry, this.clock.now()],
    );
  }

  /** Signing is synchronous (no await between reading the total and storing its voucher). */
  private sign(payee: string, total: bigint): SignedVoucher {
    const t = this.terms!;
    const voucher: Voucher = { payer: t.payer, payee: getAddress(payee), token: t.token, cumulativeAmount: total.toString(), expiry: this.nowS() + VOUCHER_TTL_S };
    const domain = voucherDomain(t.chainId, t.escrow);
    // Noble's signatures are low-s with v 27/28: the one form the escrow accepts.
    const signature = this.wallet!.signingKey.sign(voucherDigest(domain, voucher)).serialized;
    return { voucher, signature, domain };
  }
}

function creditView(r: CreditRow): PaymentCredit {
  return {
    seq: Number(r.seq),
    id: r.id,
    kind: r.kind,
    // Ids the protocol cannot carry are left out rather than failing the node's whole sync.
    taskId: r.task_id !== null && HUB_ID.test(r.task_id) ? r.task_id : null,
    jobId: r.job_id !== null && HUB_ID.test(r.job_id) ? r.job_id : null,
    amount: r.amount,
    device: r.device,
    at: iso(Number(r.created_ms)),
  };
}
