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

export interface HubHttp extends HubFetch {
  /** Sends a session token with each call while one is set. */
  setToken(token: string | null): void;
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

/** `stop` aborts a call in flight, so removing a hub does not wait out a slow one. */
export function hubHttp(origin: string, timeoutMs: number, stop: AbortSignal): HubHttp {
  let token: string | null = null;
  return {
    origin,
    setToken(t) {
      token = t;
    },
    async post(path, body) {
      let res: Response;
      try {
        res = await fetch(new URL(path, origin), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
          redirect: 'error',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
        });
      } catch (err) {
        const name = (err as Error).name;
        if (stop.aborted) throw new HubRequestError('unreachable', 'the client was stopped');
        if (name === 'TimeoutError' || name === 'AbortError') throw new HubRequestError('timeout', `the hub did not answer within ${Math.round(timeoutMs / 1000)} s`);
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        throw new HubRequestError('unreachable', `the hub cannot be reached${cause ? ` (${cause})` : ''}`);
      }
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
    },
  };
}
