// Fakes of the network boundary for renderer component tests: an in-memory agent behind a fake
// fetch, a scriptable WebSocket, and a manual timer. The real agent is tested end to end in Chromium.
import { vi } from 'vitest';
import {
  AddNetworkRequest,
  networkKey,
  type NetworkView,
  AddPieceRequest,
  API_PREFIX,
  GIB,
  PieceCidText,
  ProveRequest,
  type Ingest,
  type PieceRecord,
  type ProveResult,
  type StorageView,
  CalibrationRequest,
  DecisionPreviewRequest,
  EarningsQueryParams,
  EnergySettingsPatch,
  TariffCsvImport,
  TariffSettings,
  type EarningsFigures,
  type EarningsQuery,
  type EarningsReport,
  type EnergySettings,
  type PowerView,
  type TariffCsvPreview,
  QueueBenchmark,
  QueueRenderJob,
  type JobDetail,
  type RenderEngineInfo,
  type JobSummary,
  type RenderProgress,
  defaultSettings,
  fieldErrors,
  SettingsPatch,
  SharingRequest,
  SignalUpdate,
  type Decision,
  type Policy,
  type ResourceDecision,
  type Settings,
  type SignalsView,
  type Status,
  type UncheckableCondition,
} from '../../protocol/index.js';
import { createAgentConnection, type AgentConnection, type ConnectionDeps, type SocketLike } from '../../renderer/agent-connection.js';
import type { TokenSource } from '../../renderer/token-source.js';
import { checksumAddress, type NodeInfo } from '../../protocol/node.js';

export const TOKEN = 'good-token-0123456789';
export const BASE_URL = 'http://127.0.0.1:47823';

const T0 = Date.parse('2025-01-06T09:00:00.000Z');

export interface ResourceSpec {
  resource: string;
  label?: string;
  state: ResourceDecision['state'];
  reason: string;
  limits?: ResourceDecision['limits'];
}

/** A decision as the agent sends it: one entry per resource, the summary derived as the agent does. */
export function makeDecision(resources: ResourceSpec[], uncheckable: UncheckableCondition[] = []): Decision {
  const at = new Date(T0).toISOString();
  const rs: ResourceDecision[] = resources.map((r) => ({
    resource: r.resource,
    label: r.label ?? (r.resource === 'cpu' ? 'CPU' : r.resource === 'disk' ? 'Disk' : `GPU ${r.resource.slice(4)}`),
    state: r.state,
    newWork: r.state === 'running' || r.state === 'limited',
    limits: r.limits ?? null,
    matchedRule: r.state === 'running' || r.state === 'limited' ? 'main' : null,
    reasons: [{ code: r.state, text: r.reason }],
    since: at,
    lastBlockedAt: null,
  }));
  const running = rs.filter((r) => r.state === 'running' || r.state === 'limited');
  return {
    at,
    resources: rs,
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: 'Storage proofs always run: they are tiny and have deadlines' } },
    keepAwake: false,
    uncheckable,
    summary:
      running.length > 0
        ? { state: running[0]!.state, reason: { code: 'running', text: `Sharing ${running.map((r) => r.label).join(', ')}` } }
        : { state: rs[0]?.state ?? 'released', reason: rs[0]?.reasons[0] ?? { code: 'no_resources', text: 'Nothing to share on this machine' } },
  };
}

export function makeStatus(
  overrides: { consentRequired?: boolean; headless?: boolean; manual?: Status['sharing']['manual']['mode']; decision?: Decision | null } = {},
): Status {
  const manual = overrides.manual ?? 'off';
  return {
    agent: {
      version: '0.1.0',
      pid: 4242,
      startedAt: new Date(T0).toISOString(),
      dataDir: '/home/ada/.local/share/offhours',
      host: 'ada-desktop',
      platform: 'linux',
      timeZone: 'UTC',
      headless: overrides.headless ?? false,
    },
    consent: { required: overrides.consentRequired ?? false, currentVersion: 1 },
    startAtLogin: false,
    sharing: {
      manual: { mode: manual, until: null, changedAt: null },
      ...effective(manual),
    },
    decision: overrides.decision ?? null,
    revision: 0,
    settingsRevision: 0,
    problems: [],
    updatedAt: new Date(T0).toISOString(),
  };
}

