// Provider nodes: registration (payout address, capabilities) and heartbeats (availability).
import type { HeartbeatRequest, NodeView, RegisterNodeRequest } from '../protocol/index.js';
import type { Db } from './db/db.js';
import { iso, type Clock } from './clock.js';

interface NodeRow {
  address: string;
  payout_address: string;
  capabilities: NodeView['capabilities'];
  registered_at: number;
  last_seen_at: number;
}

export class Nodes {
  // Nodes are never deleted, so once seen registered an address stays so: saves a query per lease.
  private readonly known = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async register(address: string, req: RegisterNodeRequest): Promise<NodeView> {
    const now = this.clock.now();
    const { rows } = await this.db.query<NodeRow>(
      `insert into nodes (address, payout_address, capabilities, registered_at, last_seen_at) values ($1, $2, $3, $4, $4)
       on conflict (address) do update set payout_address = excluded.payout_address, capabilities = excluded.capabilities, last_seen_at = excluded.last_seen_at
       returning address, payout_address, capabilities, registered_at, last_seen_at`,
      [address, req.payoutAddress, JSON.stringify(req.capabilities), now],
    );
    this.known.add(address);
    return view(rows[0]!);
  }

  async isRegistered(address: string): Promise<boolean> {
    if (this.known.has(address)) return true;
    const { rowCount } = await this.db.query('select 1 from nodes where address = $1', [address]);
    if (rowCount > 0) this.known.add(address);
    return rowCount > 0;
  }

  /**
   * Records availability; null if the node never registered, else its verification counters (read
   * in the same statement, so a heartbeat's answer costs one query).
   */
  async heartbeat(address: string, req: HeartbeatRequest): Promise<{ passed: number; failed: number } | null> {
    const { rows } = await this.db.query<{ passed: number; failed: number }>(
      'update nodes set availability = $2, last_seen_at = $3 where address = $1 returning passed, failed',
      [address, JSON.stringify(req.availability), this.clock.now()],
    );
    return rows[0] ?? null;
  }
}

function view(r: NodeRow): NodeView {
  return {
    address: r.address,
    payoutAddress: r.payout_address,
    capabilities: r.capabilities,
    registeredAt: iso(Number(r.registered_at)),
    lastSeenAt: iso(Number(r.last_seen_at)),
  };
}
