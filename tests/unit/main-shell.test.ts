// main/main.ts end to end with Electron faked at the boundary (the binary cannot run here) and a
// stand-in agent over real loopback HTTP + WebSocket: start hidden at login, fork the agent on the
// shared data dir, load the dashboard from the agent's origin, drive the tray, start a worker when
// the agent asks, hand the token only to the dashboard, follow start-at-login, hide on close,
// forward powerMonitor signals, show the decision and snooze from the tray, keep the computer awake
// while the agent says so, and quit cleanly (shutdown message, then exit, sleep allowed again).
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { Decision, SignalUpdate, Status, WS_PROTOCOL } from '../../protocol/index.js';

// ---- the fake Electron -----------------------------------------------------------------------

const fake = vi.hoisted(() => ({
  app: null as any,
  windows: [] as any[],
  trays: [] as any[],
  forks: [] as any[],
  ipcHandlers: new Map<string, (...args: any[]) => unknown>(),
  session: null as any,
  channels: 0,
  powerMonitor: null as any,
  blocker: { started: [] as string[], stopped: [] as number[], active: new Set<number>(), next: 1 },
}));

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  let nextPid = 5000;

  class FakeApp extends EventEmitter {
    isPackaged = false;
    quitCalls = 0;
    exited: number | null = null;
    loginItems: unknown[] = [];
    private readyResolve!: () => void;
    private readyPromise = new Promise<void>((r) => (this.readyResolve = r));
    sandboxed = false;
    ready = false;
    requestSingleInstanceLock = () => true;
    enableSandbox = () => void (this.sandboxed = true);
    setAppUserModelId = () => {};
    isReady = () => this.ready;
    whenReady = () => this.readyPromise;
    becomeReady = () => {
      this.ready = true;
      this.readyResolve();
    };
    getAppPath = () => '/fake/app';
    getLoginItemSettings = () => ({ wasOpenedAtLogin: false });
    setLoginItemSettings = (s: unknown) => void this.loginItems.push(s);
    exit = (code: number) => {
      this.exited = code;
    };
    /** Electron's order: before-quit, windows close, will-quit (preventable), then exit. */
    quit = () => {
      this.quitCalls++;
      this.emit('before-quit', { preventDefault() {} });
      for (const w of [...fake.windows]) if (!w.destroyed) w.close();
      let prevented = false;
      this.emit('will-quit', { preventDefault: () => (prevented = true) });
      if (!prevented) this.exited = 0;
    };
  }

  class FakeWebContents extends EventEmitter {
    url = '';
    openHandler: ((d: { url: string }) => unknown) | null = null;
    getURL = () => this.url;
    setWindowOpenHandler = (h: (d: { url: string }) => unknown) => void (this.openHandler = h);
  }

  class FakeWindow extends EventEmitter {
    webContents = new FakeWebContents();
    visible: boolean;
    minimized = false;
    destroyed = false;
    loads: string[] = [];
    constructor(readonly options: any) {
      super();
      this.visible = options.show !== false;
      fake.windows.push(this);
      fake.app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL = async (url: string) => {
      this.loads.push(url);
      this.webContents.url = url;
    };
    show = () => void (this.visible = true);
    hide = () => void (this.visible = false);
    focus = () => {};
    minimize = () => void (this.minimized = true);
    isMinimized = () => this.minimized;
    restore = () => void (this.minimized = false);
    /** Like the OS close button: 'close' can be prevented. */
    close = () => {
      let prevented = false;
      this.emit('close', { preventDefault: () => (prevented = true) });
      if (!prevented) {
        this.destroyed = true;
        this.emit('closed');
      }
    };
  }

  class FakeUtility extends EventEmitter {
    pid: number | undefined = undefined;
    posted: Array<{ message: unknown; transfer?: unknown[] }> = [];
    killed = false;
    stdout = null;
    stderr = null;
    constructor(readonly modulePath: string, readonly args: string[], readonly options: any) {
      super();
    }
    postMessage = (message: unknown, transfer?: unknown[]) => void this.posted.push({ message, ...(transfer ? { transfer } : {}) });
    kill = () => {
      this.killed = true;
      return true;
    };
    spawnNow = () => {
      this.pid = nextPid++;
      this.emit('spawn');
    };
    exitNow = (code: number) => {
      this.pid = undefined;
      this.emit('exit', code);
    };
  }

  class FakeTray extends EventEmitter {
    image: any;
    tooltip = '';
    menus: any[] = [];
    destroyed = false;
    constructor(image: any) {
      super();
      this.image = image;
      fake.trays.push(this);
    }
    setImage = (i: any) => void (this.image = i);
    setToolTip = (t: string) => void (this.tooltip = t);
    setContextMenu = (m: any) => void this.menus.push(m);
    destroy = () => void (this.destroyed = true);
  }

  class FakePowerMonitor extends EventEmitter {
    idle = 0;
    getSystemIdleTime = () => this.idle;
    getSystemIdleState = () => 'active';
    isOnBatteryPower = () => false;
    getCurrentThermalState = () => 'nominal';
  }

  fake.app = new FakeApp();
  fake.powerMonitor = new FakePowerMonitor();
  fake.session = {
    requestHandler: null,
    checkHandler: null,
    headers: null,
    setPermissionRequestHandler: (h: unknown) => (fake.session.requestHandler = h),
    setPermissionCheckHandler: (h: unknown) => (fake.session.checkHandler = h),
    webRequest: { onHeadersReceived: (l: unknown) => (fake.session.headers = l) },
  };

  return {
    app: fake.app,
    BrowserWindow: FakeWindow,
    Tray: FakeTray,
    Menu: { buildFromTemplate: (template: unknown[]) => ({ template }) },
    nativeImage: { createFromPath: (path: string) => ({ path, setTemplateImage: () => {} }) },
    ipcMain: { handle: (channel: string, h: (...a: any[]) => unknown) => void fake.ipcHandlers.set(channel, h) },
    session: { defaultSession: fake.session },
    shell: { openExternal: vi.fn() },
    dialog: { showErrorBox: vi.fn() },
    utilityProcess: {
      fork: (modulePath: string, args: string[], options: unknown) => {
        const child = new FakeUtility(modulePath, args, options);
        fake.forks.push(child);
        return child;
      },
    },
    powerMonitor: fake.powerMonitor,
    // The node key secret's keeper (tested in main-node-key-secret.test.ts); reversible, like the real one.
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (text: string) => Buffer.from(`enc:${text}`),
      decryptString: (data: Buffer) => data.toString().slice(4),
    },
    powerSaveBlocker: {
      start: (type: string) => {
        const id = fake.blocker.next++;
        fake.blocker.started.push(type);
        fake.blocker.active.add(id);
        return id;
      },
      stop: (id: number) => {
        fake.blocker.stopped.push(id);
        return fake.blocker.active.delete(id);
      },
    },
    MessageChannelMain: class {
      port1 = `port1-${++fake.channels}`;
      port2 = `port2-${fake.channels}`;
    },
  };
});

