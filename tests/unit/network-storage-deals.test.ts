// The agent's side of storage deals against a hostile or broken hub (a fake HubHttp): answers that do
// not fit the protocol are refused as a whole, path-like ids never reach the disk, challenges for
// pieces this node does not hold are not answered, and no deal is taken while the rules say no.
// Drops: a hub makes this node delete only pieces it gave it, through a real storage service on a
// temp folder: never a piece the user added, another hub's, or anything named by a path-like CID.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageDeals, type DealStorage } from '../../agent/network/storage-deals.js';
import { HubRequestError, type HubHttp } from '../../agent/network/hub-http.js';
import { commpPure, encodePieceCidV1, type Ingest, type PieceRecord } from '../../protocol/index.js';
import { PIECES_DIR, StorageService } from '../../agent/storage/storage-service.js';
import { PieceIndex } from '../../agent/storage/piece-index.js';
import type { WorkerStarter } from '../../agent/jobs/worker-starter.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

const CID = encodePieceCidV1(commpPure(new Uint8Array(200).fill(7)).root);
const HEX = 'ab'.repeat(32);
const soon = new Date(Date.now() + 60_000).toISOString();

function fakeHttp(poll: unknown, answers: Record<string, unknown> = {}): HubHttp & { posts: string[] } {
  const posts: string[] = [];
  return {
    origin: 'http://hub.test',
    posts,
    setToken() {},
    async get() {
      throw new Error('not expected');
    },
    async getRaw() {
      throw new Error('not expected');
    },
    async putRaw() {
      throw new Error('not expected');
    },
    async post(path: string) {
      posts.push(path);
      if (path === '/v1/storage/poll') return poll;
      if (path in answers) return answers[path];
      throw new HubRequestError('http', 'refused', 404, 'not_found');
    },
  };
}

