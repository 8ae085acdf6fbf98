// The window's security wiring, applied to every webContents and to the session. The dashboard is
// a web page served over loopback; whatever it runs must not reach Node, other sites, devices or
// new windows, and only the agent's own origin may ask main for the API token.
// Structural types stand in for Electron's so tests can pass fakes; main.ts passes the real ones.
import { dashboardCsp } from '../protocol/csp.js';

export const TOKEN_CHANNEL = 'offhours:get-token';

/** https origins that links in the dashboard may open in the user's browser. Empty on purpose:
 * add an origin only with a reason, since the page decides which URL on it opens. */
export const EXTERNAL_ALLOW_LIST: readonly string[] = [];

/** Returns the agent's origin, or null while no agent is known. It changes when the agent restarts
 * on another port, so it is read at each check, never captured. */
export type OriginSource = () => string | null;

export function isAgentUrl(url: string, agentOrigin: OriginSource): boolean {
  const origin = agentOrigin();
  if (origin === null) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

export function isAllowedExternal(url: string, allowList: readonly string[]): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && allowList.includes(parsed.origin);
  } catch {
    return false;
  }
}

export interface PreventableEvent {
  preventDefault(): void;
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface ExternalLinks {
  allowList: readonly string[];
  openExternal(url: string): Promise<void> | void;
}

export function secureWebContents(contents: WebContentsLike, agentOrigin: OriginSource, external: ExternalLinks): void {
  const guard = (event: PreventableEvent, url: string): void => {
    if (!isAgentUrl(url, agentOrigin)) event.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  // <webview> would embed arbitrary pages with their own preferences; the dashboard has no use for it.
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url, external.allowList)) void external.openExternal(url);
    return { action: 'deny' };
  });
}

export interface HeadersDetails {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionLike {
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  webRequest: {
    onHeadersReceived(
      listener: (details: HeadersDetails, callback: (response: { responseHeaders?: Record<string, string | string[]> }) => void) => void,
    ): void;
  };
}

/** Response headers with our CSP replacing any the server sent (header names are case-insensitive). */
export function withDashboardCsp(headers: Record<string, string[]> | undefined, origin: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [dashboardCsp(origin)];
  return out;
}

const CLIPBOARD_WRITE = 'clipboard-sanitized-write';

export function secureSession(session: SessionLike, agentOrigin: OriginSource): void {
  // Camera, notifications, clipboard reads, HID, serial…: the dashboard needs none of them. Writing
  // plain text to the clipboard is the one exception: "Copy voucher" on the Networks page. It can
  // only put text there, never read it back.
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === CLIPBOARD_WRITE));
  session.setPermissionCheckHandler((_contents, permission) => permission === CLIPBOARD_WRITE);
  // The agent sends the same CSP; enforcing it here too means a bug or an old agent cannot loosen it.
  session.webRequest.onHeadersReceived((details, callback) => {
    const origin = agentOrigin();
    if (origin !== null && isAgentUrl(details.url, agentOrigin)) {
      callback({ responseHeaders: withDashboardCsp(details.responseHeaders, origin) });
    } else {
      callback({});
    }
  });
}

export interface FrameLike {
  url: string;
  parent: unknown;
}

export interface IpcInvokeEventLike {
  senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
}

/** Only the top frame of a page on the agent's origin gets the token: not an iframe, not a page
 * that navigated elsewhere (navigation is denied, but this must not depend on it). */
export function isTrustedSender(event: IpcInvokeEventLike, agentOrigin: OriginSource): boolean {
  const frame = event.senderFrame;
  if (frame === null || frame.parent !== null) return false;
  return isAgentUrl(frame.url, agentOrigin);
}

export function registerTokenIpc(ipcMain: IpcMainLike, agentOrigin: OriginSource, readToken: () => Promise<string>): void {
  ipcMain.handle(TOKEN_CHANNEL, async (event, ...args) => {
    if (args.length > 0) throw new Error('offhours:get-token takes no arguments');
    if (!isTrustedSender(event, agentOrigin)) throw new Error('refused: only the Offhours dashboard may ask for the token');
    return readToken();
  });
}
