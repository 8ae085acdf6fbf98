// The Networks endpoints: the hubs this node works for and its connection to each. A hub is named
// in the path by its network id (host and port), matched against the list, never used otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX, AddNetworkRequest, fieldErrors, type NetworkView, type NetworksView, type SignedVoucher } from '../../protocol/index.js';
import { HttpError, readJsonBody, sendJson } from './http-util.js';

export interface NetworksApi {
  view(): NetworksView;
  add(req: AddNetworkRequest): Promise<NetworkView>;
  /** null: no such hub. */
  remove(id: string): Promise<NetworkView | null>;
  /** The newest voucher accepted from a hub (null: none yet; undefined: no such hub). Public data:
   * whoever holds it can only make the escrow pay the payout address, so it may be handed to a relayer. */
  voucher(id: string): SignedVoucher | null | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export function networkRoutes(networks: () => NetworksApi): Record<string, Partial<Record<string, Handler>>> {
  return {
    [`${API_PREFIX}/networks`]: {
      GET: (_req, res) => sendJson(res, 200, networks().view()),
      POST: async (req, res) => {
        const parsed = AddNetworkRequest.safeParse(await readJsonBody(req));
        if (!parsed.success) throw new HttpError(400, 'invalid_request', 'That hub cannot be added.', fieldErrors(parsed.error));
        sendJson(res, 201, await networks().add(parsed.data));
      },
    },
  };
}

/** /networks/:id and /networks/:id/voucher */
export function networkRoute(networks: () => NetworksApi, pathname: string): Partial<Record<string, Handler>> | undefined {
  const m = new RegExp(`^${API_PREFIX}/networks/([^/]+)(/voucher)?$`).exec(pathname);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    throw new HttpError(400, 'invalid_request', 'not a network id');
  }
  if (m[2]) {
    return {
      GET: (_req, res) => {
        const v = networks().voucher(id);
        if (v === undefined) throw new HttpError(404, 'not_found', `no hub ${id} is added`);
        if (v === null) throw new HttpError(404, 'not_found', `no voucher from ${id} yet`);
        sendJson(res, 200, v);
      },
    };
  }
  return {
    DELETE: async (_req, res) => {
      const removed = await networks().remove(id);
      if (!removed) throw new HttpError(404, 'not_found', `no hub ${id} is added`);
      sendJson(res, 200, removed);
    },
  };
}
