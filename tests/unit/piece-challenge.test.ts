// The PDP challenge derivation against Solidity itself: a tiny contract compiled with solc-js and
// run on hardhat's in-process network computes the same indices as challengeIndex.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ethers } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeIndex, challengeMessage, deriveChallenges, locateLeaf } from '../../protocol/index.js';

const require = createRequire(import.meta.url);

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;
contract Challenge {
  function index(uint256 seed, uint256 setId, uint64 i, uint256 leafCount) external pure returns (uint256) {
    return uint256(keccak256(abi.encodePacked(seed, setId, i))) % leafCount;
  }
  function message(uint256 seed, uint256 setId, uint64 i) external pure returns (bytes memory) {
    return abi.encodePacked(seed, setId, i);
  }
}`;

describe('PDP challenge index against Solidity on hardhat', () => {
  let dir: string;
  let contract: ethers.Contract;

  beforeAll(async () => {
    const solc = require('solc');
    const input = { language: 'Solidity', sources: { 'C.sol': { content: SOURCE } }, settings: { outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } } };
    const output = JSON.parse(solc.compile(JSON.stringify(input)));
    const errors = (output.errors ?? []).filter((e: any) => e.severity === 'error');
    expect(errors).toEqual([]);
    const artifact = output.contracts['C.sol'].Challenge;
    // Hardhat 2 needs a config file to build its runtime; an empty project in a temp dir is enough.
    dir = mkdtempSync(path.join(tmpdir(), 'offhours-hh-'));
    writeFileSync(path.join(dir, 'hardhat.config.cjs'), 'module.exports = {};\n');
    process.env.HARDHAT_CONFIG = path.join(dir, 'hardhat.config.cjs');
    const hre = require('hardhat');
    const provider = new ethers.BrowserProvider(hre.network.provider, undefined, { cacheTimeout: -1 });
    const signer = await provider.getSigner();
    const factory = new ethers.ContractFactory(artifact.abi, '0x' + artifact.evm.bytecode.object, signer);
    contract = (await (await factory.deploy()).waitForDeployment()) as ethers.Contract;
  }, 60_000);

  afterAll(() => {
    delete process.env.HARDHAT_CONFIG;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const MAX256 = (1n << 256n) - 1n;
  const cases: [bigint, bigint, bigint, bigint][] = [
    [0n, 0n, 0n, 1n],
    [1n, 2n, 3n, 4n],
    [12345678901234567890n, 7n, 0n, 1n << 20n],
    [MAX256, MAX256, (1n << 64n) - 1n, MAX256],
    [0xdeadbeefn << 200n, 1n << 128n, 5n, 1000003n],
    [BigInt('0x' + 'ab'.repeat(32)), 42n, 4n, (1n << 50n) + 12345n],
  ];

  it.each(cases)('seed %s, set %s, i %s, leaves %s', async (seed, setId, i, leafCount) => {
    const sol: bigint = await contract.getFunction('index')(seed, setId, i, leafCount);
    expect(challengeIndex(seed, setId, i, leafCount)).toBe(sol);
    const msg: string = await contract.getFunction('message')(seed, setId, i);
    expect(ethers.hexlify(challengeMessage(seed, setId, i))).toBe(msg);
    expect(challengeMessage(seed, setId, i).length).toBe(72);
  });
});

describe('challenges over a set of pieces', () => {
  it('maps a set-wide index to a piece and a leaf', () => {
    const counts = [4, 16, 8];
    expect(locateLeaf(0, counts)).toEqual({ piece: 0, leafIndex: 0 });
    expect(locateLeaf(3, counts)).toEqual({ piece: 0, leafIndex: 3 });
    expect(locateLeaf(4, counts)).toEqual({ piece: 1, leafIndex: 0 });
    expect(locateLeaf(19, counts)).toEqual({ piece: 1, leafIndex: 15 });
    expect(locateLeaf(20, counts)).toEqual({ piece: 2, leafIndex: 0 });
    expect(locateLeaf(27, counts)).toEqual({ piece: 2, leafIndex: 7 });
    expect(() => locateLeaf(28, counts)).toThrow(RangeError);
  });

  it('derives count challenges, each inside its piece', () => {
    const counts = [4, 1 << 20, 8];
    const challenges = deriveChallenges(99n, 3n, 5, counts);
    expect(challenges).toHaveLength(5);
    for (const c of challenges) {
      expect(c.index).toBe(challengeIndex(99n, 3n, c.i, 4 + (1 << 20) + 8));
      expect(c.leafIndex).toBeLessThan(counts[c.piece]!);
    }
  });
});