function effective(mode: Status['sharing']['manual']['mode']): Pick<Status['sharing'], 'state' | 'reason'> {
  switch (mode) {
    case 'on':
      return { state: 'sharing', reason: { code: 'idle', text: 'This computer is idle, so it is sharing.' } };
    case 'off':
      return { state: 'off', reason: { code: 'manual_off', text: 'You turned sharing off.' } };
    case 'snooze':
      return { state: 'paused', reason: { code: 'snoozed', text: 'Snoozed by you.' } };
    case 'drain':
      return { state: 'draining', reason: { code: 'draining', text: 'Finishing current work, then stopping.' } };
  }
}

export function makeProgress(overrides: Partial<RenderProgress> = {}): RenderProgress {
  return {
    frame: 1,
    framesDone: 0,
    framesTotal: 4,
    sample: 8,
    samples: 64,
    tile: null,
    tiles: null,
    elapsedS: 3,
    remainingS: 120,
    fraction: 0.03,
    ...overrides,
  };
}

/** A job as the agent lists it; running by default. */
export function makeJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return {
    id: 'job-1',
    kind: 'render',
    source: { kind: 'local' },
    title: 'shot.blend',
    state: 'running',
    reason: null,
    progress: makeProgress(),
    device: 'CPU',
    attempts: 1,
    createdAt: new Date(T0).toISOString(),
    startedAt: new Date(T0 + 1000).toISOString(),
    finishedAt: null,
    failure: null,
    result: null,
    ...overrides,
  };
}

/** A machine with a measured GPU and an estimated CPU, a flat price, and one finished job. */
export function makePowerView(): PowerView {
  const at = new Date(T0).toISOString();
  return {
    snapshot: {
      devices: [
        { device: 'gpu:0', name: 'NVIDIA GeForce RTX 4070', watts: 182.4, basis: 'measured', source: 'nvidia-smi', at, idleBaselineWatts: 14.2 },
        { device: 'cpu', name: 'CPU package', watts: 41, basis: 'estimated', source: 'estimate', at, idleBaselineWatts: null, note: 'RAPL is root-only on this kernel' },
      ],
      psuEfficiency: 0.9,
      calibrationFactor: 1,
      notes: [],
    },
    settings: { psuEfficiency: 0.9, calibrationFactor: 1, calibratedAt: null },
    price: { currency: 'EUR', perKwh: '0.2841', source: 'band', label: 'Peak', validFrom: at, validUntil: new Date(T0 + 3 * 3_600_000).toISOString() },
    profit: [
      { device: 'gpu:0', currency: 'EUR', earnPerHour: '0.1200', costPerHour: '0.0558', watts: 168.2, basis: 'measured', note: 'From the last 3 jobs on this GPU.' },
      { device: 'cpu', currency: 'EUR', earnPerHour: null, costPerHour: '0.0117', watts: 41, basis: 'estimated', note: 'No paid job has run on the CPU yet.' },
    ],
    recentJobs: [
      { jobId: 'job-7', title: 'shot.blend', device: 'gpu:0', from: at, to: new Date(T0 + 600_000).toISOString(), mwh: 28_040, basis: 'measured', cost: '0.0080', currency: 'EUR', tariffId: 'home' },
    ],
  };
}

/** Piece CIDs of the public CommP vectors (127 bytes each of 0x00..0x03, and 127 zero bytes). */
export const PIECE_A = 'baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi';
export const PIECE_B = 'baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy';

export function makePiece(overrides: Partial<PieceRecord> = {}): PieceRecord {
  return {
    cid: PIECE_A,
    cidV2: 'bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi',
    payloadSize: 3 * GIB + 123,
    paddedSize: 4 * GIB,
    diskBytes: 4 * GIB + 40960,
    state: 'sealed',
    source: 'local',
    origin: '/home/ada/backup.tar',
    addedAt: new Date(T0).toISOString(),
    lastProof: null,
    lastScrub: null,
    ...overrides,
  };
}

