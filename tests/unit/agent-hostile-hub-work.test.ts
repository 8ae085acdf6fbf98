// A real agent leasing from a hostile hub (a small HTTP server that signs the node in properly and
// then answers leases with junk, tasks it cannot render, and scenes that are not what they claim):
// the agent keeps running, renders nothing, gives every unusable task back with reason 'error',
// and writes nothing but checked names under its blob folder.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobHex, NetworksView } from '../../protocol/index.js';
import { startAgent, waitFor, type TestAgent } from '../support/jobs.js';
import { useTempDirs } from '../support/tmp.js';

const PAYOUT = Wallet.createRandom().address;
const scene = randomBytes(4096);
const sceneHex = createHash('sha256').update(scene).digest('hex');
const settings = { engine: 'cycles', samples: 8, resolutionX: 64, resolutionY: 64 };
const task = (over: Record<string, unknown>) => ({ kind: 'render', frame: 1, settings, job: { id: 'job_1', scene: `sha256:${sceneHex}`, sceneBytes: scene.length, pay: '1' }, ...over });
let n = 0;
const lease = (t: unknown) => ({ lease: { leaseId: `l_${++n}`, taskId: `t_${n}`, task: t, deadline: new Date(Date.now() + 60_000).toISOString() }, retryAfterS: 0 });

/** One answer per lease request, in turn; the agent must survive every one. */
const ANSWERS: Array<{ body: unknown; usable: 'release' | 'none' }> = [
  { body: 'not json at all', usable: 'none' },
  { body: { lease: { leaseId: '../../etc', taskId: 't', task: task({}), deadline: 'soon' }, retryAfterS: 0 }, usable: 'none' },
  { body: lease({ kind: 'render', frame: 1, settings }), usable: 'release' },
  // The blob server sends other bytes for this scene (see below): its hash does not match.
  { body: lease(task({ job: { id: 'job_2', scene: `sha256:${'e'.repeat(64)}`, sceneBytes: 4096, pay: '1' } })), usable: 'release' },
  // Claims 100 bytes; the server sends 4 KiB.
  { body: lease(task({ job: { id: 'job_3', scene: `sha256:${'f'.repeat(64)}`, sceneBytes: 100, pay: '1' } })), usable: 'release' },
  // A frame and a size this node cannot render.
  { body: lease(task({ frame: 0 })), usable: 'release' },
  { body: lease(task({ settings: { ...settings, resolutionX: 65_536 } })), usable: 'release' },
  { body: { lease: null, retryAfterS: 0, extra: 1 }, usable: 'none' },
  { body: 'x'.repeat(2 * 1024 * 1024), usable: 'none' },
];

describe('hub work against a hostile hub', () => {
  const tmp = useTempDirs();
  const agents: TestAgent[] = [];
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.agent.stop();
    for (const c of closers.splice(0)) await c();
  });

  it('survives every answer, renders nothing, and gives unusable tasks back', { timeout: 60_000 }, async () => {
    const leases: number[] = [];
    const releases: Array<{ leaseId: string; reason: string }> = [];
    const blobGets: string[] = [];
    let origin = '';
    let address = '';
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
        const json = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(typeof v === 'string' ? v : JSON.stringify(v));
        };
        const url = new URL(req.url!, origin);
        const now = Date.now();
        if (url.pathname === '/v1/auth/challenge') {
          address = body.address;
          return json(200, { hub: origin, address: body.address, nonce: `0x${'ab'.repeat(32)}`, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 300_000).toISOString() });
        }
        if (url.pathname === '/v1/auth/sign-in') return json(200, { token: 't'.repeat(40), expiresAt: new Date(now + 3_600_000).toISOString() });
        if (url.pathname === '/v1/nodes') {
          return json(200, { address, payoutAddress: body.payoutAddress, capabilities: body.capabilities, registeredAt: new Date(now).toISOString(), lastSeenAt: new Date(now).toISOString() });
        }
        if (url.pathname === '/v1/nodes/heartbeat') return json(200, { nextHeartbeatS: 1, revokedLeases: ['l_unknown', 'l_9999'] });
        if (url.pathname === '/v1/leases') {
          leases.push(Date.now());
          const a = ANSWERS[(leases.length - 1) % ANSWERS.length]!;
          return json(200, a.body);
        }
        const rel = /^\/v1\/leases\/([^/]+)\/release$/.exec(url.pathname);
        if (rel) {
          releases.push({ leaseId: rel[1]!, reason: body.reason });
          return json(200, 'junk');
        }
        if (/^\/v1\/leases\/[^/]+\/(renew|progress)$/.test(url.pathname)) return json(200, { what: 'junk' });
        if (url.pathname.startsWith('/v1/blobs/')) {
          blobGets.push(url.pathname);
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return res.end(randomBytes(4096));
        }
        return json(404, { error: { code: 'not_found', message: 'no' } });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dir = tmp();
    const a = await startAgent(dir, {
      nodeKeyScryptN: 2 ** 10,
      networks: { heartbeatMs: 200, timeoutMs: 2_000, backoff: { baseMs: 50, maxMs: 200 } },
      hubWork: { unusableTaskWaitMs: 100 },
    });
    agents.push(a);
    expect((await a.call('PATCH', '/settings', { payout: { address: PAYOUT } })).status).toBe(200);
    expect((await a.call('POST', '/networks', { url: origin })).status).toBe(201);

    await waitFor(() => leases.length >= ANSWERS.length * 2, 'two rounds of hostile answers', 45_000);
    // Still answering, nothing rendered or queued from any of it.
    expect((await a.call('GET', '/status')).status).toBe(200);
    expect((await a.call('GET', '/jobs')).json.jobs).toEqual([]);
    expect(NetworksView.parse((await a.call('GET', '/networks')).json).hubs).toHaveLength(1);
    // Every usable-looking lease went back as an error; the two bad scenes were fetched by their hex.
    const usable = ANSWERS.filter((x) => x.usable === 'release').map((x) => (x.body as { lease: { leaseId: string } }).lease.leaseId);
    await waitFor(() => usable.every((id) => releases.some((r) => r.leaseId === id)), 'every usable-looking lease to be released');
    expect(releases.every((r) => r.reason === 'error')).toBe(true);
    expect(blobGets.every((p) => /^\/v1\/blobs\/[0-9a-f]{64}$/.test(p))).toBe(true);
    const blobDir = join(dir, 'network', 'blobs');
    const names = (() => {
      try {
        return readdirSync(blobDir);
      } catch {
        return [];
      }
    })();
    expect(names.every((f) => BlobHex.safeParse(f.replace(/\.part$/, '')).success)).toBe(true);
  });
});
