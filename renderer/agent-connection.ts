// The one owner of the dashboard's connection to the agent: it loads status and settings over HTTP,
// follows status pushes on the events socket, reconnects when the socket drops, and runs the user's
// actions. Pages read its state through useSyncExternalStore and never fetch on their own, so there
// is one answer to "is the agent there, and what did it last say?".
// The network, the token source and the timer are injected: component tests drive it with fakes.
import {
  AddPieceRequest,
  API_PREFIX,
  API_VERSION,
  CalibrationRequest,
  CONSENT_VERSION,
  Decision,
  EarningsQueryParams,
  EarningsReport,
  EnergySettings,
  EnergySettingsPatch,
  FINAL_JOB_STATES,
  Ingest,
  JobDetail,
  JobList,
  NoContent,
  JobSummary,
  PieceCidText,
  PieceRecord,
  PowerView,
  ProveRequest,
  ProveResult,
  QueueBenchmark,
  QueueRenderJob,
  RenderEngineInfo,
  type RenderDeviceChoice,
  type Policy,
  ServerMessage,
  Settings,
  SettingsPatch,
  SharingRequest,
  SignalsView,
  Status,
  StorageView,
  type StorageSettings,
  TariffCsvImport,
  TariffCsvPreview,
  TariffSettings,
  AddNetworkRequest,
  NetworkView,
  NetworksView,
  SignedVoucher,
  WS_CLOSE,
  WS_PROTOCOL,
  type FieldError,
} from '../protocol/index.js';

import { NodeInfo } from '../protocol/node.js';
import { createAgentHttp, failureOf, type AgentFailure, type FetchLike } from './agent-http.js';
import type { TokenSource } from './token-source.js';

export type Phase = 'loading' | 'unauthorized' | 'connected' | 'disconnected' | 'error';

export interface ActionError {
  code: string;
  message: string;
  fields?: FieldError[];
}

export type ActionResult = { ok: true } | { ok: false; error: ActionError };

/** An answer the caller uses itself (a preview, a list of readings), or why there is none. */
export type QueryResult<T> = { ok: true; value: T } | { ok: false; error: ActionError };

export interface ConnectionState {
  readonly phase: Phase;
  /** The last status the agent sent; kept while disconnected (then it is stale). */
  readonly status?: Status;
  readonly settings?: Settings;
  /** The policy's current decision, from the last status (pushed on every change); null until the
   * agent has evaluated its rules, undefined before the first status. */
  readonly decision?: Decision | null;
  /** The signals the agent last reported (loaded on demand by the Schedule page). */
  readonly signals?: SignalsView;
  /** The agent's jobs, newest first: loaded on connect, then kept current by 'job' pushes.
   * Undefined until the first list arrived. */
  readonly jobs?: readonly JobSummary[];
  /** Why the job list could not be loaded (the rest of the dashboard still works). */
  readonly jobsError?: string;
  /** Why the connection is not (fully) working, or the last protocol problem seen. */
  readonly lastError?: string;
  /** Only in phase 'unauthorized': whether there was no token at all or the agent refused it. */
  readonly auth?: 'missing' | 'rejected';
  /** The user action now in flight ('sharing:on', 'settings', 'first-run'…); null when idle. */
  readonly pending: string | null;
  /** The last action that failed, until the user dismisses it or starts another. */
  readonly actionError?: ActionError;
}

/** Method syntax makes the parameter bivariant, so the DOM's WebSocket (whose handlers take
 * MessageEvent, CloseEvent…) fits this narrower shape and a test fake can implement it too. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The slice of the browser's WebSocket the connection uses. */
