// Wires the agent connection to the real browser: the page's own origin, fetch, WebSocket, and
// the token from the Electron preload, the URL fragment or session storage.
import { createAgentConnection, type AgentConnection } from './agent-connection.js';
import { captureFragmentToken, createTokenSource, findShell, type TokenStorage } from './token-source.js';

function sessionStorageOrNull(win: Window): TokenStorage | null {
  try {
    return win.sessionStorage;
  } catch {
    // Throws when storage is disabled for the page.
    return null;
  }
}

export function createBrowserConnection(win: Window): AgentConnection {
  const storage = sessionStorageOrNull(win);
  // First thing, before anything renders: the token must not stay in the address bar.
  captureFragmentToken(win.location, win.history, storage);
  return createAgentConnection({
    baseUrl: win.location.origin,
    fetch: (input, init) => win.fetch(input, init),
    openSocket: (url, protocols) => new WebSocket(url, protocols),
    tokens: createTokenSource({ shell: findShell(win), storage }),
  });
}
