// The whole loop, all real, over loopback: the hub as its own process (`offhours hub --config`, on
// PGlite), two headless agents (the built CLI) rendering with real Blender, the escrow and a mock
// USDC on hardhat's in-process chain. A customer submits a 4-frame render; each frame is rendered
// by one agent and spot-checked (a crop re-render) by the other; vouchers arrive and verify offline;
// each agent's ledger and CSV export show exactly what its voucher backs; mid-run the hub is killed
// with SIGKILL and restarted on the same PGlite directory, and still nothing is paid twice; finally
// each payout address redeems its voucher on chain and its balance rises by exactly that amount.
// Skipped with the reason printed where Blender is missing; a failure under CI=true.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserProvider, Contract, ContractFactory, Wallet, parseUnits, type Signer } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileContracts } from '../../hub/contracts/compile.js';
import { redeemBatch } from '../../hub/settlement.js';
import { HubCustomer, hashFile } from '../../cli/hub-customer.js';
import {
  EarningsReport,
  JobList,
  NetworksView,
  SignedVoucher,
  Status,
  defaultPolicy,
  networkKey,
  verifyVoucher,
  type HubJobView,
} from '../../protocol/index.js';
import { callAgent, cliPath, requireBuild, startAgentProcess, type AgentProcess } from '../support/agent-process.js';
import { blender, buildScene } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { AWAY_USER } from '../support/signals.js';
import { NodeInfo } from '../../protocol/node.js';

const found = blender();
const enabled = requireProgram(found, 'the network loop (hub + two agents + Blender + chain)');

const PRICE = 25_000n; // minor units of a 6-decimal token: 0.025 USDC a frame
const CHECK_PAY = (PRICE + 3n) / 4n; // a check re-renders a quarter of the frame: ceil(price / 4)
const FRAMES = 4;
const USDC = (minor: bigint) => (Number(minor) / 1e6).toString();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 180_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface HubProcess {
  child: ChildProcess;
  output: () => string;
}

function startHubProcess(dataDir: string, port: number, config: string): Promise<HubProcess> {
  const child = spawn(process.execPath, [cliPath, 'hub', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: '' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start in 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (/Hub listening on/.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`the hub exited with ${code}:\n${out}`)));
  });
}