export interface SocketLike {
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ConnectionDeps {
  /** The agent's origin (the page's own, e.g. http://127.0.0.1:47823). */
  baseUrl: string;
  fetch: FetchLike;
  openSocket: (url: string, protocols: string[]) => SocketLike;
  tokens: TokenSource;
  /** Runs fn after ms and returns a cancel function. Defaults to setTimeout. */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** Where protocol problems are reported besides the state (the console by default). */
  warn?: (message: string, detail?: unknown) => void;
}

/** One piece of a job's console: `replay` is the agent's ring buffer sent on (re)subscribing. */
export type ConsoleListener = (data: string, info: { replay: boolean }) => void;

interface ConsoleEntry {
  onData: ConsoleListener;
  onReset?: (() => void) | undefined;
}

interface ConsoleFeed {
  listeners: Set<ConsoleEntry>;
  /** What arrived since the last replay, for a listener that joins later (bounded). */
  text: string;
}

/** The most console text kept per job for late listeners; older text is dropped at a line break. */
export const CONSOLE_KEEP_CHARS = 256 * 1024;

function keepTail(text: string): string {
  if (text.length <= CONSOLE_KEEP_CHARS) return text;
  const cut = text.length - CONSOLE_KEEP_CHARS;
  const lineStart = text.indexOf('\n', cut);
  return lineStart >= 0 && lineStart - cut < 4096 ? text.slice(lineStart + 1) : text.slice(cut);
}

export interface FirstRunChoice {
  startAtLogin: boolean;
  startSharing: boolean;
}

export interface AgentConnection {
  subscribe(listener: () => void): () => void;
  getSnapshot(): ConnectionState;
  start(): void;
  retry(): void;
  setSharing(request: SharingRequest): Promise<ActionResult>;
  patchSettings(patch: SettingsPatch): Promise<ActionResult>;
  /** Replaces the whole policy in one PATCH. Invalid drafts come back with field errors (checked
   * here first, then by the agent) and are not shown as a global alert: the page shows them next
   * to its controls. Nothing is half-saved. */
  savePolicy(policy: Policy): Promise<ActionResult>;
  /** What the agent would decide now under an unsaved policy. Not an action: it does not block
   * other actions or raise the global alert; the caller debounces and drops overtaken answers. */
  previewDecision(policy: Policy): Promise<QueryResult<Decision>>;
  /** Loads the agent's signals (readings, processes seen, detectors) into the state. */
  loadSignals(): Promise<QueryResult<SignalsView>>;
  /** Loads the job list again (it is loaded on connect and follows pushes by itself). */
  loadJobs(): Promise<QueryResult<readonly JobSummary[]>>;
  /** One job with its spec and the last console lines; its summary also refreshes the list. */
  loadJob(id: string): Promise<QueryResult<JobDetail>>;
  /** Queues a render of a .blend on this machine. Field errors (checked here, then by the agent,
   * e.g. a file that does not exist) come back for the form, not as the global alert. */
  queueRender(body: QueueRenderJob): Promise<QueryResult<JobSummary>>;
  cancelJob(id: string): Promise<ActionResult>;
  /** Deletes a finished job and its files; the list drops it (here and, by push, in every other window). */
  deleteJob(id: string): Promise<ActionResult>;
  /** Which Blender renders here, its sandbox, and each device's benchmark. */
  loadRenderEngine(): Promise<QueryResult<RenderEngineInfo>>;
  /** Queues the benchmark on one device; it runs under the schedule like any job. */
  runBenchmark(device: RenderDeviceChoice): Promise<QueryResult<JobSummary>>;
  /** Live power per device, the energy settings, the price now, profit per hour and the cost of
   * recent jobs. A read: the Power page polls it while open. */
  loadPower(): Promise<QueryResult<PowerView>>;
  /** PSU efficiency or calibration factor. Out-of-range values come back as field errors before
   * anything is sent; the agent's field errors too, for the form rather than the global alert. */
  patchEnergySettings(patch: EnergySettingsPatch): Promise<QueryResult<EnergySettings>>;
  /** Compares wall-meter readings with the agent's own figure for a device that is working now.
   * Every failure (409 not_running included) comes back to the form, which explains what to do. */
  calibrate(request: CalibrationRequest): Promise<QueryResult<EnergySettings>>;
  loadTariffs(): Promise<QueryResult<TariffSettings>>;
  /** Replaces all tariffs and the active choice in one PUT; field errors come back for the editor. */
  saveTariffs(settings: TariffSettings): Promise<QueryResult<TariffSettings>>;
  /** Parses a price table for a preview (slots, bad rows by line). Nothing is stored. */
  previewTariffCsv(body: TariffCsvImport): Promise<QueryResult<TariffCsvPreview>>;
  /** The shared disk as the agent sees it: allocation, the file system's numbers, pieces, files
   * being added and the proof history. A read: the Storage page polls it while open. */
  loadStorage(): Promise<QueryResult<StorageView>>;
  /** The hubs and this node's connection to each. A read: the Networks page polls it while open. */
  loadNetworks(): Promise<QueryResult<NetworksView>>;
  /** Field errors (path `url`: not an origin, already added) come back to the form. */
  addNetwork(url: string): Promise<QueryResult<NetworkView>>;
  removeNetwork(id: string): Promise<QueryResult<NetworkView>>;
  /** The newest voucher accepted from a hub, to redeem with any wallet or hand to a relayer. */
  loadVoucher(id: string): Promise<QueryResult<SignedVoucher>>;
  /** The node's own address, the identity hubs see (never its key). 503 while the key is locked. */
  loadNode(): Promise<QueryResult<NodeInfo>>;
  /** The payout address the user confirmed (null removes it). Field errors (`payout.address`: the
   * shape or a failed EIP-55 checksum, checked here, then by the agent) come back for the form. */
  savePayoutAddress(address: string | null): Promise<QueryResult<Settings>>;
  /** Folder and cap in one PATCH of the settings. Field errors (paths `storage.folder`,
   * `storage.capBytes`: checked here, then by the agent, e.g. a folder it cannot write to) come
   * back for the form, not as the global alert. */
  saveStorageSettings(settings: StorageSettings): Promise<QueryResult<Settings>>;
  /** Queues a file of the agent's machine to be stored and sealed as a local piece. Every refusal
   * (a relative path, 409 storage_off without a folder) comes back to the form. */
  addStorageFile(file: string): Promise<QueryResult<Ingest>>;
  /** Challenges a stored piece now and verifies its proofs. A proof that fails is an answer, not an
   * error; a refusal comes back to the caller, not as the global alert. */
  provePiece(cid: string, challenges: number): Promise<QueryResult<ProveResult>>;
  /** Re-hashes a stored piece; it comes back 'corrupt' when it no longer matches its CID. */
  scrubPiece(cid: string): Promise<QueryResult<PieceRecord>>;
  /** The ledger report for a range, bucketed by hour, day or month and optionally split. */
  loadEarnings(params: EarningsQueryParams): Promise<QueryResult<EarningsReport>>;
  /** Every ledger entry in the range as CSV text (the page turns it into a download: the token is
   * a header, so a plain link cannot fetch it). */
  exportEarningsCsv(params: { from: string; to: string; timeZone?: string | undefined }): Promise<QueryResult<string>>;
  /**
   * Receives one job's console: the agent's ring buffer first (replay), then live output. The
   * subscription survives reconnects: it is sent again on every new socket, and `onReset` is
   * called when the new replay arrives so the caller can clear what it showed (the replay repeats
   * it). A second listener to the same job starts with what the first has received. Returns the
   * unsubscribe function.
   */
  subscribeConsole(jobId: string, onData: ConsoleListener, onReset?: () => void): () => void;
  /** Consent (and start-at-login) in one PATCH, then optionally turns sharing on. */
  completeFirstRun(choice: FirstRunChoice): Promise<ActionResult>;
  /** Uses a token the user pasted, and connects again with it. Returns false if it cannot be a token. */
  setToken(token: string): boolean;
  dismissActionError(): void;
  dispose(): void;
}

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 10_000;

/** Exponential, without jitter: one dashboard per agent on loopback, so there is no herd to spread. */
export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt);
}

