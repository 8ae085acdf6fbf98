// The shared-disk endpoints. A piece is named in the path by its CID, checked against the CID
// pattern before anything looks it up; no path from a request ever reaches the file system.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX, AddPieceRequest, PieceCidText, ProveRequest, type Ingest, type PieceRecord, type ProveResult, type StorageView } from '../../protocol/index.js';
import { HttpError, check, readJsonBody, sendJson } from './http-util.js';

export interface StorageApi {
  view(): Promise<StorageView>;
  add(req: AddPieceRequest): Promise<Ingest>;
  prove(cid: string, challenges: number): Promise<ProveResult>;
  scrub(cid: string): Promise<PieceRecord | null>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export function storageRoutes(storage: () => StorageApi): Record<string, Partial<Record<string, Handler>>> {
  return {
    [`${API_PREFIX}/storage`]: { GET: async (_req, res) => sendJson(res, 200, await storage().view()) },
    [`${API_PREFIX}/storage/pieces`]: {
      POST: async (req, res) => sendJson(res, 202, await storage().add(check(AddPieceRequest, await readJsonBody(req)))),
    },
  };
}

/** /storage/pieces/:cid/prove and /storage/pieces/:cid/scrub. */
export function pieceRoute(storage: () => StorageApi, pathname: string): Partial<Record<string, Handler>> | undefined {
  const m = new RegExp(`^${API_PREFIX}/storage/pieces/([^/]+)/(prove|scrub)$`).exec(pathname);
  if (!m) return undefined;
  const cid = PieceCidText.safeParse(decodeURIComponent(m[1]!));
  if (!cid.success) throw new HttpError(400, 'invalid_request', 'not a piece CID (baga6ea4…)');
  if (m[2] === 'prove') {
    return { POST: async (req, res) => sendJson(res, 200, await storage().prove(cid.data, check(ProveRequest, await readJsonBody(req)).challenges)) };
  }
  return {
    POST: async (_req, res) => {
      const piece = await storage().scrub(cid.data);
      if (!piece) throw new HttpError(404, 'not_found', `no piece ${cid.data} is stored here`);
      sendJson(res, 200, piece);
    },
  };
}
