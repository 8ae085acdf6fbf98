// Shared disk through the real agent API and real seal workers (the built bundle): the numbers
// match what the file system says, a file becomes a sealed piece named by its commitment (checked
// against the pure reference), proofs verify, a flipped byte is caught by the scrub, and every way
// an ingest can go wrong (wrong commitment, a full disk, the cap, the rules) leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statfsSync, writeFileSync, openSync, writeSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingest, ProveResult, StorageView, commpPure, encodePieceCidV1, reserveBytes } from '../../protocol/index.js';
import { PIECES_DIR } from '../../agent/storage/storage-service.js';
import { idleAgain, startAgent, userBack, sleep, waitForAsync, type TestAgent } from '../support/jobs.js';
import { useRepoTempDirs } from '../support/blender.js';

const MIB = 1024 * 1024;

const waitFor = <T,>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 60_000) => waitForAsync(fn, what, ms);

describe('shared disk through the agent', () => {
  const tmp = useRepoTempDirs();
  const agents: TestAgent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.agent.stop();
  });

  async function agent(extra: Parameters<typeof startAgent>[1] = {}) {
    const a = await startAgent(tmp(), extra);
    agents.push(a);
    return a;
  }

  async function withFolder(a: TestAgent, capBytes = 64 * MIB): Promise<string> {
    const folder = tmp();
    const r = await a.call('PATCH', '/settings', { storage: { folder, capBytes } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return folder;
  }

  const view = async (a: TestAgent) => StorageView.parse((await a.call('GET', '/storage')).json);

  async function add(a: TestAgent, file: string, extra: object = {}): Promise<Ingest> {
    const r = await a.call('POST', '/storage/pieces', { file, ...extra });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const id = Ingest.parse(r.json).id;
    return waitFor(async () => {
      const i = (await view(a)).ingests.find((x) => x.id === id);
      return i && (i.state === 'done' || i.state === 'failed') ? i : null;
    }, 'the ingest to end');
  }

  function payload(bytes: number): { file: string; data: Uint8Array } {
    const data = randomBytes(bytes);
    const file = join(tmp(), `payload-${bytes}.bin`);
    writeFileSync(file, data);
    return { file, data };
  }

  it('shows the disk as the file system reports it, and refuses a folder it cannot use', async () => {
    const a = await agent();
    expect((await view(a)).disk).toBeNull();
    const bad = await a.call('PATCH', '/settings', { storage: { folder: join(tmp(), 'nope'), capBytes: MIB } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields).toEqual([{ path: 'storage.folder', message: 'no such folder' }]);
    const folder = await withFolder(a, 5 * MIB);
    const v = await view(a);
    const fs = statfsSync(folder);
    expect(v.disk).toMatchObject({ folder, totalBytes: fs.blocks * fs.bsize, usedBytes: 0, reserveBytes: reserveBytes(fs.blocks * fs.bsize) });
    // Free space moves with everything else on this disk; it is the file system's figure, within what others wrote meanwhile.
    expect(Math.abs(v.disk!.freeBytes - fs.bavail * fs.bsize)).toBeLessThan(64 * MIB);
    expect(v.disk!.availableBytes).toBe(Math.max(0, Math.min(5 * MIB, v.disk!.freeBytes - v.disk!.reserveBytes)));
  });

  it('stores a file as a sealed piece named by its commitment, proves it, and the scrub catches a flipped byte', async () => {
    const a = await agent();
    const folder = await withFolder(a);
    const { file, data } = payload(3 * MIB + 12_345);
    const done = await add(a, file);
    expect(done.state, done.reason ?? '').toBe('done');
    const expected = encodePieceCidV1(commpPure(data).root);
    expect(done.cid).toBe(expected);
    expect(readdirSync(join(folder, PIECES_DIR)).sort()).toEqual([`${expected}.piece`, `${expected}.tree`]);
    const piece = (await view(a)).pieces.find((p) => p.cid === expected)!;
    expect(piece).toMatchObject({ state: 'sealed', payloadSize: data.length, paddedSize: 4 * MIB, source: 'local', origin: file });
    expect(piece.diskBytes).toBeGreaterThanOrEqual(data.length);
    expect((await view(a)).disk!.usedBytes).toBe(piece.diskBytes);

    const proved = ProveResult.parse((await a.call('POST', `/storage/pieces/${expected}/prove`, { challenges: 8 })).json);
    expect(proved).toMatchObject({ cid: expected, challenges: 8, passed: 8, problem: null });
    expect((await view(a)).proofs[0]).toMatchObject({ cid: expected, passed: 8 });

    // The same bytes again: kept once.
    const again = await add(a, file);
    expect(again).toMatchObject({ state: 'done', cid: expected });
    expect(again.reason).toMatch(/Already stored/);

    // One byte of the stored piece changes under us.
    const fd = openSync(join(folder, PIECES_DIR, `${expected}.piece`), 'r+');
    writeSync(fd, Buffer.from([data[1_000_000]! ^ 0xff]), 0, 1, 1_000_000);
    closeSync(fd);
    const scrubbed = await a.call('POST', `/storage/pieces/${expected}/scrub`, {});
    expect(scrubbed.status, JSON.stringify(scrubbed.json)).toBe(200);
    expect(scrubbed.json).toMatchObject({ state: 'corrupt', lastScrub: { ok: false } });
    const refused = await a.call('POST', `/storage/pieces/${expected}/prove`, { challenges: 1 });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/corrupt/);
  });

  it('rejects and removes a piece whose commitment is not the expected one', async () => {
    const a = await agent();
    const folder = await withFolder(a);
    const { file } = payload(200_000);
    const other = encodePieceCidV1(commpPure(randomBytes(200_000)).root);
    const r = await add(a, file, { expectCid: other });
    expect(r.state).toBe('failed');
    expect(r.reason).toMatch(/^Rejected/);
    expect(readdirSync(join(folder, PIECES_DIR))).toEqual([]);
    expect((await view(a)).pieces).toEqual([]);
  });

  it('a disk that fills up mid-copy leaves nothing half-written', async () => {
    const a = await agent({
      storage: {
        // The file-system boundary: half the bytes land, then the disk is full.
        copy: async (from, to) => {
          const data = readFileSync(from);
          writeFileSync(to, data.subarray(0, data.length / 2));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
      },
    });
    const folder = await withFolder(a);
    const r = await add(a, payload(500_000).file);
    expect(r.state).toBe('failed');
    expect(r.reason).toMatch(/disk filled up/);
    expect(readdirSync(join(folder, PIECES_DIR))).toEqual([]);
  });

  it('never goes past the cap', async () => {
    const a = await agent();
    await withFolder(a, MIB);
    const r = await add(a, payload(2 * MIB).file);
    expect(r.state).toBe('failed');
    expect(r.reason).toMatch(/Not enough room/);
  });

  it('adding waits for the rules (the user is back), and goes on when they allow disk work', async () => {
    const a = await agent();
    await withFolder(a);
    await a.signals(userBack);
    const r = await a.call('POST', '/storage/pieces', { file: payload(100_000).file });
    const id = Ingest.parse(r.json).id;
    await sleep(500);
    const waiting = (await view(a)).ingests.find((i) => i.id === id)!;
    expect(waiting.state).toBe('waiting');
    expect(waiting.reason).toMatch(/Paused/);
    await a.signals(idleAgain);
    await waitFor(async () => (await view(a)).ingests.find((i) => i.id === id)?.state === 'done', 'the ingest to run once idle');
  });

  it('no folder: adding says so', async () => {
    const a = await agent();
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const r = await a.call('POST', '/storage/pieces', { file: payload(100_000).file });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('storage_off');
  });
});
