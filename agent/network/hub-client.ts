// The connection to one hub: sign in with the node key, register (payout address, capabilities),
// then heartbeat with availability from the policy. Every answer is checked against the protocol's
// schemas; one that does not fit is refused, reported in the state's reason and retried later like
// any failure, so a broken or hostile hub costs this node nothing but its own connection.
// Lease work (hub-work.ts) goes through the same signed-in session: `call` and `blobs` below.
import {
  HeartbeatRequest,
  HeartbeatResponse,
  NodeView,
  RegisterNodeRequest,
  type HubConnectionState,
  type NodeCapabilities,
  type NodeReputation,
  type NodeView as NodeViewT,
  type ResourceAvailability,
} from '../../protocol/index.js';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { NodeKey } from '../wallet/node-key.js';
import { SignInRefused, signIn } from '../wallet/sign-in.js';
import { DEFAULT_BACKOFF, backoffMs, type BackoffOptions } from './backoff.js';
import { HubRequestError, firstIssue, hubHttp, type HubHttp } from './hub-http.js';

export const NO_PAYOUT_REASON = 'No payout address: set a payout address in Settings → Payouts, and Offhours registers with this hub.';

export interface HubClientTimings {
  /** Heartbeat period; default: what the hub asks for. */
  heartbeatMs?: number;
  /** Per request. */
  timeoutMs: number;
  backoff: BackoffOptions;
  /** Sign in again this long before the session ends, so a heartbeat never goes out on a dead token. */
  renewBeforeMs: number;
}

export const DEFAULT_CLIENT_TIMINGS: HubClientTimings = { timeoutMs: 10_000, backoff: DEFAULT_BACKOFF, renewBeforeMs: 60_000 };

export interface HubClientOptions extends Partial<HubClientTimings> {
  origin: string;
  key(): Promise<Pick<NodeKey, 'address' | 'signMessage'>>;
  payout(): string | null;
  capabilities(): Promise<NodeCapabilities>;
  availability(): ResourceAvailability[];
  log: Logger;
  now: () => Date;
  onChange(): void;
  /** Runs after each successful heartbeat (payments sync); a failure is logged, never the heartbeat's. */
  afterHeartbeat?: (http: HubHttp) => Promise<void>;
  /** Storage deals: poll and answer after each successful heartbeat; a failure is logged, never the heartbeat's. */
  afterHeartbeatStorage?: (http: HubHttp) => Promise<void>;
  /** The leases this node holds at this hub, told with each heartbeat. */
  leases?(): string[];
  /** The hub answered that it took these leases back (cancelled, expired). */
  onRevoked?(leaseIds: string[]): void;
}

export interface HubClientView {
  state: HubConnectionState;
  reason: string | null;
  lastContactAt: string | null;
  retryAt: string | null;
  registration: { nodeAddress: string; payoutAddress: string; registeredAt: string } | null;
  heartbeatEveryS: number | null;
  /** This node's record as the hub last reported it in a heartbeat answer. */
  reputation: NodeReputation | null;
}

/** While refused, look again this often even if nothing says the cause went away. */
const REFUSED_RECHECK_MS = 60_000;
/** The hub's own period is obeyed within these bounds: a hostile one cannot make it spin or go silent. */
const MIN_HEARTBEAT_MS = 1_000;
const MAX_HEARTBEAT_MS = 10 * 60_000;

