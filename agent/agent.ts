// The agent's composition root: takes the data directory's lock, opens settings, token, logs and
// journal, and serves the API. No Electron import: it runs the same under `offhours agent` and
// as a utility process inside the app.
import { mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  CONSENT_VERSION,
  DATA_FILES,
  DEFAULT_AGENT_PORT,
  type Problem,
  type Settings,
  type SettingsPatch,
  type SharingRequest,
  type Status,
} from '../protocol/index.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { createFileLogger, type Logger } from './logger.js';
import { ensureToken } from './token.js';
import { SettingsStore } from './settings-store.js';
import { Journal } from './journal.js';
import { activeManual, applySharingRequest, consentRequired, sharingView } from './sharing.js';
import { createApiServer, type ApiCore, type ApiServer } from './api/server.js';
import { staticFiles } from './api/static-files.js';
import { writeFileAtomic } from './fs-util.js';
import { UserFacingError } from './errors.js';
import { defaultRendererDir } from './renderer-dir.js';

export const AGENT_VERSION: string = __OFFHOURS_VERSION__;

export interface AgentOptions {
  dataDir: string;
  port?: number;
  /** Running inside the Electron app (as a utility process) rather than headless. */
  headless?: boolean;
  rendererDir?: string;
  /** Echo logs to stderr as well as the log file. */
  echoLogs?: boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  now?: () => Date;
}

/** What goes into the activity journal. */
export type ActivityEntry =
  | { type: 'agent-started'; pid: number; version: string; port: number }
  | { type: 'agent-stopped'; pid: number }
  | { type: 'consent'; accepted: boolean; version?: number }
  | { type: 'sharing'; mode: string; until: string | null; by: 'user' | 'schedule' }
  | { type: 'settings-recovered'; keptAs: string; reason: string };

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly token: string;
  readonly log: Logger;
  status(): Status;
  stop(): Promise<void>;
}

