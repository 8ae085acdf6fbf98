// Small helpers for tests that talk to a real agent over loopback.
import WebSocket from 'ws';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../protocol/index.js';

export async function api(base: string, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as any, headers: res.headers };
}

export interface WsResult {
  opened: boolean;
  /** HTTP status of a refused upgrade. */
  refusedStatus?: number;
  closeCode?: number;
  messages: any[];
}

/** Opens the events socket and collects what happens within `ms` (or until `until` is met). */
export function openEvents(
  port: number,
  opts: {
    token?: string;
    tokenVia?: 'protocol' | 'message';
    origin?: string;
    until?: (msgs: any[]) => boolean;
    ms?: number;
    send?: unknown[];
    /** Runs once the first status has arrived, so a change made here can only reach the client as a push. */
    afterFirstStatus?: () => unknown;
  } = {},
): Promise<WsResult> {
  const protocols = [WS_PROTOCOL];
  if (opts.token !== undefined && opts.tokenVia === 'protocol') protocols.push(`${WS_TOKEN_PROTOCOL_PREFIX}${opts.token}`);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events`, protocols, opts.origin ? { origin: opts.origin } : {});
  const result: WsResult = { opened: false, messages: [] };
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(result);
    };
    const timer = setTimeout(done, opts.ms ?? 2000);
    ws.on('unexpected-response', (_req, res) => {
      result.refusedStatus = res.statusCode;
      done();
    });
    ws.on('error', () => done());
    ws.on('open', () => {
      result.opened = true;
      if (opts.token !== undefined && opts.tokenVia === 'message') ws.send(JSON.stringify({ type: 'auth', token: opts.token }));
      for (const m of opts.send ?? []) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    });
    let triggered = false;
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      result.messages.push(msg);
      if (msg.type === 'status' && !triggered && opts.afterFirstStatus) {
        triggered = true;
        void opts.afterFirstStatus();
        return;
      }
      if (opts.until?.(result.messages)) done();
    });
    ws.on('close', (code) => {
      result.closeCode = code;
      done();
    });
  });
}
