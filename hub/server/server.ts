// The hub's HTTP server: node:http, the route table, auth, and turning every failure into a clean
// error body. Nothing a client sends can throw past handle(): the worst is a 400 or a 500.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { AuthError } from '../auth.js';
import { LeaseError } from '../tasks.js';
import { HttpError, bearer, parseWith, readJson, sendError, sendJson } from './http.js';
import { openApiDocument } from './openapi.js';
import type { HubErrorBody } from '../../protocol/index.js';
import { PathParams, ROUTES, type Route, type Services } from './routes.js';
import { Reply } from './storage-routes.js';
import { handleBlob, matchBlob, type BlobCaller } from './blob-routes.js';

interface Compiled {
  route: Route;
  /** Per path segment: the literal, or the name of a `{param}`. */
  segments: Array<{ literal: string } | { param: string }>;
}
const COMPILED: Compiled[] = ROUTES.map((route) => ({
  route,
  segments: route.path.split('/').map((seg) => {
    const m = /^\{(\w+)\}$/.exec(seg);
    return m ? { param: m[1]! } : { literal: seg };
  }),
}));

/** The route for a path, its raw (still percent-encoded) parameters, and whether the method fits. */
function match(method: string, pathname: string): { route: Route; params: Record<string, string> } | 'method' | null {
  const parts = pathname.split('/');
  let wrongMethod = false;
  for (const c of COMPILED) {
    if (c.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = c.segments.every((seg, i) => {
      if ('literal' in seg) return seg.literal === parts[i];
      params[seg.param] = parts[i]!;
      return parts[i] !== '';
    });
    if (!ok) continue;
    if (c.route.method === method) return { route: c.route, params };
    wrongMethod = true;
  }
  return wrongMethod ? 'method' : null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface HubHandlerOptions {
  services: Services;
  /** The customer API key (one, for now). */
  customerKey: string;
  publicUrl: string;
  log?: (line: string) => void;
}

export function hubRequestHandler(opts: HubHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const keyDigest = digest(opts.customerKey);
  let openApi: string | null = null;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    // Only origin-form targets ("/v1/…"); an absolute URL or '*' is not something this API serves.
    if (!target.startsWith('/')) throw new HttpError(400, 'bad_request', 'bad request target');
    // Node's own check would answer without the API's error body (requireHostHeader: false below).
    if (req.httpVersion === '1.1' && req.headers.host === undefined) throw new HttpError(400, 'bad_request', 'HTTP/1.1 requires a Host header');
    const pathname = target.split('?')[0]!;
    if (req.method === 'GET' && (pathname === '/v1/openapi.json' || pathname === '/openapi.json')) {
      openApi ??= JSON.stringify(openApiDocument(ROUTES, opts.publicUrl, opts.services.work !== undefined));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(openApi) });
      res.end(openApi);
      return;
    }
    const blob = opts.services.work ? matchBlob(req.method ?? '', pathname) : null;
    if (blob) {
      // Either credential: the customer key, or a node's session.
      const token = bearer(req);
      let caller: BlobCaller;
      if (token && timingSafeEqual(digest(token), keyDigest)) caller = { kind: 'customer' };
      else if (token) caller = { kind: 'node', address: await opts.services.auth.authenticate(token) };
      else throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <session token or customer key>');
      const query = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
      await handleBlob(opts.services.work!.blobs, caller, blob.op, blob.hex, req, res, query);
      return;
    }
    const found = match(req.method ?? '', pathname);
    if (found === 'method') throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`);
    if (!found) throw new HttpError(404, 'not_found', 'no such endpoint');
    const { route } = found;
    const params = parseWith(PathParams, found.params, 'invalid_path', 'a path parameter is not a valid id') as Record<string, string>;

    // Credentials before the body: a stranger's request costs no parsing.
    let node = '';
    const token = bearer(req);
    if (route.auth === 'node') {
      if (!token) throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <session token>');
      node = await opts.services.auth.authenticate(token);
    } else if (route.auth === 'admin') {
      if (!token || !timingSafeEqual(digest(token), keyDigest)) throw new HttpError(401, 'unauthorized', 'a valid customer API key is required');
    }
    const body = route.body ? await readJson(req, route.body) : undefined;
    const out = await route.handle(opts.services, { body, params, node });
    if (out instanceof Reply) {
      for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
      sendJson(res, out.status, out.body);
      return;
    }
    sendJson(res, route.status, out);
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A refused upload may still be sending megabytes: close rather than read them all. A small
      // rest is read and dropped instead, so the client is not reset in the middle of sending it.
      if (req.method === 'PUT' && !req.complete) {
        const rest = Number(req.headers['content-length'] ?? Infinity);
        if (!(rest <= 1024 * 1024)) res.setHeader('connection', 'close');
        req.resume();
      }
      if (err instanceof HttpError) sendError(res, err);
      else if (err instanceof AuthError) sendError(res, new HttpError(401, err.code, err.message));
      else if (err instanceof LeaseError) sendError(res, new HttpError(err.code === 'lease_not_found' ? 404 : 409, err.code, err.message));
      else {
        log(`hub: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        sendError(res, new HttpError(500, 'internal', 'internal error'));
      }
    });
  };
}

const MALFORMED = JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } } satisfies HubErrorBody);

export function createHubHttpServer(opts: HubHandlerOptions): Server {
  const server = createServer({ maxHeaderSize: 16 * 1024, requireHostHeader: false, requestTimeout: 30_000, headersTimeout: 20_000, keepAliveTimeout: 65_000 }, hubRequestHandler(opts));
  // Malformed HTTP (not JSON: the request line or headers): answer 400 if the socket still can be.
  // The body is the API's error body like every other 4xx (the OpenAPI document promises it).
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(MALFORMED)}\r\n\r\n${MALFORMED}`);
    else socket.destroy();
  });
  // CONNECT (a proxy tunnel) is not served; without a listener Node would drop the socket unanswered.
  const notAllowed = JSON.stringify({ error: { code: 'method_not_allowed', message: 'CONNECT is not allowed here' } } satisfies HubErrorBody);
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(notAllowed)}\r\n\r\n${notAllowed}`);
  });
  return server;
}