function fakeStorage(accept: boolean): DealStorage & { added: string[]; proved: string[] } {
  const added: string[] = [];
  const proved: string[] = [];
  return {
    added,
    proved,
    dealRoom: async () => ({ accept, freeBytes: accept ? 1e9 : 0 }),
    add: async (req) => {
      added.push(req.file);
      return { id: 'i_1', file: req.file, state: 'failed', reason: 'test', cid: null, at: new Date().toISOString() } satisfies Ingest;
    },
    ingest: () => undefined,
    piece: () => undefined,
    piecePath: () => null,
    proveLeaves: async (cid) => {
      proved.push(cid);
      return [];
    },
    remove: async () => {
      throw new Error('not expected');
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('storage deals against a hostile hub', () => {
  const tmp = useTempDirs();

  it('refuses a poll answer that does not fit the protocol, and touches nothing', async () => {
    const storage = fakeStorage(true);
    const deals = new StorageDeals({ origin: 'http://hub.test', storage, dataDir: tmp(), log: silentLog });
    for (const bad of [
      null,
      { deals: [{ dealId: '../../etc', blob: `sha256:${HEX}`, pieceCid: CID, bytes: 200, deadline: soon }], challenges: [], retrievals: [] },
      { deals: [], challenges: [{ challengeId: 'c_1', dealId: 'd_1', pieceCid: '../x', seed: HEX, leaves: [1], deadline: soon }], retrievals: [] },
      { deals: [], challenges: [], retrievals: [], extra: true },
    ]) {
      await expect(deals.run(fakeHttp(bad))).rejects.toBeInstanceOf(HubRequestError);
    }
    await settle();
    expect(storage.added).toEqual([]);
    expect(storage.proved).toEqual([]);
  });

  it('does not answer challenges for pieces it does not hold, nor upload them', async () => {
    const storage = fakeStorage(true);
    const deals = new StorageDeals({ origin: 'http://hub.test', storage, dataDir: tmp(), log: silentLog });
    const http = fakeHttp({
      deals: [],
      challenges: [{ challengeId: 'c_1', dealId: 'd_1', pieceCid: CID, seed: HEX, leaves: [1, 2], deadline: soon }],
      retrievals: [{ retrievalId: 'r_1', dealId: 'd_1', pieceCid: CID, blob: `sha256:${HEX}`, bytes: 200 }],
    });
    await deals.run(http);
    await settle();
    expect(storage.proved).toEqual([]);
    expect(http.posts).toEqual(['/v1/storage/poll']);
  });

  it('takes no deal while the rules do not allow disk work, and says so in the poll', async () => {
    const storage = fakeStorage(false);
    const deals = new StorageDeals({ origin: 'http://hub.test', storage, dataDir: tmp(), log: silentLog });
    const http = fakeHttp({ deals: [{ dealId: 'd_1', blob: `sha256:${HEX}`, pieceCid: CID, bytes: 200, deadline: soon, until: soon }], challenges: [], retrievals: [] });
    await deals.run(http);
    await settle();
    expect(http.posts).toEqual(['/v1/storage/poll']);
    expect(storage.added).toEqual([]);
  });
});

describe('drops from a hostile hub', () => {
  const tmp = useTempDirs();
  const cidOf = (fill: number) => encodePieceCidV1(commpPure(new Uint8Array(200).fill(fill)).root);

  /** A real storage service whose folder holds three pieces: the user's, this hub's and another hub's. */
  function withPieces(): { service: StorageService; folder: string; local: string; ours: string; theirs: string; bait: string } {
    const dataDir = tmp();
    const folder = tmp();
    const dir = join(folder, PIECES_DIR);
    mkdirSync(dir, { recursive: true });
    const [local, ours, theirs] = [cidOf(1), cidOf(2), cidOf(3)] as [string, string, string];
    const index = new PieceIndex(dataDir);
    for (const [cid, source] of [
      [local, 'local'],
      [ours, 'hub:hub.test'],
      [theirs, 'hub:other.test'],
    ] as const) {
      writeFileSync(join(dir, `${cid}.piece`), 'x');
      writeFileSync(join(dir, `${cid}.tree`), 'x');
      const record: PieceRecord = { cid, cidV2: 'bafkzcib', payloadSize: 200, paddedSize: 256, diskBytes: 2, state: 'sealed', source, origin: null, addedAt: new Date().toISOString(), lastProof: null, lastScrub: null };
      index.put(record);
    }
    index.close();
    // What a path-like CID would reach if it were ever joined onto the pieces folder.
    const bait = join(folder, 'bait.piece');
    writeFileSync(bait, 'keep me');
    const service = new StorageService({ dataDir, settings: () => ({ folder, capBytes: 1e9 }), starter: {} as WorkerStarter, log: silentLog, scrubEveryMs: 3_600_000 });
    return { service, folder, local, ours, theirs, bait };
  }
  const onDisk = (folder: string, cid: string) => existsSync(join(folder, PIECES_DIR, `${cid}.piece`)) || existsSync(join(folder, PIECES_DIR, `${cid}.tree`));
  const dropped = (id: string) => ({ [`/v1/storage/deals/${id}/dropped`]: { dealId: id, dropped: true } });

  it("deletes only the piece this hub gave, never the user's or another hub's, and confirms each", async () => {
    const { service, folder, local, ours, theirs } = withPieces();
    try {
      const deals = new StorageDeals({ origin: 'http://hub.test', storage: service, dataDir: tmp(), log: silentLog });
      const http = fakeHttp(
        {
          deals: [],
          challenges: [],
          retrievals: [],
          drops: [
            { dealId: 'd_local', pieceCid: local, reason: 'ended' },
            { dealId: 'd_theirs', pieceCid: theirs, reason: 'replaced' },
            { dealId: 'd_ours', pieceCid: ours, reason: 'ended' },
          ],
        },
        { ...dropped('d_local'), ...dropped('d_theirs'), ...dropped('d_ours') },
      );
      await deals.run(http);
      await settle();
      expect(onDisk(folder, local)).toBe(true);
      expect(onDisk(folder, theirs)).toBe(true);
      expect(onDisk(folder, ours)).toBe(false);
      expect(service.piece(local)).toBeDefined();
      expect(service.piece(theirs)).toBeDefined();
      expect(service.piece(ours)).toBeUndefined();
      expect(http.posts.filter((p) => p.endsWith('/dropped')).sort()).toEqual(['/v1/storage/deals/d_local/dropped', '/v1/storage/deals/d_ours/dropped', '/v1/storage/deals/d_theirs/dropped']);
    } finally {
      await service.close();
    }
  });

  it("proves and hands over only its own replicas: the user's file and another hub's stay private, and a deal for their CID is refused", async () => {
    const { service, local, theirs } = withPieces();
    try {
      const deals = new StorageDeals({ origin: 'http://hub.test', storage: service, dataDir: tmp(), log: silentLog });
      const http = fakeHttp(
        {
          deals: [{ dealId: 'd_grab', blob: `sha256:${HEX}`, pieceCid: local, bytes: 200, deadline: soon, until: soon }],
          challenges: [
            { challengeId: 'c_local', dealId: 'd_1', pieceCid: local, seed: HEX, leaves: [0], deadline: soon },
            { challengeId: 'c_theirs', dealId: 'd_2', pieceCid: theirs, seed: HEX, leaves: [0], deadline: soon },
          ],
          retrievals: [
            { retrievalId: 'r_local', dealId: 'd_1', pieceCid: local, blob: `sha256:${HEX}`, bytes: 200 },
            { retrievalId: 'r_theirs', dealId: 'd_2', pieceCid: theirs, blob: `sha256:${HEX}`, bytes: 200 },
          ],
        },
        { '/v1/storage/deals/d_grab/reject': { dealId: 'd_grab', state: 'pending', pieceCid: local, deadline: null } },
      );
      // Any blob status or upload call would be the start of handing the user's bytes over.
      const touched: string[] = [];
      http.get = async (path: string) => (touched.push(`GET ${path}`), { ref: `sha256:${HEX}`, received: 0, complete: false });
      http.putRaw = async (path: string) => (touched.push(`PUT ${path}`), {});
      const proved: string[] = [];
      const proveLeaves = service.proveLeaves.bind(service);
      service.proveLeaves = async (cid, leaves) => (proved.push(cid), proveLeaves(cid, leaves));
      await deals.run(http);
      await settle();
      // No proof, no upload (and the deal waits for the disk rules, which allow nothing here).
      expect(touched).toEqual([]);
      expect(proved).toEqual([]);
      expect(http.posts).toEqual(['/v1/storage/poll']);
    } finally {
      await service.close();
    }
    // Where the rules allow a deal: one naming the CID of a piece held for someone else is refused,
    // not confirmed with those bytes.
    const storage = { ...fakeStorage(true), piece: (cid: string) => (cid === local ? ({ cid, state: 'sealed', source: 'local' } as PieceRecord) : undefined) };
    const deals = new StorageDeals({ origin: 'http://hub.test', storage, dataDir: tmp(), log: silentLog });
    const http = fakeHttp(
      { deals: [{ dealId: 'd_grab', blob: `sha256:${HEX}`, pieceCid: local, bytes: 200, deadline: soon, until: soon }], challenges: [], retrievals: [] },
      { '/v1/storage/deals/d_grab/reject': { dealId: 'd_grab', state: 'pending', pieceCid: local, deadline: null } },
    );
    await deals.run(http);
    await settle();
    expect(http.posts.sort()).toEqual(['/v1/storage/deals/d_grab/reject', '/v1/storage/poll']);
  });

  it('refuses a poll whose drops name a path-like CID or a bad deal id, and deletes nothing', async () => {
    const { service, folder, local, ours, theirs, bait } = withPieces();
    try {
      const deals = new StorageDeals({ origin: 'http://hub.test', storage: service, dataDir: tmp(), log: silentLog });
      for (const drop of [
        { dealId: 'd_1', pieceCid: '../bait', reason: 'ended' },
        { dealId: 'd_1', pieceCid: `${ours}/../../bait`, reason: 'ended' },
        { dealId: '../../etc', pieceCid: ours, reason: 'ended' },
        { dealId: 'd_1', pieceCid: ours, reason: 'because' },
        { dealId: 'd_1', pieceCid: ours, reason: 'ended', path: '/etc/passwd' },
      ]) {
        const http = fakeHttp({ deals: [], challenges: [], retrievals: [], drops: [drop] }, dropped('d_1'));
        await expect(deals.run(http)).rejects.toBeInstanceOf(HubRequestError);
        expect(http.posts).toEqual(['/v1/storage/poll']);
      }
      await settle();
      for (const cid of [local, ours, theirs]) expect(onDisk(folder, cid)).toBe(true);
      expect(existsSync(bait)).toBe(true);
      // The service checks the CID itself too, whoever calls it.
      expect(await service.remove('../bait', 'test', 'hub:hub.test')).toBe(false);
      expect(await service.remove(local, 'test', 'hub:hub.test')).toBe(false);
      expect(existsSync(bait)).toBe(true);
      expect(onDisk(folder, local)).toBe(true);
    } finally {
      await service.close();
    }
  });
});
