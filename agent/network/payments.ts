// Taking payment from one hub: its terms pinned on first contact, then after each heartbeat the
// credits its verified work earned and the cumulative voucher that backs them. A credit enters the
// ledger only together with a voucher that verifies offline against the pinned terms (exactly
// the escrow's rules: protocol/voucher.ts) and whose total rose by at least the credits' sum since
// the last voucher accepted, so a hub cannot make this node show earnings no signature backs.
// Nothing here holds the payout key: latestVoucher() is what the user (or a relayer) redeems.
//
// State per hub lives in <dataDir>/network/<sha256(networkKey) prefix>/: terms.json (the pinned
// terms) and state.json (the last seq booked and the accepted voucher per payout address), both
// written whole (temp + rename). The ledger is idempotent by entry id and state.json is written
// after the ledger, so a crash between the two books the same credits again harmlessly; a lost
// state.json costs nothing but a weaker rise check until the next voucher.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import {
  DeviceId,
  PaymentTerms,
  PaymentsSyncResponse,
  SignedVoucher,
  verifyVoucher,
  voucherDigest,
  type EarningEntry,
  type NetworkView,
  type PaymentCredit,
} from '../../protocol/index.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';
import type { Logger } from '../logger.js';

/** What the intake needs of a hub connection (HubHttp has it, signed in). */
export interface PaymentsHttp {
  readonly origin: string;
  post(path: string, body: unknown): Promise<unknown>;
  get(path: string): Promise<unknown>;
}

export interface PaymentIntakeOptions {
  /** The agent's data directory. */
  dataDir: string;
  /** The hub's network key (protocol networkKey): ledger entries and the state folder are named by it. */
  networkKey: string;
  ledger: { appendMany(entries: readonly EarningEntry[]): unknown };
  payout(): string | null;
  log: Logger;
  now: () => Date;
  onChange?(): void;
}

export interface PaymentIntakeView {
  lastVoucher: SignedVoucher | null;
  refusedReason: string | null;
  lastSyncAt: string | null;
}

/** A hostile hub could page forever; an honest one never has this many credits waiting. */
const MAX_PAGES = 100;

/**
 * Minor units (decimal text) to the ledger's decimal amount in whole tokens, or null when the
 * ledger cannot hold it exactly (more than 6 decimal places that matter, or 10+ integer digits):
 * such an amount is refused, never rounded.
 */
export function minorToDecimal(minor: string | bigint, decimals: number): string | null {
  const v = typeof minor === 'bigint' ? minor : /^\d{1,78}$/.test(minor) ? BigInt(minor) : null;
  if (v === null || v < 0n || !Number.isInteger(decimals) || decimals < 0) return null;
  const digits = v.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  if (frac.length > 6 || whole.replace(/^0+(?=\d)/, '').length > 9) return null;
  return frac ? `${BigInt(whole)}.${frac}` : BigInt(whole).toString();
}

const PinnedTerms = z.object({ networkKey: z.string(), pinnedAt: z.string(), terms: PaymentTerms }).strict();
type PinnedTerms = z.infer<typeof PinnedTerms>;
const IntakeState = z
  .object({
    v: z.literal(1),
    networkKey: z.string(),
    lastSeq: z.number().int().nonnegative(),
    /** The newest accepted voucher per payout address (lowercase). */
    vouchers: z.record(z.string(), SignedVoucher),
  })
  .strict();
type IntakeState = z.infer<typeof IntakeState>;

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The fields that make a voucher payable to this node: the hub may not change them under it. */
function termsChange(pinned: PaymentTerms, now: PaymentTerms): string | null {
  const changes: string[] = [];
  if (!sameAddress(pinned.payer, now.payer)) changes.push(`signer ${pinned.payer} -> ${now.payer}`);
  if (pinned.chainId !== now.chainId) changes.push(`chain ${pinned.chainId} -> ${now.chainId}`);
  if (!sameAddress(pinned.escrow, now.escrow)) changes.push(`escrow ${pinned.escrow} -> ${now.escrow}`);
  if (!sameAddress(pinned.token, now.token)) changes.push(`token ${pinned.token} -> ${now.token}`);
  if (pinned.tokenSymbol !== now.tokenSymbol) changes.push(`token symbol ${pinned.tokenSymbol} -> ${now.tokenSymbol}`);
  if (pinned.decimals !== now.decimals) changes.push(`decimals ${pinned.decimals} -> ${now.decimals}`);
  return changes.length > 0 ? changes.join(', ') : null;
}

/** The ledger's device for a credit: the hub's name for it when the ledger knows that form. */
function deviceOf(c: PaymentCredit): EarningEntry['device'] {
  if (c.device !== null && DeviceId.safeParse(c.device).success) return c.device;
  return c.kind === 'storage' ? 'disk' : 'cpu';
}