describe.runIf(enabled)('the network loop: lease, render, verify, voucher, ledger, chain', () => {
  let tmp: string;
  let provider: BrowserProvider;
  let relayer: Signer;
  let token: Contract;
  let tokenAddress: string;
  let escrowAddress: string;
  let chainId: number;
  let payer: Wallet;
  let hubDir: string;
  let hubPort: number;
  let hubUrl: string;
  let configFile: string;
  let hub: HubProcess;
  const agents: { proc: AgentProcess; payout: string; node: string }[] = [];
  let customer: HubCustomer;
  let job: HubJobView;

  beforeAll(async () => {
    requireBuild();
    tmp = mkdtempSync(join(tmpdir(), 'offhours-loop-'));
    // The chain, in this process.
    writeFileSync(join(tmp, 'hardhat.config.cjs'), 'module.exports = {};\n');
    process.env.HARDHAT_CONFIG = join(tmp, 'hardhat.config.cjs');
    const hre = createRequire(import.meta.url)('hardhat') as { network: { provider: ConstructorParameters<typeof BrowserProvider>[0] } };
    provider = new BrowserProvider(hre.network.provider, undefined, { cacheTimeout: -1 });
    chainId = Number((await provider.getNetwork()).chainId);
    const deployer = await provider.getSigner(0);
    relayer = await provider.getSigner(1);
    const compiled = compileContracts();
    const deploy = async (name: 'MockUSDC' | 'OffhoursEscrow') =>
      (await (await new ContractFactory(compiled[name].abi, compiled[name].bytecode, deployer).deploy()).waitForDeployment()) as Contract;
    token = await deploy('MockUSDC');
    const escrow = await deploy('OffhoursEscrow');
    tokenAddress = await token.getAddress();
    escrowAddress = await escrow.getAddress();
    payer = Wallet.createRandom().connect(provider) as unknown as Wallet;
    await provider.send('hardhat_setBalance', [payer.address, '0x56BC75E2D63100000']);
    const deposit = 10n * 1_000_000n;
    await (await token.getFunction('mint')(payer.address, deposit)).wait();
    await (await (token.connect(payer) as Contract).getFunction('approve')(escrowAddress, deposit)).wait();
    await (await (escrow.connect(payer) as Contract).getFunction('deposit')(tokenAddress, deposit)).wait();

    // The hub, as its own process, paying as `payer` (its key in the data directory, as an
    // operator's would be), every result spot-checked by another node.
    hubDir = join(tmp, 'hub');
    mkdirSync(hubDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(hubDir, 'hub-key'), `${payer.privateKey}\n`, { mode: 0o600 });
    configFile = join(tmp, 'hub-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        payments: { chainId, escrow: escrowAddress, token: tokenAddress, tokenSymbol: 'USDC', decimals: 6, prices: { renderPerFrame: PRICE.toString(), storagePerGiBDay: '0' } },
        verify: { checkFraction: 1, cropArea: 0.25 },
        heartbeatS: 2,
        leaseTtlS: 30,
      }),
    );
    hubPort = await freePort();
    hub = await startHubProcess(hubDir, hubPort, configFile);
    hubUrl = `http://127.0.0.1:${hubPort}`;

    // Two agents, each with its own payout address, sharing on, the user away.
    for (const name of ['a', 'b']) {
      const proc = await startAgentProcess(join(tmp, `agent-${name}`), ['--sensors', 'off']);
      const payout = Wallet.createRandom().address;
      const status = await callAgent<Status>(proc, 'GET', '/status');
      await callAgent(proc, 'PATCH', '/settings', {
        consent: { accepted: true, version: status.consent.currentVersion },
        policy: { ...defaultPolicy(), quietPeriodMinutes: 0 },
        payout: { address: payout },
        render: { blenderPath: found.found },
      });
      await callAgent(proc, 'POST', '/sharing', { mode: 'on' });
      await callAgent(proc, 'POST', '/signals', AWAY_USER);
      const node = NodeInfo.parse(await callAgent(proc, 'GET', '/node'));
      agents.push({ proc, payout, node: node.address.toLowerCase() });
    }

    // The customer's scene: the base test scene with a moving camera, so frames differ.
    const scene = join(tmp, 'scene.blend');
    await buildScene(found.found!, scene, "c = scene.camera\nc.keyframe_insert('location', frame=1)\nc.location.x += 1.5\nc.keyframe_insert('location', frame=4)\nscene.frame_end = 4");
    const { readFileSync } = await import('node:fs');
    customer = new HubCustomer({ url: hubUrl, key: readFileSync(join(hubDir, 'customer-key'), 'utf8').trim() });
    const hex = await hashFile(scene);
    await customer.upload(scene, hex);
    job = await customer.submit({
      kind: 'render',
      name: 'network loop',
      scene: `sha256:${hex}`,
      frames: { start: 1, end: FRAMES },
      settings: { engine: 'cycles', samples: 8, resolutionX: 64, resolutionY: 64 },
      pricePerFrame: PRICE.toString(),
    });
    for (const a of agents) await callAgent(a.proc, 'POST', '/networks', { url: hubUrl, name: 'loop hub' });
  }, 240_000);

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    if (hub && hub.child.exitCode === null) {
      await new Promise<void>((r) => {
        hub.child.once('exit', () => r());
        hub.child.kill('SIGTERM');
      });
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('renders, checks by the other agent, pays by voucher, survives a hub SIGKILL without paying twice, and redeems on chain', async () => {
    // The hub is killed once the first frame is verified and restarted on the same directory.
    await waitFor('a first verified frame', async () => (await customer.job(job.id)).counts.verified >= 1, 240_000);
    hub.child.kill('SIGKILL');
    await new Promise<void>((r) => (hub.child.exitCode !== null || hub.child.signalCode !== null ? r() : hub.child.once('exit', () => r())));
    hub = await startHubProcess(hubDir, hubPort, configFile);

    const done = await waitFor('every frame verified', async () => {
      const v = await customer.job(job.id);
      return v.state === 'done' && v.counts.verified === FRAMES ? v : null;
    }, 300_000);
    expect(done.frames.every((f) => f.state === 'verified' && f.result !== null && f.failures.length === 0)).toBe(true);

    // Each frame was spot-checked by the agent that did not render it.
    let checks = 0;
    for (const a of agents) {
      const list = JobList.parse(await callAgent(a.proc, 'GET', '/jobs'));
      for (const j of list.jobs) {
        if (j.source.kind !== 'hub' || !j.source.check || j.state !== 'succeeded') continue;
        const frame = Number(/frame (-?\d+)/.exec(j.title)?.[1]);
        const rendered = done.frames.find((f) => f.frame === frame);
        expect(rendered, j.title).toBeDefined();
        expect(rendered!.provider!.toLowerCase()).not.toBe(a.node);
        checks++;
      }
    }
    expect(checks).toBeGreaterThanOrEqual(FRAMES);

    // What each agent should have been paid: its verified frames, plus the checks the hub paid it.
    // Wait until both vouchers together cover every frame and every check, then hold each to it.
    const key = networkKey(hubUrl);
    const expected = BigInt(FRAMES) * PRICE + BigInt(FRAMES) * CHECK_PAY;
    const voucherOf = async (a: (typeof agents)[number]) => SignedVoucher.parse(await callAgent(a.proc, 'GET', `/networks/${encodeURIComponent(key)}/voucher`));
    const vouchers = await waitFor('vouchers covering every frame and check', async () => {
      const vs = await Promise.all(agents.map(voucherOf));
      return vs.reduce((sum, v) => sum + BigInt(v.voucher.cumulativeAmount), 0n) >= expected ? vs : null;
    }, 120_000);
    let totalPaid = 0n;
    for (const [i, a] of agents.entries()) {
      const framesByA = BigInt(done.frames.filter((f) => f.provider!.toLowerCase() === a.node).length);
      const voucher = vouchers[i]!;
      const total = BigInt(voucher.voucher.cumulativeAmount);
      // Its frames at the frame price, and a whole number of checks at the check price.
      expect(total >= framesByA * PRICE && (total - framesByA * PRICE) % CHECK_PAY === 0n, `${total} for ${framesByA} frames`).toBe(true);
      expect(voucher.voucher.payee.toLowerCase()).toBe(a.payout.toLowerCase());
      // The node's own offline check, as the agent ran it before booking.
      expect(verifyVoucher(voucher, { signer: payer.address, payee: a.payout, token: tokenAddress, chainId, escrow: escrowAddress, now: Math.floor(Date.now() / 1000), lastAccepted: 0n })).toMatchObject({ ok: true });
      totalPaid += total;

      // The ledger shows exactly what the voucher backs, per network, and the CSV export has it.
      const from = new Date(Date.now() - 86_400_000).toISOString();
      const to = new Date(Date.now() + 86_400_000).toISOString();
      const report = EarningsReport.parse(await callAgent(a.proc, 'GET', `/earnings?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&groupBy=day&by=network`));
      expect(parseUnits(report.totals.gross.USDC ?? '0', 6)).toBe(total);
      // The Networks view: earnings per hub, no refused voucher, and the hub's record of this node
      // (from its heartbeats) counting every frame it rendered and none refused.
      const net = await waitFor('the reputation after every verification', async () => {
        const n = NetworksView.parse(await callAgent(a.proc, 'GET', '/networks')).hubs.find((h) => h.id === key)!;
        return n.reputation && n.reputation.passed >= Number(framesByA) ? n : null;
      }, 30_000);
      expect(parseUnits(net.earnings.USDC ?? '0', 6)).toBe(total);
      expect(net.payments?.refused ?? null).toBeNull();
      expect(net.reputation!.failed).toBe(0);
      const csv = await (await fetch(`${a.proc.origin}/api/v1/earnings/export.csv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { headers: { authorization: `Bearer ${a.proc.token}` } })).text();
      const lines = csv.split('\n').filter((l) => l.includes(key) && l.includes('USDC'));
      expect(lines.length).toBeGreaterThanOrEqual(Number(framesByA) + 1);

      // Redeemed on chain by a relayer: the payout address receives exactly the voucher's total.
      const before = (await token.getFunction('balanceOf')(a.payout)) as bigint;
      const outcome = await redeemBatch(relayer, escrowAddress, [voucher]);
      expect(outcome.paid).toBe(total);
      expect(((await token.getFunction('balanceOf')(a.payout)) as bigint) - before).toBe(total);
      // A replay pays nothing.
      const again = await redeemBatch(relayer, escrowAddress, [voucher]);
      expect(again.paid).toBe(0n);
    }
    // Nothing was paid twice across the SIGKILL: every frame once at its price, every passed check once.
    expect(totalPaid).toBe(BigInt(FRAMES) * PRICE + BigInt(FRAMES) * CHECK_PAY);
    expect(USDC(totalPaid)).toBe('0.125');
  }, 600_000);
});
