// The node's identity and the payout address through a real agent on a temp data dir: GET
// /api/v1/node shows the address (never the key), and PATCH /settings stores a payout address only
// when its EIP-55 checksum holds, in checksummed form.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type RunningAgent } from '../../agent/agent.js';
import { checkPayoutAddress, checksumAddress, NodeInfo } from '../../protocol/node.js';
import { api } from '../support/agent-client.js';
import { useTempDirs } from '../support/tmp.js';

// EIP-55's own examples.
const CHECKSUMMED = ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb'];

describe('EIP-55', () => {
  it('matches the EIP examples and ethers', () => {
    for (const a of CHECKSUMMED) {
      expect(checksumAddress(a.toLowerCase())).toBe(a);
      expect(checksumAddress(a)).toBe(getAddress(a.toLowerCase()));
    }
  });
  it('accepts a good checksum or none, refuses a broken one', () => {
    expect(checkPayoutAddress(` ${CHECKSUMMED[0]!} `)).toEqual({ ok: true, address: CHECKSUMMED[0], hadChecksum: true });
    expect(checkPayoutAddress(CHECKSUMMED[0]!.toLowerCase())).toEqual({ ok: true, address: CHECKSUMMED[0], hadChecksum: false });
    expect(checkPayoutAddress(`0x${CHECKSUMMED[0]!.slice(2).toUpperCase()}`)).toMatchObject({ ok: true, address: CHECKSUMMED[0] });
    expect(checkPayoutAddress(CHECKSUMMED[0]!.replace('aA', 'Aa'))).toMatchObject({ ok: false, message: expect.stringMatching(/checksum/) });
    expect(checkPayoutAddress('0x1234')).toMatchObject({ ok: false });
  });
});

describe('agent API: node and payout', () => {
  const tmp = useTempDirs();
  const running: RunningAgent[] = [];
  afterEach(async () => {
    for (const a of running.splice(0)) await a.stop();
  });

  async function start(dataDir = tmp()) {
    const agent = await runAgent({ dataDir, port: 0, rendererDir: join(tmp(), 'none'), sources: [], nodeKeyScryptN: 2 ** 10 });
    running.push(agent);
    return { agent, base: `http://127.0.0.1:${agent.port}`, token: agent.token };
  }

  it('shows the node address and where its secret lives, the same across restarts, and never the key', async () => {
    const dataDir = tmp();
    const first = await start(dataDir);
    const res = await api(first.base, first.token, 'GET', '/node');
    expect(res.status).toBe(200);
    const info = NodeInfo.parse(res.json);
    expect(info.keystore).toBe('file-secret');
    expect(Object.keys(res.json).sort()).toEqual(['address', 'created', 'keystore']);
    await first.agent.stop();
    running.length = 0;
    const second = await start(dataDir);
    expect((await api(second.base, second.token, 'GET', '/node')).json).toEqual(res.json);
    expect(readFileSync(join(dataDir, 'node-key.json'), 'utf8')).not.toMatch(/mnemonic/i);
    expect((await api(second.base, null, 'GET', '/node')).status).toBe(401);
  });

  it('answers 503 with the reason, and a problem in status, while the key is locked', async () => {
    const dataDir = tmp();
    const agent = await runAgent({ dataDir, port: 0, rendererDir: join(tmp(), 'none'), sources: [], nodeKeyScryptN: 2 ** 10, nodeKeySecret: { kind: 'app-secret', get: async () => Promise.reject(new Error('main did not answer')) } });
    running.push(agent);
    const base = `http://127.0.0.1:${agent.port}`;
    const res = await api(base, agent.token, 'GET', '/node');
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: 'node_key_locked', message: expect.stringMatching(/main did not answer/) });
    expect((await api(base, agent.token, 'GET', '/status')).json.problems).toEqual([expect.objectContaining({ code: 'node_key_locked' })]);
  });

  it('stores a payout address in checksummed form with the time it was confirmed, and removes it', async () => {
    const { base, token } = await start();
    expect((await api(base, token, 'GET', '/settings')).json.payout).toEqual({ address: null, confirmedAt: null });
    const res = await api(base, token, 'PATCH', '/settings', { payout: { address: CHECKSUMMED[1]!.toLowerCase() } });
    expect(res.status).toBe(200);
    expect(res.json.payout).toEqual({ address: CHECKSUMMED[1], confirmedAt: expect.any(String) });
    expect((await api(base, token, 'PATCH', '/settings', { payout: { address: null } })).json.payout).toEqual({ address: null, confirmedAt: null });
  });

  it('refuses a mixed-case address whose checksum fails, with a field error, and keeps the old one', async () => {
    const { base, token } = await start();
    await api(base, token, 'PATCH', '/settings', { payout: { address: CHECKSUMMED[2] } });
    const typo = CHECKSUMMED[3]!.replace('D1220A0cf', 'D1220A0Cf');
    const res = await api(base, token, 'PATCH', '/settings', { payout: { address: typo } });
    expect(res.status).toBe(400);
    expect(res.json.error.fields).toEqual([{ path: 'payout.address', message: expect.stringMatching(/checksum/) }]);
    const short = await api(base, token, 'PATCH', '/settings', { payout: { address: '0x1234' } });
    expect(short.json.error.fields).toEqual([{ path: 'payout.address', message: expect.stringMatching(/Ethereum address/) }]);
    expect((await api(base, token, 'GET', '/settings')).json.payout.address).toBe(CHECKSUMMED[2]);
  });
});
