// Electron main: a thin shell around the agent. It starts and supervises the agent, starts workers
// when the agent asks, shows the tray and the dashboard window, and follows the agent's
// start-at-login setting, forwards power signals (idle time, lock, battery, sleep) to the agent,
// and keeps the computer awake while the agent says so. Every decision worth testing lives in a
// pure module next to this one; this file only connects them to Electron.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  MessageChannelMain,
  powerMonitor,
  powerSaveBlocker,
  safeStorage,
  session,
  shell,
  type MessagePortMain,
} from 'electron';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DATA_FILES } from '../protocol/constants.js';
import { NODE_KEY_FILES } from '../protocol/node.js';
import { resolveDataDir, type ResolvedDataDir } from '../protocol/data-dir.js';
import { AgentClient, type ClientConnection } from './agent-client.js';
import type { AgentEndpoint } from './agent-location.js';
import { AgentSupervisor, type SupervisorState } from './agent-supervisor.js';
import { parseShellArgs } from './args.js';
import { realTimers } from './child-handle.js';
import { closeAction, startHidden } from './close-behaviour.js';
import { applyStartAtLogin } from './login-item.js';
import { KeepAwake, keepAwakeWanted } from './keep-awake.js';
import { AppNodeKeySecret } from './node-key-secret.js';
import { PowerSignalForwarder, powerMonitorSource, type PlatformInfo } from './power-signals.js';
import { sharingRequestFor } from './snooze.js';
import { statusPageUrl, type StatusPageText } from './status-page.js';
import { ShellTray } from './tray.js';
import { resourcesDir } from './tray-icons.js';
import { trayView, type AgentConnection, type TrayAction } from './tray-menu.js';
import { trayAvailable } from './tray-availability.js';
import { forkUtility } from './utility-process.js';
import { dashboardWindowOptions } from './window-options.js';
import { EXTERNAL_ALLOW_LIST, registerTokenIpc, secureSession, secureWebContents } from './window-security.js';
import { WorkerStarter } from './worker-starter.js';

/** How long an attached agent (one we did not start) may be unreachable before we run our own. */
const ATTACHED_AGENT_GRACE_MS = 10_000;

const log = (message: string): void => console.log(`[main] ${message}`);

const args = parseShellArgs(process.argv.slice(1));

let dataDir: ResolvedDataDir;
try {
  dataDir = resolveDataDir({ flag: args.dataDir, env: process.env, platform: process.platform, home: homedir() });
} catch (error) {
  dialog.showErrorBox('Offhours cannot start', String(error instanceof Error ? error.message : error));
  app.exit(2);
  throw error;
}

// Module-level references: a Tray or window held only by a local can be garbage-collected, and a
// collected Tray silently disappears from the panel.
let tray: ShellTray | null = null;
let window: BrowserWindow | null = null;
let client: AgentClient | null = null;
let endpoint: AgentEndpoint | null = null;
let connection: AgentConnection = { kind: 'connecting' };
let hasTray = false;
let quitting = false;
let cleanedUp = false;
let appliedStartAtLogin: boolean | null = null;
let powerSignals: PowerSignalForwarder | null = null;
const keepAwake = new KeepAwake(powerSaveBlocker, log);

const agentOrigin = (): string | null => endpoint?.origin ?? null;
const readToken = async (): Promise<string> => (await readFile(join(dataDir.path, DATA_FILES.token), 'utf8')).trim();

const workers = new WorkerStarter<MessagePortMain>({
  appRoot: app.getAppPath(),
  fork: (launch) => forkUtility(launch.modulePath, launch.args, launch.serviceName, launch.serviceName),
  createChannel: () => new MessageChannelMain(),
  sendToAgent: (message, transfer) => {
    if (!supervisor.send(message, transfer)) log(`could not deliver ${message.type} to the agent`);
  },
  log,
});

const nodeKeySecret = new AppNodeKeySecret({ safeStorage, path: join(dataDir.path, NODE_KEY_FILES.appSecret), log });

