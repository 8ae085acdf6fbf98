// The customer's HTTP client for a hub: blobs (content-addressed, resumable), render jobs and the
// operator's status view. Every answer is validated against the protocol schemas, every call has a
// timeout and every answer a size cap, so a broken or hostile hub yields a clear error, never a
// hang, a flood or a file written somewhere it should not be.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { BlobHex, BlobStatus, HubErrorBody, HubJobList, HubJobView, HubStatusView, RedeemResponse, type SubmitRenderJob } from '../protocol/index.js';
import { CliError, EXIT } from './api-client.js';

/** JSON answers are small; a job of 10,000 frames with failures is well under this. */
const MAX_JSON_BYTES = 32 * 1024 * 1024;
/** Uploads go in pieces of this size: each one is a point the upload can resume from. */
export const UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Per call for JSON; per chunk for uploads and downloads (a slow link still moves 4 MiB in this). */
const JSON_TIMEOUT_MS = 30_000;
const TRANSFER_IDLE_TIMEOUT_MS = 120_000;

export class HubCallError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    readonly status: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message, exitCode);
  }
}

export interface HubCustomerOptions {
  url: string;
  key: string;
  timeoutMs?: number;
}

export type Progress = (done: number) => void;

/** SHA-256 of a file, streamed (a multi-GiB scene never sits in memory). */
export async function hashFile(file: string, onProgress?: Progress): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onProgress?.(done);
  }
  return hash.digest('hex');
}

export class HubCustomer {
  readonly origin: string;
  private readonly key: string;
  private readonly timeoutMs: number;

  constructor(opts: HubCustomerOptions) {
    this.origin = new URL(opts.url).origin;
    this.key = opts.key;
    this.timeoutMs = opts.timeoutMs ?? JSON_TIMEOUT_MS;
  }

