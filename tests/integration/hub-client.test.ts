// The agent's hub client against a real hub on loopback (PGlite in a temp dir) and a real headless
// agent: adding a hub through the API signs in with the node key, registers the payout address,
// heartbeats with availability that follows the policy, backs off while the hub is down and comes
// back, refuses to register without a payout address, and stops when the hub is removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkView, NetworksView } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { idleAgain, sleep, startAgent, userBack, waitForAsync, type TestAgent } from '../support/jobs.js';

const PAYOUT = Wallet.createRandom().address;

let hubDir: string;
let agentDir: string;
let hub: RunningHub | null = null;
let hubPort = 0;
let t: TestAgent;
let nodeAddress: string;

const startTheHub = async () => {
  hub = await startHub({ dataDir: hubDir, port: hubPort, log: () => {} });
  hubPort = hub.port;
};

interface NodeRow {
  payout_address: string;
  last_seen_at: string | number;
  availability: Array<{ resource: string; state: string }> | string | null;
}

async function nodeRow(): Promise<NodeRow | undefined> {
  const { rows } = await hub!.db.query<NodeRow>('select payout_address, last_seen_at, availability from nodes where address = $1', [nodeAddress.toLowerCase()]);
  return rows[0];
}

const availabilityOf = (row: NodeRow | undefined) => (typeof row?.availability === 'string' ? JSON.parse(row.availability) : row?.availability) as NodeRow['availability'] & object;

const waitFor = waitForAsync;

async function hubView(): Promise<NetworkView | undefined> {
  const r = await t.call('GET', '/networks');
  expect(r.status).toBe(200);
  return NetworksView.parse(r.json).hubs[0];
}

async function waitHub(ok: (v: NetworkView) => boolean, what: string, ms = 20_000): Promise<NetworkView> {
  let last: NetworkView | undefined;
  try {
    return await waitFor(
      async () => {
        last = await hubView();
        return last && ok(last) ? last : undefined;
      },
      what,
      ms,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; the hub is ${JSON.stringify(last)}`, { cause: err });
  }
}

beforeAll(async () => {
  hubDir = mkdtempSync(join(tmpdir(), 'offhours-hubc-hub-'));
  agentDir = mkdtempSync(join(tmpdir(), 'offhours-hubc-agent-'));
  await startTheHub();
  t = await startAgent(agentDir, { nodeKeyScryptN: 2 ** 10, networks: { heartbeatMs: 150, timeoutMs: 2_000, backoff: { baseMs: 100, maxMs: 400 } } });
  nodeAddress = (await t.agent.node.key()).address;
}, 60_000);

afterAll(async () => {
  await t?.agent.stop();
  await hub?.stop();
  rmSync(hubDir, { recursive: true, force: true });
  rmSync(agentDir, { recursive: true, force: true });
});

describe('hub client', () => {
  it('refuses to register without a payout address, and says where to set one', async () => {
    const added = await t.call('POST', '/networks', { url: `${hub!.url}/` });
    expect(added.status).toBe(201);
    expect(NetworkView.parse(added.json).url).toBe(hub!.url);
    const v = await waitHub((h) => h.state === 'refused', 'the refusal');
    expect(v.reason).toMatch(/set a payout address in Settings → Payouts/);
    expect(v.registration).toBeNull();
    expect(await nodeRow()).toBeUndefined();
  });

  it('checks what is added: an origin only, once', async () => {
    const withPath = await t.call('POST', '/networks', { url: `${hub!.url}/v1` });
    expect(withPath.status).toBe(400);
    expect((withPath.json as any).error.fields).toEqual([{ path: 'url', message: 'only the origin (https://hub.example), with no path' }]);
    const ftp = await t.call('POST', '/networks', { url: 'ftp://hub.example' });
    expect(ftp.status).toBe(400);
    const again = await t.call('POST', '/networks', { url: hub!.url });
    expect(again.status).toBe(409);
    expect((again.json as any).error.fields[0].path).toBe('url');
  });

  it('signs in and registers with the payout address once there is one, then heartbeats', async () => {
    expect((await t.call('PATCH', '/settings', { payout: { address: PAYOUT } })).status).toBe(200);
    const v = await waitHub((h) => h.state === 'connected' && h.registration !== null, 'registration');
    expect(v.registration!.nodeAddress.toLowerCase()).toBe(nodeAddress.toLowerCase());
    expect(v.registration!.payoutAddress.toLowerCase()).toBe(PAYOUT.toLowerCase());
    expect(v.wants.heartbeatEveryS).toBeGreaterThan(0);
    expect(v.earnings).toEqual({});
    expect(v.id).toBe(new URL(hub!.url).host);
    const row = await nodeRow();
    expect(row!.payout_address.toLowerCase()).toBe(PAYOUT.toLowerCase());
    const seen = Number(row!.last_seen_at);
    await waitFor(async () => Number((await nodeRow())!.last_seen_at) > seen, 'a later heartbeat');
    // The default rules allow the CPU while the user is away.
    expect(availabilityOf(await nodeRow())).toContainEqual({ resource: 'cpu', state: 'available' });
  });

  it('tells the hub the CPU is paused when the user comes back, and available again when they leave', async () => {
    await t.signals(userBack);
    await waitFor(async () => availabilityOf(await nodeRow()).some((a) => a.resource === 'cpu' && a.state === 'paused'), 'paused availability', 10_000);
    await t.signals(idleAgain);
    await waitFor(async () => availabilityOf(await nodeRow()).some((a) => a.resource === 'cpu' && a.state === 'available'), 'available again', 10_000);
  });

  it('backs off with a reason while the hub is down, and reconnects when it returns', async () => {
    await hub!.stop();
    hub = null;
    const down = await waitHub((h) => h.state === 'backing-off', 'backing off');
    expect(down.reason).toMatch(/cannot be reached|did not answer/);
    expect(down.retryAt).not.toBeNull();
    await startTheHub();
    const back = await waitHub((h) => h.state === 'connected' && h.reason === null, 'reconnection');
    expect(Date.parse(back.lastContactAt!)).toBeGreaterThan(Date.parse(down.lastContactAt!));
  }, 40_000);

  it('stops talking to a hub once it is removed', async () => {
    const id = new URL(hub!.url).host;
    const r = await t.call('DELETE', `/networks/${encodeURIComponent(id)}`);
    expect(r.status).toBe(200);
    expect(NetworkView.parse(r.json).state).toBe('removed');
    expect(NetworksView.parse((await t.call('GET', '/networks')).json).hubs).toEqual([]);
    const seen = Number((await nodeRow())!.last_seen_at);
    await sleep(800);
    expect(Number((await nodeRow())!.last_seen_at)).toBe(seen);
    expect((await t.call('DELETE', `/networks/${encodeURIComponent(id)}`)).status).toBe(404);
  });
});