export function eventsUrl(baseUrl: string): string {
  const url = new URL(`${API_PREFIX}/events`, baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

const defaultSchedule = (fn: () => void, ms: number): (() => void) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

function actionErrorOf(failure: AgentFailure): ActionError {
  if (failure.kind === 'rejected') {
    return { code: failure.code, message: failure.message, ...(failure.fields ? { fields: failure.fields } : {}) };
  }
  return { code: failure.kind, message: failure.message };
}

/** A query string of the defined values, in a fixed order (the agent and the tests read it). */
function searchOf(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
  return search.toString();
}

export function createAgentConnection(deps: ConnectionDeps): AgentConnection {
  const http = createAgentHttp(deps.fetch, deps.baseUrl);
  const schedule = deps.schedule ?? defaultSchedule;
  const warn = deps.warn ?? ((message: string, detail?: unknown) => console.warn(`[offhours] ${message}`, detail ?? ''));
  const listeners = new Set<() => void>();

  let state: ConnectionState = { phase: 'loading', pending: null };
  let token: string | null = null;
  let socket: SocketLike | null = null;
  let cancelReconnect: (() => void) | null = null;
  let attempt = 0;
  // Each load gets a number; answers to an older load (overtaken by retry()) are dropped.
  let loadGeneration = 0;
  let disposed = false;
  // Whether the current socket has been accepted (its 'hello' arrived): only then does it take
  // console subscriptions.
  let socketReady = false;
  const consoles = new Map<string, ConsoleFeed>();
  /** Per job, subscribes sent on this socket whose replay has not arrived yet. Kept past an
   * unsubscribe: a replay still on its way must not be taken for the next subscribe's. */
  const replaysDue = new Map<string, number>();

  function set(patch: Partial<ConnectionState>): void {
    state = { ...state, ...patch };
    for (const listener of [...listeners]) listener();
  }

  /** Pushes and action answers can cross on the wire; the newer status wins. */
  function applyStatus(status: Status): void {
    const current = state.status;
    const sameRun = current !== undefined && current.agent.pid === status.agent.pid && current.agent.startedAt === status.agent.startedAt;
    if (sameRun && status.revision < current.revision) return;
    set({ status, decision: status.decision });
    // Settings changed elsewhere (another window, the tray, the CLI): fetch them again, so a save
    // from this page never silently overwrites them.
    if (current !== undefined && (!sameRun || status.settingsRevision !== current.settingsRevision)) void refreshSettings();
  }

  async function refreshSettings(): Promise<void> {
    const tok = token;
    if (!tok) return;
    try {
      const settings = await http.request(tok, 'GET', '/settings', Settings);
      if (token === tok && !disposed) set({ settings });
    } catch {
      // The next status push tries again; a failed refresh keeps the last settings on screen.
    }
  }

  function closeSocket(): void {
    const ws = socket;
    socketReady = false;
    socket = null; // before close(), so its close event is recognised as ours and ignored
    if (ws) {
      try {
        ws.close(1000, 'dashboard closed the connection');
      } catch {
        // already closed
      }
    }
  }

  function stopReconnecting(): void {
    cancelReconnect?.();
    cancelReconnect = null;
  }

  function becomeUnauthorized(auth: 'missing' | 'rejected'): void {
    loadGeneration++;
    closeSocket();
    stopReconnecting();
    set({
      phase: 'unauthorized',
      auth,
      status: undefined,
      settings: undefined,
      decision: undefined,
      signals: undefined,
      jobs: undefined,
      jobsError: undefined,
      pending: null,
      actionError: undefined,
      lastError: auth === 'missing' ? 'No access token.' : 'The agent did not accept the access token.',
    });
  }

  function scheduleReconnect(reason: string): void {
    closeSocket();
    stopReconnecting();
    const delay = reconnectDelay(attempt);
    attempt++;
    set({ phase: 'disconnected', lastError: reason });
    cancelReconnect = schedule(() => {
      cancelReconnect = null;
      void load('reconnect');
    }, delay);
  }

  function reportBadMessage(detail: unknown): void {
    const message = 'Ignored a message from the agent that does not match the protocol.';
    warn(message, detail);
    set({ lastError: message });
  }

  function handleMessage(data: unknown): void {
    let json: unknown;
    try {
      json = typeof data === 'string' ? JSON.parse(data) : undefined;
    } catch {
      json = undefined;
    }
    const parsed = ServerMessage.safeParse(json);
    if (!parsed.success) {
      reportBadMessage(parsed.error.issues[0] ?? data);
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'hello':
        if (message.apiVersion !== API_VERSION) {
          closeSocket();
          set({
            phase: 'error',
            lastError: `This dashboard speaks API version ${API_VERSION}, but the agent speaks version ${message.apiVersion}. Reload the page.`,
          });
          return;
        }
        // Authenticated: the link works, so the next drop starts its backoff from the beginning.
        attempt = 0;
        socketReady = true;
        // Console subscriptions live on the socket: a new socket needs them again.
        replaysDue.clear();
        for (const jobId of consoles.keys()) sendConsoleSubscribe(jobId);
        return;
      case 'job':
        pushedDuringLoad?.add(message.job.id);
        applyJobs([message.job]);
        return;
      case 'job-removed':
        dropJob(message.id);
        return;
      case 'console':
        receiveConsole(message.jobId, message.data, message.replay === true);
        return;
      case 'status':
        applyStatus(message.status);
        if (state.phase === 'disconnected') set({ phase: 'connected', lastError: undefined });
        return;
      case 'error':
        warn(`The agent reported a problem on the events socket: ${message.code}`, message.message);
        set({ lastError: message.message });
        return;
      case 'pong':
        return;
    }
  }

  function openEvents(tok: string): void {
    let ws: SocketLike;
    try {
      ws = deps.openSocket(eventsUrl(deps.baseUrl), [WS_PROTOCOL]);
    } catch (error) {
      scheduleReconnect(`Could not open the events connection: ${String(error)}`);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      // The token goes in the first message, never the URL: URLs end up in logs.
      ws.send(JSON.stringify({ type: 'auth', token: tok }));
    };
    ws.onmessage = (event) => {
      if (socket === ws) handleMessage(event.data);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      socketReady = false;
      if (event.code === WS_CLOSE.unauthorized) {
        becomeUnauthorized('rejected');
        return;
      }
      scheduleReconnect('Lost connection to the Offhours agent.');
    };
    // Browsers always follow an error with a close event, which does the work.
    ws.onerror = () => undefined;
  }

  async function load(mode: 'initial' | 'reconnect'): Promise<void> {
    const generation = ++loadGeneration;
    closeSocket();
    stopReconnecting();
    const stillCurrent = () => generation === loadGeneration && !disposed;

    let tok: string | null;
    try {
      tok = await deps.tokens.read();
    } catch {
      tok = null;
    }
    if (!stillCurrent()) return;
    if (!tok) {
      becomeUnauthorized('missing');
      return;
    }
    token = tok;

    try {
      const [status, settings] = await Promise.all([
        http.request(tok, 'GET', '/status', Status),
        http.request(tok, 'GET', '/settings', Settings),
      ]);
      if (!stillCurrent()) return;
      if (mode === 'initial') {
        set({ phase: 'connected', status, settings, decision: status.decision, lastError: undefined, auth: undefined });
      } else {
        // Still 'disconnected' until the new socket delivers a status: an agent that answers HTTP
        // but refuses the socket would otherwise flicker between connected and disconnected.
        set({ status, settings, decision: status.decision });
      }
      openEvents(tok);
      void refreshJobs(tok, stillCurrent);
    } catch (error) {
      if (!stillCurrent()) return;
      const failure = failureOf(error);
      if (failure.kind === 'unauthorized') {
        becomeUnauthorized('rejected');
        return;
      }
      // While reconnecting, an agent that is down or restarting is expected: keep trying.
      if (mode === 'reconnect' && (failure.kind === 'unreachable' || failure.kind === 'server')) {
        scheduleReconnect(failure.message);
        return;
      }
      set({ phase: 'error', lastError: failure.message });
    }
  }

  /** Pushes, list loads and action answers can cross on the wire. A job summary has no revision,
   * so the newer one is told by what only moves forward: a final state stays final, a retry
   * (attempts) is newer, and within one state and attempt the progress does not go back. On a tie
   * the incoming one wins (it left the agent later, or is as new). */
  function isOlder(incoming: JobSummary, current: JobSummary): boolean {
    if (incoming.attempts !== current.attempts) return incoming.attempts < current.attempts;
    const finalNow = FINAL_JOB_STATES.has(current.state);
    if (finalNow !== FINAL_JOB_STATES.has(incoming.state)) return finalNow;
    if (incoming.state === current.state && incoming.progress && current.progress) {
      return incoming.progress.fraction < current.progress.fraction || incoming.progress.elapsedS < current.progress.elapsedS;
    }
    return false;
  }

  function sortJobs(jobs: JobSummary[]): JobSummary[] {
    return jobs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  }

  /** Merges summaries into the list; `replace` (a full list load) also drops jobs the agent no
   * longer has, except those a push added after the load was sent. */
  function applyJobs(incoming: readonly JobSummary[], replace?: { keep: ReadonlySet<string> }): void {
    const byId = new Map<string, JobSummary>();
    for (const job of state.jobs ?? []) {
      if (!replace || replace.keep.has(job.id)) byId.set(job.id, job);
    }
    for (const job of incoming) {
      const current = byId.get(job.id) ?? state.jobs?.find((j) => j.id === job.id);
      byId.set(job.id, current && isOlder(job, current) ? current : job);
    }
    set({ jobs: sortJobs([...byId.values()]), jobsError: undefined });
  }

  /** One settings section saved from its own form: checked here first, field errors back to the
   * form (not the global alert), and the saved settings into the state. */
  function patchForForm(name: string, patch: unknown, message: string): Promise<QueryResult<Settings>> {
    const parsed = SettingsPatch.safeParse(patch);
    if (!parsed.success) return Promise.resolve(invalidForForm(message, parsed.error.issues));
    return actFor(
      name,
      async (tok) => {
        const saved = await http.request(tok, 'PATCH', '/settings', Settings, parsed.data);
        set({ settings: saved });
        return saved;
      },
      { alertFieldErrors: false },
    );
  }

  function dropJob(id: string): void {
    if (state.jobs?.some((j) => j.id === id)) set({ jobs: state.jobs.filter((j) => j.id !== id) });
  }

  /** Ids of jobs pushed while a list load was in flight: the load's answer must not drop them. */
  let pushedDuringLoad: Set<string> | null = null;

  async function refreshJobs(tok: string, stillCurrent: () => boolean = () => !disposed): Promise<QueryResult<readonly JobSummary[]>> {
    const seen = new Set<string>();
    pushedDuringLoad = seen;
    try {
      const list = await http.request(tok, 'GET', '/jobs', JobList);
      if (!stillCurrent() || token !== tok) return { ok: true, value: list.jobs };
      applyJobs(list.jobs, { keep: seen });
      return { ok: true, value: state.jobs ?? [] };
    } catch (error) {
      const failure = failureOf(error);
      if (stillCurrent() && token === tok) {
        if (failure.kind === 'unauthorized') becomeUnauthorized('rejected');
        else set({ jobsError: `Could not load the jobs: ${failure.message}` });
      }
      return { ok: false, error: actionErrorOf(failure) };
    } finally {
      if (pushedDuringLoad === seen) pushedDuringLoad = null;
    }
  }

  function sendConsole(type: 'console-subscribe' | 'console-unsubscribe', jobId: string): void {
    if (!socket || !socketReady) return;
    try {
      socket.send(JSON.stringify({ type, jobId }));
    } catch {
      // The socket is going away; its close event reconnects and subscribes again.
    }
  }

  function sendConsoleSubscribe(jobId: string): void {
    const feed = consoles.get(jobId);
    if (!feed || !socket || !socketReady) return;
    // The agent answers every subscribe with its ring buffer (unless it is empty), then live output.
    replaysDue.set(jobId, (replaysDue.get(jobId) ?? 0) + 1);
    sendConsole('console-subscribe', jobId);
  }

  /**
   * A replay that answers a subscribe starts the console over: the listeners clear their screens
   * and the kept text is replaced. Counting the subscribes sent keeps a quick subscribe,
   * unsubscribe, subscribe (switching jobs back and forth, React's development double effects)
   * from showing the log twice. Live output means every replay due has come (or there was none).
   */
  function receiveConsole(jobId: string, data: string, replay: boolean): void {
    const due = replaysDue.get(jobId) ?? 0;
    const startsOver = replay && due > 0;
    if (startsOver) replaysDue.set(jobId, due - 1);
    else if (!replay) replaysDue.delete(jobId);
    const feed = consoles.get(jobId);
    if (!feed) return;
    if (startsOver) {
      feed.text = '';
      for (const l of [...feed.listeners]) l.onReset?.();
    }
    feed.text = keepTail(feed.text + data);
    for (const l of [...feed.listeners]) l.onData(data, { replay });
  }

  async function refreshStatus(tok: string): Promise<void> {
    try {
      applyStatus(await http.request(tok, 'GET', '/status', Status));
    } catch {
      // Best effort: the events socket brings the same change, and a real outage shows there.
    }
  }

  /** `alertFieldErrors: false`: a rejection with field errors is returned, not raised as the
   * global alert (the page that sent it shows each error next to its control). `alert: false`:
   * no rejection is raised as the global alert (the form explains each one itself). */
  async function act(name: string, run: (tok: string) => Promise<void>, options: { alertFieldErrors?: boolean; alert?: boolean } = {}): Promise<ActionResult> {
    if (state.pending !== null) {
      return { ok: false, error: { code: 'busy', message: 'Another change is still being applied.' } };
    }
    const tok = token;
    if (!tok) return { ok: false, error: { code: 'unauthorized', message: 'Not connected to the agent.' } };
    set({ pending: name, actionError: undefined });
    try {
      await run(tok);
      if (!disposed) set({ pending: null });
      return { ok: true };
    } catch (error) {
      const failure = failureOf(error);
      if (failure.kind === 'unauthorized') {
        becomeUnauthorized('rejected');
        return { ok: false, error: actionErrorOf(failure) };
      }
      const actionError = actionErrorOf(failure);
      const hasFields = (actionError.fields?.length ?? 0) > 0;
      const alert = options.alert !== false && (options.alertFieldErrors !== false || !hasFields);
      if (!disposed) set(alert ? { pending: null, actionError } : { pending: null });
      return { ok: false, error: actionError };
    }
  }

  /** A read that is not a user action: no pending flag, no global alert; 401 still means unauthorized. */
  async function query<T>(run: (tok: string) => Promise<T>): Promise<QueryResult<T>> {
    const tok = token;
    if (!tok || state.phase === 'unauthorized') return { ok: false, error: { code: 'unauthorized', message: 'Not connected to the agent.' } };
    try {
      return { ok: true, value: await run(tok) };
    } catch (error) {
      const failure = failureOf(error);
      if (failure.kind === 'unauthorized' && !disposed) becomeUnauthorized('rejected');
      return { ok: false, error: actionErrorOf(failure) };
    }
  }

  function invalidInput(message: string, fields: FieldError[]): ActionResult {
    const error: ActionError = { code: 'invalid_request', message, fields };
    set({ actionError: error });
    return { ok: false, error };
  }

  function invalidForForm(message: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): { ok: false; error: ActionError } {
    return { ok: false, error: { code: 'invalid_request', message, fields: fieldsOf(issues) } };
  }

  /** An action whose answer the caller uses (the saved settings); `run` returns it. */
  async function actFor<T>(name: string, run: (tok: string) => Promise<T>, options: { alertFieldErrors?: boolean; alert?: boolean }): Promise<QueryResult<T>> {
    let value: { v: T } | undefined;
    const result = await act(
      name,
      async (tok) => {
        value = { v: await run(tok) };
      },
      options,
    );
    if (!result.ok) return result;
    return value ? { ok: true, value: value.v } : { ok: false, error: { code: 'invalid-response', message: 'The agent did not answer.' } };
  }

  function fieldsOf(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): FieldError[] {
    return issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)',
      message: issue.message,
    }));
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => state,
    start() {
      void load('initial');
    },
    retry() {
      attempt = 0;
      if (state.status) {
        if (state.phase === 'error') set({ phase: 'disconnected' });
        void load('reconnect');
      } else {
        set({ phase: 'loading', lastError: undefined });
        void load('initial');
      }
    },
    setSharing(request) {
      const parsed = SharingRequest.safeParse(request);
      if (!parsed.success) return Promise.resolve(invalidInput('That sharing change is not valid.', fieldsOf(parsed.error.issues)));
      return act(`sharing:${parsed.data.mode}`, async (tok) => {
        applyStatus(await http.request(tok, 'POST', '/sharing', Status, parsed.data));
      });
    },
    patchSettings(patch) {
      const parsed = SettingsPatch.safeParse(patch);
      if (!parsed.success) return Promise.resolve(invalidInput('That settings change is not valid.', fieldsOf(parsed.error.issues)));
      return act('settings', async (tok) => {
        set({ settings: await http.request(tok, 'PATCH', '/settings', Settings, parsed.data) });
        // Status carries consent.required and startAtLogin, which the screens follow.
        await refreshStatus(tok);
      });
    },
    savePolicy(policy) {
      const parsed = SettingsPatch.safeParse({ policy });
      if (!parsed.success) {
        return Promise.resolve({
          ok: false,
          error: { code: 'invalid_request', message: 'The schedule has mistakes.', fields: fieldsOf(parsed.error.issues) },
        });
      }
      return act(
        'policy',
        async (tok) => {
          set({ settings: await http.request(tok, 'PATCH', '/settings', Settings, parsed.data) });
          // The new decision comes with the status (and on the socket).
          await refreshStatus(tok);
        },
        { alertFieldErrors: false },
      );
    },
    previewDecision(policy) {
      return query((tok) => http.request(tok, 'POST', '/decision/preview', Decision, { policy }));
    },
    async loadSignals() {
      const result = await query((tok) => http.request(tok, 'GET', '/signals', SignalsView));
      if (result.ok && !disposed) set({ signals: result.value });
      return result;
    },
    loadJobs() {
      const tok = token;
      if (!tok || state.phase === 'unauthorized') return Promise.resolve({ ok: false, error: { code: 'unauthorized', message: 'Not connected to the agent.' } });
      return refreshJobs(tok);
    },
    async loadJob(id) {
      const result = await query((tok) => http.request(tok, 'GET', `/jobs/${encodeURIComponent(id)}`, JobDetail));
      if (result.ok && !disposed) {
        const { spec: _spec, consoleTail: _tail, ...summary } = result.value;
        applyJobs([summary]);
      }
      return result;
    },
    async queueRender(body) {
      const parsed = QueueRenderJob.safeParse(body);
      if (!parsed.success) {
        return { ok: false, error: { code: 'invalid_request', message: 'The render job has mistakes.', fields: fieldsOf(parsed.error.issues) } };
      }
      let queued: JobSummary | undefined;
      const result = await act(
        'queue-render',
        async (tok) => {
          queued = await http.request(tok, 'POST', '/jobs', JobSummary, parsed.data);
          applyJobs([queued]);
        },
        { alertFieldErrors: false },
      );
      if (!result.ok) return result;
      return queued ? { ok: true, value: queued } : { ok: false, error: { code: 'invalid-response', message: 'The agent did not say which job it queued.' } };
    },
    loadRenderEngine() {
      return query((tok) => http.request(tok, 'GET', '/render', RenderEngineInfo));
    },
    async runBenchmark(device) {
      let queued: JobSummary | undefined;
      const result = await act('benchmark', async (tok) => {
        queued = await http.request(tok, 'POST', '/render/benchmark', JobSummary, QueueBenchmark.parse({ device }));
        applyJobs([queued]);
      });
      if (!result.ok) return result;
      return queued ? { ok: true, value: queued } : { ok: false, error: { code: 'invalid-response', message: 'The agent did not say which job it queued.' } };
    },
    loadPower() {
      return query((tok) => http.request(tok, 'GET', '/power', PowerView));
    },
    patchEnergySettings(patch) {
      const parsed = EnergySettingsPatch.safeParse(patch);
      if (!parsed.success) return Promise.resolve(invalidForForm('That energy setting is not valid.', parsed.error.issues));
      return actFor('energy-settings', (tok) => http.request(tok, 'PATCH', '/power/settings', EnergySettings, parsed.data), { alertFieldErrors: false });
    },
    calibrate(request) {
      const parsed = CalibrationRequest.safeParse(request);
      if (!parsed.success) return Promise.resolve(invalidForForm('The meter readings are not valid.', parsed.error.issues));
      return actFor('calibrate', (tok) => http.request(tok, 'POST', '/power/calibrate', EnergySettings, parsed.data), { alert: false });
    },
    loadTariffs() {
      return query((tok) => http.request(tok, 'GET', '/tariffs', TariffSettings));
    },
    saveTariffs(settings) {
      const parsed = TariffSettings.safeParse(settings);
      if (!parsed.success) return Promise.resolve(invalidForForm('The tariffs have mistakes.', parsed.error.issues));
      return actFor('tariffs', (tok) => http.request(tok, 'PUT', '/tariffs', TariffSettings, parsed.data), { alertFieldErrors: false });
    },
    previewTariffCsv(body) {
      const parsed = TariffCsvImport.safeParse(body);
      if (!parsed.success) return Promise.resolve(invalidForForm('That price table cannot be sent.', parsed.error.issues));
      return query((tok) => http.request(tok, 'POST', '/tariffs/import', TariffCsvPreview, parsed.data));
    },
    loadStorage() {
      return query((tok) => http.request(tok, 'GET', '/storage', StorageView));
    },
    loadNetworks() {
      return query((tok) => http.request(tok, 'GET', '/networks', NetworksView));
    },
    addNetwork(url) {
      const parsed = AddNetworkRequest.safeParse({ url });
      if (!parsed.success) return Promise.resolve(invalidForForm('That hub cannot be added.', parsed.error.issues));
      return actFor('network-add', (tok) => http.request(tok, 'POST', '/networks', NetworkView, parsed.data), { alert: false });
    },
    removeNetwork(id) {
      return actFor(`network-remove:${id}`, (tok) => http.request(tok, 'DELETE', `/networks/${encodeURIComponent(id)}`, NetworkView), { alert: false });
    },
    loadVoucher(id) {
      return query((tok) => http.request(tok, 'GET', `/networks/${encodeURIComponent(id)}/voucher`, SignedVoucher));
    },
    loadNode() {
      return query((tok) => http.request(tok, 'GET', '/node', NodeInfo));
    },
    savePayoutAddress(address) {
      return patchForForm('payout', { payout: { address } }, 'That payout address cannot be used.');
    },
    saveStorageSettings(settings) {
      return patchForForm('storage-settings', { storage: settings }, 'The storage settings have mistakes.');
    },
    addStorageFile(file) {
      const parsed = AddPieceRequest.safeParse({ file });
      if (!parsed.success) return Promise.resolve(invalidForForm('That file cannot be added.', parsed.error.issues));
      return actFor('storage-add', (tok) => http.request(tok, 'POST', '/storage/pieces', Ingest, parsed.data), { alert: false });
    },
    provePiece(cid, challenges) {
      const piece = PieceCidText.safeParse(cid);
      const body = ProveRequest.safeParse({ challenges });
      if (!piece.success) return Promise.resolve(invalidForForm('That is not a piece CID.', piece.error.issues));
      if (!body.success) return Promise.resolve(invalidForForm('That number of challenges cannot be sent.', body.error.issues));
      return actFor(`prove:${piece.data}`, (tok) => http.request(tok, 'POST', `/storage/pieces/${encodeURIComponent(piece.data)}/prove`, ProveResult, body.data), {
        alert: false,
      });
    },
    scrubPiece(cid) {
      const piece = PieceCidText.safeParse(cid);
      if (!piece.success) return Promise.resolve(invalidForForm('That is not a piece CID.', piece.error.issues));
      return actFor(`scrub:${piece.data}`, (tok) => http.request(tok, 'POST', `/storage/pieces/${encodeURIComponent(piece.data)}/scrub`, PieceRecord), { alert: false });
    },
    loadEarnings(params) {
      const parsed = EarningsQueryParams.safeParse(params);
      if (!parsed.success) return Promise.resolve(invalidForForm('That range cannot be shown.', parsed.error.issues));
      return query((tok) => http.request(tok, 'GET', `/earnings?${searchOf(parsed.data)}`, EarningsReport));
    },
    exportEarningsCsv(params) {
      const parsed = EarningsQueryParams.pick({ from: true, to: true, timeZone: true }).strict().safeParse(params);
      if (!parsed.success) return Promise.resolve(invalidForForm('That range cannot be exported.', parsed.error.issues));
      return query((tok) => http.text(tok, `/earnings/export.csv?${searchOf(parsed.data)}`));
    },
    deleteJob(id) {
      return act(`delete:${id}`, async (tok) => {
        await http.request(tok, 'DELETE', `/jobs/${encodeURIComponent(id)}`, NoContent);
        dropJob(id);
      });
    },
    cancelJob(id) {
      return act(`cancel:${id}`, async (tok) => {
        applyJobs([await http.request(tok, 'POST', `/jobs/${encodeURIComponent(id)}/cancel`, JobSummary)]);
      });
    },
    subscribeConsole(jobId, onData, onReset) {
      const entry: ConsoleEntry = { onData, onReset };
      let feed = consoles.get(jobId);
      if (feed) {
        // Another viewer of the same job: it starts with what has arrived so far.
        if (feed.text !== '') onData(feed.text, { replay: true });
        feed.listeners.add(entry);
      } else {
        feed = { listeners: new Set([entry]), text: '' };
        consoles.set(jobId, feed);
        sendConsoleSubscribe(jobId);
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = consoles.get(jobId);
        if (!current) return;
        current.listeners.delete(entry);
        if (current.listeners.size === 0) {
          consoles.delete(jobId);
          sendConsole('console-unsubscribe', jobId);
        }
      };
    },
    completeFirstRun({ startAtLogin, startSharing }) {
      return act('first-run', async (tok) => {
        const patch: SettingsPatch = { consent: { accepted: true, version: CONSENT_VERSION }, startAtLogin };
        set({ settings: await http.request(tok, 'PATCH', '/settings', Settings, patch) });
        if (!startSharing) {
          await refreshStatus(tok);
          return;
        }
        try {
          applyStatus(await http.request(tok, 'POST', '/sharing', Status, { mode: 'on' }));
        } catch (error) {
          // Consent was recorded even though sharing did not start: show the dashboard and the error.
          await refreshStatus(tok);
          throw error;
        }
      });
    },
    setToken(raw) {
      if (!deps.tokens.save(raw)) return false;
      attempt = 0;
      set({
        phase: 'loading',
        auth: undefined,
        lastError: undefined,
        status: undefined,
        settings: undefined,
        decision: undefined,
        signals: undefined,
        jobs: undefined,
        jobsError: undefined,
      });
      void load('initial');
      return true;
    },
    dismissActionError() {
      if (state.actionError) set({ actionError: undefined });
    },
    dispose() {
      disposed = true;
      loadGeneration++;
      closeSocket();
      stopReconnecting();
      listeners.clear();
      consoles.clear();
    },
  };
}