/** A shared folder on a 931.5 GiB disk holding two sealed pieces, with one proof each in the history. */
export function makeStorageView(): StorageView {
  const at = (s: number) => new Date(T0 + s * 1000).toISOString();
  return {
    settings: { folder: '/mnt/spare/offhours', capBytes: 200 * GIB },
    disk: {
      folder: '/mnt/spare/offhours',
      totalBytes: 1_000_204_886_016,
      freeBytes: 612_345_678_848,
      reserveBytes: 20_000_000_000,
      usedBytes: 8_590_000_128,
      availableBytes: 206_158_430_208 - 8_590_000_128,
    },
    problem: null,
    pieces: [
      makePiece({ lastProof: { at: at(60), challenges: 5, passed: 5, problem: null }, lastScrub: { at: at(30), ok: true, problem: null } }),
      makePiece({ cid: PIECE_B, cidV2: 'bafkzcibcaapdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy', payloadSize: 127, paddedSize: 128, diskBytes: 8192, origin: '/home/ada/notes.txt' }),
    ],
    ingests: [],
    proofs: [
      { cid: PIECE_A, at: at(60), challenges: 5, passed: 5, problem: null },
      { cid: PIECE_B, at: at(50), challenges: 5, passed: 3, problem: 'leaf 17: the Merkle path does not lead to the root' },
    ],
  };
}

export function emptyFigures(): EarningsFigures {
  return { gross: {}, fiatValue: {}, unvalued: {}, unvaluedCount: 0, energyCost: {}, energyMwh: 0, net: {}, payouts: {}, earnings: 0 };
}

/** A report with nothing in the range, for the query it answers. */
export function emptyReport(query: EarningsQuery): EarningsReport {
  return { query, buckets: [], totals: emptyFigures(), hourAligned: true };
}

export interface RecordedRequest {
  url: string;
  method: string;
  path: string;
  body: unknown;
  authorization: string | null;
}

type Override = (req: RecordedRequest) => Response | undefined;