  private async send(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Response> {
    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    try {
      return await fetch(new URL(path, this.origin), {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...init.headers },
        ...(init.body !== undefined ? { body: init.body } : {}),
        // A redirect would carry the key to wherever the hub points.
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new HubCallError(`The hub at ${this.origin} did not answer within ${Math.round(timeoutMs / 1000)} s.`, EXIT.failed);
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new HubCallError(`Cannot reach the hub at ${this.origin}${cause ? ` (${cause})` : ''}: ${(err as Error).message}`, EXIT.failed);
    }
  }

  private async readCapped(res: Response, limit: number): Promise<Buffer> {
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > limit) {
      await res.body?.cancel();
      throw new HubCallError(`The hub's answer is too large (${declared} bytes).`, EXIT.failed);
    }
    const reader = res.body?.getReader();
    if (!reader) return Buffer.alloc(0);
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > limit) {
          await reader.cancel();
          throw new HubCallError("The hub's answer is too large.", EXIT.failed);
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof HubCallError) throw err;
      throw new HubCallError(`The hub's answer broke off: ${(err as Error).message}`, EXIT.failed);
    }
    return Buffer.concat(chunks);
  }

  /** The hub's error as a CliError with the right exit code. */
  private async refusal(res: Response): Promise<HubCallError> {
    let json: unknown = null;
    try {
      json = JSON.parse((await this.readCapped(res, 64 * 1024)).toString('utf8'));
    } catch {
      // Not JSON: the status alone says enough.
    }
    const body = HubErrorBody.safeParse(json);
    const words = body.success
      ? `${body.data.error.message.slice(0, 300)}${body.data.error.fields ? ` (${body.data.error.fields.slice(0, 5).map((f) => `${f.path}: ${f.message}`).join('; ')})` : ''}`
      : `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      return new HubCallError(`The hub at ${this.origin} refused the customer key: ${words}`, EXIT.unauthorized, res.status, body.success ? body.data.error.code : null);
    }
    return new HubCallError(`The hub refused: ${words}`, EXIT.failed, res.status, body.success ? body.data.error.code : null);
  }

  private async json<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw await this.refusal(res);
    const text = (await this.readCapped(res, MAX_JSON_BYTES)).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HubCallError(`The hub at ${this.origin} answered ${method} ${path} with something that is not JSON (is this an Offhours hub?).`, EXIT.failed);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HubCallError(`The hub at ${this.origin} sent an answer this CLI does not understand (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}); is it another version?`, EXIT.failed);
    }
    return parsed.data;
  }

  status(): Promise<HubStatusView> {
    return this.json('GET', '/v1/status', HubStatusView);
  }

  /** The operator's batch redemption (the hub sends it; the chain can take a while). */
  redeem(): Promise<RedeemResponse> {
    return this.json('POST', '/v1/payments/redeem', RedeemResponse, {});
  }

  submit(job: SubmitRenderJob): Promise<HubJobView> {
    return this.json('POST', '/v1/jobs', HubJobView, job);
  }

  job(id: string): Promise<HubJobView> {
    return this.json('GET', `/v1/jobs/${encodeURIComponent(id)}`, HubJobView);
  }

  cancel(id: string): Promise<HubJobView> {
    return this.json('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`, HubJobView, {});
  }

  jobs(): Promise<HubJobList> {
    return this.json('GET', '/v1/jobs', HubJobList);
  }

  /** What the hub holds of a blob; a blob it never heard of is `received: 0`. */
  async blobStatus(hex: string): Promise<BlobStatus> {
    BlobHex.parse(hex);
    const res = await this.send('GET', `/v1/blobs/${hex}/status`);
    if (res.status === 404) {
      await res.body?.cancel();
      return { ref: `sha256:${hex}`, received: 0, complete: false };
    }
    if (!res.ok) throw await this.refusal(res);
    const parsed = BlobStatus.safeParse(JSON.parse((await this.readCapped(res, 64 * 1024)).toString('utf8') || 'null'));
    if (!parsed.success || parsed.data.ref !== `sha256:${hex}`) throw new HubCallError(`The hub at ${this.origin} sent a blob status this CLI does not understand.`, EXIT.failed);
    return parsed.data;
  }

  /**
   * Uploads `file` as blob `hex`, from whatever the hub already holds. Reports the bytes the hub
   * holds as they grow. Returns the bytes this call sent (0 when the hub had it all).
   */
  async upload(file: string, hex: string, onProgress?: Progress, start?: BlobStatus): Promise<{ sent: number; resumedAt: number; size: number }> {
    const size = (await stat(file)).size;
    let status = start ?? (await this.blobStatus(hex));
    const resumedAt = status.complete ? size : status.received;
    let sent = 0;
    if (status.received > size) throw new HubCallError(`The hub says it holds ${status.received} bytes of a ${size}-byte file: not this file.`, EXIT.failed);
    const fh = await open(file, 'r');
    let conflicts = 0;
    try {
      let offset = status.received;
      onProgress?.(offset);
      while (!status.complete) {
        const length = Math.min(UPLOAD_CHUNK_BYTES, size - offset);
        const buf = Buffer.alloc(length);
        let read = 0;
        while (read < length) {
          const r = await fh.read(buf, read, length - read, offset + read);
          if (r.bytesRead === 0) throw new CliError(`${file} shrank while it was being uploaded.`, EXIT.failed);
          read += r.bytesRead;
        }
        const res = await this.send('PUT', `/v1/blobs/${hex}?offset=${offset}&length=${size}`, {
          body: buf,
          headers: { 'content-type': 'application/octet-stream' },
          timeoutMs: TRANSFER_IDLE_TIMEOUT_MS,
        });
        if (!res.ok) {
          const err = await this.refusal(res);
          // Someone else (or an earlier run of ours) moved the offset: ask where it stands and go on.
          if (err.code === 'upload_offset' && conflicts++ < 5) {
            status = await this.blobStatus(hex);
            if (status.received > size) throw new HubCallError(`The hub says it holds ${status.received} bytes of a ${size}-byte file: not this file.`, EXIT.failed);
            offset = status.received;
            continue;
          }
          if (err.code === 'digest_mismatch') throw new HubCallError(`The hub says the uploaded bytes do not hash to ${hex}: was ${file} changed during the upload? ${err.message}`, EXIT.failed);
          throw err;
        }
        await this.readCapped(res, 64 * 1024).catch(() => undefined);
        sent += length;
        offset += length;
        onProgress?.(offset);
        if (offset >= size) status = await this.blobStatus(hex);
      }
    } finally {
      await fh.close();
    }
    return { sent, resumedAt, size };
  }

  /**
   * Downloads blob `hex` into `part`, resuming what is already there with a Range request, and
   * checks the SHA-256. At most `maxBytes` are accepted. Returns whether the file verified (a
   * mismatching file is removed by the caller and fetched again from scratch).
   */
  async download(hex: string, part: string, maxBytes: number, onProgress?: Progress): Promise<{ bytes: number; verified: boolean; resumedAt: number }> {
    BlobHex.parse(hex);
    let have: number;
    try {
      have = (await stat(part)).size;
    } catch {
      have = 0;
    }
    if (have > maxBytes) have = 0;
    const res = await this.send('GET', `/v1/blobs/${hex}`, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, timeoutMs: TRANSFER_IDLE_TIMEOUT_MS });
    let resumedAt = have;
    if (res.status === 416) {
      // The part file already holds everything the hub has.
      await res.body?.cancel();
    } else {
      if (!res.ok) throw await this.refusal(res);
      if (res.status !== 206) resumedAt = 0;
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (resumedAt + declared > maxBytes) {
        await res.body?.cancel();
        throw new HubCallError(`The hub offers ${resumedAt + declared} bytes for a blob that should be at most ${maxBytes}.`, EXIT.failed);
      }
      const fh = await open(part, resumedAt > 0 ? 'a' : 'w');
      let written = resumedAt;
      try {
        const reader = res.body?.getReader();
        if (reader) {
          for (;;) {
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (err) {
              throw new HubCallError(`The download of ${hex} broke off after ${written} bytes (run fetch again to resume): ${(err as Error).message}`, EXIT.failed);
            }
            if (chunk.done) break;
            written += chunk.value.byteLength;
            if (written > maxBytes) {
              await reader.cancel();
              throw new HubCallError(`The hub sent more than the ${maxBytes} bytes this blob has.`, EXIT.failed);
            }
            await fh.write(chunk.value);
            onProgress?.(written);
          }
        }
      } finally {
        await fh.close();
      }
    }
    const digest = await hashFile(part);
    return { bytes: (await stat(part)).size, verified: digest === hex, resumedAt };
  }
}
