// Where the dashboard gets the agent's access token. The token is a bearer secret, so it never goes
// in a URL the page keeps: the Electron preload hands it over directly, and a browser gets it once
// in the fragment of the link the agent prints, which this module moves into session storage.
import { TOKEN_FRAGMENT_KEY, TOKEN_SESSION_KEY } from '../protocol/index.js';

export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface LocationLike {
  readonly hash: string;
  readonly pathname: string;
  readonly search: string;
}

export interface HistoryLike {
  readonly state: unknown;
  replaceState(data: unknown, unused: string, url?: string | URL | null): void;
}

/** What the Electron preload exposes on `window.offhoursShell` (contextBridge). */
export interface ShellBridge {
  getToken(): Promise<string>;
}

export interface TokenSource {
  read(): Promise<string | null>;
  /** A token the user pasted: it wins over every other source for the rest of the session.
   * Returns false for a string that cannot be a token. */
  save(token: string): boolean;
}

/** The agent's tokens are short printable strings; the events socket refuses anything over 256 chars. */
export function cleanToken(raw: string | null | undefined): string | null {
  const token = raw?.trim();
  if (!token || token.length > 256 || /\s/.test(token)) return null;
  return token;
}

/** Moves `#token=…` into session storage and rewrites the URL without it, so the token does not
 * stay in the address bar, in history, or in a bookmark. Returns whether a token was found. */
export function captureFragmentToken(location: LocationLike, history: HistoryLike, storage: TokenStorage | null): boolean {
  const fragment = location.hash.replace(/^#/, '');
  if (fragment === '' || fragment.startsWith('/')) return false;
  const params = new URLSearchParams(fragment);
  if (!params.has(TOKEN_FRAGMENT_KEY)) return false;
  const token = cleanToken(params.get(TOKEN_FRAGMENT_KEY));
  // Replace the entry even for an unusable token: a secret-looking string should not linger either.
  history.replaceState(history.state, '', `${location.pathname}${location.search}#/overview`);
  if (!token) return false;
  try {
    storage?.setItem(TOKEN_SESSION_KEY, token);
  } catch {
    // Storage can be disabled; the token is then lost on reload and the user opens the link again.
  }
  return true;
}

/** Finds the preload's bridge without trusting its shape: the page may also run in a plain browser. */
export function findShell(win: unknown): ShellBridge | undefined {
  const shell = (win as { offhoursShell?: unknown } | undefined)?.offhoursShell;
  if (typeof shell === 'object' && shell !== null && typeof (shell as ShellBridge).getToken === 'function') {
    return shell as ShellBridge;
  }
  return undefined;
}

export function createTokenSource(options: { shell?: ShellBridge | undefined; storage: TokenStorage | null }): TokenSource {
  const { shell, storage } = options;
  let pasted: string | null = null;

  const fromStorage = (): string | null => {
    try {
      return cleanToken(storage?.getItem(TOKEN_SESSION_KEY));
    } catch {
      return null;
    }
  };

  return {
    async read() {
      if (pasted) return pasted;
      if (shell) {
        try {
          const token = cleanToken(await shell.getToken());
          if (token) return token;
        } catch {
          // A shell that cannot hand over a token leaves the other sources, then the "not authorized" screen.
        }
      }
      return fromStorage();
    },
    save(token) {
      const clean = cleanToken(token);
      if (!clean) return false;
      pasted = clean;
      try {
        storage?.setItem(TOKEN_SESSION_KEY, clean);
      } catch {
        // Kept in memory for this page only.
      }
      return true;
    },
  };
}
