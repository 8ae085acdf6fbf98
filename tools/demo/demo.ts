// `npm run demo`: the whole loop on this machine, on loopback, with real parts. A hub on PGlite in
// a temp dir, paying through the OffhoursEscrow on hardhat's in-process chain; the built headless
// agent with a payout address, rules that let it run, and the hub added; a customer job of a few
// small frames of the bundled benchmark scene. It narrates what happens (leased, rendered,
// verified, voucher, earnings in the agent's ledger), then redeems the voucher on the chain and
// prints the payout address's token balance. It keeps running (the dashboard stays up) until
// Ctrl-C; --exit-when-done stops after the loop, with exit code 0 only if the loop completed.
// Anything the build cannot do yet is said plainly, never faked.
import '../../bench/define-globals.js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BrowserProvider, Contract, ContractFactory, Wallet, formatUnits, parseUnits, type Signer } from 'ethers';
import type { z } from 'zod';
import { EarningsReport, JobList, NetworksView, RenderEngineInfo, Status, defaultPolicy, type HubJobView, type SignalUpdate } from '../../protocol/index.js';
import { compileContracts } from '../../hub/contracts/compile.js';
import { startHub, type HubOptions, type RunningHub } from '../../hub/hub.js';
import { redeemBatch } from '../../hub/settlement.js';
import { HubCustomer, hashFile } from '../../cli/hub-customer.js';
import { engineEnv } from '../../workers/render/command.js';

