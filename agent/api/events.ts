// The events WebSocket. Browsers cannot set headers on a WebSocket, so a client authenticates
// either with a second subprotocol carrying the token or with its first message; never with a
// query string (those end up in logs and history). Upgrades from a foreign Origin are refused.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ClientMessage,
  WS_CLOSE,
  WS_PROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  type JobSummary,
  type ServerMessage,
  type Status,
} from '../../protocol/index.js';
import { tokenMatches } from '../token.js';
import type { Logger } from '../logger.js';

const AUTH_TIMEOUT_MS = 5_000;
/** A client that stops reading is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Console output is skipped (not queued) for a client with this much unsent: it catches up from
 * the ring buffer when it subscribes again, and one slow client never grows the agent's memory. */
const CONSOLE_SKIP_BYTES = 256 * 1024;
const CONSOLE_BATCH_MS = 16;

export interface EventsHub {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, origins: Set<string>): void;
  broadcastStatus(status: Status): void;
  broadcastJob(job: JobSummary): void;
  broadcastJobRemoved(id: string): void;
  /** Live console output of a job, batched (~16 ms) to the clients that subscribed to it. */
  pushConsole(jobId: string, data: string): void;
  clientCount(): number;
  close(): void;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export interface EventsHubOptions {
  token: string;
  version: string;
  apiVersion: number;
  currentStatus: () => Status;
  /** The job's console ring buffer, replayed to a new subscriber; null for an unknown job. */
  consoleReplay?: (jobId: string) => string | null;
  log: Logger;
}

export function createEventsHub(opts: EventsHubOptions): EventsHub {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024,
    // Echo only the protocol name, never the token protocol.
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const authed = new Set<WebSocket>();
  const subscriptions = new Map<WebSocket, Set<string>>();
  const pendingConsole = new Map<string, string>();
  let consoleTimer: NodeJS.Timeout | undefined;

  const flushConsole = () => {
    clearTimeout(consoleTimer);
    consoleTimer = undefined;
    for (const [jobId, data] of pendingConsole) {
      for (const [ws, jobs] of subscriptions) {
        if (!jobs.has(jobId) || ws.bufferedAmount > CONSOLE_SKIP_BYTES) continue;
        send(ws, { type: 'console', jobId, data });
      }
    }
    pendingConsole.clear();
  };

  const subscribe = (ws: WebSocket, jobId: string) => {
    const replay = opts.consoleReplay?.(jobId) ?? null;
    if (replay === null) {
      send(ws, { type: 'error', code: 'not_found', message: `no such job: ${jobId}` });
      return;
    }
    // Live output still waiting in the batch is in the ring already: send it before subscribing
    // so the client neither misses nor repeats it.
    flushConsole();
    let jobs = subscriptions.get(ws);
    if (!jobs) subscriptions.set(ws, (jobs = new Set()));
    jobs.add(jobId);
    if (replay !== '') send(ws, { type: 'console', jobId, data: replay, replay: true });
  };

  const send = (ws: WebSocket, msg: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      opts.log.warn('dropping an events client that stopped reading', { buffered: ws.bufferedAmount });
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  };

  const admit = (ws: WebSocket) => {
    authed.add(ws);
    send(ws, { type: 'hello', apiVersion: opts.apiVersion, version: opts.version });
    send(ws, { type: 'status', status: opts.currentStatus() });
  };

  return {
    handleUpgrade(req, socket, head, origins) {
      const origin = req.headers.origin;
      // Browsers always send Origin; a page from another site must never read our events.
      if (origin !== undefined && !origins.has(origin)) {
        opts.log.warn('refused an events socket from a foreign origin', { origin });
        refuse(socket, 403, 'Forbidden');
        return;
      }
      const offered = offeredProtocols(req);
      const tokenProto = offered.find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
      if (tokenProto !== undefined && !tokenMatches(opts.token, tokenProto.slice(WS_TOKEN_PROTOCOL_PREFIX.length))) {
        refuse(socket, 401, 'Unauthorized');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', (err) => opts.log.debug('events socket error', { err }));
        ws.on('close', () => {
          authed.delete(ws);
          subscriptions.delete(ws);
        });
        if (tokenProto !== undefined) {
          admit(ws);
        } else {
          const timer = setTimeout(() => ws.close(WS_CLOSE.authTimeout, 'authenticate first'), AUTH_TIMEOUT_MS);
          ws.once('close', () => clearTimeout(timer));
          ws.on('message', function first(raw) {
            if (authed.has(ws)) return;
            clearTimeout(timer);
            ws.off('message', first);
            let parsed: ReturnType<typeof ClientMessage.safeParse>;
            try {
              parsed = ClientMessage.safeParse(JSON.parse(String(raw)));
            } catch {
              ws.close(WS_CLOSE.badMessage, 'not JSON');
              return;
            }
            if (!parsed.success || parsed.data.type !== 'auth') {
              ws.close(WS_CLOSE.unauthorized, 'the first message must be {"type":"auth","token":...}');
              return;
            }
            if (!tokenMatches(opts.token, parsed.data.token)) {
              ws.close(WS_CLOSE.unauthorized, 'wrong token');
              return;
            }
            admit(ws);
          });
        }
        ws.on('message', (raw) => {
          if (!authed.has(ws)) return;
          let msg: ReturnType<typeof ClientMessage.safeParse>;
          try {
            msg = ClientMessage.safeParse(JSON.parse(String(raw)));
          } catch {
            send(ws, { type: 'error', code: 'bad_message', message: 'messages must be JSON' });
            return;
          }
          if (!msg.success) send(ws, { type: 'error', code: 'bad_message', message: msg.error.issues[0]?.message ?? 'invalid message' });
          else if (msg.data.type === 'ping') send(ws, { type: 'pong', ...(msg.data.id !== undefined ? { id: msg.data.id } : {}) });
          else if (msg.data.type === 'console-subscribe') subscribe(ws, msg.data.jobId);
          else if (msg.data.type === 'console-unsubscribe') subscriptions.get(ws)?.delete(msg.data.jobId);
        });
      });
    },
    broadcastStatus(status) {
      for (const ws of authed) send(ws, { type: 'status', status });
    },
    broadcastJob(job) {
      // Console output batched before this change is sent first, so a client sees a job's last
      // lines before it sees the job finish.
      if (pendingConsole.size > 0) flushConsole();
      for (const ws of authed) send(ws, { type: 'job', job });
    },
    broadcastJobRemoved(id) {
      for (const ws of authed) send(ws, { type: 'job-removed', id });
    },
    pushConsole(jobId, data) {
      if (subscriptions.size === 0) return;
      pendingConsole.set(jobId, (pendingConsole.get(jobId) ?? '') + data);
      consoleTimer ??= setTimeout(flushConsole, CONSOLE_BATCH_MS);
    },
    clientCount: () => authed.size,
    close() {
      clearTimeout(consoleTimer);
      for (const ws of wss.clients) ws.close(WS_CLOSE.shuttingDown, 'agent stopping');
      wss.close();
    },
  };
}
