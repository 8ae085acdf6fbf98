// Keeps one agent running for the app: starts it as a utility process, restarts it with
// exponential backoff when it dies, and gives up into a visible "degraded" state when it keeps
// dying right after start (a restart loop without backoff burns the CPU and hides the cause).
// An agent that exits because another agent already holds the data directory is not restarted:
// the app attaches to that agent instead. Electron-free: fork, timers and file reads are injected.
import { AGENT_EXIT } from '../protocol/constants.js';
import { AgentToMain, MainToAgent } from '../protocol/worker-channel.js';
import { endpointFromReady, endpointFromRuntimeFile, type AgentEndpoint } from './agent-location.js';
import type { ChildHandle, Timers } from './child-handle.js';

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A run at least this long counts as healthy: the next death starts the backoff afresh. */
  stableAfterMs: number;
  /** This many consecutive short runs and the supervisor stops trying. */
  maxQuickDeaths: number;
  /** How long `stop()` waits for a clean exit after 'shutdown' before killing. */
  shutdownGraceMs: number;
  /** Retries for reading agent.json after a lock-held exit: the other agent may still be starting. */
  attachAttempts: number;
  attachRetryMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  maxQuickDeaths: 5,
  shutdownGraceMs: 5_000,
  attachAttempts: 5,
  attachRetryMs: 1_000,
};

export type SupervisorState =
  | { kind: 'idle' }
  | { kind: 'starting'; attempt: number }
  | { kind: 'running'; endpoint: AgentEndpoint }
  | { kind: 'backing-off'; delayMs: number; lastExitCode: number; quickDeaths: number }
  /** Another agent holds the data directory; the app uses it. */
  | { kind: 'attached'; endpoint: AgentEndpoint }
  | { kind: 'degraded'; reason: string }
  | { kind: 'stopping' }
  | { kind: 'stopped' };

export type WorkerRequest = Extract<AgentToMain, { type: 'start-worker' | 'stop-worker' }>;
export type NodeKeySecretRequest = Extract<AgentToMain, { type: 'node-key-secret-request' }>;

export interface SupervisorDeps<P> {
  fork(): ChildHandle<P>;
  /** agent.json from the data directory, parsed, or null when missing or unreadable. */
  readRuntimeFile(): Promise<unknown>;
  timers: Timers;
  now(): number;
  onState(state: SupervisorState): void;
  onWorkerRequest(request: WorkerRequest): void;
  /** The agent wants its node keystore's secret; unanswered (and so a locked key) without this. */
  onNodeKeySecretRequest?(request: NodeKeySecretRequest): void;
  /** The agent process is gone (any reason): its workers must go too. */
  onAgentExit(code: number): void;
  log(message: string): void;
  policy?: Partial<BackoffPolicy>;
}

export function backoffDelay(quickDeaths: number, policy: Pick<BackoffPolicy, 'initialDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, quickDeaths - 1);
  return Math.min(policy.initialDelayMs * 2 ** exponent, policy.maxDelayMs);
}

export class AgentSupervisor<P = unknown> {
  private readonly policy: BackoffPolicy;
  private current: ChildHandle<P> | null = null;
  private startedAt = 0;
  private quickDeaths = 0;
  private attempts = 0;
  private timer: unknown = null;
  private stateValue: SupervisorState = { kind: 'idle' };
  private stopWaiters: Array<() => void> = [];

  constructor(private readonly deps: SupervisorDeps<P>) {
    this.policy = { ...DEFAULT_BACKOFF, ...deps.policy };
  }

  get state(): SupervisorState {
    return this.stateValue;
  }

  start(): void {
    if (this.current !== null || this.isStopping()) return;
    this.clearTimer();
    this.spawn();
  }

  /** From the tray's "Restart the agent" after a degraded state: a fresh budget of attempts. */
  retry(): void {
    if (this.isStopping() || this.current !== null) return;
    this.quickDeaths = 0;
    this.start();
  }

  /** The attached agent stopped answering: try to run our own, with the usual backoff. */
  attachedAgentLost(): void {
    if (this.stateValue.kind !== 'attached') return;
    this.afterFailure(this.deps.now() - this.startedAt, AGENT_EXIT.lockHeld);
  }

  /** Sends a validated message to the running agent; false when there is none or it is invalid. */
  send(message: MainToAgent, transfer?: P[]): boolean {
    const checked = MainToAgent.safeParse(message);
    if (!checked.success) {
      this.deps.log(`refusing to send an invalid message to the agent: ${checked.error.message}`);
      return false;
    }
    if (this.current === null) return false;
    this.current.post(checked.data, transfer);
    return true;
  }

