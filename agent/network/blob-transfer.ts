// Blobs to and from a hub. Scenes come down into <data>/network/blobs/<hex>: resumed with a Range
// request after a broken connection, never larger than the task said, and used only once their
// SHA-256 matches the name they were asked for. Results go up from the outbox the way the hub's
// blob store expects (protocol/hub-jobs.ts): ask what the hub holds, send the rest from there.
// File names come only from hex the schema checked, never from anything the hub sent.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobHex, BlobStatus, type ContentRef } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { HubRequestError, type HubHttp } from './hub-http.js';

export type BlobHttp = Pick<HubHttp, 'get' | 'getRaw' | 'putRaw'>;

/** The SHA-256 of a file, in hex, read as a stream (scenes may be large). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const hexOf = (ref: ContentRef): string => BlobHex.parse(ref.slice('sha256:'.length));

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

export interface BlobCacheOptions {
  dir: string;
  log: Logger;
  /** The longest wait for the next bytes of a download before it counts as broken. */
  idleTimeoutMs?: number;
  /** Blobs kept for later tasks (the next frame of the same job), besides those in use. */
  keep?: number;
}

export class BlobCache {
  private readonly verified = new Set<string>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly inUse = new Map<string, number>();
  private readonly idleMs: number;
  private readonly keep: number;

  constructor(private readonly o: BlobCacheOptions) {
    this.idleMs = o.idleTimeoutMs ?? 30_000;
    this.keep = o.keep ?? 4;
  }

  /**
   * The blob's path once it is here and checked; downloads what is missing. Two tasks of the same
   * scene share one download. Pair with `done(ref)` when the file is no longer needed.
   */
  async get(http: BlobHttp, ref: ContentRef, bytes: number): Promise<string> {
    const hex = hexOf(ref);
    this.inUse.set(hex, (this.inUse.get(hex) ?? 0) + 1);
    try {
      let pending = this.inFlight.get(hex);
      if (!pending) {
        pending = this.ensure(http, hex, bytes).finally(() => this.inFlight.delete(hex));
        this.inFlight.set(hex, pending);
      }
      return await pending;
    } catch (err) {
      this.done(ref);
      throw err;
    }
  }

  done(ref: ContentRef): void {
    const hex = hexOf(ref);
    const n = (this.inUse.get(hex) ?? 1) - 1;
    if (n > 0) this.inUse.set(hex, n);
    else this.inUse.delete(hex);
  }

  private async ensure(http: BlobHttp, hex: string, bytes: number): Promise<string> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const path = join(this.o.dir, hex);
    if ((await sizeOf(path)) !== null) {
      // Checked once per agent run: a file changed on disk since then is the user's own doing.
      if (this.verified.has(hex) || (await sha256File(path)) === hex) {
        this.verified.add(hex);
        const t = new Date();
        await utimes(path, t, t).catch(() => undefined);
        return path;
      }
      this.o.log.warn('a cached scene no longer matches its hash; downloading it again', { blob: hex });
      await rm(path, { force: true });
    }
    const part = `${path}.part`;
    await this.download(http, hex, part, bytes);
    const got = await sha256File(part);
    if (got !== hex) {
      await rm(part, { force: true });
      throw new HubRequestError('invalid', `the scene the hub sent does not match its hash (got sha256:${got.slice(0, 12)}…)`);
    }
    await rename(part, path);
    this.verified.add(hex);
    await this.prune();
    return path;
  }

  private async download(http: BlobHttp, hex: string, part: string, bytes: number): Promise<void> {
    let have = (await sizeOf(part)) ?? 0;
    if (have > bytes) have = 0;
    if (have === bytes && bytes > 0) return;
    let res: Response;
    try {
      res = await http.getRaw(`/v1/blobs/${hex}`, have > 0 ? { range: `bytes=${have}-` } : {});
    } catch (err) {
      // A part the hub does not recognise (416): start over.
      if (have > 0 && err instanceof HubRequestError && err.status === 416) {
        await rm(part, { force: true });
        return this.download(http, hex, part, bytes);
      }
      throw err;
    }
    if (res.status === 206) {
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
      if (start === undefined || Number(start) !== have) {
        await res.body?.cancel();
        throw new HubRequestError('invalid', 'the hub resumed the scene download from the wrong place');
      }
    } else {
      have = 0;
    }
    const declared = Number(res.headers.get('content-length') ?? 'NaN');
    if (Number.isFinite(declared) && have + declared > bytes) {
      await res.body?.cancel();
      throw new HubRequestError('invalid', `the scene is larger than the task said (${bytes} bytes)`);
    }
    const fh = await open(part, have > 0 ? 'a' : 'w', 0o600);
    const reader = res.body?.getReader();
    try {
      if (!reader) throw new HubRequestError('invalid', 'the hub sent no scene');
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new HubRequestError('timeout', `the scene download stalled for ${Math.round(this.idleMs / 1000)} s`)), this.idleMs);
        });
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await Promise.race([reader.read(), idle]);
        } catch (err) {
          if (err instanceof HubRequestError) throw err;
          throw new HubRequestError('unreachable', 'the scene download broke off');
        } finally {
          clearTimeout(timer);
        }
        if (chunk.done) break;
        have += chunk.value.byteLength;
        if (have > bytes) throw new HubRequestError('invalid', `the scene is larger than the task said (${bytes} bytes)`);
        await fh.write(chunk.value);
      }
    } catch (err) {
      await reader?.cancel().catch(() => undefined);
      // Too large is not worth resuming: the next try starts from nothing.
      if (err instanceof HubRequestError && err.kind === 'invalid') {
        await fh.close();
        await rm(part, { force: true });
      }
      throw err;
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (have < bytes) throw new HubRequestError('unreachable', `the scene download ended early (${have} of ${bytes} bytes); it resumes on the next try`);
  }

  /** Keeps the newest few blobs not in use; partial downloads stay for their resume. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.o.dir).catch(() => [] as string[])).filter((n) => BlobHex.safeParse(n).success && !this.inUse.has(n));
    const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.o.dir, n)).catch(() => null))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => b.t - a.t);
    for (const { n } of aged.slice(this.keep)) {
      this.verified.delete(n);
      await rm(join(this.o.dir, n), { force: true });
    }
  }
}

/**
 * Makes sure the hub holds the whole blob: asks what it has, sends the rest from that offset, and
 * asks again. An upload cut off halfway resumes from what the hub reports, never from zero.
 */