export function makeHub(over: Partial<NetworkView> = {}): NetworkView {
  return {
    id: 'hub.example',
    url: 'https://hub.example',
    name: null,
    addedAt: new Date(T0).toISOString(),
    state: 'connected',
    reason: null,
    lastContactAt: new Date(T0).toISOString(),
    retryAt: null,
    registration: null,
    wants: { heartbeatEveryS: null },
    reputation: null,
    payments: null,
    working: null,
    earnings: {},
    ...over,
  };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** An in-memory agent with the API's semantics, enough to drive the dashboard. */
export class FakeAgent {
  status: Status;
  settings: Settings;
  token = TOKEN;
  requests: RecordedRequest[] = [];
  /** False: requests fail like fetch does when nothing listens on the port. */
  reachable = true;
  /** Answers before the built-in routes when it returns a Response. */
  override: Override | null = null;
  /** What GET /signals answers. */
  signals: SignalsView = { readings: [], processesSeen: [], detectors: [] };
  /** What POST /decision/preview answers for a (valid) draft; defaults to the current decision. */
  previewFor: (policy: Policy) => Decision | Response = () =>
    this.status.decision ?? makeDecision([{ resource: 'cpu', state: 'paused', reason: 'Paused: you used the computer 5 seconds ago (waits for 10 minutes idle)' }]);
  /** The agent's jobs, as GET /jobs lists them (in this order). */
  jobs: JobSummary[] = [];
  /** Console lines GET /jobs/:id answers with. */
  consoleTail: string[] = [];
  /** .blend paths that "exist" on this machine: POST /jobs refuses others, as the agent does. */
  files = new Set<string>(['/home/ada/scenes/shot.blend']);
  renderInfo: RenderEngineInfo = { blenderSetting: null, environment: null, benchmarks: [] };
  private jobSeq = 0;
  /** What GET /power answers. */
  powerView: PowerView = makePowerView();
  /** What POST /power/calibrate answers for a valid request; by default nothing runs on the device. */
  calibrateAnswer: (req: CalibrationRequest) => EnergySettings | Response = (req) =>
    json({ error: { code: 'not_running', message: `No work is running on ${req.device}.` } }, 409);
  /** What GET /tariffs answers; PUT /tariffs replaces it. */
  tariffs: TariffSettings = { active: null, tariffs: [] };
  /** What POST /tariffs/import answers for a valid body. */
  csvPreview: (body: TariffCsvImport) => TariffCsvPreview = (body) => ({ slots: [], errors: [], unit: body.unit ?? 'major' });
  /** What GET /earnings answers for a valid query. */
  earningsFor: (query: EarningsQuery) => EarningsReport = emptyReport;
  /** What GET /earnings/export.csv answers. */
  earningsCsv = 'type,id,at,network,device,amount,token\n';
  /** What GET /node answers; null: 503, the key is locked. */
  node: NodeInfo | null = { address: '0x8ba1f109551bD432803012645Ac136ddd64DBA72', keystore: 'app-secret', created: new Date(T0).toISOString() };
  /** What GET /storage answers; PATCH /settings { storage } and POST /storage/pieces change it. */
  storageView: StorageView = makeStorageView();
  /** The hubs GET /networks lists; POST /networks and DELETE /networks/:id change it. */
  hubs: NetworkView[] = [];
  /** What GET /networks/:id/voucher answers per hub id (absent: 404, no voucher yet). */
  vouchers: Record<string, unknown> = {};
  /** Folders that "exist" and are writable here: PATCH /settings refuses others, as the agent does. */
  storageFolders = new Set<string>(['/mnt/spare/offhours', '/srv/offhours']);
  /** What POST /storage/pieces/:cid/prove answers for a stored piece and a valid body; passes by default. */
  proveAnswer: (cid: string, challenges: number) => ProveResult | Response = (cid, challenges) => ({
    cid,
    at: this.nextUpdatedAt(),
    challenges,
    passed: challenges,
    problem: null,
    results: Array.from({ length: challenges }, (_, i) => ({ leaf: i * 7, ok: true })),
    seed: 'ab'.repeat(32),
  });
  /** What POST /storage/pieces/:cid/scrub makes of a stored piece; intact by default. */
  scrubAnswer: (piece: PieceRecord) => PieceRecord = (piece) => ({ ...piece, lastScrub: { at: this.nextUpdatedAt(), ok: true, problem: null } });
  private ingestSeq = 0;
  /** Signal updates posted to POST /signals. */
  signalUpdates: SignalUpdate[] = [];
  /** When set, every response waits for it: lets a test look at the UI while a request is in flight. */
  private gate: Promise<void> | null = null;
  private tick = 0;

  constructor(status: Status = makeStatus()) {
    this.status = status;
    this.settings = {
      ...defaultSettings(),
      startAtLogin: status.startAtLogin,
      consent: status.consent.required
        ? { acceptedAt: null, version: 0 }
        : { acceptedAt: new Date(T0).toISOString(), version: 1 },
      sharing: status.sharing.manual,
      storage: this.storageView.settings,
    };
  }

  /** Holds every response until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Requests other than the initial loads, as the tests look for them. */
  mutations(): Array<{ method: string; path: string; body: unknown }> {
    return this.requests
      .filter((r) => r.method !== 'GET' && !r.path.endsWith('/decision/preview'))
      .map(({ method, path, body }) => ({ method, path, body }));
  }

  /** The drafts the dashboard asked the agent to preview, oldest first. */
  previews(): Policy[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/decision/preview')).map((r) => (r.body as { policy: Policy }).policy);
  }

  /** Sets the decision the agent reports (status.decision), with a newer updatedAt. */
  setDecision(decision: Decision | null): void {
    this.status = { ...this.status, decision, updatedAt: this.nextUpdatedAt(), revision: this.tick };
  }

  nextUpdatedAt(): string {
    this.tick += 1;
    return new Date(T0 + this.tick * 1000).toISOString();
  }

  fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    if (!this.reachable) throw new TypeError('Failed to fetch');
    const url = new URL(input);
    const headers = new Headers(init?.headers);
    const req: RecordedRequest = {
      url: input,
      method: init?.method ?? 'GET',
      path: url.pathname,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      authorization: headers.get('Authorization'),
    };
    this.requests.push(req);
    if (this.gate) await this.gate;
    return this.override?.(req) ?? this.route(req);
  };

  private route(req: RecordedRequest): Response {
    if (req.authorization !== `Bearer ${this.token}`) {
      return json({ error: { code: 'unauthorized', message: 'missing or wrong token' } }, 401);
    }
    const key = `${req.method} ${req.path.slice(API_PREFIX.length)}`;
    const networkRoute = /^DELETE \/networks\/([^/]+)$/.exec(key);
    if (networkRoute) {
      const id = decodeURIComponent(networkRoute[1]!);
      const hub = this.hubs.find((h) => h.id === id);
      if (!hub) return json({ error: { code: 'not_found', message: `no hub ${id} is added` } }, 404);
      this.hubs = this.hubs.filter((h) => h.id !== id);
      return json({ ...hub, state: 'removed', reason: null });
    }
    const voucherRoute = /^GET \/networks\/([^/]+)\/voucher$/.exec(key);
    if (voucherRoute) {
      const v = this.vouchers[decodeURIComponent(voucherRoute[1]!)];
      return v ? json(v) : json({ error: { code: 'not_found', message: 'no voucher yet' } }, 404);
    }
    const pieceRoute = /^POST \/storage\/pieces\/([^/]+)\/(prove|scrub)$/.exec(key);
    if (pieceRoute) return this.pieceRoute(decodeURIComponent(pieceRoute[1]!), pieceRoute[2] as 'prove' | 'scrub', req.body);
    const removal = /^DELETE \/jobs\/([^/]+)$/.exec(key);
    if (removal) {
      const id = decodeURIComponent(removal[1]!);
      const job = this.jobs.find((j) => j.id === id);
      if (!job) return json({ error: { code: 'not_found', message: `no job ${id}` } }, 404);
      if (!['succeeded', 'failed', 'canceled'].includes(job.state)) return json({ error: { code: 'job_active', message: 'cancel it first' } }, 409);
      this.jobs = this.jobs.filter((j) => j.id !== id);
      return new Response(null, { status: 204 });
    }
    const jobRoute = /^(GET|POST) \/jobs\/([^/]+)(\/cancel)?$/.exec(key);
    if (jobRoute) return this.jobRoute(jobRoute[1]!, decodeURIComponent(jobRoute[2]!), jobRoute[3] !== undefined);
    switch (key) {
      case 'GET /jobs':
        return json({ jobs: this.jobs });
      case 'POST /jobs':
        return this.postJob(req.body);
      case 'GET /render':
        return json({ ...this.renderInfo, blenderSetting: this.settings.render.blenderPath });
      case 'POST /render/benchmark': {
        const parsed = QueueBenchmark.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid benchmark', fields: fieldErrors(parsed.error) } }, 400);
        this.jobSeq += 1;
        const job = makeJob({ id: `bench-${this.jobSeq}`, kind: 'benchmark', title: `Benchmark (${parsed.data.device})`, state: 'queued', progress: null, device: null, createdAt: this.nextUpdatedAt(), startedAt: null });
        this.jobs = [job, ...this.jobs];
        return json(job, 201);
      }
      case 'GET /node':
        return this.node ? json(this.node) : json({ error: { code: 'node_key_locked', message: 'The node key is locked: main did not answer' } }, 503);
      case 'GET /storage':
        return json(this.storageView);
      case 'GET /networks':
        return json({ hubs: this.hubs, leasing: false });
      case 'POST /networks': {
        const parsed = AddNetworkRequest.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'That hub cannot be added.', fields: fieldErrors(parsed.error) } }, 400);
        const id = networkKey(parsed.data.url);
        if (this.hubs.some((h) => h.id === id)) {
          return json({ error: { code: 'conflict', message: `The hub ${id} is already added.`, fields: [{ path: 'url', message: 'this hub is already added' }] } }, 409);
        }
        const hub = makeHub({ id, url: parsed.data.url, state: 'connecting', addedAt: this.nextUpdatedAt() });
        this.hubs = [...this.hubs, hub];
        return json(hub, 201);
      }
      case 'POST /storage/pieces':
        return this.postPiece(req.body);
      case 'GET /power':
        return json(this.powerView);
      case 'PATCH /power/settings': {
        const parsed = EnergySettingsPatch.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid energy settings', fields: fieldErrors(parsed.error) } }, 400);
        const settings = { ...this.powerView.settings, ...parsed.data };
        this.powerView = { ...this.powerView, settings };
        return json(settings);
      }
      case 'POST /power/calibrate': {
        const parsed = CalibrationRequest.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid calibration', fields: fieldErrors(parsed.error) } }, 400);
        const answer = this.calibrateAnswer(parsed.data);
        return answer instanceof Response ? answer : json(answer);
      }
      case 'GET /tariffs':
        return json(this.tariffs);
      case 'PUT /tariffs': {
        const parsed = TariffSettings.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid tariffs', fields: fieldErrors(parsed.error) } }, 400);
        this.tariffs = parsed.data;
        return json(this.tariffs);
      }
      case 'POST /tariffs/import': {
        const parsed = TariffCsvImport.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid import', fields: fieldErrors(parsed.error) } }, 400);
        return json(this.csvPreview(parsed.data));
      }
      case 'GET /earnings': {
        const parsed = EarningsQueryParams.safeParse(Object.fromEntries(new URL(req.url).searchParams));
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid query', fields: fieldErrors(parsed.error) } }, 400);
        return json(this.earningsFor(parsed.data));
      }
      case 'GET /earnings/export.csv': {
        const q = new URL(req.url).searchParams;
        if (!q.get('from') || !q.get('to')) return json({ error: { code: 'invalid_request', message: 'from and to are required' } }, 400);
        return new Response(this.earningsCsv, { status: 200, headers: { 'Content-Type': 'text/csv' } });
      }
      case 'GET /status':
        return json(this.status);
      case 'GET /settings':
        return json(this.settings);
      case 'PATCH /settings':
        return this.patchSettings(req.body);
      case 'POST /sharing':
        return this.postSharing(req.body);
      case 'GET /decision':
        return this.status.decision ? json(this.status.decision) : json({ error: { code: 'not_ready', message: 'no decision yet' } }, 503);
      case 'POST /decision/preview': {
        const parsed = DecisionPreviewRequest.safeParse(req.body);
        if (!parsed.success) {
          return json({ error: { code: 'invalid_request', message: 'invalid policy', fields: fieldErrors(parsed.error) } }, 400);
        }
        const answer = this.previewFor(parsed.data.policy);
        return answer instanceof Response ? answer : json(answer);
      }
      case 'GET /signals':
        return json(this.signals);
      case 'POST /signals': {
        const parsed = SignalUpdate.safeParse(req.body);
        if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid signals', fields: fieldErrors(parsed.error) } }, 400);
        this.signalUpdates.push(parsed.data);
        return json({ ok: true });
      }
      default:
        return json({ error: { code: 'not_found', message: key } }, 404);
    }
  }

  private jobRoute(method: string, id: string, cancel: boolean): Response {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) return json({ error: { code: 'not_found', message: `no job ${id}` } }, 404);
    if (method === 'GET' && !cancel) {
      const detail: JobDetail = { ...job, spec: { jobId: job.id, frames: { start: 1, end: 1 }, device: 'auto', output: { format: 'PNG' } }, consoleTail: this.consoleTail };
      return json(detail);
    }
    if (method === 'POST' && cancel) {
      if (['succeeded', 'failed', 'canceled'].includes(job.state)) return json(job);
      return json(this.updateJob(id, { state: 'canceled', reason: { code: 'canceled', text: 'You canceled it.' }, finishedAt: this.nextUpdatedAt() }));
    }
    return json({ error: { code: 'not_found', message: `${method} ${id}` } }, 404);
  }

  private pieceRoute(cid: string, action: 'prove' | 'scrub', body: unknown): Response {
    if (!PieceCidText.safeParse(cid).success) return json({ error: { code: 'invalid_request', message: 'not a piece CID (baga6ea4…)' } }, 400);
    const piece = this.storageView.pieces.find((p) => p.cid === cid);
    if (!piece) return json({ error: { code: 'not_found', message: `no piece ${cid} is stored here` } }, 404);
    if (action === 'scrub') {
      const scrubbed = this.scrubAnswer(piece);
      this.storageView = { ...this.storageView, pieces: this.storageView.pieces.map((p) => (p.cid === cid ? scrubbed : p)) };
      return json(scrubbed);
    }
    const parsed = ProveRequest.safeParse(body);
    if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'the request body is not valid', fields: fieldErrors(parsed.error) } }, 400);
    const answer = this.proveAnswer(cid, parsed.data.challenges);
    if (answer instanceof Response) return answer;
    const { results: _results, seed: _seed, cid: _cid, ...check } = answer;
    this.storageView = {
      ...this.storageView,
      pieces: this.storageView.pieces.map((p) => (p.cid === cid ? { ...p, lastProof: check } : p)),
      proofs: [{ ...check, cid }, ...this.storageView.proofs].slice(0, 100),
    };
    return json(answer);
  }

  private postPiece(body: unknown): Response {
    const parsed = AddPieceRequest.safeParse(body);
    if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'the request body is not valid', fields: fieldErrors(parsed.error) } }, 400);
    if (this.storageView.settings.folder === null) return json({ error: { code: 'storage_off', message: 'No storage folder is set.' } }, 409);
    this.ingestSeq += 1;
    const ingest: Ingest = {
      id: `ingest-${this.ingestSeq}`,
      file: parsed.data.file,
      state: 'waiting',
      reason: 'Waiting: your rules do not allow disk work right now.',
      cid: null,
      at: this.nextUpdatedAt(),
    };
    this.storageView = { ...this.storageView, ingests: [ingest, ...this.storageView.ingests] };
    return json(ingest, 202);
  }

  private postJob(body: unknown): Response {
    const parsed = QueueRenderJob.safeParse(body);
    if (!parsed.success) return json({ error: { code: 'invalid_request', message: 'invalid render job', fields: fieldErrors(parsed.error) } }, 400);
    if (!this.files.has(parsed.data.blendFile)) {
      return json(
        { error: { code: 'invalid_request', message: 'The render job cannot be queued.', fields: [{ path: 'blendFile', message: 'There is no such file on this machine.' }] } },
        400,
      );
    }
    this.jobSeq += 1;
    const job = makeJob({
      id: `local-${this.jobSeq}`,
      title: parsed.data.blendFile.split('/').at(-1)!,
      state: 'queued',
      reason: { code: 'waiting', text: 'Waiting: your rules do not allow work right now.' },
      progress: null,
      device: null,
      createdAt: this.nextUpdatedAt(),
      startedAt: null,
    });
    this.jobs = [job, ...this.jobs];
    return json(job);
  }

  /** Changes a job as the agent would, and returns it (push it with the socket to tell the page). */
  updateJob(id: string, patch: Partial<JobSummary>): JobSummary {
    const index = this.jobs.findIndex((j) => j.id === id);
    if (index < 0) throw new Error(`no job ${id}`);
    const job = { ...this.jobs[index]!, ...patch };
    this.jobs[index] = job;
    return job;
  }

  private patchSettings(body: unknown): Response {
    const parsed = SettingsPatch.safeParse(body);
    if (!parsed.success) {
      return json({ error: { code: 'invalid_request', message: 'invalid settings', fields: fieldErrors(parsed.error) } }, 400);
    }
    const patch = parsed.data;
    // Refused before anything is applied: the agent never half-saves a patch.
    const folder = patch.storage?.folder;
    if (folder && !this.storageFolders.has(folder)) {
      return json({ error: { code: 'invalid_request', message: 'The storage settings cannot be saved.', fields: [{ path: 'storage.folder', message: 'no such folder' }] } }, 400);
    }
    if (patch.policy !== undefined) this.settings = { ...this.settings, policy: patch.policy };
    if (patch.render !== undefined) this.settings = { ...this.settings, render: patch.render };
    if (patch.payout !== undefined) {
      const address = patch.payout.address === null ? null : checksumAddress(patch.payout.address);
      this.settings = { ...this.settings, payout: { address, confirmedAt: address === null ? null : this.nextUpdatedAt() } };
    }
    if (patch.storage !== undefined) {
      this.settings = { ...this.settings, storage: patch.storage };
      this.storageView = { ...this.storageView, settings: patch.storage };
    }
    if (patch.startAtLogin !== undefined) {
      this.settings = { ...this.settings, startAtLogin: patch.startAtLogin };
      this.status = { ...this.status, startAtLogin: patch.startAtLogin };
    }
    if (patch.consent?.accepted === true) {
      this.settings = { ...this.settings, consent: { acceptedAt: this.nextUpdatedAt(), version: patch.consent.version } };
      this.status = { ...this.status, consent: { ...this.status.consent, required: false } };
    } else if (patch.consent?.accepted === false) {
      this.settings = { ...this.settings, consent: { acceptedAt: null, version: 0 } };
      this.status = { ...this.status, consent: { ...this.status.consent, required: true } };
      this.setMode('off');
    }
    this.status = { ...this.status, updatedAt: this.nextUpdatedAt(), revision: this.tick, settingsRevision: this.status.settingsRevision + 1 };
    return json(this.settings);
  }

  private postSharing(body: unknown): Response {
    const parsed = SharingRequest.safeParse(body);
    if (!parsed.success) {
      return json({ error: { code: 'invalid_request', message: 'invalid sharing request', fields: fieldErrors(parsed.error) } }, 400);
    }
    if (parsed.data.mode === 'on' && this.status.consent.required) {
      return json({ error: { code: 'consent_required', message: 'Finish the first-run screen before sharing.' } }, 409);
    }
    this.setMode(parsed.data.mode, parsed.data.until);
    return json(this.status);
  }

  setMode(mode: Status['sharing']['manual']['mode'], until?: string): void {
    const changedAt = this.nextUpdatedAt();
    const manual = { mode, until: until ?? null, changedAt };
    this.settings = { ...this.settings, sharing: manual };
    this.status = { ...this.status, sharing: { manual, ...effective(mode) }, updatedAt: changedAt, revision: this.tick, settingsRevision: this.status.settingsRevision + 1 };
  }
}

