// Runs the agent as this process's whole job: signals, exit codes, and the printed dashboard URL.
import { AGENT_EXIT, TOKEN_FRAGMENT_KEY } from '../protocol/index.js';
import type { AgentArgs } from './args.js';
import { runAgent, type RunningAgent } from './agent.js';
import { LockHeldError } from './data-dir-lock.js';
import type { WorkerStarter } from './jobs/worker-starter.js';
import type { NodeKeySecretSource } from './wallet/secret-source.js';

export interface ProcessHooks {
  headless: boolean;
  /** Called once the API listens; gets a stop function that exits the process. */
  attach?: ((agent: RunningAgent, stop: (code: number) => Promise<void>) => void) | undefined;
  print?: (line: string) => void;
  workerStarter?: WorkerStarter;
  nodeKeySecret?: NodeKeySecretSource;
}

/** The URL that opens the dashboard already signed in. The token rides in the fragment, which
 * browsers never send to a server, and the page moves it into session storage at once. */
export function dashboardUrl(url: string, token: string): string {
  return `${url}#${TOKEN_FRAGMENT_KEY}=${token}`;
}

export async function runAgentProcess(args: AgentArgs, hooks: ProcessHooks): Promise<RunningAgent> {
  const print = hooks.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  let agent: RunningAgent;
  try {
    agent = await runAgent({
      dataDir: args.dataDir,
      port: args.port,
      headless: hooks.headless,
      echoLogs: hooks.headless && process.stderr.isTTY,
      logLevel: args.logLevel,
      ...(args.sensors ? {} : { sources: [] }),
      portFallback: args.electron && args.port === undefined,
      ...(hooks.workerStarter ? { workerStarter: hooks.workerStarter } : {}),
      ...(hooks.nodeKeySecret ? { nodeKeySecret: hooks.nodeKeySecret } : {}),
    });
  } catch (err) {
    if (err instanceof LockHeldError) {
      process.stderr.write(`offhours agent: ${err.message}\n`);
      process.exit(AGENT_EXIT.lockHeld);
    }
    throw err;
  }
  let exiting = false;
  const stop = async (code: number) => {
    if (exiting) return;
    exiting = true;
    const force = setTimeout(() => process.exit(code === 0 ? AGENT_EXIT.failed : code), 10_000);
    force.unref();
    try {
      await agent.stop();
    } catch (err) {
      process.stderr.write(`offhours agent: error while stopping: ${String(err)}\n`);
      code = AGENT_EXIT.failed;
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(AGENT_EXIT.ok));
  process.on('SIGTERM', () => void stop(AGENT_EXIT.ok));
  // The agent must keep running through a bug in one request; log and carry on.
  process.on('uncaughtException', (err) => agent.log.error('uncaught exception', { err }));
  process.on('unhandledRejection', (err) => agent.log.error('unhandled rejection', { err }));
  if (hooks.headless) {
    print(`Offhours agent ${agent.status().agent.version} is running (pid ${process.pid}).`);
    print(`Data directory: ${agent.dataDir}`);
    print(`Open the dashboard: ${dashboardUrl(agent.url, agent.token)}`);
    print('Press Ctrl+C to stop.');
  }
  hooks.attach?.(agent, stop);
  return agent;
}