/** Bytes per PUT: the hub stops reading a request after 30 s, so a large result on a slow link goes
 * in pieces, each of which lands whole or resumes from the offset the hub reports. */
export const UPLOAD_PIECE_BYTES = 64 * 1024 * 1024;

export async function uploadBlob(http: BlobHttp, file: string, ref: ContentRef, bytes: number, pieceBytes = UPLOAD_PIECE_BYTES): Promise<void> {
  const hex = hexOf(ref);
  let offsetMoves = 0;
  /** Where the last PUT the hub took began, and how often since then its offset did not move on. */
  let lastPut: number | null = null;
  let stalls = 0;
  for (;;) {
    const status = await blobStatus(http, hex, ref);
    if (status.complete) {
      if (status.received !== bytes) throw new HubRequestError('invalid', `the hub says it holds ${status.received} bytes of a ${bytes}-byte result`);
      return;
    }
    if (status.received > bytes) throw new HubRequestError('invalid', `the hub says it holds ${status.received} bytes of a ${bytes}-byte result`);
    const from = status.received;
    // A hub that takes every PUT but never holds more would have this node upload forever.
    if (lastPut !== null && from <= lastPut && ++stalls > 4) throw new HubRequestError('invalid', 'the hub does not keep what is uploaded to it');
    const to = Math.min(bytes, from + pieceBytes);
    const body =
      to > from
        ? (Readable.toWeb(createReadStream(file, { start: from, end: to - 1 })) as ReadableStream<Uint8Array>)
        : new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    try {
      await http.putRaw(`/v1/blobs/${hex}?offset=${from}&length=${bytes}`, body, to - from);
    } catch (err) {
      // Another upload (ours, cut off earlier) moved the offset: ask again, a few times.
      if (err instanceof HubRequestError && err.code === 'upload_offset' && offsetMoves++ < 4) continue;
      // One still in progress at the hub (ours, given up on here): worth another try later, and not
      // the lease's conflict that ends a delivery.
      if (err instanceof HubRequestError && err.code === 'conflict') throw new HubRequestError('http', err.message, err.status, null);
      if (err instanceof HubRequestError && err.code === 'upload_offset') throw new HubRequestError('invalid', 'the hub kept asking for another offset');
      throw err;
    }
    lastPut = from;
  }
}

async function blobStatus(http: BlobHttp, hex: string, ref: ContentRef): Promise<BlobStatus> {
  let answer: unknown;
  try {
    answer = await http.get(`/v1/blobs/${hex}/status`);
  } catch (err) {
    if (err instanceof HubRequestError && err.status === 404) return { ref, received: 0, complete: false };
    throw err;
  }
  const status = BlobStatus.safeParse(answer);
  if (!status.success) throw new HubRequestError('invalid', "refused the hub's blob status answer");
  if (status.data.ref !== ref) throw new HubRequestError('invalid', "the hub's blob status names another blob");
  return status.data;
}
