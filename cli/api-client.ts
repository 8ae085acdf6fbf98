// The CLI's client for a running agent: finds it through the data directory (agent.json for the
// port, the token file for auth), like the app does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { API_PREFIX, AgentRuntime, ApiError, DATA_FILES, DEFAULT_AGENT_PORT } from '../protocol/index.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, noAgent: 3, unauthorized: 4 } as const;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface AgentEndpoint {
  baseUrl: string;
  token: string;
}

export function findAgent(dataDir: string): AgentEndpoint {
  let port = DEFAULT_AGENT_PORT;
  let raw: unknown = null;
  try {
    raw = JSON.parse(readFileSync(join(dataDir, DATA_FILES.runtime), 'utf8'));
  } catch {
    // No runtime file: the agent is not running here; the default port is the only guess left.
  }
  if (raw !== null) {
    const runtime = AgentRuntime.safeParse(raw);
    if (!runtime.success) throw new CliError(`The agent's runtime file in ${dataDir} is damaged; restart the agent.`, EXIT.failed);
    // A runtime file left by an agent that crashed names a port someone else may now hold: never
    // send them the token.
    if (!processAlive(runtime.data.pid)) {
      throw new CliError(`No Offhours agent is running for the data directory ${dataDir} (the last one, pid ${runtime.data.pid}, has stopped). Start one with "offhours agent", or open the app.`, EXIT.noAgent);
    }
    port = runtime.data.port;
  }
  let token: string;
  try {
    token = readFileSync(join(dataDir, DATA_FILES.token), 'utf8').trim();
  } catch {
    throw new CliError(`No Offhours agent has run with the data directory ${dataDir} (no API token there). Start one with "offhours agent".`, EXIT.noAgent);
  }
  return { baseUrl: `http://127.0.0.1:${port}`, token };
}

export async function callAgent<T>(
  endpoint: AgentEndpoint,
  dataDir: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  schema: z.ZodType<T>,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${endpoint.baseUrl}${API_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${endpoint.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') {
      throw new CliError(`No Offhours agent is running for the data directory ${dataDir} (nothing listens on ${endpoint.baseUrl}). Start one with "offhours agent", or open the app.`, EXIT.noAgent);
    }
    throw new CliError(`Could not reach the agent at ${endpoint.baseUrl}: ${(err as Error).message}`, EXIT.failed);
  }
  const json: unknown = await res.json().catch(() => null);
  if (res.status === 401) throw new CliError(`The agent at ${endpoint.baseUrl} refused the token in ${dataDir}. Is it running with another data directory?`, EXIT.unauthorized);
  if (!res.ok) {
    const err = ApiError.safeParse(json);
    const detail = err.success ? `${err.data.error.message}${err.data.error.fields ? ` (${err.data.error.fields.map((f) => `${f.path}: ${f.message}`).join('; ')})` : ''}` : `HTTP ${res.status}`;
    throw new CliError(`The agent refused: ${detail}`, EXIT.failed);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CliError(`The agent sent an answer this CLI does not understand (version mismatch?): ${parsed.error.issues[0]?.message}`, EXIT.failed);
  return parsed.data;
}
