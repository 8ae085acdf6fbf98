// Main's API client against a small stand-in agent over real loopback HTTP and WebSocket: the
// token as bearer header and as subprotocol, status from the events socket, sharing changes,
// reconnects, and a refused token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Status, WS_CLOSE, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../protocol/index.js';
import { AgentClient, type ClientConnection } from '../../main/agent-client.js';
import { realTimers } from '../../main/child-handle.js';

const TOKEN = 'f'.repeat(64);

function makeStatus(mode: 'on' | 'off'): Status {
  return Status.parse({
    agent: { version: '0.1.0', pid: 1, startedAt: '2025-01-01T00:00:00Z', dataDir: '/d', host: 'h', platform: 'linux', timeZone: 'UTC', headless: false },
    consent: { required: false, currentVersion: 1 },
    startAtLogin: mode === 'on',
    sharing: { manual: { mode, until: null, changedAt: null }, state: mode === 'on' ? 'sharing' : 'off', reason: { code: 'c', text: 'because' } },
    decision: null,
    revision: 0,
    settingsRevision: 0,
    problems: [],
    updatedAt: '2025-01-01T00:00:00Z',
  });
}

interface StandIn {
  server: Server;
  wss: WebSocketServer;
  origin: string;
  requests: Array<{ method: string; url: string; auth: string | undefined; body: string }>;
  upgrades: Array<{ protocols: string; origin: string | undefined }>;
  status: Status;
  close(): Promise<void>;
}

async function standIn(port = 0): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const upgrades: StandIn['upgrades'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401).end(JSON.stringify({ error: { code: 'unauthorized', message: 'no' } }));
        return;
      }
      if (req.method === 'POST' && req.url === '/api/v1/signals') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: JSON.parse(body).readings.length }));
        return;
      }
      if (req.method === 'POST' && req.url === '/api/v1/sharing') {
        it.status = makeStatus(JSON.parse(body).mode);
        for (const client of wss.clients) client.send(JSON.stringify({ type: 'status', status: it.status }));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(it.status));
    });
  });
  const wss = new WebSocketServer({
    server,
    path: '/api/v1/events',
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  wss.on('connection', (socket, req) => {
    upgrades.push({ protocols: String(req.headers['sec-websocket-protocol']), origin: req.headers.origin });
    const offered = String(req.headers['sec-websocket-protocol']).split(',').map((p) => p.trim());
    if (!offered.includes(`${WS_TOKEN_PROTOCOL_PREFIX}${TOKEN}`)) {
      socket.close(WS_CLOSE.unauthorized, 'unauthorized');
      return;
    }
    socket.send(JSON.stringify({ type: 'hello', apiVersion: 1, version: '0.1.0' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const it: StandIn = {
    server,
    wss,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    upgrades,
    status: makeStatus('off'),
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return it;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(origin: string, token = TOKEN) {
  const seen: ClientConnection[] = [];
  const c = new AgentClient({
    origin,
    readToken: async () => token,
    onConnection: (conn) => seen.push(conn),
    timers: realTimers,
    now: () => Date.now(),
    log: () => {},
    reconnect: { initialMs: 20, maxMs: 50 },
  });
  cleanups.push(() => c.stop());
  return { c, seen };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AgentClient', () => {
  it('connects with the token as a subprotocol and the agent origin, and publishes status', async () => {
    const agent = await standIn();
    cleanups.push(() => agent.close());
    const { c, seen } = client(agent.origin);
    c.start();
    await until(() => seen.some((s) => s.kind === 'connected'));
    expect(seen[0]).toEqual({ kind: 'connecting' });
    expect(agent.upgrades[0]!.protocols.split(",").map((p) => p.trim())).toEqual([WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${TOKEN}`]);
    expect(agent.upgrades[0]!.origin).toBe(agent.origin);
    expect(agent.requests[0]).toMatchObject({ method: 'GET', url: '/api/v1/status', auth: `Bearer ${TOKEN}` });
    expect(c.status?.sharing.manual.mode).toBe('off');
  });

  it('posts sharing changes with the bearer token and follows the pushed status', async () => {
    const agent = await standIn();
    cleanups.push(() => agent.close());
    const { c, seen } = client(agent.origin);
    c.start();
    await until(() => seen.some((s) => s.kind === 'connected'));
    const status = await c.setSharing({ mode: 'on' });
    expect(status.sharing.state).toBe('sharing');
    expect(agent.requests.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/sharing', auth: `Bearer ${TOKEN}`, body: '{"mode":"on"}' });
    const last = seen.at(-1)!;
    expect(last.kind === 'connected' && last.status.sharing.manual.mode).toBe('on');
  });

  it('posts power signals with the bearer token and returns how many the agent accepted', async () => {
    const agent = await standIn();
    cleanups.push(() => agent.close());
    const { c } = client(agent.origin);
    const update = {
      source: 'electron.power-monitor',
      maxAgeMs: 10_000,
      readings: [
        { name: 'idleSeconds' as const, value: 12 },
        { name: 'screenLocked' as const, notAvailable: true as const, note: 'no lock events on Linux' },
      ],
    };
    await expect(c.postSignals(update)).resolves.toBe(2);
    expect(agent.requests.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/signals', auth: `Bearer ${TOKEN}` });
    expect(JSON.parse(agent.requests.at(-1)!.body)).toEqual(update);
  });

  it('refuses to send invalid signals (checked against the protocol before any request)', async () => {
    const { c } = client('http://127.0.0.1:1');
    await expect(c.postSignals({ source: 'electron.power-monitor', readings: [{ name: 'idleSeconds', value: -1 }] })).rejects.toThrow(/value/);
    await expect(c.postSignals({ source: 'electron.power-monitor', readings: [] })).rejects.toThrow();
  });

  it('refuses to send an invalid sharing request', async () => {
    const { c } = client('http://127.0.0.1:1');
    await expect(c.setSharing({ mode: 'snooze' } as never)).rejects.toThrow(/until/);
  });

  it('reports a refused token as unauthorized', async () => {
    const agent = await standIn();
    cleanups.push(() => agent.close());
    const { c, seen } = client(agent.origin, 'wrong');
    c.start();
    await until(() => seen.some((s) => s.kind === 'unauthorized'));
    await expect(c.getStatus()).rejects.toThrow(/401/);
  });

  it('reports a lost agent and reconnects when it comes back on the same port', async () => {
    const agent = await standIn();
    const port = Number(new URL(agent.origin).port);
    const { c, seen } = client(agent.origin);
    c.start();
    await until(() => seen.some((s) => s.kind === 'connected'));
    await agent.close();
    await until(() => seen.at(-1)?.kind === 'disconnected');
    const since = (seen.at(-1) as { since: number }).since;

    const again = await standIn(port);
    cleanups.push(() => again.close());
    seen.length = 0;
    await until(() => seen.some((s) => s.kind === 'connected'));
    expect(since).toBeLessThanOrEqual(Date.now());
  });

  it('stop() closes the socket and publishes nothing more', async () => {
    const agent = await standIn();
    cleanups.push(() => agent.close());
    const { c, seen } = client(agent.origin);
    c.start();
    await until(() => seen.some((s) => s.kind === 'connected'));
    c.stop();
    const count = seen.length;
    await until(() => agent.wss.clients.size === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length).toBe(count);
  });
});
