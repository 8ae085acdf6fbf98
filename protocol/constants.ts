// Constants every side of the agent API agrees on. Pure: this module also runs in the browser.

/** The agent's default loopback port. Fixed so the CLI, the app and bookmarks find it; `--port 0` picks a free one. */
export const DEFAULT_AGENT_PORT = 47_823;
export const API_PREFIX = '/api/v1';
export const API_VERSION = 1;

/** Files inside the data directory. Names are fixed here so main, the CLI and the agent agree. */
export const DATA_FILES = {
  token: 'api-token',
  lock: 'agent.lock',
  /** Written by the running agent: where it listens (port 0 picks one). */
  runtime: 'agent.json',
  settings: 'settings.json',
  logsDir: 'logs',
  historyDir: 'history',
  /** Each device's last benchmark (small; rewritten whole). */
  renderBenchmarks: 'render-benchmarks.json',
  /** The user's electricity tariffs (a dynamic price table can be large: not in settings.json). */
  tariffs: 'tariffs.json',
  /** The last runs' energy and cost, for the Power page and the profit figures (small). */
  recentRuns: 'recent-runs.json',
} as const;

/** WebSocket subprotocols: the first names the protocol, the optional second carries the token
 * (browsers cannot set an Authorization header on a WebSocket; a query string lands in logs). */
export const WS_PROTOCOL = 'offhours.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'offhours.token.';

/** The page reads the token from this fragment key and moves it into session storage. */
export const TOKEN_FRAGMENT_KEY = 'token';
export const TOKEN_SESSION_KEY = 'offhours.token';

/** The version of the first-run text the user consented to; bump it when what Offhours runs changes. */
export const CONSENT_VERSION = 1;

/** Agent exit codes that its parent (Electron main, a service manager) acts on. */
export const AGENT_EXIT = {
  ok: 0,
  failed: 1,
  badArguments: 2,
  /** Another agent holds the data directory's lock: restarting would not help. */
  lockHeld: 3,
} as const;