export class PortInUseError extends UserFacingError {
  constructor(port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use. Start the agent with --port <another port>, or --port 0 to pick a free one.`, 'port_in_use');
  }
}

export async function runAgent(opts: AgentOptions): Promise<RunningAgent> {
  const now = opts.now ?? (() => new Date());
  const dataDir = opts.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock: DataDirLock = acquireDataDirLock(dataDir);
  let log: Logger | undefined;
  let journal: Journal<ActivityEntry> | undefined;
  let api: ApiServer | undefined;
  try {
    log = createFileLogger({ dir: join(dataDir, DATA_FILES.logsDir), echo: opts.echoLogs ?? false, level: opts.logLevel ?? 'info', now });
    const problems: Problem[] = [];
    const tok = ensureToken(dataDir);
    if (tok.created) log.info('created a new API token', { file: DATA_FILES.token });
    if (tok.fixedPermissions) {
      log.warn('the API token file was readable by other users; narrowed it to user-only');
      problems.push({ code: 'token_permissions', text: 'The API token file was readable by other users; Offhours made it private.', at: now().toISOString() });
    }

    const store = await SettingsStore.open(dataDir, { now });
    journal = new Journal<ActivityEntry>(join(dataDir, DATA_FILES.historyDir, 'activity.jsonl'), now);
    if (journal.recovered.tornTail) log.warn('the activity journal ended in a half-written entry (crash?); it was dropped');
    if (journal.recovered.damagedLines.length > 0) log.error('damaged lines in the activity journal were skipped', { lines: journal.recovered.damagedLines });
    const recovery = store.loaded.recovery;
    if (recovery) {
      log.error('settings file could not be read; kept it aside and started from defaults (sharing off)', { ...recovery });
      journal.append({ type: 'settings-recovered', keptAs: recovery.keptAs, reason: recovery.reason });
      problems.push({
        code: 'settings_recovered',
        text: `Your settings file could not be read because ${recovery.reason}. It was kept as ${recovery.keptAs}; Offhours started from defaults with sharing off.`,
        at: recovery.at,
      });
    }
    if (store.loaded.migratedFrom !== null) log.info('migrated settings', { from: store.loaded.migratedFrom, to: store.get().schemaVersion });

    const startedAt = now().toISOString();
    const listeners = new Set<(s: Status) => void>();
    let port = 0;

    const buildStatus = (settings: Settings): Status => {
      const view = sharingView(settings, now());
      return {
        agent: { version: AGENT_VERSION, pid: process.pid, startedAt, dataDir, host: hostname(), platform: process.platform, headless: opts.headless ?? true },
        consent: { required: consentRequired(settings), currentVersion: CONSENT_VERSION },
        startAtLogin: settings.startAtLogin,
        sharing: { manual: activeManual(settings.sharing, now()), state: view.state, reason: view.reason },
        problems: [...problems],
        updatedAt: now().toISOString(),
      };
    };
    const publish = () => {
      const s = buildStatus(store.get());
      for (const l of listeners) l(s);
    };

    // A snooze ends by itself: wake at its end, store "on" and tell every UI.
    let snoozeTimer: NodeJS.Timeout | undefined;
    const armSnooze = () => {
      clearTimeout(snoozeTimer);
      const manual = store.get().sharing;
      if (manual.mode !== 'snooze' || manual.until === null) return;
      const ms = Date.parse(manual.until) - now().getTime();
      snoozeTimer = setTimeout(
        () => {
          void store
            .update((d) => {
              d.sharing = activeManual(d.sharing, now());
            })
            .then(() => {
              journal?.append({ type: 'sharing', mode: 'on', until: null, by: 'schedule' });
              log?.info('snooze ended; sharing is on again');
              publish();
              armSnooze();
            })
            .catch((err: unknown) => log?.error('could not end the snooze', { err }));
        },
        Math.max(0, Math.min(ms, 2 ** 31 - 1)),
      );
      snoozeTimer.unref();
    };
    armSnooze();

    // One writer at a time: changes are applied in order even when requests overlap.
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = queue.then(fn, fn);
      queue = next.catch(() => undefined);
      return next;
    };

    const core: ApiCore = {
      status: () => buildStatus(store.get()),
      settings: () => store.get(),
      patchSettings: (patch: SettingsPatch) =>
        serial(async () => {
          const updated = await store.update((d) => {
            if (patch.startAtLogin !== undefined) d.startAtLogin = patch.startAtLogin;
            if (patch.consent?.accepted === true) d.consent = { acceptedAt: now().toISOString(), version: patch.consent.version };
            if (patch.consent?.accepted === false) {
              d.consent = { acceptedAt: null, version: 0 };
              // Withdrawing consent stops sharing now, not at some later check.
              d.sharing = { mode: 'off', until: null, changedAt: now().toISOString() };
            }
          });
          if (patch.consent) journal?.append({ type: 'consent', accepted: patch.consent.accepted, ...(patch.consent.accepted ? { version: patch.consent.version } : {}) });
          log?.info('settings changed', { fields: Object.keys(patch) });
          armSnooze();
          publish();
          return updated;
        }),
      setSharing: (req: SharingRequest) =>
        serial(async () => {
          const next = applySharingRequest(store.get(), req, now());
          await store.update((d) => {
            d.sharing = next;
          });
          journal?.append({ type: 'sharing', mode: next.mode, until: next.until, by: 'user' });
          log?.info('sharing changed', { mode: next.mode, until: next.until });
          armSnooze();
          publish();
          return buildStatus(store.get());
        }),
      onStatus: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };

    const files = staticFiles(opts.rendererDir ?? defaultRendererDir());
    if (!files.available) log.warn('the dashboard is not built; the API works but / shows a notice', { looked: files.dir });
    api = createApiServer({ core, token: tok.token, version: AGENT_VERSION, files, log });
    const requested = opts.port ?? DEFAULT_AGENT_PORT;
    try {
      port = await api.listen(requested);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(requested);
      throw err;
    }
    const url = `http://127.0.0.1:${port}/`;
    const runtimeFile = join(dataDir, DATA_FILES.runtime);
    writeFileAtomic(runtimeFile, `${JSON.stringify({ pid: process.pid, port, url, startedAt, version: AGENT_VERSION }, null, 2)}\n`);
    journal.append({ type: 'agent-started', pid: process.pid, version: AGENT_VERSION, port });
    log.info('agent listening', { url, dataDir, pid: process.pid, version: AGENT_VERSION });

    let stopping: Promise<void> | undefined;
    const server = api;
    const jr = journal;
    const lg = log;
    return {
      url,
      port,
      dataDir,
      token: tok.token,
      log: lg,
      status: core.status,
      stop() {
        stopping ??= (async () => {
          clearTimeout(snoozeTimer);
          await server.close();
          jr.append({ type: 'agent-stopped', pid: process.pid });
          jr.close();
          rmSync(runtimeFile, { force: true });
          lg.info('agent stopped');
          lg.close();
          lock.release();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await api?.close().catch(() => undefined);
    journal?.close();
    log?.close();
    lock.release();
    throw err;
  }
}
