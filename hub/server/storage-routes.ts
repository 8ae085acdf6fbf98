// The storage part of the API v1 (protocol/hub-storage.ts): the customer stores and retrieves files,
// providers poll for deals, challenges and retrievals and answer them. Concatenated into ROUTES.
import { z } from 'zod';
import {
  ChallengeProofRequest,
  ChallengeResult,
  DealAcceptRequest,
  DealConfirmRequest,
  DealDroppedRequest,
  DealDroppedResponse,
  DealRejectRequest,
  DealView,
  HubId,
  RetrievalDoneRequest,
  RetrievalDoneResponse,
  RetrieveFileResponse,
  StoragePollRequest,
  StoragePollResponse,
  StoreFileRequest,
  StoredFileView,
} from '../../protocol/index.js';
import { StorageError, type StorageDeals } from '../storage/deals.js';
import { HttpError } from './http.js';
import type { Route, Services } from './routes.js';
import { registered, routesFor, type RouteSpec } from './define-route.js';

/** Services with the storage service, which hub.ts adds. */
type WithStorage = Services & { storage?: StorageDeals };

/** An answer whose status (and headers) the handler picks, for 202-and-come-back answers. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** The path parameters these routes use, each a HubId. */
export const StoragePathParams = z.object({ fileId: HubId, dealId: HubId, challengeId: HubId, retrievalId: HubId }).partial();

function storage(s: WithStorage): StorageDeals {
  if (!s.storage) throw new HttpError(404, 'not_found', 'this hub does not store files');
  return s.storage;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StorageError) throw new HttpError(err.status, err.code, err.message);
    throw err;
  }
}

const base = routesFor<WithStorage>();
function route<B>(r: RouteSpec<B, WithStorage>): Route {
  const handle = r.handle;
  return base({ ...r, handle: (s, ctx) => mapped(() => handle(s, ctx)) });
}

export const STORAGE_ROUTES: readonly Route[] = [
  route({
    method: 'POST',
    path: '/v1/storage/files',
    auth: 'admin',
    summary: 'Customer: store a file as replicas already uploaded to /v1/blobs, each a deal with its own provider',
    body: StoreFileRequest,
    response: StoredFileView,
    status: 201,
    handle: (s, { body }) => storage(s).createFile(body),
  }),
  route({
    method: 'GET',
    path: '/v1/storage/files/{fileId}',
    auth: 'admin',
    summary: "Customer: a file, and a replica to download when the hub holds one (else 202 and Retry-After while a provider uploads it)",
    response: RetrieveFileResponse,
    handle: async (s, { params }) => {
      const { status, ...body } = await storage(s).retrieve(params.fileId!);
      return status === 200 ? body : new Reply(202, body, { 'retry-after': String(body.retryAfterS) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/storage/files/{fileId}/replicas',
    auth: 'admin',
    summary: "Customer: a file and its replicas' health, without asking for a download",
    response: StoredFileView,
    handle: async (s, { params }) => {
      const file = await storage(s).file(params.fileId!);
      if (!file) throw new HttpError(404, 'not_found', 'no such file');
      return file;
    },
  }),
  route({
    method: 'POST',
    path: '/v1/storage/poll',
    auth: 'node',
    summary: 'Deals offered to this node, challenges it must answer, and replicas it is asked to upload',
    body: StoragePollRequest,
    response: StoragePollResponse,
    handle: async (s, { node, body }) => {
      await registered(s, node);
      return storage(s).poll(node, body);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/storage/deals/{dealId}/accept',
    auth: 'node',
    summary: 'Take an offered deal (then download, seal and confirm it before the deadline)',
    body: DealAcceptRequest,
    response: DealView,
    handle: (s, { node, params }) => storage(s).accept(node, params.dealId!),
  }),
  route({
    method: 'POST',
    path: '/v1/storage/deals/{dealId}/confirm',
    auth: 'node',
    summary: "The replica is stored and sealed with the deal's piece CID",
    body: DealConfirmRequest,
    response: DealView,
    handle: (s, { node, params, body }) => storage(s).confirm(node, params.dealId!, body.pieceCid),
  }),
  route({
    method: 'POST',
    path: '/v1/storage/deals/{dealId}/reject',
    auth: 'node',
    summary: 'Give an offered or accepted deal back (it goes to another provider)',
    body: DealRejectRequest,
    response: DealView,
    handle: (s, { node, params, body }) => storage(s).reject(node, params.dealId!, body.reason),
  }),
  route({
    method: 'POST',
    path: '/v1/storage/deals/{dealId}/dropped',
    auth: 'node',
    summary: 'The node no longer holds a replica the poll told it to drop (its deal ended or a repair replaced it)',
    body: DealDroppedRequest,
    response: DealDroppedResponse,
    handle: (s, { node, params }) => storage(s).dropped(node, params.dealId!),
  }),
  route({
    method: 'POST',
    path: '/v1/storage/challenges/{challengeId}/proof',
    auth: 'node',
    summary: "Inclusion proofs for a challenge's leaves, in order; verified against the root in the piece CID",
    body: ChallengeProofRequest,
    response: ChallengeResult,
    handle: (s, { node, params, body }) => storage(s).proof(node, params.challengeId!, body),
  }),
  route({
    method: 'POST',
    path: '/v1/storage/retrievals/{retrievalId}/done',
    auth: 'node',
    summary: 'The asked-for replica is uploaded to /v1/blobs',
    body: RetrievalDoneRequest,
    response: RetrievalDoneResponse,
    handle: (s, { node, params }) => storage(s).retrievalDone(node, params.retrievalId!),
  }),
];
