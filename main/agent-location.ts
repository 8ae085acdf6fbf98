// Where the agent listens, from its 'ready' message or from the agent.json it writes. The window
// loads whatever origin this returns and hands that origin the API token, so only a plain-http
// loopback origin is ever accepted: never a remote host, never a path or credentials.
import { AgentRuntime } from '../protocol/api.js';

/** `http://127.0.0.1:PORT` for a loopback agent URL, else null. `port`, when given, must match. */
export function loopbackOrigin(url: string, port?: number): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  if (parsed.port === '') return null;
  if (port !== undefined && Number(parsed.port) !== port) return null;
  return parsed.origin;
}

export interface AgentEndpoint {
  origin: string;
  /** The dashboard URL to load: the origin's root, whatever path the agent reported. */
  url: string;
  pid?: number;
}

export function endpointFromRuntimeFile(json: unknown): AgentEndpoint | null {
  const parsed = AgentRuntime.safeParse(json);
  if (!parsed.success) return null;
  const origin = loopbackOrigin(parsed.data.url, parsed.data.port);
  return origin === null ? null : { origin, url: `${origin}/`, pid: parsed.data.pid };
}

export function endpointFromReady(url: string, port: number): AgentEndpoint | null {
  const origin = loopbackOrigin(url, port);
  return origin === null ? null : { origin, url: `${origin}/` };
}
