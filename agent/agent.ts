// The agent's composition root: takes the data directory's lock, opens settings, token, logs and
// journal, and serves the API. No Electron import: it runs the same under `offhours agent` and
// as a utility process inside the app.
import { constants as fsConstants, mkdirSync, rmSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import {
  DATA_FILES,
  DEFAULT_AGENT_PORT,
  type EnergySettings,
  type Policy,
  type Problem,
  type SettingsPatch,
  type SharingRequest,
  type SignalsView,
  type Status,
} from '../protocol/index.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { createFileLogger, type Logger } from './logger.js';
import { ensureToken } from './token.js';
import { SettingsStore } from './settings-store.js';
import { Journal } from './journal.js';
import { activeManual, applySharingRequest, consentRequired } from './sharing.js';
import { buildStatus } from './status.js';
import { SignalStore } from './signals/signal-store.js';
import type { SignalSource } from './signals/source.js';
import { PolicyEngine } from './policy/engine.js';
import { noWorkExecutor, type WorkExecutor } from './policy/executor.js';
import type { ResourceInfo } from './policy/decide.js';
import { systemTimeZone } from './policy/local-time.js';
import { noKeepAwake, systemdInhibitKeepAwake, type KeepAwake } from './keep-awake.js';
import { InputError } from './errors.js';
import { createApiServer, type ApiCore, type ApiServer } from './api/server.js';
import { staticFiles } from './api/static-files.js';
import { writeFileAtomic } from './fs-util.js';
import { UserFacingError } from './errors.js';
import { defaultRendererDir } from './renderer-dir.js';
import { JobSupervisor, type SupervisorOptions } from './jobs/supervisor.js';
import { forkStarter, type WorkerStarter } from './jobs/worker-starter.js';
import { Ledger } from './ledger/ledger.js';
import { TariffStore } from './energy/tariff-store.js';
import { PowerSampler, type PowerSamplerOptions } from './energy/power-sampler.js';
import { CalibrationError, EnergyService } from './energy/energy-service.js';
import { parseTariffCsv } from './energy/tariff-csv.js';
import { NvidiaSmiSampler } from './signals/nvidia-smi-sampler.js';
import type { EnergyApi } from './api/energy-routes.js';
import { HttpError } from './api/http-util.js';
import { StorageService, type StorageServiceOptions } from './storage/storage-service.js';
import { combineExecutors } from './policy/executor.js';
import { checksumAddress } from '../protocol/node.js';
import { fileSecretSource, type NodeKeySecretSource } from './wallet/secret-source.js';
import { nodeIdentity, type NodeIdentity } from './wallet/node-identity.js';
import { NetworkService } from './network/network-service.js';
import { buildCapabilities } from './network/capabilities.js';
import { earningsByNetwork } from './network/earnings.js';
import type { HubClientTimings } from './network/hub-client.js';
import type { HubWorkTimings } from './network/hub-work.js';
import type { NetworksApi } from './api/network-routes.js';
import { GIB, networkKey } from '../protocol/index.js';

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
  /** Signal sources to run (sensors, process list, D-Bus idle); default: this platform's. */
  sources?: SignalSource[];
  /** Carries out decisions; default: the job supervisor. */
  executor?: WorkExecutor;
  /** How the supervisor gets worker processes; default: fork the built worker bundle. */
  workerStarter?: WorkerStarter;
  /** The supervisor's timings and limits (tests shorten them). */
  jobs?: Partial<Omit<SupervisorOptions, 'dataDir' | 'starter' | 'log' | 'now'>>;
  /** How often the policy re-evaluates without a signal change. */
  tickMs?: number;
  /** The power sampler's sources and cadence (tests point it at a sysfs-shaped temp dir). */
  power?: Partial<PowerSamplerOptions>;
  /** Storage seams (tests inject a failing copy, a faster scrub). */
  storage?: Partial<Pick<StorageServiceOptions, 'copy' | 'scrubEveryMs'>>;
  /** When the port is taken, take any free one instead of failing (inside the app, whose window
   * learns the address from the agent; a headless agent keeps its fixed, documented port). */
  portFallback?: boolean;
  /** What unlocks the node keystore; default: a secret file beside it (the headless agent). */
  nodeKeySecret?: NodeKeySecretSource;
  /** scrypt's cost for a new node keystore (tests lower it). */
  nodeKeyScryptN?: number;
  /** Hub clients' timings (tests shorten the heartbeat and the backoff). */
  networks?: Partial<HubClientTimings>;
  /** Leased work's timings (tests report progress more often). */
  hubWork?: Partial<HubWorkTimings>;
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
  engine: PolicyEngine;
  signals: SignalStore;
  /** The job supervisor, unless opts.executor replaced it. */
  jobs: JobSupervisor | null;
  energy: EnergyService;
  ledger: Ledger;
  storage: StorageService;
  /** The node key, unlocked on first use. */
  node: NodeIdentity;
  /** A client per configured hub. */
  networks: NetworkService;
  stop(): Promise<void>;
}

