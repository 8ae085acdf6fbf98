// Scene downloads against a small real HTTP server playing the hub (and a hostile one): a scene is
// kept only when its SHA-256 matches, never grows past the size the task gave, resumes with a Range
// request after a broken connection, and is served from the cache for the next task.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentRef } from '../../protocol/index.js';
import { BlobCache } from '../../agent/network/blob-transfer.js';
import { hubHttp } from '../../agent/network/hub-http.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

const scene = randomBytes(200_000);
const hex = createHash('sha256').update(scene).digest('hex');
const ref = `sha256:${hex}` as ContentRef;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('scene downloads', () => {
  const tmp = useTempDirs();
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function serve(handler: Handler) {
    const seen: Array<{ url: string; range: string | undefined }> = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url!, range: req.headers.range });
      handler(req, res);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const http = hubHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 2_000, new AbortController().signal);
    return { http, seen };
  }

  const honest: Handler = (req, res) => {
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(req.headers.range ? 206 : 200, {
      'content-length': scene.length - start,
      ...(req.headers.range ? { 'content-range': `bytes ${start}-${scene.length - 1}/${scene.length}` } : {}),
    });
    res.end(scene.subarray(start));
  };

  it('downloads a scene, checks it, and serves the next task from the cache', async () => {
    const dir = tmp();
    const { http, seen } = await serve(honest);
    const cache = new BlobCache({ dir, log: silentLog });
    const path = await cache.get(http, ref, scene.length);
    expect(path).toBe(join(dir, hex));
    expect(readFileSync(path).equals(scene)).toBe(true);
    cache.done(ref);
    expect(await cache.get(http, ref, scene.length)).toBe(path);
    expect(seen).toEqual([{ url: `/v1/blobs/${hex}`, range: undefined }]);
  });

  it('refuses a scene that does not match its hash, and keeps nothing of it', async () => {
    const dir = tmp();
    const other = randomBytes(scene.length);
    const { http } = await serve((_req, res) => res.end(other));
    const cache = new BlobCache({ dir, log: silentLog });
    await expect(cache.get(http, ref, scene.length)).rejects.toThrow(/does not match its hash/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops a scene larger than the task said, whether it says so or not', async () => {
    const dir = tmp();
    const big = Buffer.concat([scene, randomBytes(1000)]);
    const declared = await serve((_req, res) => res.end(big));
    const cache = new BlobCache({ dir, log: silentLog });
    await expect(cache.get(declared.http, ref, scene.length)).rejects.toThrow(/larger than the task said/);
    const chunked = await serve((_req, res) => {
      res.write(big.subarray(0, 100_000));
      res.end(big.subarray(100_000));
    });
    await expect(cache.get(chunked.http, ref, scene.length)).rejects.toThrow(/larger than the task said/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('resumes a download that broke off with a Range request from what it has', async () => {
    const dir = tmp();
    let first = true;
    const { http, seen } = await serve((req, res) => {
      if (first) {
        first = false;
        res.writeHead(200, { 'content-length': scene.length });
        res.write(scene.subarray(0, 80_000), () => setTimeout(() => res.destroy(), 50));
        return;
      }
      honest(req, res);
    });
    const cache = new BlobCache({ dir, log: silentLog });
    await expect(cache.get(http, ref, scene.length)).rejects.toThrow();
    expect(existsSync(join(dir, `${hex}.part`))).toBe(true);
    const path = await cache.get(http, ref, scene.length);
    expect(readFileSync(path).equals(scene)).toBe(true);
    expect(seen[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(existsSync(join(dir, `${hex}.part`))).toBe(false);
  });

  it('refuses a resume from the wrong place', async () => {
    const dir = tmp();
    let first = true;
    const { http } = await serve((_req, res) => {
      if (first) {
        first = false;
        res.writeHead(200, { 'content-length': scene.length });
        res.write(scene.subarray(0, 80_000), () => setTimeout(() => res.destroy(), 50));
        return;
      }
      res.writeHead(206, { 'content-range': `bytes 0-${scene.length - 1}/${scene.length}` });
      res.end(scene);
    });
    const cache = new BlobCache({ dir, log: silentLog });
    await expect(cache.get(http, ref, scene.length)).rejects.toThrow();
    await expect(cache.get(http, ref, scene.length)).rejects.toThrow(/wrong place/);
  });

  it('names files only by the checked hex: a ref that is not one is refused before any request', async () => {
    const dir = tmp();
    const { http, seen } = await serve(honest);
    const cache = new BlobCache({ dir, log: silentLog });
    await expect(cache.get(http, 'sha256:../../etc/passwd' as ContentRef, 10)).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});

describe('result uploads to a real hub', () => {
  const tmp = useTempDirs();

  it('sends a result in pieces, each a PUT the hub keeps, and the blob arrives byte-exact', async () => {
    const { startHub } = await import('../../hub/hub.js');
    const { uploadBlob } = await import('../../agent/network/blob-transfer.js');
    const { writeFileSync } = await import('node:fs');
    const hub = await startHub({ dataDir: tmp(), databaseUrl: '', port: 0, log: () => undefined });
    try {
      const bytes = randomBytes(1_000_000);
      const file = join(tmp(), 'frame.png');
      writeFileSync(file, bytes);
      const h = createHash('sha256').update(bytes).digest('hex');
      const http = hubHttp(hub.url, 10_000, new AbortController().signal);
      http.setToken(hub.customerKey);
      const puts: number[] = [];
      const counting = { ...http, putRaw: (path: string, body: ReadableStream<Uint8Array>, length: number) => (puts.push(length), http.putRaw(path, body, length)) };
      await uploadBlob(counting, file, `sha256:${h}` as ContentRef, bytes.length, 300_000);
      expect(puts).toEqual([300_000, 300_000, 300_000, 100_000]);
      expect(readFileSync(join(hub.customerKeyFile, '..', 'blobs', h)).equals(bytes)).toBe(true);
      // Again: the hub has it, so nothing is sent.
      await uploadBlob(counting, file, `sha256:${h}` as ContentRef, bytes.length, 300_000);
      expect(puts).toHaveLength(4);
    } finally {
      await hub.stop();
    }
  });
});
