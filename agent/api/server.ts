// The agent's local API: HTTP + WebSocket on loopback only. Every /api request needs the bearer
// token; every body is validated with the schemas in protocol/; the built dashboard is served at
// `/` so the UI's API calls are same-origin.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  API_PREFIX,
  API_VERSION,
  DecisionPreviewRequest,
  QueueBenchmark,
  QueueRenderJob,
  RenderEngineInfo,
  RenderJobId,
  SettingsPatch,
  SharingRequest,
  SignalUpdate,
  dashboardCsp,
  fieldErrors,
  type Decision,
  type Health,
  type JobDetail,
  type JobList,
  type JobSummary,
  type Policy,
  type Settings,
  type SignalsView,
  type Status,
} from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { bearerToken, tokenMatches } from '../token.js';
import { createEventsHub } from './events.js';
import { energyRoutes, tariffRoute, type EnergyApi } from './energy-routes.js';
import { pieceRoute, storageRoutes, type StorageApi } from './storage-routes.js';
import { networkRoute, networkRoutes, type NetworksApi } from './network-routes.js';
import { HttpError, allowedHosts, allowedOrigins, readJsonBody, sendError, sendJson } from './http-util.js';
import type { StaticFiles } from './static-files.js';
import { INPUT_ERROR_STATUS, InputError } from '../errors.js';
import type { NodeInfo } from '../../protocol/node.js';

/** What the API needs from the agent; the agent composes it, tests can too. */
export interface ApiCore {
  status(): Status;
  settings(): Settings;
  patchSettings(patch: SettingsPatch): Promise<Settings>;
  setSharing(req: SharingRequest): Promise<Status>;
  decision(): Decision | null;
  previewDecision(policy: Policy): Decision;
  signals(): SignalsView;
  acceptSignals(update: SignalUpdate): number;
  onStatus(listener: (status: Status) => void): () => void;
  /** The job queue; absent where the agent runs no jobs (tests of other parts). */
  jobs?: JobsApi;
  /** Power, tariffs and earnings; absent where the agent keeps no ledger (tests of other parts). */
  energy?: EnergyApi;
  /** Shared disk: pieces, proofs, scrubs. */
  storage?: StorageApi;
  /** The node's identity (its address, never its key). */
  node?: { info(): Promise<NodeInfo> };
  /** The hubs this node works for, and its connection to each. */
  networks?: NetworksApi;
}

export interface JobsApi {
  list(): JobList;
  get(id: string): JobDetail | null;
  queue(req: QueueRenderJob): Promise<JobSummary>;
  queueBenchmark(req: QueueBenchmark): Promise<JobSummary>;
  engineInfo(): RenderEngineInfo;
  cancel(id: string): JobSummary | null;
  remove(id: string): Promise<'removed' | 'not_found' | 'active'>;
  onJobRemoved(listener: (id: string) => void): () => void;
  consoleReplay(id: string): string | null;
  onJob(listener: (job: JobSummary) => void): () => void;
  onConsole(listener: (jobId: string, data: string) => void): () => void;
}

export interface ApiServerOptions {
  core: ApiCore;
  token: string;
  version: string;
  files: StaticFiles;
  log: Logger;
}

