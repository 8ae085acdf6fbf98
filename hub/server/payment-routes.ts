// The payment part of the API v1: the hub's terms, and a node's credits with the voucher that
// backs them. Concatenated into ROUTES (routes.ts), so dispatch and OpenAPI see them like the rest.
import { PaymentTerms, PaymentsSyncRequest, PaymentsSyncResponse, RedeemRequest, RedeemResponse } from '../../protocol/index.js';
import { redeemOwed } from '../settlement.js';
import type { Payments } from '../payments.js';
import { HttpError } from './http.js';
import type { Route, Services } from './routes.js';
import { routesFor } from './define-route.js';

/** Services with the payments service, which hub.ts adds (absent in a hub built without it). */
type WithPayments = Services & { payments?: Payments };

const route = routesFor<WithPayments>();

function configured(s: WithPayments): Payments {
  if (!s.payments?.configured) throw new HttpError(503, 'payments_unconfigured', 'this hub has no payment configuration (chain, escrow, token) yet');
  return s.payments;
}

export const PAYMENT_ROUTES: readonly Route[] = [
  route({
    method: 'GET',
    path: '/v1/payments/terms',
    auth: 'none',
    summary: 'Who pays, in what token, on which chain and escrow; a node pins these on first contact',
    response: PaymentTerms,
    handle: async (s) => configured(s).terms,
  }),
  route({
    method: 'POST',
    path: '/v1/payments/sync',
    auth: 'node',
    summary: "This node's credits after a seq (at most 1000) and the newest voucher for its payout address",
    body: PaymentsSyncRequest,
    response: PaymentsSyncResponse,
    handle: async (s, { node, body }) => {
      const out = await configured(s).sync(node, body);
      if (!out) throw new HttpError(403, 'not_registered', 'register this node (POST /v1/nodes) first');
      return out;
    },
  }),
  route({
    method: 'POST',
    path: '/v1/payments/redeem',
    auth: 'admin',
    summary: 'Operator: submit every voucher the escrow has not paid in full, in one batch paid for by the payer key',
    body: RedeemRequest,
    response: RedeemResponse,
    handle: async (s) => {
      const out = await redeemOwed(configured(s));
      if (out === 'no_chain') throw new HttpError(409, 'conflict', 'this hub has no chain connection: set payments.rpcUrl in its config');
      return out;
    },
  }),
];
