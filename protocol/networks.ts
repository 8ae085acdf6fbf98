// The hubs this node works for (Settings v7) and what the agent knows of each connection (the
// Networks API, UI and CLI <-> agent). Pure: no I/O.
import { z } from 'zod';
import { isoDateTime } from './common.js';
import { EthAddress } from './hub-auth.js';
import { DecimalAmount } from './signals.js';
import { NodeReputation } from './hub.js';

/** Why a hub URL cannot be used, or null. Only an origin: a path, query or password in it would be
 * silently dropped by the client, so the user would not be talking to what they typed. */
export function hubUrlProblem(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'a URL such as https://hub.example';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'only http:// or https:// hubs';
  if (u.username !== '' || u.password !== '') return 'no user name or password in the URL';
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '' || /[?#]/.test(text)) return 'only the origin (https://hub.example), with no path';
  return null;
}

/** A hub's URL as typed; stored as its origin (`https://hub.example`, `http://127.0.0.1:8787`). */
export const HubUrl = z
  .string()
  .trim()
  .min(1, 'a URL such as https://hub.example')
  .max(300)
  .superRefine((v, ctx) => {
    const problem = hubUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => new URL(v).origin);

/** A network is known by its hub's host (with the port): the ledger's `network` key. */
export const networkKey = (origin: string): string => new URL(origin).host;

export const NetworkHub = z
  .object({
    url: z.string().url().max(300),
    name: z.string().min(1).max(80).optional(),
    addedAt: isoDateTime,
  })
  .strict();
export type NetworkHub = z.infer<typeof NetworkHub>;

export const NetworksSettings = z.object({ hubs: z.array(NetworkHub).max(32) }).strict();
export type NetworksSettings = z.infer<typeof NetworksSettings>;

export const defaultNetworksSettings = (): NetworksSettings => ({ hubs: [] });

/** `POST /api/v1/networks`. */
export const AddNetworkRequest = z
  .object({
    url: HubUrl,
    name: z.string().trim().min(1).max(80).optional(),
  })
  .strict();
export type AddNetworkRequest = z.infer<typeof AddNetworkRequest>;

export const HubConnectionState = z.enum(['connecting', 'connected', 'backing-off', 'refused', 'removed']);
export type HubConnectionState = z.infer<typeof HubConnectionState>;

export const NetworkView = z
  .object({
    /** The network key (the hub's host): DELETE /api/v1/networks/:id names it. */
    id: z.string().min(1).max(300),
    url: z.string(),
    name: z.string().nullable(),
    addedAt: isoDateTime,
    state: HubConnectionState,
    /** Why it is not connected (or what went wrong last), in words; null while all is well. */
    reason: z.string().nullable(),
    /** The last answer from the hub that was valid. */
    lastContactAt: isoDateTime.nullable(),
    /** When the next attempt is due while backing off. */
    retryAt: isoDateTime.nullable(),
    /** This node as the hub registered it; null until it has. */
    registration: z
      .object({
        nodeAddress: EthAddress,
        payoutAddress: EthAddress,
        registeredAt: isoDateTime,
      })
      .strict()
      .nullable(),
    /** What the hub asked of this node in its answers: null means the hub did not say, never zero. */
    wants: z
      .object({
        heartbeatEveryS: z.number().int().positive().nullable(),
      })
      .strict(),
    /** This node's record at the hub (from its heartbeat answers); null until the hub says. */
    reputation: NodeReputation.nullable(),
    /** The newest voucher this node accepted from the hub, or why the last one was refused. */
    payments: z
      .object({
        /** The voucher's running total, in the token (decimal text). */
        voucherTotal: DecimalAmount.nullable(),
        token: z.string().nullable(),
        voucherExpiresAt: isoDateTime.nullable(),
        /** Why the last voucher or the hub's payment terms were refused; null when all verified. */
        refused: z.string().nullable(),
        lastSyncAt: isoDateTime.nullable(),
      })
      .strict()
      .nullable(),
    /** The hub task this node is working on now, if any. */
    working: z.object({ taskId: z.string(), title: z.string() }).strict().nullable(),
    /** Earned from this network, per token, from the ledger (all time). */
    earnings: z.record(z.string(), DecimalAmount),
  })
  .strict();
export type NetworkView = z.infer<typeof NetworkView>;

/** `GET /api/v1/networks`. */
export const NetworksView = z
  .object({
    hubs: z.array(NetworkView),
    /** Whether this agent leases work from hubs (false while sharing is off or paused). */
    leasing: z.boolean(),
  })
  .strict();
export type NetworksView = z.infer<typeof NetworksView>;