/** A WebSocket the test drives: open it, push messages, drop it. */
export class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: unknown[] = [];
  closedByClient: { code?: number | undefined; reason?: string | undefined } | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  open(): void {
    this.onopen?.({});
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  /** The agent's side of a handshake: hello, then the current status. */
  accept(status: Status): void {
    this.open();
    this.receive({ type: 'hello', apiVersion: 1, version: '0.1.0' });
    this.receive({ type: 'status', status });
  }
  drop(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason });
  }
}

export class FakeTimers {
  pending: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  schedule = (fn: () => void, ms: number): (() => void) => {
    const timer = { fn, ms, cancelled: false };
    this.pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  /** The delays of timers still waiting. */
  waiting(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.ms);
  }
  runAll(): void {
    const due = this.pending.filter((t) => !t.cancelled);
    this.pending = [];
    for (const t of due) t.fn();
  }
}

export function staticTokens(token: string | null): TokenSource & { saved: string[] } {
  let current = token;
  const saved: string[] = [];
  return {
    saved,
    read: async () => current,
    save(t) {
      saved.push(t);
      current = t;
      return true;
    },
  };
}

export interface Harness {
  agent: FakeAgent;
  sockets: FakeSocket[];
  timers: FakeTimers;
  warn: ReturnType<typeof vi.fn>;
  connection: AgentConnection;
  /** The socket the connection opened last. */
  socket(): FakeSocket;
}

export function createHarness(options: { agent?: FakeAgent; token?: string | null; deps?: Partial<ConnectionDeps> } = {}): Harness {
  const agent = options.agent ?? new FakeAgent();
  const sockets: FakeSocket[] = [];
  const timers = new FakeTimers();
  const warn = vi.fn();
  const connection = createAgentConnection({
    baseUrl: BASE_URL,
    fetch: agent.fetch,
    openSocket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    tokens: staticTokens(options.token === undefined ? TOKEN : options.token),
    schedule: timers.schedule,
    warn,
    ...options.deps,
  });
  return {
    agent,
    sockets,
    timers,
    warn,
    connection,
    socket() {
      const last = sockets.at(-1);
      if (!last) throw new Error('no socket opened yet');
      return last;
    },
  };
}
