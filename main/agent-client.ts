// Main as one more client of the agent's API, like the dashboard and the CLI: it follows status over
// the events WebSocket (for the tray and the login item), posts manual sharing changes, and
// forwards power signals. No business logic: the agent decides, main shows.
import WebSocket from 'ws';
import { API_PREFIX, WS_CLOSE, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../protocol/index.js';
import { ServerMessage, SharingRequest, Status } from '../protocol/api.js';
import { SignalUpdate, SignalsAccepted } from '../protocol/signals.js';
import type { Timers } from './child-handle.js';

export type ClientConnection =
  | { kind: 'connecting' }
  | { kind: 'connected'; status: Status }
  | { kind: 'unauthorized' }
  | { kind: 'disconnected'; since: number };

export interface AgentClientOptions {
  origin: string;
  /** Read at every connection: the agent creates the token file on its first run. */
  readToken(): Promise<string>;
  onConnection(connection: ClientConnection): void;
  timers: Timers;
  now(): number;
  log(message: string): void;
  reconnect?: { initialMs: number; maxMs: number };
}

export class AgentClient {
  private socket: WebSocket | null = null;
  private timer: unknown = null;
  private stopped = false;
  private failures = 0;
  private lastStatus: Status | null = null;
  private disconnectedSince: number | null = null;
  private readonly reconnect: { initialMs: number; maxMs: number };

  constructor(private readonly options: AgentClientOptions) {
    this.reconnect = options.reconnect ?? { initialMs: 500, maxMs: 10_000 };
  }

  get origin(): string {
    return this.options.origin;
  }

  start(): void {
    this.stopped = false;
    this.options.onConnection({ kind: 'connecting' });
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close(1000);
    this.socket = null;
  }

  async getStatus(): Promise<Status> {
    return Status.parse(await this.request('GET', '/status'));
  }

  async setSharing(body: SharingRequest): Promise<Status> {
    const status = Status.parse(await this.request('POST', '/sharing', SharingRequest.parse(body)));
    this.publish(status);
    return status;
  }

  /** Sends signal readings; validated here first, so a bug in the shell fails loudly, not as a 400. */
  async postSignals(update: SignalUpdate): Promise<number> {
    return SignalsAccepted.parse(await this.request('POST', '/signals', SignalUpdate.parse(update))).accepted;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const token = await this.options.readToken();
    const response = await fetch(`${this.options.origin}${API_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json: unknown = await response.json().catch(() => null);
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  }

  private publish(status: Status): void {
    // A reply can cross a newer push on the wire: within one agent run the higher revision wins.
    const last = this.lastStatus;
    if (last && last.agent.pid === status.agent.pid && last.agent.startedAt === status.agent.startedAt && status.revision < last.revision) return;
    this.lastStatus = status;
    this.disconnectedSince = null;
    if (!this.stopped) this.options.onConnection({ kind: 'connected', status });
  }

  private async connect(): Promise<void> {
    let token: string;
    try {
      token = await this.options.readToken();
    } catch (error) {
      this.options.log(`cannot read the API token: ${String(error)}`);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const url = `${this.options.origin.replace(/^http/, 'ws')}${API_PREFIX}/events`;
    // The token travels as a subprotocol, as the dashboard does (a browser cannot set headers);
    // Origin is our agent's own, which the agent accepts for upgrades.
    const socket = new WebSocket(url, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`], { origin: this.options.origin });
    this.socket = socket;
    let unauthorized = false;

    socket.on('message', (data) => {
      let parsed: ReturnType<typeof ServerMessage.safeParse>;
      try {
        parsed = ServerMessage.safeParse(JSON.parse(String(data)));
      } catch {
        return;
      }
      if (!parsed.success) {
        this.options.log(`ignoring an invalid event from the agent: ${parsed.error.message}`);
        return;
      }
      const message = parsed.data;
      if (message.type === 'hello') {
        this.failures = 0;
        // Do not wait for the next change to show something.
        this.getStatus().then(
          (status) => this.publish(status),
          (error: unknown) => this.options.log(`status request failed: ${String(error)}`),
        );
      } else if (message.type === 'status') {
        this.publish(message.status);
      } else if (message.type === 'error' && message.code === 'unauthorized') {
        unauthorized = true;
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      if (response.statusCode === 401 || response.statusCode === 403) unauthorized = true;
      socket.terminate();
    });
    socket.on('error', (error) => this.options.log(`events socket: ${error.message}`));
    socket.on('close', (code) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (unauthorized || code === WS_CLOSE.unauthorized) {
        this.options.onConnection({ kind: 'unauthorized' });
      } else {
        this.disconnectedSince ??= this.options.now();
        this.options.onConnection({ kind: 'disconnected', since: this.disconnectedSince });
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(this.reconnect.initialMs * 2 ** (this.failures - 1), this.reconnect.maxMs);
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  /** The last status seen, kept across a reconnect so the tray does not flicker to "unknown". */
  get status(): Status | null {
    return this.lastStatus;
  }
}