// A desktop with a StatusNotifier host, so closing hides to the tray.
vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>();
  return {
    ...actual,
    execFile: (file: string, _args: string[], _opts: unknown, cb: (e: Error | null, out: string) => void) => {
      if (file === 'gdbus') cb(null, '(<true>,)\n');
      else cb(new Error('ENOENT'), '');
    },
  };
});

// ---- a stand-in agent --------------------------------------------------------------------------

const TOKEN = 'e'.repeat(64);

function makeDecision(keepAwake: boolean, text: string): Decision {
  const state = keepAwake ? 'running' : 'paused';
  return Decision.parse({
    at: '2025-01-01T00:00:00Z',
    resources: [{ resource: 'cpu', label: 'CPU', state, newWork: keepAwake, limits: null, matchedRule: null, reasons: [{ code: 'c', text }], since: '2025-01-01T00:00:00Z', lastBlockedAt: null }],
    proofs: { allowed: true, reason: { code: 'proofs_exempt', text: 'proofs run' } },
    keepAwake,
    uncheckable: [],
    summary: { state, reason: { code: 'c', text } },
  });
}

function makeStatus(mode: 'on' | 'off' | 'snooze' | 'drain', startAtLogin: boolean, decision: Decision | null = null): Status {
  return Status.parse({
    agent: { version: '0.1.0', pid: 1, startedAt: '2025-01-01T00:00:00Z', dataDir: '/d', host: 'h', platform: 'linux', timeZone: 'UTC', headless: false },
    consent: { required: false, currentVersion: 1 },
    startAtLogin,
    sharing: { manual: { mode, until: null, changedAt: null }, state: mode === 'on' ? 'sharing' : 'off', reason: { code: 'c', text: mode === 'on' ? 'idle' : 'you turned it off' } },
    decision,
    revision: 0,
    settingsRevision: 0,
    problems: [],
    updatedAt: '2025-01-01T00:00:00Z',
  });
}

