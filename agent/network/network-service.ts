// One hub client per hub in the settings, all at once. It is a WorkExecutor so the policy's
// decisions reach it like they reach jobs and storage: availability goes to every hub on the next
// heartbeat, at once when it changed. It runs no work itself (leasing is not built yet).
import {
  networkKey,
  type Decision,
  type NetworkHub,
  type NetworkView,
  type NetworksView,
  type NodeCapabilities,
} from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { WorkExecutor } from '../policy/executor.js';
import type { NodeKey } from '../wallet/node-key.js';
import { availabilityOf } from './capabilities.js';
import { HubClient, type HubClientTimings } from './hub-client.js';

export interface NetworkServiceOptions {
  hubs(): readonly NetworkHub[];
  key(): Promise<Pick<NodeKey, 'address' | 'signMessage'>>;
  payout(): string | null;
  capabilities(): Promise<NodeCapabilities>;
  /** Earned per network key, per token, all time. */
  earnings(): ReadonlyMap<string, Record<string, string>>;
  log: Logger;
  now: () => Date;
  onChange(): void;
  timings?: Partial<HubClientTimings>;
}

export class NetworkService implements WorkExecutor {
  private readonly clients = new Map<string, HubClient>();
  private decision: Decision | null = null;
  private sentAvailability = '';
  private closed = false;

  constructor(private readonly o: NetworkServiceOptions) {}

  /** Starts a client for each hub in the settings that has none, and stops those no longer there. */
  async sync(): Promise<void> {
    if (this.closed) return;
    const wanted = new Set(this.o.hubs().map((h) => h.url));
    const gone = [...this.clients.entries()].filter(([url]) => !wanted.has(url));
    for (const [url] of gone) this.clients.delete(url);
    for (const url of wanted) {
      if (this.clients.has(url)) continue;
      const client = new HubClient({
        origin: url,
        key: () => this.o.key(),
        payout: () => this.o.payout(),
        capabilities: () => this.o.capabilities(),
        availability: () => availabilityOf(this.decision),
        log: this.o.log.child({ hub: networkKey(url) }),
        now: this.o.now,
        onChange: () => this.o.onChange(),
        ...this.o.timings,
      });
      this.clients.set(url, client);
      client.start();
    }
    await Promise.all(gone.map(([, c]) => c.stop()));
  }

  /** A setting the hubs are told about changed (the payout address, the disk offered). */
  settingsChanged(): void {
    for (const c of this.clients.values()) c.nudge();
  }

  applyDecision(decision: Decision): void {
    this.decision = decision;
    const now = JSON.stringify(availabilityOf(decision));
    if (now === this.sentAvailability) return;
    this.sentAvailability = now;
    for (const c of this.clients.values()) c.nudge();
  }

  activeWork(): Readonly<Record<string, number>> {
    return {};
  }

  ownPids(): ReadonlySet<number> {
    return new Set();
  }

  /** One hub's view; `removed` for a client that was just stopped. */
  hubView(hub: NetworkHub, client: HubClient | undefined, earnings = this.o.earnings()): NetworkView {
    const v = client?.view() ?? { state: 'removed' as const, reason: null, lastContactAt: null, retryAt: null, registration: null, heartbeatEveryS: null };
    const id = networkKey(hub.url);
    return {
      id,
      url: hub.url,
      name: hub.name ?? null,
      addedAt: hub.addedAt,
      state: v.state,
      reason: v.reason,
      lastContactAt: v.lastContactAt,
      retryAt: v.retryAt,
      registration: v.registration,
      wants: { heartbeatEveryS: v.heartbeatEveryS },
      reputation: null,
      payments: null,
      working: null,
      earnings: earnings.get(id) ?? {},
    };
  }

  view(): NetworksView {
    const earnings = this.o.earnings();
    return { hubs: this.o.hubs().map((h) => this.hubView(h, this.clients.get(h.url), earnings)), leasing: false };
  }

  client(url: string): HubClient | undefined {
    return this.clients.get(url);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.stop()));
  }
}
