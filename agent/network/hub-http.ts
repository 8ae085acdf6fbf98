// HTTP to one hub: JSON in, JSON out, a timeout on every call, and a size limit on answers, so a
// slow or hostile hub can delay this node's client but never hang or flood it. Errors come back as
// HubRequestError with the status and the hub's own code and words where it gave them.
import { HubErrorBody } from '../../protocol/index.js';
import type { HubFetch } from '../wallet/sign-in.js';

/** Hub answers are small JSON documents; anything larger is not one. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export type HubFailureKind = 'unreachable' | 'timeout' | 'http' | 'invalid';

export class HubRequestError extends Error {
  constructor(
    readonly kind: HubFailureKind,
    message: string,
    readonly status: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'HubRequestError';
  }
}

/** The first thing wrong with a hub answer that failed its schema, for the refusal's words. */
export function firstIssue(e: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const i = e.issues[0];
  return i ? `${i.path.map(String).join('.') || '(body)'}: ${i.message}` : 'unknown';
}

export interface HubHttp extends HubFetch {
  /** Sends a session token with each call while one is set. */
  setToken(token: string | null): void;
  /** A GET with a JSON answer. */
  get(path: string): Promise<unknown>;
  /**
   * A GET whose body is bytes (a blob): resolves once the headers are in (within the timeout); the
   * caller reads the body with `idleTimeoutMs` between chunks, since a large blob may take far
   * longer than one request's timeout. A refusal (not 2xx) throws like `post`.
   */
  getRaw(path: string, headers?: Record<string, string>): Promise<Response>;
  /** A PUT of raw bytes with a JSON answer; the limit grows with the size, as an upload takes time. */
  putRaw(path: string, body: ReadableStream<Uint8Array>, length: number, contentType?: string): Promise<unknown>;
}

async function readCapped(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new HubRequestError('invalid', `the hub's answer is too large (${declared} bytes)`);
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new HubRequestError('invalid', 'the hub\'s answer is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An upload may take this long per MiB on top of the request timeout (a slow home uplink). */
const UPLOAD_MS_PER_MIB = 20_000;

/** Why a fetch threw, as a HubRequestError. */
function fetchFailure(err: unknown, stop: AbortSignal, limitMs: number): HubRequestError {
  const name = (err as Error).name;
  if (stop.aborted) return new HubRequestError('unreachable', 'the client was stopped');
  if (name === 'TimeoutError' || name === 'AbortError') return new HubRequestError('timeout', `the hub did not answer within ${Math.round(limitMs / 1000)} s`);
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return new HubRequestError('unreachable', `the hub cannot be reached${cause ? ` (${cause})` : ''}`);
}

/** The JSON answer of a request, or the hub's refusal as a HubRequestError. */
async function jsonAnswer(res: Response): Promise<unknown> {
  let text: string;
  try {
    text = await readCapped(res);
  } catch (err) {
    if (err instanceof HubRequestError) throw err;
    throw new HubRequestError('unreachable', 'the hub\'s answer broke off');
  }
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new HubRequestError(res.ok ? 'invalid' : 'http', res.ok ? 'the hub\'s answer is not JSON' : `the hub refused the request (HTTP ${res.status})`, res.ok ? null : res.status);
  }
  if (res.ok) return json;
  const error = HubErrorBody.safeParse(json);
  const words = error.success ? error.data.error.message.slice(0, 300) : `HTTP ${res.status}`;
  throw new HubRequestError('http', `the hub refused the request: ${words}`, res.status, error.success ? error.data.error.code : null);
}

/** `stop` aborts a call in flight, so removing a hub does not wait out a slow one. */
export function hubHttp(origin: string, timeoutMs: number, stop: AbortSignal): HubHttp {
  let token: string | null = null;
  const auth = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return {
    origin,
    setToken(t) {
      token = t;
    },
    async get(path) {
      let res: Response;
      try {
        res = await fetch(new URL(path, origin), {
          method: 'GET',
          headers: { accept: 'application/json', ...auth() },
          redirect: 'error',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
        });
      } catch (err) {
        throw fetchFailure(err, stop, timeoutMs);
      }
      return jsonAnswer(res);
    },
    async getRaw(path, headers = {}) {
      const headersIn = new AbortController();
      const timer = setTimeout(() => headersIn.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
      let res: Response;
      try {
        res = await fetch(new URL(path, origin), {
          method: 'GET',
          headers: { accept: 'application/octet-stream', ...auth(), ...headers },
          redirect: 'error',
          // Only until the headers arrive: the body is read under the caller's idle timeout.
          signal: AbortSignal.any([headersIn.signal, stop]),
        });
      } catch (err) {
        throw fetchFailure(err, stop, timeoutMs);
      } finally {
        clearTimeout(timer);
      }
      if (!res.ok) await jsonAnswer(res);
      return res;
    },
    async putRaw(path, body, length, contentType = 'application/octet-stream') {
      const limitMs = timeoutMs + Math.ceil((length / 1024 ** 2) * UPLOAD_MS_PER_MIB);
      let res: Response;
      try {
        res = await fetch(new URL(path, origin), {
          method: 'PUT',
          headers: { 'content-type': contentType, accept: 'application/json', ...auth() },
          body,
          duplex: 'half',
          redirect: 'error',
          signal: AbortSignal.any([AbortSignal.timeout(limitMs), stop]),
        } as RequestInit);
      } catch (err) {
        throw fetchFailure(err, stop, limitMs);
      }
      return jsonAnswer(res);
    },
    async post(path, body) {
      let res: Response;
      try {
        res = await fetch(new URL(path, origin), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...auth() },
          body: JSON.stringify(body),
          redirect: 'error',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
        });
      } catch (err) {
        throw fetchFailure(err, stop, timeoutMs);
      }
      return jsonAnswer(res);
    },
  };
}