let server: Server;
let wss: WebSocketServer;
let origin: string;
let status = makeStatus('off', false);
const posts: string[] = [];
const signalPosts: SignalUpdate[] = [];
let dataDir: string;
let xdg: string;
const savedArgv = process.argv;
const savedXdg = process.env.XDG_CONFIG_HOME;

function broadcast(): void {
  for (const c of wss.clients) c.send(JSON.stringify({ type: 'status', status }));
}

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

const tray = () => fake.trays[0];
const menuItems = () => tray().menus.at(-1).template as Array<{ label?: string; type: string; checked?: boolean; click?: () => void }>;
const agentChild = () => fake.forks[0];
const readingsSent = () => signalPosts.flatMap((u) => u.readings);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'offhours-shell-'));
  xdg = join(dataDir, 'xdg');
  await writeFile(join(dataDir, 'api-token'), `${TOKEN}\n`, { mode: 0o600 });

  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('{}');
      if (req.method === 'POST' && req.url === '/api/v1/signals') {
        // Parsed with the real schema: what the shell sends is what the agent accepts.
        const update = SignalUpdate.parse(JSON.parse(body));
        signalPosts.push(update);
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: update.readings.length }));
      }
      if (req.method === 'POST' && req.url === '/api/v1/sharing') {
        posts.push(body);
        status = makeStatus(JSON.parse(body).mode, status.startAtLogin);
        broadcast();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    });
  });
  wss = new WebSocketServer({ server, path: '/api/v1/events', handleProtocols: (p) => (p.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });
  wss.on('connection', (socket) => socket.send(JSON.stringify({ type: 'hello', apiVersion: 1, version: '0.1.0' })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  process.argv = ['/opt/Offhours/offhours', '--data-dir', dataDir, '--hidden'];
  process.env.XDG_CONFIG_HOME = xdg;
  vi.spyOn(console, 'log').mockImplementation(() => {});
  await import('../../main/main.js');
  fake.app.becomeReady();
  await until(() => fake.forks.length === 1, 'the agent fork');
});

afterAll(async () => {
  process.argv = savedArgv;
  if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = savedXdg;
  for (const c of wss.clients) c.terminate();
  wss.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dataDir, { recursive: true, force: true });
});