export interface ApiServer {
  listen(port: number): Promise<number>;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const { core, log } = opts;
  let port = 0;
  const events = createEventsHub({
    token: opts.token,
    version: opts.version,
    apiVersion: API_VERSION,
    currentStatus: () => core.status(),
    consoleReplay: (id) => core.jobs?.consoleReplay(id) ?? null,
    log,
  });
  const unsubscribers = [
    core.onStatus((s) => events.broadcastStatus(s)),
    core.jobs?.onJob((j) => events.broadcastJob(j)),
    core.jobs?.onJobRemoved((id) => events.broadcastJobRemoved(id)),
    core.jobs?.onConsole((id, data) => events.pushConsole(id, data)),
  ];
  const jobs = (): JobsApi => {
    if (!core.jobs) throw new HttpError(404, 'not_found', 'this agent runs no jobs');
    return core.jobs;
  };
  const jobId = (raw: string): string => {
    const parsed = RenderJobId.safeParse(decodeURIComponent(raw));
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'not a job id');
    return parsed.data;
  };
  const unknownJob = (id: string) => new HttpError(404, 'not_found', `no such job: ${id}`);

  const validate = <T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, body: unknown): T => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the request body is not valid', fieldErrors(parsed.error));
    return parsed.data;
  };

  const energy = (): EnergyApi => {
    if (!core.energy) throw new HttpError(404, 'not_found', 'this agent keeps no power or earnings records');
    return core.energy;
  };

  const storage = (): StorageApi => {
    if (!core.storage) throw new HttpError(404, 'not_found', 'this agent shares no disk');
    return core.storage;
  };

  const networks = (): NetworksApi => {
    if (!core.networks) throw new HttpError(404, 'not_found', 'this agent connects to no hubs');
    return core.networks;
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    ...energyRoutes(energy),
    ...networkRoutes(networks),
    ...storageRoutes(storage),
    [`${API_PREFIX}/health`]: {
      GET: (_req, res) => sendJson(res, 200, { ok: true, name: 'offhours-agent', version: opts.version, apiVersion: API_VERSION } satisfies Health),
    },
    [`${API_PREFIX}/status`]: { GET: (_req, res) => sendJson(res, 200, core.status()) },
    [`${API_PREFIX}/node`]: {
      GET: async (_req, res) => {
        if (!core.node) throw new HttpError(404, 'not_found', 'this agent has no node key');
        let info: NodeInfo;
        try {
          info = await core.node.info();
        } catch (err) {
          throw new HttpError(503, 'node_key_locked', `The node key is locked: ${err instanceof Error ? err.message : String(err)}`);
        }
        sendJson(res, 200, info);
      },
    },
    [`${API_PREFIX}/settings`]: {
      GET: (_req, res) => sendJson(res, 200, core.settings()),
      PATCH: async (req, res) => sendJson(res, 200, await core.patchSettings(validate(SettingsPatch, await readJsonBody(req)))),
    },
    [`${API_PREFIX}/sharing`]: {
      POST: async (req, res) => sendJson(res, 200, await core.setSharing(validate(SharingRequest, await readJsonBody(req)))),
    },
    [`${API_PREFIX}/decision`]: {
      GET: (_req, res) => {
        const d = core.decision();
        if (d === null) throw new HttpError(503, 'not_ready', 'the first decision has not been made yet');
        sendJson(res, 200, d);
      },
    },
    [`${API_PREFIX}/decision/preview`]: {
      POST: async (req, res) => sendJson(res, 200, core.previewDecision(validate(DecisionPreviewRequest, await readJsonBody(req)).policy)),
    },
    [`${API_PREFIX}/signals`]: {
      GET: (_req, res) => sendJson(res, 200, core.signals()),
      POST: async (req, res) => sendJson(res, 200, { accepted: core.acceptSignals(validate(SignalUpdate, await readJsonBody(req))) }),
    },
    [`${API_PREFIX}/jobs`]: {
      GET: (_req, res) => sendJson(res, 200, jobs().list()),
      POST: async (req, res) => sendJson(res, 201, await jobs().queue(validate(QueueRenderJob, await readJsonBody(req)))),
    },
    [`${API_PREFIX}/render`]: {
      GET: (_req, res) => sendJson(res, 200, jobs().engineInfo()),
    },
    [`${API_PREFIX}/render/benchmark`]: {
      POST: async (req, res) => sendJson(res, 201, await jobs().queueBenchmark(validate(QueueBenchmark, await readJsonBody(req)))),
    },
  };

  /** Routes with a job id in the path: /jobs/:id and /jobs/:id/cancel. */
  const jobRoute = (pathname: string): Partial<Record<string, Handler>> | undefined => {
    const m = new RegExp(`^${API_PREFIX}/jobs/([^/]+)(/cancel)?$`).exec(pathname);
    if (!m) return undefined;
    if (m[2]) {
      return {
        POST: (_req, res) => {
          const id = jobId(m[1]!);
          const job = jobs().cancel(id);
          if (!job) throw unknownJob(id);
          sendJson(res, 200, job);
        },
      };
    }
    return {
      GET: (_req, res) => {
        const id = jobId(m[1]!);
        const job = jobs().get(id);
        if (!job) throw unknownJob(id);
        sendJson(res, 200, job);
      },
      DELETE: async (_req, res) => {
        const id = jobId(m[1]!);
        const r = await jobs().remove(id);
        if (r === 'not_found') throw unknownJob(id);
        if (r === 'active') throw new HttpError(409, 'job_active', 'The job may still run: cancel it first, then delete it.');
        res.writeHead(204, { 'cache-control': 'no-store' });
        res.end();
      },
    };
  };

  const securityHeaders = () => ({
    'content-security-policy': dashboardCsp(`http://127.0.0.1:${port}`),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // Only loopback names: a page on another site that re-points its DNS at 127.0.0.1 is refused.
    if (!allowedHosts(port).has(req.headers.host ?? '')) throw new HttpError(421, 'misdirected', 'this agent only answers on its loopback address');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
      if (!tokenMatches(opts.token, bearerToken(req.headers.authorization))) {
        res.setHeader('www-authenticate', 'Bearer realm="offhours"');
        throw new HttpError(401, 'unauthorized', 'a valid API token is required (Authorization: Bearer <token>)');
      }
      const route = routes[url.pathname] ?? jobRoute(url.pathname) ?? pieceRoute(storage, url.pathname) ?? networkRoute(networks, url.pathname) ?? tariffRoute(energy, url.pathname);
      if (!route) throw new HttpError(404, 'not_found', `no such endpoint: ${url.pathname}`);
      const handler = route[req.method ?? 'GET'];
      if (!handler) {
        res.setHeader('allow', Object.keys(route).join(', '));
        throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
      }
      await handler(req, res);
      log.debug('api', { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'the dashboard is read-only');
    if (!opts.files.available && url.pathname === '/') {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders() });
      res.end(`The dashboard is not built (looked in ${opts.files.dir}). Run "npm run build".\n`);
      return;
    }
    if (!opts.files.serve(url.pathname, res, securityHeaders())) throw new HttpError(404, 'not_found', 'not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendError(res, err);
      } else if (err instanceof InputError) {
        sendError(res, new HttpError(INPUT_ERROR_STATUS[err.code], err.code, err.message, err.fields.length > 0 ? err.fields : undefined));
      } else {
        log.error('request failed', { method: req.method, path: req.url?.split('?')[0], err });
        sendError(res, new HttpError(500, 'internal', 'the agent could not handle this request; see its log'));
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (!allowedHosts(port).has(req.headers.host ?? '') || path !== `${API_PREFIX}/events`) {
      socket.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    events.handleUpgrade(req, socket, head, allowedOrigins(port));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  return {
    server,
    get port() {
      return port;
    },
    listen(requested) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: requested, host: '127.0.0.1', exclusive: true }, () => {
          server.off('error', reject);
          port = (server.address() as AddressInfo).port;
          resolve(port);
        });
      });
    },
    close() {
      for (const u of unsubscribers) u?.();
      events.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