/** Rule targets must name devices this machine has: a rule for a missing GPU would never apply. */
function checkTargets(policy: Policy, resources: readonly ResourceInfo[], path: string): void {
  const fields = Object.keys(policy.rules)
    .filter((t) => t.startsWith('gpu:') && !resources.some((r) => r.id === t))
    .map((t) => ({ path: `${path}.rules.${t}`, message: `this machine has no ${t} (GPUs found: ${resources.filter((r) => r.kind === 'gpu').map((r) => r.id).join(', ') || 'none'})` }));
  if (fields.length > 0) throw new InputError('invalid_request', 'the policy names a resource this machine does not have', fields);
}

/** A storage folder must be a directory this user can write: checked before it is saved. */
async function checkStorageFolder(folder: string): Promise<void> {
  const bad = (message: string) => new InputError('invalid_request', 'That storage folder cannot be used.', [{ path: 'storage.folder', message }]);
  let st;
  try {
    st = await stat(folder);
  } catch {
    throw bad('no such folder');
  }
  if (!st.isDirectory()) throw bad('not a folder');
  try {
    await access(folder, fsConstants.W_OK);
  } catch {
    throw bad('Offhours cannot write there');
  }
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
  let stopSources: (() => Promise<unknown>) | undefined;
  let stopPolicy: (() => void) | undefined;
  let supervisor: JobSupervisor | null = null;
  let ledger: Ledger | undefined;
  let storage: StorageService | undefined;
  let energyService: EnergyService | undefined;
  let networkService: NetworkService | undefined;
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

    // The node key is unlocked when first needed, not at start: scrypt takes about half a second,
    // and inside the app the secret arrives from main only once the parent channel is up.
    const node = nodeIdentity(dataDir, opts.nodeKeySecret ?? fileSecretSource(dataDir), {
      now,
      ...(opts.nodeKeyScryptN !== undefined ? { scryptN: opts.nodeKeyScryptN } : {}),
      onProblem: (p) => {
        log?.error('node key', { code: p.code, text: p.text });
        problems.push({ code: p.code, text: p.text, at: now().toISOString() });
        publish();
      },
    });

    // Money and electricity: the ledger, the tariffs, the power sampler (sharing the one nvidia-smi
    // stream with the GPU signal source), and the price as a policy signal.
    ledger = Ledger.open(dataDir, { now });
    if (ledger.recovered.tornTail) log.warn('the ledger ended in a half-written batch (crash?); it was dropped');
    if (ledger.recovered.damagedLines.length > 0) {
      log.error('damaged lines in the ledger were skipped', { lines: ledger.recovered.damagedLines });
      problems.push({ code: 'ledger_damaged', text: `${ledger.recovered.damagedLines.length} damaged line(s) in the earnings ledger were skipped; see the log.`, at: now().toISOString() });
    }
    const tariffStore = new TariffStore(dataDir, now);
    if (tariffStore.recovery) {
      log.error('the tariff file could not be read; kept it aside', { ...tariffStore.recovery });
      problems.push({ code: 'tariffs_recovered', text: `Your tariffs could not be read because ${tariffStore.recovery.reason}. The file was kept as ${tariffStore.recovery.keptAs}; enter them again on the Power page.`, at: tariffStore.recovery.at });
    }
    const signalStore = new SignalStore(now);
    const gpuSampler = !opts.sources && (process.platform === 'linux' || process.platform === 'win32') ? new NvidiaSmiSampler({ env: process.env, log: log.child({ part: 'nvidia-smi' }) }) : null;
    const busy = (): ReadonlySet<string> => new Set(Object.keys(executor.activeWork()));
    const sampler = new PowerSampler({
      nvidia: gpuSampler,
      cpu: { logicalCores: cpus().length },
      settings: () => store.get().energy,
      busy: (device) => busy().has(device),
      log: log.child({ part: 'power' }),
      ...opts.power,
    });
    energyService = new EnergyService({
      dataDir,
      sampler,
      ledger,
      tariffs: tariffStore,
      settings: () => store.get().energy,
      flatPrice: () => store.get().policy.flatPrice,
      timeZone: () => store.get().policy.timeZone ?? systemTimeZone(),
      sink: signalStore,
      busy,
      log: log.child({ part: 'energy' }),
      now,
    });
    const energy = energyService;
    const books = ledger;
    // GPUs stay resources once seen: a driver hiccup must pause a GPU's work (its readings go
    // stale), not make the GPU and the rules that name it disappear.
    const gpusSeen = new Map<string, string>();
    const starter = opts.workerStarter ?? forkStarter();
    storage = new StorageService({ dataDir, settings: () => store.get().storage, starter, log: log.child({ part: 'storage' }), now, ...opts.storage });
    const disk = storage;
    supervisor = opts.executor
      ? null
      : new JobSupervisor({
          dataDir,
          starter,
          log: log.child({ part: 'jobs' }),
          now,
          blender: () => store.get().render.blenderPath,
          // The labels the GPU sensors give ("NVIDIA GeForce RTX 3080", "AMD GPU (…)") are what
          // the worker reads to pick a Cycles backend for `auto`.
          gpus: () => [...gpusSeen.values()].map((label) => ({ model: label })),
          energy,
          ...opts.jobs,
        });
    const jobsRef = supervisor;
    // Hubs hear availability from the same decisions that drive jobs and storage.
    networkService = new NetworkService({
      hubs: () => store.get().networks.hubs,
      key: () => node.key(),
      payout: () => store.get().payout.address,
      capabilities: async () => {
        // Whole GiB: free space moves all the time, and every change would be a new registration.
        const offered = await disk.view().then(
          (v) => Math.floor((v.disk?.availableBytes ?? 0) / GIB) * GIB,
          () => 0,
        );
        return buildCapabilities({ engine: jobsRef?.engineInfo() ?? null, gpus: gpusSeen, diskOfferedBytes: offered });
      },
      earnings: () => earningsByNetwork((q) => books.query(q), now()),
      payments: { dataDir, ledger: books },
      storage: { dataDir, service: disk },
      log: log.child({ part: 'networks' }),
      now,
      onChange: () => publish(),
      ...(opts.networks ? { timings: opts.networks } : {}),
      ...(jobsRef ? { work: { dataDir, jobs: jobsRef, ...(opts.hubWork ? { timings: opts.hubWork } : {}) } } : {}),
    });
    const network = networkService;
    const executor: WorkExecutor = combineExecutors(opts.executor ? [opts.executor, network] : [supervisor ?? noWorkExecutor, disk, network]);
    const headless = opts.headless ?? true;

    // Signals and the policy engine.
    const sources =
      opts.sources ?? (await import('./signals/default-sources.js')).createDefaultSources({ platform: process.platform, electron: !headless, env: process.env, ...(gpuSampler ? { gpuSampler } : {}) });
    const resources = (): ResourceInfo[] => [
      ...(() => {
        for (const d of sources.flatMap((src) => src.devices?.() ?? [])) gpusSeen.set(d.id, d.label);
        return [...gpusSeen].map(([id, label]) => ({ id, kind: 'gpu' as const, label }));
      })(),
      { id: 'cpu', kind: 'cpu', label: 'CPU', cores: cpus().length },
      { id: 'disk', kind: 'disk', label: 'disk' },
    ];
    const engine = new PolicyEngine({
      signals: () => signalStore.snapshot(),
      onSignalChange: (l) => signalStore.onChange(l),
      settings: () => {
        const st = store.get();
        return { policy: st.policy, manual: activeManual(st.sharing, now()), consented: !consentRequired(st) };
      },
      resources,
      executor,
      timeZone: (policy) => policy.timeZone ?? systemTimeZone(),
      now,
      ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
      onError: (err) => log?.error('the policy engine failed; everything is paused', { err }),
    });
    const keepAwake: KeepAwake = headless ? systemdInhibitKeepAwake(log) : noKeepAwake;
    const allProblems = (): Problem[] =>
      keepAwake.problem && store.get().policy.keepAwake ? [...problems, { code: 'keep_awake', text: `Offhours ${keepAwake.problem}.`, at: startedAt }] : [...problems];
    const activeTotal = () => Object.values(executor.activeWork()).reduce((a, b) => a + b, 0);
    let revision = 0;
    let settingsRevision = 0;
    const statusCtx = { version: AGENT_VERSION, startedAt, dataDir, headless, problems: allProblems, revision: () => revision, settingsRevision: () => settingsRevision };
    const currentStatus = (): Status => buildStatus(statusCtx, store.get(), engine.decision(), now(), activeTotal());
    const publish = () => {
      revision++;
      const s = currentStatus();
      for (const l of listeners) l(s);
    };
    engine.onDecision((d) => {
      keepAwake.set(d.keepAwake);
      publish();
    });

    // A snooze ends by itself: wake at its end, store "on" and tell every UI.
    let snoozeTimer: NodeJS.Timeout | undefined;
    const armSnooze = () => {
      clearTimeout(snoozeTimer);
      const manual = store.get().sharing;
      if (manual.mode !== 'snooze' || manual.until === null) return;
      const ms = Date.parse(manual.until) - now().getTime();
      snoozeTimer = setTimeout(
        () => {
          // Timers cap at ~24.8 days; a longer snooze wakes early and just waits again.
          if (activeManual(store.get().sharing, now()).mode === 'snooze') return armSnooze();
          void store
            .update((d) => {
              d.sharing = activeManual(d.sharing, now());
            })
            .then(() => {
              settingsRevision++;
              journal?.append({ type: 'sharing', mode: 'on', until: null, by: 'schedule' });
              log?.info('snooze ended; sharing is on again');
              engine.evaluate();
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
      status: currentStatus,
      settings: () => store.get(),
      patchSettings: (patch: SettingsPatch) =>
        serial(async () => {
          if (patch.policy) checkTargets(patch.policy, resources(), 'policy');
          if (patch.storage?.folder) await checkStorageFolder(patch.storage.folder);
          const updated = await store.update((d) => {
            if (patch.startAtLogin !== undefined) d.startAtLogin = patch.startAtLogin;
            if (patch.policy !== undefined) d.policy = patch.policy;
            if (patch.render !== undefined) d.render = patch.render;
            if (patch.storage !== undefined) d.storage = patch.storage;
            if (patch.payout !== undefined) {
              d.payout =
                patch.payout.address === null ? { address: null, confirmedAt: null } : { address: checksumAddress(patch.payout.address), confirmedAt: now().toISOString() };
            }
            if (patch.consent?.accepted === true) d.consent = { acceptedAt: now().toISOString(), version: patch.consent.version };
            if (patch.consent?.accepted === false) {
              d.consent = { acceptedAt: null, version: 0 };
              // Withdrawing consent stops sharing now, not at some later check.
              d.sharing = { mode: 'off', until: null, changedAt: now().toISOString() };
            }
          });
          settingsRevision++;
          // The flat price on the Schedule page is the price while no tariff is active.
          if (patch.policy) energy.publishPrice();
          if (patch.consent) journal?.append({ type: 'consent', accepted: patch.consent.accepted, ...(patch.consent.accepted ? { version: patch.consent.version } : {}) });
          log?.info('settings changed', { fields: Object.keys(patch) });
          armSnooze();
          if (patch.payout || patch.storage) network.settingsChanged();
          engine.evaluate();
          publish();
          return updated;
        }),
      setSharing: (req: SharingRequest) =>
        serial(async () => {
          const next = applySharingRequest(store.get(), req, now());
          await store.update((d) => {
            d.sharing = next;
          });
          settingsRevision++;
          journal?.append({ type: 'sharing', mode: next.mode, until: next.until, by: 'user' });
          log?.info('sharing changed', { mode: next.mode, until: next.until });
          armSnooze();
          engine.evaluate();
          publish();
          return currentStatus();
        }),
      decision: () => engine.decision(),
      previewDecision: (policy) => {
        checkTargets(policy, resources(), 'policy');
        return engine.preview(policy);
      },
      signals: (): SignalsView => ({
        readings: Object.values(signalStore.snapshot()),
        processesSeen: [...new Set(sources.flatMap((src) => src.processesSeen?.() ?? []))].sort(),
        detectors: sources.flatMap((src) => src.detectors()),
      }),
      acceptSignals: (update) => {
        signalStore.accept(update);
        return update.readings.length;
      },
      onStatus: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      ...(supervisor ? { jobs: supervisor } : {}),
      energy: energyApi(),
      storage: {
        view: () => disk.view(),
        add: (req) => disk.add(req),
        prove: (cid, n) => disk.prove(cid, n),
        scrub: (cid) => disk.scrub(cid),
      },
      networks: networksApi(),
      node: {
        info: async () => {
          const key = await node.key();
          return { address: key.address, keystore: key.keystore, created: key.created };
        },
      },
    };

    function networksApi(): NetworksApi {
      return {
        view: () => network.view(),
        add: (req) =>
          serial(async () => {
            const id = networkKey(req.url);
            if (store.get().networks.hubs.some((h) => networkKey(h.url) === id)) {
              throw new HttpError(409, 'conflict', `The hub ${id} is already added.`, [{ path: 'url', message: 'this hub is already added' }]);
            }
            await store.update((d) => {
              d.networks.hubs.push({ url: req.url, ...(req.name ? { name: req.name } : {}), addedAt: now().toISOString() });
            });
            settingsRevision++;
            log?.info('hub added', { hub: req.url });
            await network.sync();
            publish();
            return network.view().hubs.find((h) => h.id === id)!;
          }),
        remove: (id) =>
          serial(async () => {
            const hub = store.get().networks.hubs.find((h) => networkKey(h.url) === id);
            if (!hub) return null;
            const client = network.client(hub.url);
            await store.update((d) => {
              d.networks.hubs = d.networks.hubs.filter((h) => h.url !== hub.url);
            });
            settingsRevision++;
            log?.info('hub removed', { hub: hub.url });
            await network.sync();
            publish();
            return network.hubView(hub, client);
          }),
        voucher: (id) => {
          const hub = store.get().networks.hubs.find((h) => networkKey(h.url) === id);
          return hub ? (network.intake(hub.url)?.latestVoucher() ?? null) : undefined;
        },
      };
    }

    function energyApi(): EnergyApi {
      const settingsChanged = async (change: (e: EnergySettings) => void) => {
        const updated = await store.update((d) => change(d.energy));
        settingsRevision++;
        publish();
        return updated.energy;
      };
      return {
        power: () => energy.view(busy()),
        patchSettings: (patch) =>
          serial(() =>
            settingsChanged((e) => {
              if (patch.psuEfficiency !== undefined) e.psuEfficiency = patch.psuEfficiency;
              if (patch.calibrationFactor !== undefined) {
                e.calibrationFactor = patch.calibrationFactor;
                e.calibratedAt = patch.calibrationFactor === 1 ? null : now().toISOString();
              }
            }),
          ),
        calibrate: (req) =>
          serial(async () => {
            let factor: number;
            try {
              factor = energy.calibrate(req, busy());
            } catch (err) {
              if (err instanceof CalibrationError) throw new HttpError(409, err.code, err.message);
              if (err instanceof RangeError) throw new HttpError(400, 'invalid_request', err.message, [{ path: 'meterLoadWatts', message: err.message }]);
              throw err;
            }
            log?.info('power calibrated against a wall meter', { device: req.device, factor });
            return settingsChanged((e) => {
              e.calibrationFactor = Math.round(factor * 1000) / 1000;
              e.calibratedAt = now().toISOString();
            });
          }),
        tariffs: () => tariffStore.get(),
        putTariffs: (next) => {
          const saved = tariffStore.put(next);
          log?.info('tariffs saved', { active: saved.active, count: saved.tariffs.length });
          engine.evaluate();
          return saved;
        },
        previewTariffCsv: (body) => {
          const r = parseTariffCsv(body.csv, body.unit ? { unit: body.unit } : {});
          return { slots: r.slots, errors: r.errors, unit: r.unit };
        },
        earnings: (q) => books.query(q),
        exportCsv: (from, to, zone) => books.exportCsv(from, to, zone),
      };
    }

    const gamesConfig = () => store.get().policy.games;
    for (const src of sources) {
      try {
        await src.start({ sink: signalStore, log: log.child({ source: src.name }), ownPids: () => executor.ownPids(), games: gamesConfig, now, platform: process.platform, env: process.env, home: homedir() });
      } catch (err) {
        log.error('a signal source failed to start', { source: src.name, err });
      }
    }
    stopSources = () => Promise.all(sources.map(async (src) => src.stop()));
    energy.start();
    stopPolicy = () => {
      engine.stop();
      keepAwake.stop();
    };
    engine.start();
    await network.sync();

    const files = staticFiles(opts.rendererDir ?? defaultRendererDir());
    if (!files.available) log.warn('the dashboard is not built; the API works but / shows a notice', { looked: files.dir });
    api = createApiServer({ core, token: tok.token, version: AGENT_VERSION, files, log });
    const requested = opts.port ?? DEFAULT_AGENT_PORT;
    try {
      port = await api.listen(requested);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (!opts.portFallback || requested === 0) throw new PortInUseError(requested);
      log.warn('the default port is taken; listening on a free one', { requested });
      port = await api.listen(0);
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
    const sup = supervisor;
    const ledgerRef = ledger;
    return {
      url,
      port,
      dataDir,
      token: tok.token,
      log: lg,
      status: core.status,
      engine,
      signals: signalStore,
      jobs: sup,
      energy,
      ledger: ledger,
      storage: disk,
      node,
      networks: network,
      stop() {
        stopping ??= (async () => {
          clearTimeout(snoozeTimer);
          await network.close();
          // An unlock in flight may still write the keystore: let it finish while we hold the lock.
          await node.idle();
          engine.stop();
          keepAwake.stop();
          await sup?.close();
          await disk.close();
          await stopSources?.();
          await energy.stop();
          ledgerRef.close();
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
    stopPolicy?.();
    await networkService?.close().catch(() => undefined);
    await supervisor?.close().catch(() => undefined);
    await storage?.close().catch(() => undefined);
    await stopSources?.().catch(() => undefined);
    await energyService?.stop().catch(() => undefined);
    ledger?.close();
    await api?.close().catch(() => undefined);
    journal?.close();
    log?.close();
    lock.release();
    throw err;
  }
}
