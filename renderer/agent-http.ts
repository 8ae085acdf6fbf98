// Requests to the agent's HTTP API, with every response checked against the protocol schemas.
// Failures come back as one typed error so the connection can decide what each one means for the UI.
import type { z } from 'zod';
import { API_PREFIX, ApiError, type FieldError } from '../protocol/index.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type AgentFailure =
  | { kind: 'unauthorized'; message: string }
  /** The request never got an answer: the agent is not running, restarting, or the network dropped. */
  | { kind: 'unreachable'; message: string }
  /** The agent answered with an API error it meant (400 invalid_request, 409 consent_required…). */
  | { kind: 'rejected'; status: number; code: string; message: string; fields?: FieldError[] }
  | { kind: 'server'; status: number; message: string }
  /** The agent answered, but not with what the protocol says: a version mismatch or a bug. */
  | { kind: 'invalid-response'; message: string };

export class AgentRequestError extends Error {
  constructor(readonly failure: AgentFailure) {
    super(failure.message);
    this.name = 'AgentRequestError';
  }
}

export function failureOf(error: unknown): AgentFailure {
  if (error instanceof AgentRequestError) return error.failure;
  return { kind: 'invalid-response', message: error instanceof Error ? error.message : String(error) };
}

export type Method = 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';

export interface AgentHttp {
  request<S extends z.ZodType>(token: string, method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
  /** A GET whose answer is not JSON (a CSV download): the text as it came, errors as for request(). */
  text(token: string, path: string): Promise<string>;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unknown difference';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  return `${where}: ${issue.message}`;
}

async function readJson(res: Response): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    const text = await res.text();
    return { ok: true, value: text === '' ? undefined : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

async function send(fetchFn: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    // Status changes under us; a cached answer would show the past as the present.
    return await fetchFn(url, { ...init, cache: 'no-store' });
  } catch {
    throw new AgentRequestError({ kind: 'unreachable', message: 'Could not reach the Offhours agent.' });
  }
}

/** Throws the failure an answer that is not OK stands for. */
function rejectAnswer(res: Response, json: { ok: true; value: unknown } | { ok: false }): never {
  if (res.status === 401) {
    throw new AgentRequestError({ kind: 'unauthorized', message: 'The agent did not accept this access token.' });
  }
  const apiError = json.ok ? ApiError.safeParse(json.value) : undefined;
  if (res.status >= 500) {
    const message = apiError?.success ? apiError.data.error.message : `The agent failed with HTTP ${res.status}.`;
    throw new AgentRequestError({ kind: 'server', status: res.status, message });
  }
  if (apiError?.success) {
    const { code, message, fields } = apiError.data.error;
    throw new AgentRequestError({ kind: 'rejected', status: res.status, code, message, ...(fields ? { fields } : {}) });
  }
  throw new AgentRequestError({
    kind: 'rejected',
    status: res.status,
    code: `http_${res.status}`,
    message: `The agent refused the request (HTTP ${res.status}).`,
  });
}

export function createAgentHttp(fetchFn: FetchLike, baseUrl: string): AgentHttp {
  return {
    async request(token, method, path, schema, body) {
      const url = new URL(`${API_PREFIX}${path}`, baseUrl).toString();
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await send(fetchFn, url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await readJson(res);
      if (res.status === 401 || !res.ok) rejectAnswer(res, json);
      const parsed = json.ok ? schema.safeParse(json.value) : undefined;
      if (parsed?.success) return parsed.data;
      const detail = parsed ? describeIssue(parsed.error) : 'not JSON';
      throw new AgentRequestError({
        kind: 'invalid-response',
        message: `The agent answered ${method} ${API_PREFIX}${path} with something this dashboard does not understand (${detail}).`,
      });
    },
    async text(token, path) {
      const url = new URL(`${API_PREFIX}${path}`, baseUrl).toString();
      const res = await send(fetchFn, url, { method: 'GET', headers: { Authorization: `Bearer ${token}`, Accept: 'text/csv, application/json' } });
      if (res.ok) {
        try {
          return await res.text();
        } catch {
          throw new AgentRequestError({ kind: 'unreachable', message: 'The download from the Offhours agent broke off.' });
        }
      }
      rejectAnswer(res, await readJson(res));
    },
  };
}
