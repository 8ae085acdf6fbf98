// The local storage driver as a user runs it: the real `offhours` CLI against the real headless
// agent process and its seal workers. A 40 MiB file is large enough that the worker hashes it on
// several threads (from the bundled code, as installed); the piece CID must equal the pure
// reference's, the proofs must verify, and `storage list` must show what the agent keeps.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageView, commpPure, encodePieceCidV1, defaultPolicy } from '../../protocol/index.js';
import { callAgent, repoRoot, runCli, startAgentProcess, type AgentProcess } from '../support/agent-process.js';
import { AWAY_USER } from '../support/signals.js';

describe('offhours storage (CLI) against the headless agent', () => {
  let agent: AgentProcess;
  let root: string;

  beforeAll(async () => {
    mkdirSync(join(repoRoot, '.tmp'), { recursive: true });
    root = mkdtempSync(join(repoRoot, '.tmp', 'e2e-storage-'));
    agent = await startAgentProcess(join(root, 'data'));
    await callAgent(agent, 'PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 } });
    await callAgent(agent, 'POST', '/sharing', { mode: 'on' });
    await callAgent(agent, 'POST', '/signals', AWAY_USER);
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli([...args, '--data-dir', agent.dataDir]);

  it('sets the folder, adds a file as a sealed piece, proves it and lists it', async () => {
    const folder = join(root, 'shared');
    mkdirSync(folder);
    const set = await cli('storage', 'set', '--folder', folder, '--cap', '1G');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/0 B used of 1\.0 GiB allowed/);

    const data = randomBytes(40 * 1024 * 1024 + 777);
    const file = join(root, 'photos.tar');
    writeFileSync(file, data);
    const expected = encodePieceCidV1(commpPure(data).root);
    const add = await cli('storage', 'add', file);
    expect(add.code, `stdout: ${add.stdout}\nstderr: ${add.stderr}`).toBe(0);
    expect(add.stdout.trim().split('\n').at(-1)).toBe(expected);

    const prove = await cli('storage', 'prove', expected, '--challenges', '6');
    expect(prove.code, prove.stderr).toBe(0);
    expect(prove.stdout.trim()).toBe(`6/6 proofs verified against ${expected}`);

    const list = await cli('storage', 'list', '--json');
    expect(list.code).toBe(0);
    const view = StorageView.parse(JSON.parse(list.stdout));
    expect(view.pieces).toEqual([expect.objectContaining({ cid: expected, state: 'sealed', payloadSize: data.length, paddedSize: 64 * 1024 * 1024, lastProof: expect.objectContaining({ passed: 6, challenges: 6 }) })]);

    const bad = await cli('storage', 'prove', 'not-a-cid');
    expect(bad.code).not.toBe(0);
  }, 120_000);

  it('commp prints the same commitment without an agent', async () => {
    const data = randomBytes(100_000);
    const file = join(root, 'small.bin');
    writeFileSync(file, data);
    const r = await runCli(['commp', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ payloadSize: 100_000, cidV1: encodePieceCidV1(commpPure(data).root) });
  });
});
