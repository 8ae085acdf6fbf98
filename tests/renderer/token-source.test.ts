import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_SESSION_KEY } from '../../protocol/index.js';
import { createBrowserConnection } from '../../renderer/browser-connection.js';
import { captureFragmentToken, cleanToken, createTokenSource, findShell } from '../../renderer/token-source.js';
import { FakeAgent, FakeSocket, TOKEN } from './fake-agent.js';

beforeEach(() => {
  window.sessionStorage.clear();
  window.history.replaceState(null, '', '/');
});

afterEach(() => {
  vi.unstubAllGlobals();
  delete (window as { offhoursShell?: unknown }).offhoursShell;
});

describe('token from the URL fragment', () => {
  it('moves #token=… into session storage and takes it out of the address bar without a new history entry', () => {
    window.history.replaceState(null, '', `/#token=${TOKEN}`);
    const entries = window.history.length;

    expect(captureFragmentToken(window.location, window.history, window.sessionStorage)).toBe(true);

    expect(window.sessionStorage.getItem(TOKEN_SESSION_KEY)).toBe(TOKEN);
    expect(window.location.href).not.toContain(TOKEN);
    expect(window.location.hash).toBe('#/overview');
    expect(window.history.length).toBe(entries);
  });

  it('leaves route fragments and pages without a token alone', () => {
    window.history.replaceState(null, '', '/#/jobs');
    expect(captureFragmentToken(window.location, window.history, window.sessionStorage)).toBe(false);
    expect(window.location.hash).toBe('#/jobs');
    expect(window.sessionStorage.getItem(TOKEN_SESSION_KEY)).toBeNull();
  });

  it('still scrubs a fragment whose token is unusable', () => {
    window.history.replaceState(null, '', '/#token=has%20space');
    expect(captureFragmentToken(window.location, window.history, window.sessionStorage)).toBe(false);
    expect(window.location.href).not.toContain('space');
    expect(window.sessionStorage.getItem(TOKEN_SESSION_KEY)).toBeNull();
  });
});

describe('token source', () => {
  const storageWith = (value: string | null) => ({ getItem: () => value, setItem: vi.fn() });

  it('prefers the Electron shell, then session storage', async () => {
    const shell = { getToken: async () => 'from-shell' };
    await expect(createTokenSource({ shell, storage: storageWith('from-storage') }).read()).resolves.toBe('from-shell');
    await expect(createTokenSource({ storage: storageWith('from-storage') }).read()).resolves.toBe('from-storage');
    await expect(createTokenSource({ storage: storageWith(null) }).read()).resolves.toBeNull();
  });

  it('falls back to storage when the shell fails', async () => {
    const shell = { getToken: () => Promise.reject(new Error('agent not started')) };
    await expect(createTokenSource({ shell, storage: storageWith('from-storage') }).read()).resolves.toBe('from-storage');
  });

  it('a pasted token wins and is stored for the session', async () => {
    const storage = storageWith('old');
    const source = createTokenSource({ shell: { getToken: async () => 'from-shell' }, storage });
    expect(source.save('  pasted-token  ')).toBe(true);
    await expect(source.read()).resolves.toBe('pasted-token');
    expect(storage.setItem).toHaveBeenCalledWith(TOKEN_SESSION_KEY, 'pasted-token');
    expect(source.save('two words')).toBe(false);
  });

  it('accepts only what can be a token', () => {
    expect(cleanToken(' abc ')).toBe('abc');
    expect(cleanToken('')).toBeNull();
    expect(cleanToken('a b')).toBeNull();
    expect(cleanToken('x'.repeat(257))).toBeNull();
  });

  it('finds the preload bridge only when it has getToken', () => {
    expect(findShell({})).toBeUndefined();
    expect(findShell({ offhoursShell: { getToken: 'no' } })).toBeUndefined();
    const shell = { getToken: async () => 't' };
    expect(findShell({ offhoursShell: shell })).toBe(shell);
  });
});

describe('browser wiring', () => {
  it('takes the token from the printed link and uses it for requests and the socket, never in a URL', async () => {
    const agent = new FakeAgent();
    const sockets: FakeSocket[] = [];
    vi.stubGlobal(
      'WebSocket',
      class extends FakeSocket {
        constructor(url: string, protocols: string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      },
    );
    vi.spyOn(window, 'fetch').mockImplementation((input, init) => agent.fetch(String(input), init));
    window.history.replaceState(null, '', `/#token=${TOKEN}`);

    const connection = createBrowserConnection(window);
    expect(window.location.href).not.toContain(TOKEN);
    connection.start();
    await vi.waitFor(() => expect(connection.getSnapshot().phase).toBe('connected'));

    expect(agent.requests.every((r) => r.authorization === `Bearer ${TOKEN}` && !r.url.includes(TOKEN))).toBe(true);
    expect(agent.requests[0]?.url.startsWith(window.location.origin)).toBe(true);
    const socket = sockets[0]!;
    expect(socket.url).not.toContain(TOKEN);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'auth', token: TOKEN }]);
    connection.dispose();
  });

  it('uses the token the Electron preload hands over', async () => {
    const agent = new FakeAgent();
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.spyOn(window, 'fetch').mockImplementation((input, init) => agent.fetch(String(input), init));
    (window as { offhoursShell?: unknown }).offhoursShell = { getToken: async () => TOKEN };

    const connection = createBrowserConnection(window);
    connection.start();
    await vi.waitFor(() => expect(connection.getSnapshot().phase).toBe('connected'));
    connection.dispose();
  });
});