const supervisor = new AgentSupervisor<MessagePortMain>({
  fork: () =>
    forkUtility(join(app.getAppPath(), 'dist/agent/agent.js'), ['--data-dir', dataDir.path, '--electron'], 'Offhours agent', 'agent'),
  readRuntimeFile: async () => {
    try {
      return JSON.parse(await readFile(join(dataDir.path, DATA_FILES.runtime), 'utf8')) as unknown;
    } catch {
      return null;
    }
  },
  timers: realTimers,
  now: () => Date.now(),
  onState: onSupervisorState,
  onWorkerRequest: (request) => workers.handle(request),
  // Over the parent channel, never on the command line or in the environment, where other
  // processes of this user could read it.
  onNodeKeySecretRequest: (request) => void nodeKeySecret.answer(request).then((answer) => supervisor.send(answer)),
  onAgentExit: () => workers.killAll(),
  log,
});

/** Everything that follows main's connection to the agent: the tray, signal forwarding, keep-awake. */
function render(): void {
  tray?.show(trayView(connection));
  powerSignals?.setConnected(connection.kind === 'connected');
  if (!quitting) keepAwake.set(keepAwakeWanted(connection));
}

function onSupervisorState(state: SupervisorState): void {
  log(`agent: ${state.kind}`);
  if (state.kind === 'running' || state.kind === 'attached') {
    useEndpoint(state.endpoint);
  } else if (state.kind === 'degraded') {
    client?.stop();
    client = null;
    endpoint = null;
    connection = { kind: 'degraded', reason: state.reason };
    showPage({
      title: 'Offhours cannot start its agent',
      detail: `The agent ${state.reason}.`,
      hint: `Its logs are in ${join(dataDir.path, DATA_FILES.logsDir)}. Use “Restart the agent” in the tray menu to try again.`,
    });
    render();
  } else if (state.kind === 'starting' && connection.kind === 'degraded') {
    connection = { kind: 'connecting' };
    showPage({ title: 'Starting Offhours…', detail: 'The dashboard opens as soon as the agent is ready.' });
    render();
  }
}

function useEndpoint(next: AgentEndpoint): void {
  const changed = endpoint?.origin !== next.origin;
  endpoint = next;
  if (changed || client === null) {
    client?.stop();
    client = new AgentClient({
      origin: next.origin,
      readToken,
      onConnection,
      timers: realTimers,
      now: () => Date.now(),
      log,
    });
    client.start();
  }
  if (window !== null && (changed || !window.webContents.getURL().startsWith(next.origin))) void window.loadURL(next.url);
}

function onConnection(next: ClientConnection): void {
  connection = next;
  if (next.kind === 'connected') followStartAtLogin(next.status.startAtLogin);
  if (next.kind === 'disconnected' && supervisor.state.kind === 'attached' && Date.now() - next.since > ATTACHED_AGENT_GRACE_MS) {
    supervisor.attachedAgentLost();
  }
  render();
}

function followStartAtLogin(enabled: boolean): void {
  if (appliedStartAtLogin === enabled) return;
  appliedStartAtLogin = enabled;
  applyStartAtLogin(enabled, {
    platform: process.platform,
    execPath: process.execPath,
    ...(app.isPackaged ? {} : { devAppPath: app.getAppPath() }),
    // A data directory chosen on the command line must survive a login launch.
    ...(dataDir.source === 'flag' ? { extraArgs: ['--data-dir', dataDir.path] } : {}),
    env: process.env,
    home: homedir(),
    setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
  }).catch((error: unknown) => {
    appliedStartAtLogin = null;
    log(`could not change start at login: ${String(error)}`);
  });
}

function onTrayAction(action: TrayAction): void {
  // On, off, snooze (until a time from this computer's clock and zone) and drain.
  const request = sharingRequestFor(action, new Date());
  if (request !== null) {
    client?.setSharing(request).catch((error: unknown) => {
      log(`could not change sharing: ${String(error)}`);
      render();
    });
    return;
  }
  switch (action) {
    case 'open-dashboard':
      showWindow();
      return;
    case 'restart-agent':
      supervisor.retry();
      return;
    case 'quit':
      quitting = true;
      app.quit();
      return;
    default:
      return;
  }
}

function showPage(text: StatusPageText): void {
  if (window !== null) void window.loadURL(statusPageUrl(text));
}

