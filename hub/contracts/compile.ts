// Compiles the escrow's Solidity sources with solc-js (the compiler is an npm package: nothing is
// downloaded), in memory, once per process: tests and the bench deploy what is in the repository,
// so a stale artifact can never hide a change to the contract.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InterfaceAbi } from 'ethers';

export interface CompiledContract {
  abi: InterfaceAbi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
}

export const CONTRACT_SOURCES = ['OffhoursEscrow.sol', 'MockUSDC.sol'] as const;
export type ContractName = 'OffhoursEscrow' | 'MockUSDC';

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>>;
}

const here = dirname(fileURLToPath(import.meta.url));
const cache = new Map<string, Record<ContractName, CompiledContract>>();

/** ABI and bytecode of every contract in `dir` (default: this folder). Throws on any compile error. */
export function compileContracts(dir = here): Record<ContractName, CompiledContract> {
  const hit = cache.get(dir);
  if (hit) return hit;
  const require = createRequire(import.meta.url);
  const solc = require('solc') as { compile(input: string): string };
  const sources = Object.fromEntries(CONTRACT_SOURCES.map((f) => [f, { content: readFileSync(join(dir, f), 'utf8') }]));
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      // Cancun: the newest EVM that every chain we would deploy on (and hardhat 2) runs.
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 1000 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const pick = (file: string, name: ContractName): CompiledContract => {
    const c = output.contracts?.[file]?.[name];
    if (!c) throw new Error(`solc produced no ${name} in ${file}`);
    return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  };
  const compiled = { OffhoursEscrow: pick('OffhoursEscrow.sol', 'OffhoursEscrow'), MockUSDC: pick('MockUSDC.sol', 'MockUSDC') };
  cache.set(dir, compiled);
  return compiled;
}