export class PaymentIntake {
  readonly dir: string;
  private terms: PaymentTerms | null = null;
  /** Terms are fetched once per run (and again after a refusal), not on every heartbeat. */
  private termsChecked = false;
  private state: IntakeState;
  private st: PaymentIntakeView = { lastVoucher: null, refusedReason: null, lastSyncAt: null };
  private running: Promise<void> | null = null;

  constructor(private readonly o: PaymentIntakeOptions) {
    // Hashed, never the host name itself: a hub's name must not choose a path on this disk.
    this.dir = join(o.dataDir, 'network', createHash('sha256').update(o.networkKey).digest('hex').slice(0, 32));
    const pinned = readJsonFile(join(this.dir, 'terms.json'), (v) => {
      const p = PinnedTerms.safeParse(v);
      return p.success && p.data.networkKey === o.networkKey ? p.data : null;
    });
    this.terms = pinned?.terms ?? null;
    this.state =
      readJsonFile(join(this.dir, 'state.json'), (v) => {
        const p = IntakeState.safeParse(v);
        return p.success && p.data.networkKey === o.networkKey ? p.data : null;
      }) ?? { v: 1, networkKey: o.networkKey, lastSeq: 0, vouchers: {} };
    const payout = o.payout();
    this.st.lastVoucher = payout ? (this.state.vouchers[payout.toLowerCase()] ?? null) : null;
  }

  view(): PaymentIntakeView {
    return { ...this.st };
  }

  /** The pinned terms, or null before first contact. */
  pinnedTerms(): PaymentTerms | null {
    return this.terms;
  }

  /** The newest accepted voucher for the current payout address: what the user redeems. */
  latestVoucher(): SignedVoucher | null {
    const payout = this.o.payout();
    return payout ? (this.state.vouchers[payout.toLowerCase()] ?? null) : null;
  }

  /** NetworkView.payments: null until this hub has told its terms. */
  networkView(): NetworkView['payments'] {
    if (!this.terms && this.st.refusedReason === null) return null;
    const v = this.latestVoucher();
    return {
      voucherTotal: v && this.terms ? minorToDecimal(v.voucher.cumulativeAmount, this.terms.decimals) : null,
      token: this.terms?.tokenSymbol ?? null,
      voucherExpiresAt: v ? new Date(v.voucher.expiry * 1000).toISOString() : null,
      refused: this.st.refusedReason,
      lastSyncAt: this.st.lastSyncAt,
    };
  }

  /** Fetches new credits and the voucher behind them, and books what verifies. One at a time. */
  sync(http: PaymentsHttp): Promise<void> {
    this.running ??= this.syncOnce(http).finally(() => (this.running = null));
    return this.running;
  }

  private async syncOnce(http: PaymentsHttp): Promise<void> {
    const terms = await this.checkTerms(http);
    if (!terms) return;
    const payout = this.o.payout();
    if (!payout) return;
    // Expired: the earning stands, but the chain will not pay it; one fresh signature is asked for.
    if ((await this.round(http, terms, payout, false)) === 'expired') await this.round(http, terms, payout, true);
    this.set({ lastSyncAt: this.o.now().toISOString() });
  }

  /** The pinned terms after checking the hub still offers them; null when it offers none or others. */
  private async checkTerms(http: PaymentsHttp): Promise<PaymentTerms | null> {
    if (this.termsChecked && this.terms) return this.terms;
    let offered: PaymentTerms;
    try {
      const parsed = PaymentTerms.safeParse(await http.get('/v1/payments/terms'));
      if (!parsed.success) return this.refuse(`the hub's payment terms are not valid (${parsed.error.issues[0]?.message ?? 'unknown'})`);
      offered = parsed.data;
    } catch (err) {
      // A hub without payments says so (503, or 404 from one older than payments): not a
      // refusal, just nothing to take yet.
      const code = (err as { code?: string | null }).code;
      if (code === 'payments_unconfigured' || code === 'not_found') return null;
      throw err;
    }
    if (!this.terms) {
      writeFileAtomic(join(this.dir, 'terms.json'), `${JSON.stringify({ networkKey: this.o.networkKey, pinnedAt: this.o.now().toISOString(), terms: offered } satisfies PinnedTerms)}\n`);
      this.terms = offered;
      this.o.log.info('pinned the hub\'s payment terms', { payer: offered.payer, chainId: offered.chainId, escrow: offered.escrow, token: offered.tokenSymbol });
    } else {
      const change = termsChange(this.terms, offered);
      if (change) return this.refuse(`the hub changed its payment terms (${change}); they stay pinned to the first ones`);
    }
    this.termsChecked = true;
    return this.terms;
  }

