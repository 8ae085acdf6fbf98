// The agent's side of storage deals against a hostile or broken hub (a fake HubHttp): answers that do
// not fit the protocol are refused as a whole, path-like ids never reach the disk, challenges for
// pieces this node does not hold are not answered, and no deal is taken while the rules say no.
import { describe, expect, it } from 'vitest';
import { StorageDeals, type DealStorage } from '../../agent/network/storage-deals.js';
import { HubRequestError, type HubHttp } from '../../agent/network/hub-http.js';
import { commpPure, encodePieceCidV1, type Ingest } from '../../protocol/index.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

const CID = encodePieceCidV1(commpPure(new Uint8Array(200).fill(7)).root);
const HEX = 'ab'.repeat(32);
const soon = new Date(Date.now() + 60_000).toISOString();

function fakeHttp(poll: unknown): HubHttp & { posts: string[] } {
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
    const http = fakeHttp({ deals: [{ dealId: 'd_1', blob: `sha256:${HEX}`, pieceCid: CID, bytes: 200, deadline: soon }], challenges: [], retrievals: [] });
    await deals.run(http);
    await settle();
    expect(http.posts).toEqual(['/v1/storage/poll']);
    expect(storage.added).toEqual([]);
  });
});
