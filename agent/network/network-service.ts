// One hub client per hub in the settings, all at once. It is a WorkExecutor so the policy's
// decisions reach it like they reach jobs and storage: availability goes to every hub on the next
// heartbeat, at once when it changed. Work leased from the hubs (hub-work.ts) runs as supervisor
// jobs and is reported to the hub that gave it.
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
import { StorageDeals, type DealStorage } from './storage-deals.js';
import { HubWork, type HubWorkJobs, type HubWorkTimings } from './hub-work.js';
import { PaymentIntake, type PaymentIntakeOptions } from './payments.js';

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
  /** Storage deals with the hubs through this storage service; absent: no deals are polled. */
  storage?: { dataDir: string; service: DealStorage };
  /** Where leased work runs; absent: this agent leases nothing (connection and heartbeats only). */
  work?: { dataDir: string; jobs: HubWorkJobs; timings?: Partial<HubWorkTimings> };
  /** Where hub payments are pinned and booked; without it no credit is taken from any hub. */
  payments?: { dataDir: string; ledger: PaymentIntakeOptions['ledger'] };
}

export class NetworkService implements WorkExecutor {
  private readonly clients = new Map<string, HubClient>();
  private readonly intakes = new Map<string, PaymentIntake>();
  /** Storage deals per hub url: stopped with their client, so a removed hub's replica wait ends. */
  private readonly deals = new Map<string, StorageDeals>();
  private decision: Decision | null = null;
  private sentAvailability = '';
  private closed = false;

  private readonly work: HubWork | null;

  constructor(private readonly o: NetworkServiceOptions) {
    this.work = o.work
      ? new HubWork({
          dataDir: o.work.dataDir,
          jobs: o.work.jobs,
          clients: () => this.o.hubs().flatMap((h) => this.clients.get(h.url) ?? []),
          decision: () => this.decision,
          log: o.log.child({ part: 'hub-work' }),
          now: o.now,
          onChange: () => this.o.onChange(),
          timings: { ...(o.timings?.backoff ? { backoff: o.timings.backoff } : {}), ...o.work.timings },
        })
      : null;
  }

  /** Starts a client for each hub in the settings that has none, and stops those no longer there. */
  async sync(): Promise<void> {
    if (this.closed) return;
    this.work?.start();
    const wanted = new Set(this.o.hubs().map((h) => h.url));
    const gone = [...this.clients.entries()].filter(([url]) => !wanted.has(url));
    for (const [url] of gone) this.clients.delete(url);
    for (const [url] of gone) this.work?.hubRemoved(networkKey(url));
    for (const [url] of gone) this.intakes.delete(url);
    for (const [url] of gone) this.stopDeals(url);
    for (const url of wanted) {
      if (this.clients.has(url)) continue;
      const intake = this.intakeFor(url);
      const deals = this.o.storage ? new StorageDeals({ origin: url, storage: this.o.storage.service, dataDir: this.o.storage.dataDir, log: this.o.log.child({ hub: networkKey(url), part: 'storage-deals' }) }) : null;
      if (deals) this.deals.set(url, deals);
      const client = new HubClient({
        origin: url,
        key: () => this.o.key(),
        payout: () => this.o.payout(),
        capabilities: () => this.o.capabilities(),
        availability: () => availabilityOf(this.decision),
        log: this.o.log.child({ hub: networkKey(url) }),
        now: this.o.now,
        onChange: () => {
          this.o.onChange();
          this.work?.clientChanged(client);
        },
        leases: () => this.work?.leasesFor(networkKey(url)) ?? [],
        onRevoked: (ids) => this.work?.revoked(networkKey(url), ids),
        ...(intake ? { afterHeartbeat: (http) => intake.sync(http) } : {}),
        ...(deals ? { afterHeartbeatStorage: (http) => deals.run(http) } : {}),
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
    this.work?.decisionChanged(decision);
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
    const v = client?.view() ?? { state: 'removed' as const, reason: null, lastContactAt: null, retryAt: null, registration: null, heartbeatEveryS: null, reputation: null };
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
      reputation: v.reputation,
      payments: this.intakes.get(hub.url)?.networkView() ?? null,
      working: this.work?.workingAt(id) ?? null,
      earnings: earnings.get(id) ?? {},
    };
  }

  view(): NetworksView {
    const earnings = this.o.earnings();
    return { hubs: this.o.hubs().map((h) => this.hubView(h, this.clients.get(h.url), earnings)), leasing: this.work?.leasing() ?? false };
  }

  /** The payment intake for a hub: its latest voucher is what the user redeems. */
  intake(url: string): PaymentIntake | undefined {
    return this.intakes.get(url);
  }

  private intakeFor(url: string): PaymentIntake | undefined {
    const p = this.o.payments;
    if (!p) return undefined;
    let intake = this.intakes.get(url);
    if (!intake) {
      const key = networkKey(url);
      intake = new PaymentIntake({ dataDir: p.dataDir, networkKey: key, ledger: p.ledger, payout: () => this.o.payout(), log: this.o.log.child({ hub: key, part: 'payments' }), now: this.o.now, onChange: () => this.o.onChange() });
      this.intakes.set(url, intake);
    }
    return intake;
  }

  private stopDeals(url: string): void {
    this.deals.get(url)?.stop();
    this.deals.delete(url);
  }

  client(url: string): HubClient | undefined {
    return this.clients.get(url);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Leases go back to their hubs while the clients can still say so.
    await this.work?.close();
    const all = [...this.clients.values()];
    this.clients.clear();
    for (const url of [...this.deals.keys()]) this.stopDeals(url);
    await Promise.all(all.map((c) => c.stop()));
  }
}
