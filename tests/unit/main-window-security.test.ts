// The window's security wiring against fake webContents, session and ipcMain: foreign navigation
// is prevented, new windows are denied, permissions are denied, the CSP is enforced for the agent
// origin, and the token goes only to the agent's own top frame.
import { describe, expect, it, vi } from 'vitest';
import { dashboardCsp } from '../../protocol/csp.js';
import { dashboardWindowOptions } from '../../main/window-options.js';
import { statusPageUrl } from '../../main/status-page.js';
import { endpointFromReady, endpointFromRuntimeFile, loopbackOrigin } from '../../main/agent-location.js';
import {
  EXTERNAL_ALLOW_LIST,
  TOKEN_CHANNEL,
  registerTokenIpc,
  secureSession,
  secureWebContents,
  type HeadersDetails,
  type IpcInvokeEventLike,
} from '../../main/window-security.js';

const AGENT = 'http://127.0.0.1:47823';
let currentOrigin: string | null = AGENT;
const origin = () => currentOrigin;

class FakeWebContents {
  listeners = new Map<string, (...args: any[]) => void>();
  openHandler: ((details: { url: string }) => { action: 'deny' }) | null = null;
  on(event: string, listener: (...args: any[]) => void) {
    this.listeners.set(event, listener);
    return this;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }) {
    this.openHandler = handler;
  }
  /** Emits a preventable event and says whether the listener prevented it. */
  emit(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.listeners.get(event)!({ preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

function secured(allowList: readonly string[] = EXTERNAL_ALLOW_LIST) {
  const contents = new FakeWebContents();
  const openExternal = vi.fn();
  secureWebContents(contents, origin, { allowList, openExternal });
  return { contents, openExternal };
}

describe('navigation', () => {
  it('allows the agent origin and prevents everything else (will-navigate and will-redirect)', () => {
    currentOrigin = AGENT;
    const { contents } = secured();
    for (const event of ['will-navigate', 'will-redirect']) {
      expect(contents.emit(event, `${AGENT}/`)).toBe(false);
      expect(contents.emit(event, `${AGENT}/settings#x`)).toBe(false);
      for (const url of [
        'https://evil.example/',
        'http://127.0.0.1:9999/',
        'http://localhost:47823/',
        'file:///etc/passwd',
        'data:text/html,<script>1</script>',
        'javascript:alert(1)',
        'not a url',
      ]) {
        expect(contents.emit(event, url), `${event} ${url}`).toBe(true);
      }
    }
  });

  it('follows the agent when it restarts on another port, and allows nothing while there is none', () => {
    const { contents } = secured();
    currentOrigin = 'http://127.0.0.1:50000';
    expect(contents.emit('will-navigate', 'http://127.0.0.1:50000/')).toBe(false);
    expect(contents.emit('will-navigate', `${AGENT}/`)).toBe(true);
    currentOrigin = null;
    expect(contents.emit('will-navigate', `${AGENT}/`)).toBe(true);
    currentOrigin = AGENT;
  });

  it('refuses <webview>', () => {
    const { contents } = secured();
    expect(contents.emit('will-attach-webview')).toBe(true);
  });
});

describe('window.open', () => {
  it('is always denied; with the shipped (empty) allow-list nothing opens outside either', () => {
    const { contents, openExternal } = secured();
    expect(EXTERNAL_ALLOW_LIST).toEqual([]);
    for (const url of ['https://evil.example/', `${AGENT}/`, 'file:///etc/passwd']) {
      expect(contents.openHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('sends only allow-listed https origins to the browser', () => {
    const { contents, openExternal } = secured(['https://docs.offhours.net']);
    expect(contents.openHandler!({ url: 'https://docs.offhours.net/start' })).toEqual({ action: 'deny' });
    contents.openHandler!({ url: 'http://docs.offhours.net/start' });
    contents.openHandler!({ url: 'https://docs.offhours.net.evil.example/' });
    contents.openHandler!({ url: 'https://user:pw@docs.offhours.net/' });
    expect(openExternal.mock.calls).toEqual([['https://docs.offhours.net/start']]);
  });
});

describe('session', () => {
  type RequestHandler = (c: unknown, p: string, cb: (granted: boolean) => void) => void;
  type CheckHandler = (c: unknown, p: string) => boolean;
  type HeadersListener = (d: HeadersDetails, cb: (r: { responseHeaders?: Record<string, string | string[]> }) => void) => void;
  function fakeSession() {
    const s: {
      requestHandler: RequestHandler | null;
      checkHandler: CheckHandler | null;
      headersListener: HeadersListener | null;
      setPermissionRequestHandler(h: RequestHandler): void;
      setPermissionCheckHandler(h: CheckHandler): void;
      webRequest: { onHeadersReceived(l: HeadersListener): void };
    } = {
      requestHandler: null,
      checkHandler: null,
      headersListener: null,
      setPermissionRequestHandler(h) {
        s.requestHandler = h;
      },
      setPermissionCheckHandler(h) {
        s.checkHandler = h;
      },
      webRequest: {
        onHeadersReceived(l) {
          s.headersListener = l;
        },
      },
    };
    secureSession(s, origin);
    return s;
  }

  it('denies every permission request and check but writing text to the clipboard (Copy voucher)', () => {
    const s = fakeSession();
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'hid', 'local-network-access']) {
      const callback = vi.fn();
      s.requestHandler!({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(s.checkHandler!({}, permission)).toBe(false);
    }
    const callback = vi.fn();
    s.requestHandler!({}, 'clipboard-sanitized-write', callback);
    expect(callback).toHaveBeenCalledWith(true);
    expect(s.checkHandler!({}, 'clipboard-sanitized-write')).toBe(true);
  });

  it('enforces the dashboard CSP on the agent origin, replacing whatever the server sent', () => {
    currentOrigin = AGENT;
    const s = fakeSession();
    const callback = vi.fn();
    s.headersListener!(
      { url: `${AGENT}/`, responseHeaders: { 'content-security-policy': ["default-src *; script-src 'unsafe-eval'"], 'Content-Type': ['text/html'] } },
      callback,
    );
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': [dashboardCsp(AGENT)] },
    });
    expect(dashboardCsp(AGENT)).toContain("script-src 'self'");
  });

  it('leaves other responses alone', () => {
    const s = fakeSession();
    const callback = vi.fn();
    s.headersListener!({ url: 'https://example.com/', responseHeaders: {} }, callback);
    expect(callback).toHaveBeenCalledWith({});
  });
});

describe('token IPC', () => {
  function handler(readToken = async () => 'a'.repeat(64)) {
    const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => unknown>();
    registerTokenIpc({ handle: (channel, listener) => void handlers.set(channel, listener) }, origin, readToken);
    expect([...handlers.keys()]).toEqual([TOKEN_CHANNEL]);
    return handlers.get(TOKEN_CHANNEL)!;
  }
  const topFrame = (url: string): IpcInvokeEventLike => ({ senderFrame: { url, parent: null } });

  it('hands the token to the top frame of the agent origin', async () => {
    currentOrigin = AGENT;
    await expect(handler()(topFrame(`${AGENT}/#/overview`))).resolves.toBe('a'.repeat(64));
  });

  it('refuses a foreign origin, an iframe, a destroyed frame, a status page, and extra arguments', async () => {
    currentOrigin = AGENT;
    const h = handler();
    await expect(h(topFrame('https://evil.example/'))).rejects.toThrow(/refused/);
    await expect(h(topFrame('http://127.0.0.1:9999/'))).rejects.toThrow(/refused/);
    await expect(h(topFrame(statusPageUrl({ title: 't', detail: 'd' })))).rejects.toThrow(/refused/);
    await expect(h({ senderFrame: { url: `${AGENT}/`, parent: { url: `${AGENT}/` } } })).rejects.toThrow(/refused/);
    await expect(h({ senderFrame: null })).rejects.toThrow(/refused/);
    await expect(h(topFrame(`${AGENT}/`), 'more')).rejects.toThrow(/no arguments/);
    currentOrigin = null;
    await expect(h(topFrame(`${AGENT}/`))).rejects.toThrow(/refused/);
    currentOrigin = AGENT;
  });

  it('does not read the token for a refused sender', async () => {
    const readToken = vi.fn(async () => 'secret');
    const h = handler(readToken);
    await expect(h(topFrame('https://evil.example/'))).rejects.toThrow();
    expect(readToken).not.toHaveBeenCalled();
  });
});

describe('window options', () => {
  it('isolates the page from Node and the shell', () => {
    const options = dashboardWindowOptions({ preload: '/app/dist/main/preload.cjs', show: false });
    expect(options.show).toBe(false);
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/main/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('status page', () => {
  it('is a script-free data: page that escapes what it shows', () => {
    const url = statusPageUrl({ title: 'Agent <b>down</b>', detail: 'it said "<script>alert(1)</script>"' });
    expect(url.startsWith('data:text/html;charset=utf-8,')).toBe(true);
    const html = decodeURIComponent(url.slice(url.indexOf(',') + 1));
    expect(html).not.toContain('<script>');
    expect(html).toContain('Agent &lt;b&gt;down&lt;/b&gt;');
    expect(html).toContain("default-src 'none'");
  });
});

describe('agent location', () => {
  it('accepts only plain-http 127.0.0.1 with the announced port', () => {
    expect(loopbackOrigin('http://127.0.0.1:47823/')).toBe(AGENT);
    expect(loopbackOrigin('http://127.0.0.1:47823/', 47_824)).toBeNull();
    expect(loopbackOrigin('http://127.0.0.1/')).toBeNull();
    expect(loopbackOrigin('http://a:b@127.0.0.1:47823/')).toBeNull();
    expect(loopbackOrigin('ws://127.0.0.1:47823/')).toBeNull();
    expect(loopbackOrigin('http://0.0.0.0:47823/')).toBeNull();
    expect(endpointFromReady('http://127.0.0.1:47823/some/path#token=x', 47_823)).toEqual({ origin: AGENT, url: `${AGENT}/` });
    expect(endpointFromRuntimeFile({ pid: 1, port: 47_823, url: `${AGENT}/`, startedAt: '2026-01-01T00:00:00.000Z' })).toEqual({ origin: AGENT, url: `${AGENT}/`, pid: 1 });
    // A runtime file whose fields are not what the agent writes is not trusted.
    expect(endpointFromRuntimeFile({ pid: 1, port: 47_823, url: `${AGENT}/`, startedAt: 'x' })).toBeNull();
    expect(endpointFromRuntimeFile({ port: 47_823, url: `${AGENT}/` })).toBeNull();
    expect(endpointFromRuntimeFile(null)).toBeNull();
  });
});