  /** Asks the agent to exit cleanly, kills it after the grace period, and never restarts it. */
  stop(): Promise<void> {
    this.clearTimer();
    const child = this.current;
    if (child === null) {
      this.setState({ kind: 'stopped' });
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.stateValue.kind !== 'stopping') {
      this.setState({ kind: 'stopping' });
      try {
        child.post({ type: 'shutdown' } satisfies MainToAgent);
      } catch (error) {
        this.deps.log(`could not ask the agent to shut down: ${String(error)}`);
      }
      this.timer = this.deps.timers.setTimeout(() => {
        this.timer = null;
        if (this.current === child) {
          this.deps.log('the agent did not exit in time; killing it');
          child.kill();
        }
      }, this.policy.shutdownGraceMs);
    }
    return done;
  }

  private isStopping(): boolean {
    return this.stateValue.kind === 'stopping' || this.stateValue.kind === 'stopped';
  }

  private spawn(): void {
    this.attempts += 1;
    this.setState({ kind: 'starting', attempt: this.attempts });
    let child: ChildHandle<P>;
    try {
      child = this.deps.fork();
    } catch (error) {
      this.deps.log(`could not start the agent: ${String(error)}`);
      this.startedAt = this.deps.now();
      this.afterFailure(0, AGENT_EXIT.failed);
      return;
    }
    this.current = child;
    this.startedAt = this.deps.now();
    child.onMessage((message) => {
      if (this.current === child) this.handleMessage(message);
    });
    child.onExit((code) => {
      if (this.current === child) this.handleExit(code);
    });
  }

  private handleMessage(raw: unknown): void {
    const parsed = AgentToMain.safeParse(raw);
    if (!parsed.success) {
      this.deps.log(`ignoring an invalid message from the agent: ${parsed.error.message}`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'ready') {
      const endpoint = endpointFromReady(message.url, message.port);
      if (endpoint === null) {
        this.deps.log(`ignoring 'ready' with a non-loopback URL: ${message.url}`);
        return;
      }
      if (this.stateValue.kind === 'stopping') return;
      this.setState({ kind: 'running', endpoint });
      return;
    }
    if (message.type === 'node-key-secret-request') {
      if (this.deps.onNodeKeySecretRequest) this.deps.onNodeKeySecretRequest(message);
      else this.send({ type: 'node-key-secret-failed', requestId: message.requestId, error: 'this app keeps no node key secret' });
      return;
    }
    this.deps.onWorkerRequest(message);
  }

  private handleExit(code: number): void {
    this.current = null;
    const uptime = this.deps.now() - this.startedAt;
    this.deps.onAgentExit(code);
    if (this.isStopping()) {
      this.clearTimer();
      this.setState({ kind: 'stopped' });
      for (const resolve of this.stopWaiters.splice(0)) resolve();
      return;
    }
    this.deps.log(`the agent exited with code ${code} after ${Math.round(uptime / 1000)} s`);
    if (code === AGENT_EXIT.lockHeld) {
      void this.attach(1);
      return;
    }
    this.afterFailure(uptime, code);
  }

  private afterFailure(uptime: number, code: number): void {
    this.quickDeaths = uptime >= this.policy.stableAfterMs ? 1 : this.quickDeaths + 1;
    if (this.quickDeaths >= this.policy.maxQuickDeaths) {
      this.setState({
        kind: 'degraded',
        reason: `it stopped ${this.quickDeaths} times in a row shortly after starting (last exit code ${code})`,
      });
      return;
    }
    const delayMs = backoffDelay(this.quickDeaths, this.policy);
    this.setState({ kind: 'backing-off', delayMs, lastExitCode: code, quickDeaths: this.quickDeaths });
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = null;
      if (!this.isStopping()) this.spawn();
    }, delayMs);
  }

  /** Another agent owns the data directory: find where it listens rather than fight for the lock. */
  private async attach(attempt: number): Promise<void> {
    let endpoint: AgentEndpoint | null = null;
    try {
      endpoint = endpointFromRuntimeFile(await this.deps.readRuntimeFile());
    } catch (error) {
      this.deps.log(`could not read the running agent's address: ${String(error)}`);
    }
    if (this.isStopping() || this.current !== null) return;
    if (endpoint !== null) {
      this.startedAt = this.deps.now();
      this.setState({ kind: 'attached', endpoint });
      return;
    }
    if (attempt >= this.policy.attachAttempts) {
      this.setState({
        kind: 'degraded',
        reason: 'another Offhours agent holds the data directory but has not said where it listens',
      });
      return;
    }
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = null;
      void this.attach(attempt + 1);
    }, this.policy.attachRetryMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.deps.timers.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private setState(state: SupervisorState): void {
    this.stateValue = state;
    this.deps.onState(state);
  }
}
