// Entry of the agent bundle (dist/agent/agent.js): run by Electron main as a utility process,
// or directly with node. `offhours agent` (cli/) is the other way in and shares runAgent.
import { AGENT_EXIT } from '../protocol/index.js';
import { parseAgentArgs } from './args.js';
import { runAgentProcess } from './process.js';
import { createParentChannel, type ParentPortLike } from './parent-channel.js';
import { UserFacingError } from './errors.js';
import { deferredParentChannelStarter } from './jobs/worker-starter.js';
import { deferredAppSecretSource } from './wallet/secret-source.js';

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;

try {
  const args = parseAgentArgs(process.argv.slice(2));
  // Inside the app only main can start worker processes.
  const appStarter = parentPort ? deferredParentChannelStarter() : undefined;
  // Inside the app the node keystore's secret comes from main (Electron's safeStorage).
  const appSecret = parentPort ? deferredAppSecretSource() : undefined;
  await runAgentProcess(args, {
    headless: parentPort === undefined,
    ...(appStarter ? { workerStarter: appStarter } : {}),
    ...(appSecret ? { nodeKeySecret: appSecret } : {}),
    attach: parentPort
      ? (agent, stop) => {
          const channel = createParentChannel(parentPort, agent.log);
          appStarter?.attach(channel);
          appSecret?.attach(channel);
          channel.onShutdown(() => void stop(AGENT_EXIT.ok));
          channel.ready(agent.url, agent.port);
        }
      : undefined,
  });
} catch (err) {
  process.stderr.write(`offhours agent: ${err instanceof UserFacingError ? err.message : String(err)}\n`);
  process.exit(err instanceof UserFacingError && err.code === 'bad_arguments' ? AGENT_EXIT.badArguments : AGENT_EXIT.failed);
}