export class HubClient {
  private readonly t: HubClientTimings;
  private readonly stopCtl = new AbortController();
  private readonly http: HubHttp;
  private st: HubClientView = { state: 'connecting', reason: null, lastContactAt: null, retryAt: null, registration: null, heartbeatEveryS: null, reputation: null };
  private session: { expiresMs: number } | null = null;
  /** What was last registered (payout and capabilities as JSON): a change registers again. */
  private registeredAs: string | null = null;
  private failures = 0;
  /** One immediate retry after a 401 or not_registered; a second in a row backs off. */
  private retriedOnce = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly o: HubClientOptions) {
    this.t = {
      ...DEFAULT_CLIENT_TIMINGS,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.renewBeforeMs !== undefined ? { renewBeforeMs: o.renewBeforeMs } : {}),
      ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
    };
    this.http = hubHttp(o.origin, this.t.timeoutMs, this.stopCtl.signal);
  }

  get origin(): string {
    return this.o.origin;
  }

  view(): HubClientView {
    return { ...this.st };
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.o.log.error('the hub client stopped on an unexpected error', { err }));
  }

  /** Signed in, registered, and the last heartbeat went through: lease work may use the session. */
  get connected(): boolean {
    return this.st.state === 'connected' && this.session !== null && !this.stopped;
  }

  /**
   * A POST on the session for lease work, its answer checked against `schema`. A 401 drops the
   * session, so the client's own loop signs in again before the next call.
   */
  async call<T>(path: string, body: unknown, schema: z.ZodType<T>, what: string): Promise<T> {
    const answer = schema.safeParse(await this.authed(() => this.http.post(path, body)));
    if (!answer.success) throw new HubRequestError('invalid', `refused the hub's ${what} answer (${firstIssue(answer.error)})`);
    return answer.data;
  }

  /** Blob transfers on the session (answers are checked by blob-transfer.ts). */
  get blobs(): Pick<HubHttp, 'get' | 'getRaw' | 'putRaw'> {
    return {
      get: (path) => this.authed(() => this.http.get(path)),
      getRaw: (path, headers) => this.authed(() => this.http.getRaw(path, headers)),
      putRaw: (path, body, length, type) => this.authed(() => this.http.putRaw(path, body, length, type)),
    };
  }

  private async authed<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.connected) throw new HubRequestError('unreachable', 'not connected to this hub yet');
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HubRequestError && (err.status === 401 || err.code === 'not_registered')) {
        if (err.status === 401) this.session = null;
        else this.registeredAs = null;
        this.set({ state: 'connecting' });
        this.wake?.();
      }
      throw err;
    }
  }

  /** Something it reports changed (availability, payout address): talk to the hub now, unless backing off. */
  nudge(): void {
    if (this.st.state !== 'backing-off') this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    this.wake?.();
    await this.loop;
    this.set({ state: 'removed', reason: null, retryAt: null });
  }

  private get stopped(): boolean {
    return this.stopCtl.signal.aborted;
  }

  private set(change: Partial<HubClientView>): void {
    const before = JSON.stringify(this.st);
    this.st = { ...this.st, ...change };
    if (JSON.stringify(this.st) !== before) this.o.onChange();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const waitMs = await this.step();
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One round: whatever is missing (session, registration), then a heartbeat. Returns the wait before the next. */
  private async step(): Promise<number> {
    const payout = this.o.payout();
    if (!payout) {
      this.registeredAs = null;
      this.set({ state: 'refused', reason: NO_PAYOUT_REASON, retryAt: null });
      return REFUSED_RECHECK_MS;
    }
    try {
      let key: Pick<NodeKey, 'address' | 'signMessage'>;
      try {
        key = await this.o.key();
      } catch (err) {
        throw new HubRequestError('invalid', `the node key is locked (${err instanceof Error ? err.message : String(err)})`);
      }
      if (!this.session || this.session.expiresMs - this.o.now().getTime() < this.t.renewBeforeMs) await this.signIn(key);
      const capabilities = await this.o.capabilities();
      const as = JSON.stringify({ payout, capabilities });
      if (this.registeredAs !== as) await this.register(key.address, payout, capabilities, as);
      const period = await this.heartbeat();
      await this.o.afterHeartbeatStorage?.(this.http).catch((err: unknown) => this.o.log.warn('storage poll failed', { hub: this.o.origin, err: err instanceof Error ? err.message : String(err) }));
      await this.o.afterHeartbeat?.(this.http).catch((err: unknown) => this.o.log.warn('after-heartbeat step failed', { hub: this.o.origin, err: err instanceof Error ? err.message : String(err) }));
      this.failures = 0;
      this.retriedOnce = false;
      this.set({ state: 'connected', reason: null, retryAt: null, lastContactAt: this.o.now().toISOString() });
      return period;
    } catch (err) {
      if (this.stopped) return 0;
      return this.failed(err);
    }
  }

  private failed(err: unknown): number {
    if (err instanceof HubRequestError && err.status === 401) this.session = null;
    if (err instanceof HubRequestError && err.code === 'not_registered') this.registeredAs = null;
    const recoverable = err instanceof HubRequestError && (err.status === 401 || err.code === 'not_registered');
    if (recoverable && !this.retriedOnce) {
      this.retriedOnce = true;
      this.o.log.info('hub session or registration lost; signing in again', { hub: this.o.origin, reason: (err as Error).message });
      return 0;
    }
    this.failures++;
    const wait = backoffMs(this.failures, this.t.backoff);
    const reason = err instanceof HubRequestError || err instanceof SignInRefused ? capitalise(err.message) : `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof HubRequestError && err.kind === 'invalid') this.o.log.warn('refused an answer from a hub', { hub: this.o.origin, reason });
    else this.o.log.info('hub request failed; backing off', { hub: this.o.origin, reason, waitMs: wait, failures: this.failures });
    this.set({ state: 'backing-off', reason: `${reason}.`, retryAt: new Date(this.o.now().getTime() + wait).toISOString() });
    return wait;
  }

  private async signIn(key: Pick<NodeKey, 'address' | 'signMessage'>): Promise<void> {
    this.http.setToken(null);
    const session = await signIn(this.http, key, this.o.now);
    this.http.setToken(session.token);
    this.session = { expiresMs: Date.parse(session.expiresAt) };
  }

  private async register(address: string, payout: string, capabilities: NodeCapabilities, as: string): Promise<void> {
    const answer = NodeView.safeParse(await this.http.post('/v1/nodes', RegisterNodeRequest.parse({ payoutAddress: payout, capabilities })));
    if (!answer.success) throw new HubRequestError('invalid', `refused the hub's registration answer (${firstIssue(answer.error)})`);
    const node: NodeViewT = answer.data;
    // A hub that registers another address or payee than asked is not one to work for.
    if (node.address.toLowerCase() !== address.toLowerCase() || node.payoutAddress.toLowerCase() !== payout.toLowerCase()) {
      throw new HubRequestError('invalid', `refused the hub's registration answer (it names ${node.address} paying ${node.payoutAddress})`);
    }
    this.registeredAs = as;
    this.set({ registration: { nodeAddress: node.address, payoutAddress: node.payoutAddress, registeredAt: node.registeredAt } });
    this.o.log.info('registered with hub', { hub: this.o.origin, node: node.address, payout: node.payoutAddress, devices: capabilities.devices.length });
  }

  private async heartbeat(): Promise<number> {
    const held = this.o.leases?.().slice(0, 256);
    const body = HeartbeatRequest.parse({ availability: this.o.availability(), ...(held ? { leases: held } : {}) });
    const answer = HeartbeatResponse.safeParse(await this.http.post('/v1/nodes/heartbeat', body));
    if (!answer.success) throw new HubRequestError('invalid', `refused the hub's heartbeat answer (${firstIssue(answer.error)})`);
    // Only leases this node named: a hub cannot make it drop work it holds elsewhere.
    const revoked = answer.data.revokedLeases.filter((id) => held?.includes(id));
    if (revoked.length > 0) this.o.onRevoked?.(revoked);
    this.set({ heartbeatEveryS: answer.data.nextHeartbeatS, ...(answer.data.reputation ? { reputation: answer.data.reputation } : {}) });
    return this.t.heartbeatMs ?? Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, answer.data.nextHeartbeatS * 1000));
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
