// Reading and answering requests without a framework: bodies capped and parsed defensively, every
// failure an HttpError that becomes the API's error body, never an exception that escapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { HubErrorBody, HubErrorCode } from '../../protocol/index.js';

/** Far above any v1 body (the largest is a 1,000-task batch); results travel elsewhere. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HubErrorCode,
    message: string,
    readonly fields?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new HttpError(413, 'body_too_large', `bodies are limited to ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        // Stop buffering but let the rest drain, so the 413 reaches a client still sending.
        req.resume();
        reject(new HttpError(413, 'body_too_large', `bodies are limited to ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // The client hung up mid-body: its fault, not an internal error (nor a log line with a stack).
    req.once('error', () => reject(new HttpError(400, 'bad_request', 'the request body was cut short')));
  });
}

export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    await readBody(req).catch(() => undefined);
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  const raw = await readBody(req);
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not valid JSON');
  }
  return parseWith(schema, data, 'invalid_body', 'the body does not match the schema');
}

export function parseWith<T>(schema: z.ZodType<T>, data: unknown, code: HubErrorCode, message: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const fields = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  throw new HttpError(400, code, message, fields);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  const body: HubErrorBody = { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } };
  // After a refused oversized body the connection may still carry its rest: close it.
  if (err.status === 413) res.setHeader('connection', 'close');
  sendJson(res, err.status, body);
}

export function bearer(req: IncomingMessage): string | null {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}
