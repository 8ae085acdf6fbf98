// Hardhat's in-process chain for the escrow tests: booted from an empty project in a temp dir,
// the repository's contracts deployed from solc-js output, and the custom error a call reverted
// with, read whichever way the provider reports it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserProvider, Contract, ContractFactory, type Interface, type Signer } from 'ethers';
import { compileContracts } from '../../hub/contracts/compile.js';

const require = createRequire(import.meta.url);

export interface Chain {
  provider: BrowserProvider;
  chainId: number;
  /** Removes the temp project and the HARDHAT_CONFIG pointing at it. */
  stop(): void;
}

/** Hardhat 2 needs a config file to build its runtime; an empty project in a temp dir is enough. */
export async function startChain(): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), 'offhours-hh-'));
  writeFileSync(join(dir, 'hardhat.config.cjs'), 'module.exports = {};\n');
  process.env.HARDHAT_CONFIG = join(dir, 'hardhat.config.cjs');
  const hre = require('hardhat');
  const provider = new BrowserProvider(hre.network.provider, undefined, { cacheTimeout: -1 });
  const chainId = Number((await provider.getNetwork()).chainId);
  return {
    provider,
    chainId,
    stop: () => {
      delete process.env.HARDHAT_CONFIG;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function deploy(name: 'OffhoursEscrow' | 'MockUSDC', signer: Signer): Promise<Contract> {
  const c = compileContracts()[name];
  return (await (await new ContractFactory(c.abi, c.bytecode, signer).deploy()).waitForDeployment()) as Contract;
}

/** The custom error a call reverted with, whichever way the provider reported it. */
export async function revertName(call: Promise<unknown>, iface: Interface): Promise<string> {
  try {
    await call;
  } catch (err: any) {
    if (err?.revert?.name) return err.revert.name;
    const data = err?.data ?? err?.info?.error?.data;
    if (typeof data === 'string' && data.length >= 10) return iface.parseError(data)?.name ?? `unknown ${data}`;
    const m = /custom error '(\w+)/.exec(String(err?.message));
    if (m) return m[1]!;
    throw err;
  }
  throw new Error('expected a revert');
}
