// Gas to redeem vouchers at the escrow (hub/contracts/OffhoursEscrow.sol) on hardhat's in-process
// chain: one voucher alone, and per voucher in batches of 10 and 50, each to a payee paid for the
// first time (the common case: the costly storage writes are new). Baseline: a plain ERC-20
// transfer of the same token to a fresh address in the same run, the least any payout could cost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserProvider, Contract, ContractFactory, Wallet, type Signer } from 'ethers';
import { compileContracts } from '../hub/contracts/compile.js';
import { voucherDomain, voucherTypedData, type Voucher } from '../protocol/index.js';
import { emit } from './lib.mjs';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'offhours-hh-bench-'));
writeFileSync(join(dir, 'hardhat.config.cjs'), 'module.exports = {};\n');
process.env.HARDHAT_CONFIG = join(dir, 'hardhat.config.cjs');

try {
  const hre = require('hardhat');
  const provider = new BrowserProvider(hre.network.provider, undefined, { cacheTimeout: -1 });
  const chainId = Number((await provider.getNetwork()).chainId);
  const deployer = await provider.getSigner(0);
  const relayer = await provider.getSigner(1);
  const hub = Wallet.createRandom();
  const compiled = compileContracts();
  const deploy = async (name: 'OffhoursEscrow' | 'MockUSDC', signer: Signer) =>
    (await (await new ContractFactory(compiled[name].abi, compiled[name].bytecode, signer).deploy()).waitForDeployment()) as Contract;
  const usdc = await deploy('MockUSDC', deployer);
  const escrow = await deploy('OffhoursEscrow', deployer);
  const token = await usdc.getAddress();
  const domain = voucherDomain(chainId, await escrow.getAddress());

  // The deployer funds the hub's balance (depositFor), so the hub's key needs no gas here.
  await (await usdc.getFunction('mint')(await deployer.getAddress(), 10n ** 15n)).wait();
  await (await usdc.getFunction('approve')(await escrow.getAddress(), 10n ** 15n)).wait();
  await (await escrow.getFunction('depositFor')(hub.address, token, 10n ** 14n)).wait();

  const expiry = Math.floor(Date.now() / 1000) + 86_400;
  const signed = async (total: bigint, payee = Wallet.createRandom().address) => {
    const voucher: Voucher = { payer: hub.address, payee, token, cumulativeAmount: total.toString(), expiry };
    const t = voucherTypedData(domain, voucher);
    return { voucher, signature: await hub.signTypedData(t.domain, t.types, t.message) };
  };
  const gasOf = async (tx: Promise<any>): Promise<number> => {
    const receipt = await (await tx).wait();
    if (receipt.status !== 1) throw new Error('transaction failed');
    return Number(receipt.gasUsed);
  };
  const asRelayer = escrow.connect(relayer) as Contract;

  // Several samples each; gas is deterministic, but a fresh payee per sample keeps the state alike.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const transfer: number[] = [];
  const single: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < 5; i++) {
    transfer.push(await gasOf(usdc.getFunction('transfer')(Wallet.createRandom().address, 1_000_000n)));
    const first = await signed(1_000_000n);
    single.push(await gasOf(asRelayer.getFunction('redeem')(first.voucher, first.signature)));
    const next = await signed(2_000_000n, first.voucher.payee);
    again.push(await gasOf(asRelayer.getFunction('redeem')(next.voucher, next.signature)));
  }
  const baseline = median(transfer);
  emit('escrow.redeem.single.gas', median(single), 'gas', baseline);
  emit('escrow.redeem.single-repeat-payee.gas', median(again), 'gas', baseline);

  for (const size of [10, 50]) {
    const batch = await Promise.all(Array.from({ length: size }, () => signed(1_000_000n)));
    const gas = await gasOf(asRelayer.getFunction('redeemBatch')(batch.map((b) => b.voucher), batch.map((b) => b.signature)));
    emit(`escrow.redeem.batch${size}.gas-per-voucher`, gas / size, 'gas', baseline);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