  /** One sync over every page; 'expired' when the voucher accepted (or kept) has expired. */
  private async round(http: PaymentsHttp, terms: PaymentTerms, payout: string, reissue: boolean): Promise<'ok' | 'expired' | 'refused'> {
    const credits: PaymentCredit[] = [];
    let voucher: SignedVoucher | null;
    let after = this.state.lastSeq;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES) return this.refuseRound(`the hub offered more than ${MAX_PAGES} pages of credits in one sync`);
      const parsed = PaymentsSyncResponse.safeParse(await http.post('/v1/payments/sync', { after, ...(reissue ? { reissue: true } : {}) }));
      if (!parsed.success) return this.refuseRound(`the hub's payment answer is not valid (${parsed.error.issues[0]?.message ?? 'unknown'})`);
      for (const c of parsed.data.credits) {
        if (c.seq <= after) return this.refuseRound(`the hub's credits are out of order (seq ${c.seq} after ${after})`);
        after = c.seq;
        credits.push(c);
      }
      voucher = parsed.data.voucher;
      if (!parsed.data.more || parsed.data.credits.length === 0) break;
    }
    const owed = credits.reduce((sum, c) => sum + BigInt(c.amount), 0n);
    const key = payout.toLowerCase();
    const previous = this.state.vouchers[key] ?? null;
    const last = previous ? BigInt(previous.voucher.cumulativeAmount) : 0n;
    if (!voucher) {
      if (owed > 0n) return this.refuseRound(`the hub credited ${owed} without a voucher`);
      this.save(after, null, key);
      return 'ok';
    }
    const expect = { signer: terms.payer, payee: payout, token: terms.token, chainId: terms.chainId, escrow: terms.escrow, now: Math.floor(this.o.now().getTime() / 1000) };
    const verdict = verifyVoucher(voucher, { ...expect, lastAccepted: last });
    if (!verdict.ok) {
      // The same total signed again (a reissue, or nothing new): valid if it verifies on its own.
      const same = verdict.reason === 'not-above-last' && BigInt(voucher.voucher.cumulativeAmount) === last && owed === 0n;
      const alone = same ? verifyVoucher(voucher, expect) : verdict;
      if (!alone.ok) return this.refuseRound(`refused the hub's voucher (${alone.reason}): ${alone.detail}`);
      const fresher = !previous || voucher.voucher.expiry > previous.voucher.expiry;
      this.save(after, fresher ? voucher : null, key);
      this.set({ refusedReason: null });
      return alone.expired && !reissue ? 'expired' : 'ok';
    }
    if (BigInt(verdict.increment) < owed) {
      return this.refuseRound(`refused the hub's voucher: its total rose by ${verdict.increment}, less than the ${owed} credited since the last one`);
    }
    const digest = voucherDigest(voucher.domain, voucher.voucher);
    const entries: EarningEntry[] = [];
    for (const c of credits) {
      if (c.amount === '0') continue;
      const amount = minorToDecimal(c.amount, terms.decimals);
      if (amount === null) return this.refuseRound(`credit ${c.id} of ${c.amount} minor units cannot be booked exactly (the ledger keeps 6 decimal places)`);
      entries.push({
        type: 'earning',
        id: `hub:${this.o.networkKey}:${c.id}`,
        at: c.at,
        network: this.o.networkKey,
        jobId: c.jobId ?? c.taskId,
        device: deviceOf(c),
        amount,
        token: terms.tokenSymbol,
        proof: { kind: 'voucher', ref: digest, status: 'verified' },
      });
    }
    this.o.ledger.appendMany(entries);
    this.save(after, voucher, key);
    this.set({ refusedReason: null });
    if (entries.length > 0) this.o.log.info('booked earnings backed by a voucher', { credits: entries.length, total: voucher.voucher.cumulativeAmount });
    return verdict.expired && !reissue ? 'expired' : 'ok';
  }

  private save(lastSeq: number, voucher: SignedVoucher | null, payee: string): void {
    const next: IntakeState = { ...this.state, lastSeq, vouchers: voucher ? { ...this.state.vouchers, [payee]: voucher } : this.state.vouchers };
    if (JSON.stringify(next) === JSON.stringify(this.state)) return;
    writeFileAtomic(join(this.dir, 'state.json'), `${JSON.stringify(next)}\n`);
    this.state = next;
    if (voucher) this.set({ lastVoucher: voucher });
  }

  private refuse(reason: string): null {
    this.o.log.warn('refused a hub\'s payment', { hub: this.o.networkKey, reason });
    // Look again next time: the refusal might have been a hub's passing mistake.
    this.termsChecked = false;
    this.set({ refusedReason: reason });
    return null;
  }

  private refuseRound(reason: string): 'refused' {
    this.refuse(reason);
    return 'refused';
  }

  private set(change: Partial<PaymentIntakeView>): void {
    const before = JSON.stringify(this.st);
    this.st = { ...this.st, ...change };
    if (JSON.stringify(this.st) !== before) this.o.onChange?.();
  }
}