const root = resolve(import.meta.dirname, '..', '..');
const cliPath = join(root, 'dist', 'cli', 'offhours.js');
const { values: opts } = parseArgs({
  options: {
    'exit-when-done': { type: 'boolean', default: false },
    frames: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const FRAMES = Math.max(1, Math.min(24, Number(opts.frames) || 3));
const SIZE = 64;
const SAMPLES = 8;
const PRICE = 25_000n; // minor units (6 decimals): 0.025 USDC a frame
const DECIMALS = 6;
/** How long the loop may take before the demo says what did not happen. */
const LOOP_LIMIT_MS = 5 * 60_000;

const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}\n`);
const usdc = (minor: bigint | string) => `${formatUnits(BigInt(minor), DECIMALS)} USDC`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const AWAY_USER: SignalUpdate = {
  source: 'demo',
  maxAgeMs: 24 * 3_600_000,
  readings: [
    { name: 'idleSeconds', value: 3600 },
    { name: 'screenLocked', value: false },
    { name: 'gamesRunning', value: [] },
    { name: 'onBattery', value: false },
    { name: 'cpuTemperature', value: 45 },
  ],
};

function findBlender(): string | null {
  for (const c of [process.env.BLENDER_PATH, '/usr/bin/blender', '/usr/local/bin/blender', '/Applications/Blender.app/Contents/MacOS/Blender']) {
    if (c && existsSync(c)) return c;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'blender'))) return join(dir, 'blender');
  }
  return null;
}

// --- the chain ---------------------------------------------------------------------------------

interface Chain {
  provider: BrowserProvider;
  chainId: number;
  relayer: Signer;
  token: Contract;
  tokenAddress: string;
  escrowAddress: string;
  payer: Wallet;
}

async function startChain(dir: string): Promise<Chain> {
  // Hardhat 2 needs a config file to build its runtime; an empty project is enough.
  writeFileSync(join(dir, 'hardhat.config.cjs'), 'module.exports = {};\n');
  process.env.HARDHAT_CONFIG = join(dir, 'hardhat.config.cjs');
  const hre = createRequire(import.meta.url)('hardhat') as { network: { provider: ConstructorParameters<typeof BrowserProvider>[0] } };
  const provider = new BrowserProvider(hre.network.provider, undefined, { cacheTimeout: -1 });
  const chainId = Number((await provider.getNetwork()).chainId);
  const deployer = await provider.getSigner(0);
  const relayer = await provider.getSigner(1);
  const compiled = compileContracts();
  const deploy = async (name: 'MockUSDC' | 'OffhoursEscrow') =>
    (await (await new ContractFactory(compiled[name].abi, compiled[name].bytecode, deployer).deploy()).waitForDeployment()) as Contract;
  const token = await deploy('MockUSDC');
  const escrow = await deploy('OffhoursEscrow');
  const tokenAddress = await token.getAddress();
  const escrowAddress = await escrow.getAddress();
  // The hub's payer key is a fresh one, as a real hub's would be; it pays its own gas.
  const payer = Wallet.createRandom().connect(provider) as unknown as Wallet;
  await provider.send('hardhat_setBalance', [payer.address, '0x56BC75E2D63100000']);
  const deposit = 100n * 10n ** BigInt(DECIMALS);
  await (await token.getFunction('mint')(payer.address, deposit)).wait();
  await (await (token.connect(payer) as Contract).getFunction('approve')(escrowAddress, deposit)).wait();
  await (await (escrow.connect(payer) as Contract).getFunction('deposit')(tokenAddress, deposit)).wait();
  return { provider, chainId, relayer, token, tokenAddress, escrowAddress, payer };
}

// --- the agent ---------------------------------------------------------------------------------

interface Agent {
  child: ChildProcess;
  url: string;
  origin: string;
  token: string;
  /** Validated against the agent API's schema, so the narration reads what the dashboard reads. */
  call<T>(method: string, path: string, schema: z.ZodType<T> | null, body?: unknown): Promise<T>;
}

async function startAgent(dataDir: string): Promise<Agent> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" (npm run demo does)`);
  const child = spawn(process.execPath, [cliPath, 'agent', '--data-dir', dataDir, '--port', '0', '--sensors', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the agent did not start in 30 s:\n${out}`)), 30_000);
    const check = () => {
      const m = /Open the dashboard: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => rej(new Error(`the agent exited with ${code}:\n${out}`)));
  });
  const runtime = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as { port: number };
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const origin = `http://127.0.0.1:${runtime.port}`;
  return {
    child,
    url,
    origin,
    token,
    async call(method, path, schema, body) {
      let res: Response | null = null;
      for (let attempt = 1; !res; attempt++) {
        try {
          res = await fetch(`${origin}/api/v1${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(15_000),
          });
        } catch (err) {
          // While hardhat or PGlite hold this process's only thread, the agent may close an idle
          // keep-alive socket that fetch then reuses: a GET is safe to send again.
          if (method !== 'GET' || attempt >= 3) throw new Error(`agent ${method} ${path}: ${(err as Error).message} (${String((err as { cause?: unknown }).cause ?? '')})`, { cause: err });
          await sleep(200);
        }
      }
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      if (res.status >= 300) throw new Error(`agent ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
      return (schema ? schema.parse(json) : json) as never;
    },
  };
}

async function stopAgent(a: Agent | null): Promise<void> {
  if (!a || a.child.exitCode !== null) return;
  await new Promise<void>((r) => {
    const timer = setTimeout(() => {
      a.child.kill('SIGKILL');
      r();
    }, 15_000);
    a.child.once('exit', () => {
      clearTimeout(timer);
      r();
    });
    a.child.kill('SIGTERM');
  });
}

// --- the scene ---------------------------------------------------------------------------------

/** The benchmark scene, with a moving camera and a per-frame seed: the benchmark itself is one
 * still frame, and a job whose frames were all the same picture would show nothing of the loop. */
function buildScene(blender: string, workDir: string, out: string): Promise<string | null> {
  mkdirSync(join(workDir, 'tmp'), { recursive: true });
  const animate = [
    'import bpy',
    's = bpy.context.scene',
    's.cycles.use_animated_seed = True',
    's.frame_end = 240',
    'c = s.camera',
    "c.keyframe_insert('location', frame=1)",
    'c.location.x += 2.0',
    "c.keyframe_insert('location', frame=240)",
    `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(out)})`,
  ].join('\n');
  const script = join(root, 'resources', 'benchmark', 'benchmark-scene.py');
  const args = ['--background', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python', script, '--python-expr', animate];
  args.push('--', out, '--resolution', String(SIZE), '--samples', String(SAMPLES));
  return new Promise((res) => {
    execFile(blender, args, { cwd: workDir, env: engineEnv(workDir), timeout: 120_000 }, (err, stdout, stderr) => {
      res(err ? `${err.message}\n${String(stdout).slice(-1500)}${String(stderr).slice(-1500)}` : null);
    });
  });
}

// --- the loop ----------------------------------------------------------------------------------

interface Outcome {
  completed: boolean;
  missing: string[];
}

/** Child processes still starting: cleanup waits for them, so none is left behind. */
const pending: Promise<unknown>[] = [];

async function run(tmp: string, cleanups: (() => Promise<void>)[]): Promise<Outcome & { dashboard: string | null }> {
  const missing: string[] = [];
  const blender = findBlender();
  if (!blender) say('Blender is not installed (looked at $BLENDER_PATH, /usr/bin/blender and PATH): the agent cannot render, so the loop stops before any frame is rendered.');

  // The agent and Blender are processes of their own: they start and benchmark on the other core
  // while this process (single-threaded: hardhat's EVM and PGlite both run here) brings up the
  // chain and the hub. The agent is set up first, while this process is still free to talk to it.
  say('Starting the headless agent (dist/cli/offhours.js agent) ...');
  const payout = Wallet.createRandom().address;
  const sceneReady = blender ? buildScene(blender, join(tmp, 'scene-build'), join(tmp, 'scene.blend')) : Promise.resolve('no Blender');
  const agentStarted = startAgent(join(tmp, 'agent'));
  pending.push(agentStarted);
  const agent = await agentStarted;
  cleanups.push(() => stopAgent(agent));
  say(`Dashboard: ${agent.url}`);
  const status = await agent.call('GET', '/status', Status);
  await agent.call('PATCH', '/settings', null, {
    consent: { accepted: true, version: status.consent.currentVersion },
    policy: { ...defaultPolicy(), quietPeriodMinutes: 0 },
    payout: { address: payout },
    ...(blender ? { render: { blenderPath: blender } } : {}),
  });
  await agent.call('POST', '/sharing', null, { mode: 'on' });
  await agent.call('POST', '/signals', null, AWAY_USER);
  say(`Agent: consent given, sharing on, the user is away; payout address ${payout}.`);
  if (blender) {
    say('Agent: benchmarking the CPU on the bundled scene (hubs order and price by it) ...');
    await agent.call('POST', '/render/benchmark', null, { device: 'CPU' });
  }
  const benchmarked = (async () => {
    if (!blender) return;
    const deadline = Date.now() + 120_000;
    let speed: number | null = null;
    while (Date.now() < deadline && speed === null) {
      const info = await agent.call('GET', '/render', RenderEngineInfo);
      speed = info.benchmarks.find((b) => b.device === 'CPU')?.samplesPerSecond ?? null;
      if (speed === null) await sleep(500);
    }
    say(speed === null ? 'Agent: the benchmark did not finish in 2 minutes; the hub will see no device.' : `Agent: CPU benchmark ${Math.round(speed).toLocaleString('en')} samples/s.`);
  })();
  // Kept from rejecting unobserved while the chain starts; awaited below.
  benchmarked.catch(() => undefined);

  say('Starting a local chain (hardhat, in this process) and deploying MockUSDC and OffhoursEscrow from hub/contracts/ ...');
  const chain = await startChain(tmp);
  say(`Chain ${chain.chainId}: MockUSDC ${chain.tokenAddress}, OffhoursEscrow ${chain.escrowAddress}; the hub's payer ${chain.payer.address} deposited ${usdc(100_000_000n)}.`);

  const hubOptions: HubOptions = {
    dataDir: join(tmp, 'hub'),
    databaseUrl: '',
    host: '127.0.0.1',
    port: 0,
    log: (line: string) => say(`hub: ${line}`),
    payments: {
      chainId: chain.chainId,
      escrow: chain.escrowAddress,
      token: chain.tokenAddress,
      tokenSymbol: 'USDC',
      decimals: DECIMALS,
      prices: { renderPerFrame: PRICE.toString(), storagePerGiBDay: '0' },
      payerKey: chain.payer.privateKey,
      // The operator's view reads the escrow deposit off the chain.
      provider: chain.provider,
    },
    // One provider cannot check another's frame: no check re-renders in the demo.
    verify: { checkFraction: 0 },
  };
  mkdirSync(hubOptions.dataDir, { recursive: true });
  const hub: RunningHub = await startHub(hubOptions);
  cleanups.push(() => hub.stop());
  say(`Hub on ${hub.url} (PGlite in ${hubOptions.dataDir}); customer key in ${hub.customerKeyFile}; pays ${usdc(PRICE)} a verified frame.`);
  const customer = new HubCustomer({ url: hub.url, key: hub.customerKey });
  let jobsReady = true;
  try {
    await customer.jobs();
  } catch (err) {
    jobsReady = false;
    missing.push('the hub has no job routes yet (POST/GET /v1/jobs)');
    say(`The hub does not take customer jobs in this build (${(err as Error).message}): no job can be submitted.`);
  }

  await benchmarked;
  const sceneError = await sceneReady;
  if (blender && sceneError) say(`The benchmark scene could not be built: ${sceneError.trim()}`);
  await agent.call('POST', '/networks', null, { url: hub.url, name: 'Demo hub' });
  say(`Agent: hub ${hub.url} added.`);

  let job: HubJobView | null = null;
  if (jobsReady && blender && !sceneError) {
    const scene = join(tmp, 'scene.blend');
    const hex = await hashFile(scene);
    const up = await customer.upload(scene, hex);
    job = await customer.submit({
      kind: 'render',
      name: 'Offhours demo: benchmark scene',
      scene: `sha256:${hex}`,
      frames: { start: 1, end: FRAMES },
      settings: { engine: 'cycles', samples: SAMPLES, resolutionX: SIZE, resolutionY: SIZE },
      pricePerFrame: PRICE.toString(),
    });
    say(`Customer: uploaded the scene (${up.size} bytes, sha256:${hex.slice(0, 12)}…) and submitted job ${job.id}: frames 1-${FRAMES} at ${SIZE}x${SIZE}, ${SAMPLES} samples, ${usdc(PRICE)} a frame.`);
  }

  // Narrate until every frame is verified, paid by a voucher and booked in the ledger.
  const expected = PRICE * BigInt(FRAMES);
  const frameStates = new Map<number, string>();
  const failuresSeen = new Map<number, number>();
  const agentJobs = new Map<string, string>();
  let netLine = '';
  let voucherTotal = '';
  let earned = '';
  let refused = '';
  let leased = false;
  let saidWaiting = false;
  let verifiedAt: number | null = null;
  let allVerified = false;
  let voucherOk = false;
  let ledgerOk = false;
  const started = Date.now();
  const from = new Date(t0 - 86_400_000).toISOString();
  while (Date.now() - started < LOOP_LIMIT_MS && !(allVerified && voucherOk && ledgerOk)) {
    if (!job) break;
    const view = await customer.job(job.id);
    for (const f of view.frames) {
      if (frameStates.get(f.frame) !== f.state) {
        frameStates.set(f.frame, f.state);
        if (f.state !== 'open') leased = true;
        say(`Hub: frame ${f.frame} ${f.state}${f.provider ? ` (provider ${f.provider})` : ''}`);
      }
      if (f.failures.length > (failuresSeen.get(f.frame) ?? 0)) {
        for (const x of f.failures.slice(failuresSeen.get(f.frame) ?? 0)) say(`Hub: frame ${f.frame}: a result was refused (${x.reason}: ${x.detail})`);
        failuresSeen.set(f.frame, f.failures.length);
      }
    }
    allVerified = view.counts.verified === view.counts.total;
    if (allVerified) verifiedAt ??= Date.now();
    const nets = await agent.call('GET', '/networks', NetworksView);
    const net = nets.hubs[0];
    if (net) {
      const line = `${net.state}${net.reason ? ` (${net.reason})` : ''}${net.registration ? ', registered' : ''}`;
      if (line !== netLine) say(`Agent: hub connection ${(netLine = line)}`);
      const p = net.payments;
      if (p?.voucherTotal && p.voucherTotal !== voucherTotal) {
        voucherTotal = p.voucherTotal;
        say(`Agent: accepted a voucher from the hub, running total ${voucherTotal} ${p.token ?? ''} (verified offline: payer, escrow, chain, signature).`);
      }
      if (p?.refused && p.refused !== refused) say(`Agent: refused the hub's payment: ${(refused = p.refused)}`);
      // The voucher total is decimal text in the token; compare in minor units.
      if (voucherTotal && parseUnits(voucherTotal, DECIMALS) >= expected) voucherOk = true;
      if (allVerified && !voucherOk && !saidWaiting) {
        saidWaiting = true;
        say(`Waiting for the agent's payment sync: it asks the hub for credits and a voucher right after each delivered result, and after each heartbeat (every ${net.wants.heartbeatEveryS ?? '?'} s here).`);
      }
    }
    const jobs = await agent.call('GET', '/jobs', JobList);
    for (const j of jobs.jobs) {
      if (j.source.kind === 'local') continue;
      if (agentJobs.get(j.id) !== j.state) {
        agentJobs.set(j.id, j.state);
        say(`Agent: ${j.title}: ${j.state}`);
      }
    }
    const report = await agent.call('GET', `/earnings?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}&groupBy=day`, EarningsReport);
    const gross = report.totals.gross.USDC;
    if (gross && gross !== earned) {
      earned = gross;
      say(`Ledger: ${gross} USDC earned (GET /api/v1/earnings), ${report.totals.earnings} entries, each backed by the voucher.`);
    }
    if (earned && parseUnits(earned, DECIMALS) >= expected) ledgerOk = true;
    if (!leased && Date.now() - started > 60_000 && !missing.includes('lease')) {
      missing.push('lease');
      say('No frame has been leased after a minute: this agent build may not lease hub work yet (agent/network/hub-work.ts), or its rules keep it paused (see the dashboard).');
    }
    await sleep(400);
  }

  let completed = false;
  if (job) {
    if (!allVerified) missing.push(`not every frame was verified (${[...frameStates].map(([f, s]) => `${f}: ${s}`).join(', ')})`);
    if (!voucherOk) missing.push(voucherTotal ? `the agent's voucher total (${voucherTotal}) is below ${usdc(expected)}` : 'the agent never accepted a voucher (payment intake: agent/network/payments.ts)');
    if (!ledgerOk) missing.push(earned ? `the ledger shows ${earned} USDC, below ${usdc(expected)}` : 'no earnings reached the ledger');
    if (verifiedAt !== null) say(`All ${FRAMES} frames were verified ${((verifiedAt - started) / 1000).toFixed(1)} s after the job was submitted.`);

    const vouchers = await hub.payments.vouchers();
    const mine = vouchers.find((v) => v.voucher.payee.toLowerCase() === payout.toLowerCase());
    if (!mine) {
      missing.push('the hub holds no voucher for the payout address, so nothing could be redeemed');
    } else {
      const outcome = await redeemBatch(chain.relayer, chain.escrowAddress, [mine]);
      say(`Chain: redeemed the voucher (total ${usdc(mine.voucher.cumulativeAmount)}) in tx ${outcome.txHash}: paid ${usdc(outcome.paid)}${outcome.skipped.length ? `, skipped ${outcome.skipped.length}` : ''}.`);
      const balance = (await chain.token.getFunction('balanceOf')(payout)) as bigint;
      say(`Chain: payout address ${payout} holds ${usdc(balance)}.`);
      completed = allVerified && voucherOk && ledgerOk && balance >= expected;
    }
    const operator = await new Promise<string>((res) =>
      execFile(process.execPath, [cliPath, 'hub', 'status', '--hub', hub.url, '--key-file', hub.customerKeyFile], { timeout: 30_000 }, (err, stdout, stderr) =>
        res(err ? `(it failed: ${String(stderr).trim() || err.message})` : String(stdout).trim()),
      ),
    );
    say(`Operator: offhours hub status\n${operator.replace(/^/gm, '         ')}`);
    if (completed) say(`Done: render -> verify -> voucher -> ledger -> chain, in ${((Date.now() - t0) / 1000).toFixed(1)} s in all.`);
  } else {
    missing.push('no job was submitted');
  }
  return { completed, missing, dashboard: agent.url };
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'offhours-demo-'));
  const cleanups: (() => Promise<void>)[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.allSettled(pending);
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => say(`cleanup: ${(err as Error).message}`));
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
    else say(`Kept ${tmp}`);
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    say('Stopping ...');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let outcome: Awaited<ReturnType<typeof run>>;
  try {
    outcome = await run(tmp, cleanups);
  } catch (err) {
    say(`The demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup();
    return 1;
  }
  if (!outcome.completed) say(`The loop did not complete. Missing: ${outcome.missing.join('; ') || 'unknown'}.`);
  if (opts['exit-when-done'] || interrupted) {
    await cleanup();
    return outcome.completed ? 0 : 1;
  }
  say(`Still running: the dashboard is at ${outcome.dashboard}. Press Ctrl-C to stop.`);
  await new Promise(() => {});
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
