// The content-addressed blob store: scenes customers upload, frames nodes render. A blob lives at
// blobs/<hex> once whole and checked; until then each uploader has its own partial file, so two
// uploaders of the same bytes never interleave their writes, and a stranger cannot append to (or
// learn the progress of) someone else's upload. Completion hashes the whole partial and renames it
// into place only when the digest matches the name: a blob under its name is always those bytes.
//
// Every hex reaching this file has passed BlobHex (64 lowercase hex digits), so no path built here
// can leave the store.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { open, readdir, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobHex, type BlobStatus } from '../protocol/index.js';

/** 2 GiB: a large scene with its textures packed, far above any rendered frame. */
export const MAX_BLOB_BYTES = 2 * 1024 ** 3;

export class BlobError extends Error {
  constructor(
    readonly kind: 'offset' | 'digest' | 'too_large' | 'busy' | 'bad_request',
    message: string,
    /** For 'offset': what the hub holds. */
    readonly held = 0,
  ) {
    super(message);
  }
}

const exists = async (path: string): Promise<number | null> => {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
};

const WRITING = new Set<string>();

export class Blobs {
  readonly dir: string;
  private readonly partialDir: string;
  /**
   * Partial files with a PUT writing to them now: a second writer would corrupt the first. Shared
   * by every Blobs in the process, since several services may open the same directory.
   */
  private readonly writing = WRITING;

  constructor(
    dataDir: string,
    readonly maxBytes = MAX_BLOB_BYTES,
  ) {
    this.dir = join(dataDir, 'blobs');
    this.partialDir = join(this.dir, 'partial');
    mkdirSync(this.partialDir, { recursive: true, mode: 0o700 });
  }

  private path(hex: string): string {
    return join(this.dir, BlobHex.parse(hex));
  }

  private partial(uploader: string, hex: string): string {
    // A hash of the uploader's identity, not the identity itself: file names end up in listings.
    const who = createHash('sha256').update(uploader).digest('hex').slice(0, 16);
    return join(this.partialDir, `${who}-${BlobHex.parse(hex)}`);
  }

  /** The size of a complete blob, or null. */
  size(hex: string): Promise<number | null> {
    return exists(this.path(hex));
  }

  async status(uploader: string, hex: string): Promise<BlobStatus> {
    const full = await this.size(hex);
    if (full !== null) return { ref: `sha256:${hex}`, received: full, complete: true };
    return { ref: `sha256:${hex}`, received: (await exists(this.partial(uploader, hex))) ?? 0, complete: false };
  }

  async read(hex: string): Promise<Buffer | null> {
    const path = this.path(hex);
    const size = await exists(path);
    if (size === null) return null;
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await fh.read(buf, at, size - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return buf.subarray(0, at);
    } finally {
      await fh.close();
    }
  }

  /** A stream of a complete blob from `start`, with its total size; null when there is no such blob. */
  async openRead(hex: string, start = 0): Promise<{ size: number; stream: () => Readable } | null> {
    const path = this.path(hex);
    const size = await exists(path);
    if (size === null) return null;
    return { size, stream: () => createReadStream(path, { start }) };
  }

  /**
   * Deletes uploads nobody has added to for `olderThanMs` (a week by default): an abandoned upload
   * would otherwise hold its disk for ever. File times, not the hub's clock: they are the disk's.
   */
  async sweepPartials(olderThanMs = PARTIAL_TTL_MS): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await readdir(this.partialDir).catch(() => [] as string[])) {
      const path = join(this.partialDir, name);
      if (this.writing.has(path)) continue;
      try {
        if ((await stat(path)).mtimeMs < cutoff) {
          await unlink(path);
          removed++;
        }
      } catch {
        // Renamed into place or removed meanwhile.
      }
    }
    return removed;
  }

  /**
   * Appends `body` at `offset` of this uploader's upload of `hex`, whose whole size is `length`.
   * The bytes that arrive are kept even when the client goes away mid-body: that is what it
   * resumes from. `declared` is the request's Content-Length, if it gave one.
   */
  async put(uploader: string, hex: string, offset: number, length: number, body: Readable, declared: number | null): Promise<BlobStatus> {
    const full = await this.size(hex);
    if (full !== null) {
      body.resume();
      return { ref: `sha256:${hex}`, received: full, complete: true };
    }
    if (length > this.maxBytes) throw new BlobError('too_large', `blobs are limited to ${this.maxBytes} bytes`);
    const path = this.partial(uploader, hex);
    if (this.writing.has(path)) throw new BlobError('busy', 'an upload of this blob by you is still in progress; ask for its status and resume once it ends');
    this.writing.add(path);
    try {
      const held = (await exists(path)) ?? 0;
      if (offset !== held) throw new BlobError('offset', `the hub holds ${held} bytes of this upload: resume at offset=${held}`, held);
      if (offset > length) throw new BlobError('bad_request', 'offset is past length');
      if (declared !== null && offset + declared > length) throw new BlobError('bad_request', `the body runs past length (${offset} + ${declared} > ${length})`);
      const wrote = await appendTo(path, offset, length - offset, body);
      if (wrote === 'overrun') {
        // This request's bytes are dropped: the upload stands as it was before it.
        await (offset === 0 ? unlink(path) : truncate(path, offset)).catch(() => {});
        throw new BlobError('bad_request', `the body runs past length ${length}`);
      }
      const received = offset + wrote;
      if (received < length) return { ref: `sha256:${hex}`, received, complete: false };
      const digest = await hashFile(path);
      if (digest !== hex) {
        await unlink(path).catch(() => {});
        throw new BlobError('digest', `the ${length} bytes received hash to sha256:${digest}, not to this blob's name; the upload was discarded`);
      }
      await rename(path, this.path(hex));
      await fsyncDir(this.dir);
      return { ref: `sha256:${hex}`, received: length, complete: true };
    } finally {
      this.writing.delete(path);
    }
  }
}

export const PARTIAL_TTL_MS = 7 * 24 * 3600_000;

/** Writes what the body carries (at most `room` bytes) at `offset`, fsynced; 'overrun' past room. */
async function appendTo(path: string, offset: number, room: number, body: Readable): Promise<number | 'overrun'> {
  const fh = await open(path, offset === 0 ? 'w' : 'r+', 0o600);
  let wrote = 0;
  let overrun = false;
  try {
    const out = createWriteStream('', { fd: fh.fd, start: offset, autoClose: false });
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        body.off('data', onData);
        // What was handed to the stream is written before the answer, whatever became of the client.
        out.end(() => resolve());
      };
      const onData = (chunk: Buffer) => {
        if (wrote + chunk.length > room) {
          overrun = true;
          body.resume();
          done();
          return;
        }
        wrote += chunk.length;
        if (!out.write(chunk)) {
          body.pause();
          out.once('drain', () => body.resume());
        }
      };
      body.on('data', onData);
      body.once('end', done);
      // A client that hangs up mid-body: keep what came, so it can resume from there.
      body.once('error', done);
      body.once('aborted', done);
      body.once('close', done);
      out.once('error', done);
    });
    await fh.sync();
  } finally {
    await fh.close();
  }
  return overrun ? 'overrun' : wrote;
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** A rename is durable only once its directory is synced. */
async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform can open a directory for sync (Windows); the rename itself stands.
  }
}
