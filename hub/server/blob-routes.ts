// The blob endpoints: raw bytes, not JSON, so they sit beside the route table rather than in it
// (the OpenAPI document describes them by hand, from BLOB_ROUTES). Either credential may use them:
// a customer uploads scenes and fetches frames, a node fetches scenes and uploads frames.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BlobHex, type BlobStatus } from '../../protocol/index.js';
import { BlobError, type Blobs } from '../blobs.js';
import { HttpError, parseWith, sendJson } from './http.js';

export const BLOB_ROUTES = [
  { method: 'GET', path: '/v1/blobs/{hex}/status', summary: 'How much of an upload the hub holds for you (the whole size once complete)' },
  { method: 'PUT', path: '/v1/blobs/{hex}', summary: 'Append raw bytes at offset to a content-addressed upload of length bytes; kept once the SHA-256 matches' },
  { method: 'GET', path: '/v1/blobs/{hex}', summary: 'A complete blob; Range: bytes=N- resumes a download (206)' },
] as const;

const Decimal = z.string().regex(/^(0|[1-9]\d{0,15})$/, 'a non-negative integer').transform(Number).pipe(z.number().int().max(2 ** 53));
const PutQuery = z.object({ offset: Decimal, length: Decimal.pipe(z.number().int().positive()) }).strict();

export type BlobCaller = { kind: 'node'; address: string } | { kind: 'customer' };

/** Which blob route a path names, with its validated hex; null when it is not a blob path. */
export function matchBlob(method: string, pathname: string): { op: 'status' | 'put' | 'get'; hex: string } | null {
  const m = /^\/v1\/blobs\/([^/]*)(\/status)?$/.exec(pathname);
  if (!m) return null;
  const op = m[2] ? (method === 'GET' ? 'status' : null) : method === 'PUT' ? 'put' : method === 'GET' ? 'get' : null;
  // The hex is checked before anything else so a path-like name never reaches the store.
  if (!op) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`);
  const hex = parseWith(BlobHex, m[1], 'invalid_path', 'a blob is named by 64 lowercase hex digits (its SHA-256)');
  return { op, hex };
}

const uploaderOf = (c: BlobCaller) => (c.kind === 'node' ? `node:${c.address}` : 'customer');

export async function handleBlob(blobs: Blobs, caller: BlobCaller, op: 'status' | 'put' | 'get', hex: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  if (op === 'status') {
    sendJson(res, 200, (await blobs.status(uploaderOf(caller), hex)) satisfies BlobStatus);
    return;
  }
  if (op === 'get') return sendBlob(blobs, hex, req, res);

  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream') throw new HttpError(415, 'unsupported_media_type', 'send the bytes as application/octet-stream');
  if (req.headers['content-encoding'] !== undefined && req.headers['content-encoding'] !== 'identity') throw new HttpError(415, 'unsupported_media_type', 'send the bytes without a content-encoding');
  const q: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in q) throw new HttpError(400, 'bad_request', `the query names ${k} twice`);
    q[k] = v;
  }
  const { offset, length } = parseWith(PutQuery, q, 'bad_request', 'give ?offset=N&length=T (bytes)');
  const cl = req.headers['content-length'];
  const declared = cl === undefined ? null : Number(cl);
  try {
    sendJson(res, 200, await blobs.put(uploaderOf(caller), hex, offset, length, req, declared));
  } catch (err) {
    if (!(err instanceof BlobError)) throw err;
    if (err.kind === 'offset') throw new HttpError(409, 'upload_offset', err.message);
    if (err.kind === 'digest') throw new HttpError(422, 'digest_mismatch', err.message);
    if (err.kind === 'too_large') throw new HttpError(413, 'body_too_large', err.message);
    if (err.kind === 'busy') throw new HttpError(409, 'conflict', err.message);
    throw new HttpError(400, 'bad_request', err.message);
  }
}

async function sendBlob(blobs: Blobs, hex: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const range = req.headers.range;
  let start = 0;
  if (range !== undefined) {
    const m = /^bytes=(\d{1,16})-$/.exec(range.trim());
    if (!m) throw new HttpError(416, 'bad_request', 'only Range: bytes=N- is supported');
    start = Number(m[1]);
  }
  const blob = await blobs.openRead(hex, start);
  if (!blob) throw new HttpError(404, 'not_found', 'no such blob (or its upload is not complete)');
  if (range !== undefined && start >= blob.size && !(start === 0 && blob.size === 0)) {
    res.setHeader('content-range', `bytes */${blob.size}`);
    throw new HttpError(416, 'bad_request', `the blob has ${blob.size} bytes`);
  }
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'content-length': blob.size - start,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    etag: `"sha256:${hex}"`,
  };
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${blob.size - 1}/${blob.size}`;
  res.writeHead(range !== undefined ? 206 : 200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const s = blob.stream();
    s.once('error', () => {
      res.destroy();
      resolve();
    });
    res.once('close', () => {
      s.destroy();
      resolve();
    });
    s.pipe(res);
  });
}