describe('the Electron shell', () => {
  it('locks the app, guards the session and the token channel, and shows a tray before the agent is up', () => {
    expect(fake.app.sandboxed).toBe(true);
    expect(fake.session.requestHandler).toBeTypeOf('function');
    expect(fake.session.checkHandler).toBeTypeOf('function');
    expect(fake.ipcHandlers.has('offhours:get-token')).toBe(true);
    expect(tray()).toBeDefined();
    expect(menuItems()[0]!.label).toBe('Starting…');
  });

  it('starts hidden when launched with --hidden', () => {
    expect(fake.windows).toHaveLength(0);
  });

  it('a second launch shows the window', () => {
    fake.app.emit('second-instance');
    expect(fake.windows).toHaveLength(1);
    expect(fake.windows[0].visible).toBe(true);
    expect(fake.windows[0].loads.at(-1)).toMatch(/^data:text\/html/);
    fake.windows[0].close();
    expect(fake.windows[0].visible).toBe(false);
  });

  it('forks the agent as a utility process on the shared data dir', () => {
    expect(agentChild().modulePath).toBe(join('/fake/app', 'dist/agent/agent.js'));
    expect(agentChild().args).toEqual(['--data-dir', dataDir, '--electron']);
    expect(agentChild().options).toMatchObject({ serviceName: 'Offhours agent', stdio: 'pipe' });
  });

  it('connects to the agent once it is ready and shows its status in the tray', async () => {
    agentChild().spawnNow();
    agentChild().emit('message', { type: 'ready', url: `${origin}/`, port: Number(new URL(origin).port) });
    await until(() => menuItems()[0]!.label === 'Sharing is off: you turned it off', 'the status line');
    expect(tray().image.path).toMatch(/tray-off\.png$/);
    expect(menuItems().find((i) => i.type === 'checkbox')).toMatchObject({ label: 'Sharing on', checked: false });
  });

  it('turns sharing on from the tray through the agent API', async () => {
    menuItems().find((i) => i.type === 'checkbox')!.click!();
    await until(() => menuItems().find((i) => i.type === 'checkbox')?.checked === true, 'the ticked toggle');
    expect(posts).toEqual(['{"mode":"on"}']);
    expect(tray().image.path).toMatch(/tray-sharing\.png$/);
  });

  it('loads the dashboard from the agent origin once ready, and opens it from the tray', async () => {
    const win = fake.windows[0];
    expect(win.loads.at(-1)).toBe(`${origin}/`);
    menuItems().find((i) => i.label === 'Open dashboard')!.click!();
    expect(fake.windows).toHaveLength(1);
    expect(win.visible).toBe(true);
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(win.options.webPreferences.preload).toBe(join('/fake/app', 'dist/main/preload.cjs'));

    let prevented = false;
    win.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(win.webContents.openHandler({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('hands the token to the dashboard and to nobody else', async () => {
    const handler = fake.ipcHandlers.get('offhours:get-token')!;
    await expect(handler({ senderFrame: { url: `${origin}/`, parent: null } })).resolves.toBe(TOKEN);
    await expect(handler({ senderFrame: { url: 'https://evil.example/', parent: null } })).rejects.toThrow(/refused/);
  });

  it('hides to the tray on close', () => {
    const win = fake.windows[0];
    win.close();
    expect(win.destroyed).toBe(false);
    expect(win.visible).toBe(false);
  });

  it('starts a worker when the agent asks, and wires it to the agent with a port pair', async () => {
    agentChild().emit('message', { type: 'start-worker', requestId: 'r1', kind: 'render', jobId: 'job-1' });
    agentChild().emit('message', { type: 'start-worker', requestId: 'r2', kind: 'render', jobId: 'job-2', modulePath: '/tmp/evil.js' });
    expect(fake.forks).toHaveLength(2);
    const worker = fake.forks[1];
    expect(worker.modulePath).toBe(join('/fake/app', 'dist/workers/worker.js'));
    expect(worker.args).toEqual(['--kind', 'render']);
    worker.spawnNow();
    expect(worker.posted).toEqual([{ message: { type: 'agent-port' }, transfer: ['port1-1'] }]);
    expect(agentChild().posted.at(-1)).toEqual({ message: { type: 'worker-started', requestId: 'r1', pid: worker.pid }, transfer: ['port2-1'] });
  });

  it('follows the agent’s start-at-login setting (Linux: an XDG autostart file)', async () => {
    const file = join(xdg, 'autostart', 'offhours.desktop');
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    status = makeStatus(status.sharing.manual.mode as 'on', true);
    broadcast();
    await until(() => exists(file), 'the autostart file');
    const entry = await readFile(file, 'utf8');
    expect(entry).toContain('--hidden');
    expect(entry).toContain(`--data-dir ${dataDir}`);

    status = makeStatus('on', false);
    broadcast();
    await until(() => !exists(file), 'the autostart file to go');
  });

  it('forwards powerMonitor signals to the agent once connected, and an event at once', async () => {
    await until(() => signalPosts.length > 0, 'the first signals post');
    expect(signalPosts[0]).toMatchObject({ source: 'electron.power-monitor', maxAgeMs: 10_000 });
    // Linux (where these tests run): no lock events, so the agent's D-Bus reader is asked for.
    expect(readingsSent().find((r) => r.name === 'screenLocked')).toMatchObject({ notAvailable: true });
    expect(readingsSent().some((r) => r.name === 'idleSeconds' || r.name === 'suspended')).toBe(true);

    const before = signalPosts.length;
    fake.powerMonitor.emit('suspend');
    await until(() => signalPosts.length > before, 'the suspend post');
    expect(signalPosts.at(-1)!.readings).toContainEqual({ name: 'suspended', value: true });
    fake.powerMonitor.emit('resume');
    await until(() => signalPosts.at(-1)!.readings.some((r) => r.name === 'suspended' && r.value === false), 'the resume post');
  });

  it('shows the decision in the tray and snoozes through the agent API', async () => {
    status = makeStatus('on', false, makeDecision(false, 'Paused: you used the computer 1 min ago'));
    broadcast();
    await until(() => menuItems()[0]!.label === 'Paused: you used the computer 1 min ago', 'the decision line');
    expect(tray().image.path).toMatch(/tray-paused\.png$/);

    const before = Date.now();
    menuItems().find((i) => i.label === 'Snooze 15 minutes')!.click!();
    await until(() => posts.length === 2, 'the snooze request');
    const sent = JSON.parse(posts[1]!);
    expect(sent.mode).toBe('snooze');
    expect(Date.parse(sent.until) - before).toBeGreaterThanOrEqual(15 * 60_000 - 5);
    expect(Date.parse(sent.until) - before).toBeLessThan(15 * 60_000 + 5_000);

    status = makeStatus('on', false, null);
    broadcast();
    await until(() => menuItems()[0]!.label === 'Sharing: idle', 'sharing on again');
    menuItems().find((i) => i.label === 'Finish current work, then stop')!.click!();
    await until(() => posts.length === 3, 'the drain request');
    expect(posts[2]).toBe('{"mode":"drain"}');
    status = makeStatus('on', false);
    broadcast();
  });

  it('keeps the computer awake while the decision says so, and lets it sleep when not', async () => {
    status = makeStatus('on', false, makeDecision(true, 'Sharing CPU'));
    broadcast();
    await until(() => fake.blocker.active.size === 1, 'the sleep blocker');
    expect(fake.blocker.started).toEqual(['prevent-app-suspension']);
    broadcast();
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.blocker.started).toHaveLength(1);

    status = makeStatus('on', false, makeDecision(false, 'Paused: a game is running'));
    broadcast();
    await until(() => fake.blocker.active.size === 0, 'the blocker to be released');

    // Held again for the quit test: quitting must release it.
    status = makeStatus('on', false, makeDecision(true, 'Sharing CPU'));
    broadcast();
    await until(() => fake.blocker.active.size === 1, 'the sleep blocker again');
  });

  it('quits for real: asks the agent to shut down, kills leftover workers, then exits', async () => {
    const worker = fake.forks[1];
    menuItems().find((i) => i.label === 'Quit Offhours')!.click!();
    expect(fake.app.exited).toBeNull();
    expect(agentChild().posted.at(-1)).toEqual({ message: { type: 'shutdown' } });
    expect(fake.windows[0].destroyed).toBe(true);

    agentChild().exitNow(0);
    await until(() => fake.app.exited === 0, 'the app to exit');
    expect(worker.killed).toBe(true);
    expect(tray().destroyed).toBe(true);
    expect(fake.forks).toHaveLength(2);
    expect(fake.blocker.active.size).toBe(0);
    // No signal forwarding after quit: powerMonitor listeners are gone.
    expect(fake.powerMonitor.listenerCount('suspend')).toBe(0);
  });
});