function createWindow(show: boolean): BrowserWindow {
  const resources = resourcesDir({ isPackaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath() });
  const win = new BrowserWindow(
    dashboardWindowOptions({
      preload: join(app.getAppPath(), 'dist/main/preload.cjs'),
      show,
      ...(process.platform === 'linux' ? { icon: join(resources, 'icon.png') } : {}),
    }),
  );
  win.on('close', (event) => {
    const action = closeAction({ quitting, trayAvailable: hasTray });
    if (action === 'close') return;
    event.preventDefault();
    if (action === 'hide') win.hide();
    else win.minimize();
  });
  win.on('closed', () => {
    if (window === win) window = null;
  });
  if (endpoint !== null) void win.loadURL(endpoint.url);
  else if (connection.kind === 'degraded') showPageIn(win, { title: 'Offhours cannot start its agent', detail: `The agent ${connection.reason}.` });
  else showPageIn(win, { title: 'Starting Offhours…', detail: 'The dashboard opens as soon as the agent is ready.' });
  return win;
}

function showPageIn(win: BrowserWindow, text: StatusPageText): void {
  void win.loadURL(statusPageUrl(text));
}

function showWindow(): void {
  window ??= createWindow(true);
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function runCommand(file: string, argv: readonly string[], options: { timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...argv], { timeout: options.timeoutMs, windowsHide: true }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

async function shutdown(): Promise<void> {
  powerSignals?.stop();
  keepAwake.release();
  client?.stop();
  await supervisor.stop();
  // The agent stops its workers when it shuts down cleanly; these are the ones left if it did not.
  workers.killAll();
  tray?.destroy();
  tray = null;
}

async function onReady(): Promise<void> {
  const origin = agentOrigin;
  secureSession(session.defaultSession, origin);
  registerTokenIpc(ipcMain, origin, readToken);

  hasTray = await trayAvailable(process.platform, runCommand);
  const resources = resourcesDir({ isPackaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath() });
  // Created even when no host shows it: a StatusNotifier host may start later in the session.
  tray = new ShellTray(resources, process.platform, onTrayAction, showWindow);
  render();

  const openedAtLogin = process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
  if (!startHidden({ argv: process.argv, openedAtLogin, trayAvailable: hasTray })) window = createWindow(true);

  supervisor.start();
  // powerMonitor works only once the app is ready. Signals go out once the agent is connected.
  const platform: PlatformInfo = { os: process.platform, sessionType: process.env.XDG_SESSION_TYPE };
  powerSignals = new PowerSignalForwarder({
    source: powerMonitorSource(powerMonitor, platform),
    platform,
    post: async (update) => {
      if (client === null) throw new Error('no agent connection');
      return client.postSignals(update);
    },
    timers: realTimers,
    now: () => Date.now(),
    log,
  });
  powerSignals.start();
  powerSignals.setConnected(connection.kind === 'connected');
}

// Every renderer sandboxed, whatever its own options say.
app.enableSandbox();
// Windows ties the tray, notifications and the login item's registry value to this id; it must
// equal electron-builder's appId.
if (process.platform === 'win32') app.setAppUserModelId('net.offhours.app');

if (!app.requestSingleInstanceLock()) {
  // Another Offhours runs for this user: it shows its window (second-instance) and we leave.
  app.quit();
} else {
  // Before ready there is no window to show yet, and this instance shows one at start anyway.
  app.on('second-instance', () => {
    if (app.isReady()) showWindow();
  });
  // Every webContents, including any created later, gets the same guards as the dashboard.
  app.on('web-contents-created', (_event, contents) =>
    secureWebContents(contents, agentOrigin, { allowList: EXTERNAL_ALLOW_LIST, openExternal: (url) => shell.openExternal(url) }),
  );
  // The app lives in the tray: closing the last window is not quitting.
  app.on('window-all-closed', () => {});
  app.on('activate', () => {
    if (app.isReady()) showWindow();
  });
  app.on('before-quit', () => {
    quitting = true;
    // Nothing is shared past this point: let the computer sleep at once.
    keepAwake.release();
  });
  app.on('will-quit', (event) => {
    if (cleanedUp) return;
    event.preventDefault();
    void shutdown()
      .catch((error: unknown) => log(`shutdown: ${String(error)}`))
      .finally(() => {
        cleanedUp = true;
        app.quit();
      });
  });
  app.whenReady().then(onReady, (error: unknown) => {
    log(`startup failed: ${String(error)}`);
    app.exit(1);
  });
}
