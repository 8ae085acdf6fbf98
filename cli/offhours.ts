#!/usr/bin/env node
// The `offhours` command. Parses arguments and hands over to the agent or to the API client.
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { Status, type SharingRequest } from '../protocol/index.js';
import { parseAgentArgs, resolveDataDirFromArgs } from '../agent/args.js';
import { runAgentProcess, dashboardUrl } from '../agent/process.js';
import { UserFacingError } from '../agent/errors.js';
import { CliError, EXIT, callAgent, findAgent } from './api-client.js';
import { parseDuration } from './duration.js';
import { formatStatus } from './format-status.js';
import { commpCommand } from './commp.js';
import { STORAGE_HELP, runStorageCommand } from './storage-command.js';
import { HUB_HELP, runHubCommand } from './hub-command.js';
import { HUB_STATUS_HELP, JOB_HELP, runHubRedeemCommand, runHubStatusCommand, runJobCommand } from './job-command.js';
import { STORE_HELP, runStoreCommand } from './store-command.js';

const VERSION: string = __OFFHOURS_VERSION__;

const HELP = `Offhours ${VERSION}: share this machine's idle GPU, CPU and disk, only when it is idle and it pays.

Usage: offhours <command> [options]

Commands:
  agent                 run the agent in the foreground (headless); prints the dashboard URL
  status [--json]       show what the running agent is doing, and the dashboard URL
  pause [--for 30m]     stop sharing (for a while with --for: a snooze)
  resume                turn sharing on again
  drain                 finish the current work, then stop
  commp FILE [--json]   piece commitment of a file: payload and piece size, v1 and v2 piece CIDs
${STORAGE_HELP}
${STORE_HELP}
${HUB_HELP}
${HUB_STATUS_HELP}
${JOB_HELP}
  help, version

Options:
  --data-dir DIR        data directory (default: $OFFHOURS_DATA_DIR, else the per-OS default)
  --port N              agent: port on 127.0.0.1 (default 47823; 0 picks a free one)
  --sensors off         agent: read no hardware sensors (rules that need them can't be checked)

Exit codes: 0 ok, 1 failed, 2 bad usage, 3 no agent running, 4 token or customer key refused.`;

async function sharing(dataDir: string, req: SharingRequest): Promise<Status> {
  return callAgent(findAgent(dataDir), dataDir, 'POST', '/sharing', Status, req);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    case 'version':
    case '--version':
      out(VERSION);
      return EXIT.ok;
    case 'agent':
      await runAgentProcess(parseAgentArgs(rest), { headless: true });
      return -1; // keeps running; exits through its signal handlers
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
      const dataDir = resolveDataDirFromArgs(values['data-dir']).path;
      const endpoint = findAgent(dataDir);
      const status = await callAgent(endpoint, dataDir, 'GET', '/status', Status);
      if (values.json) out(JSON.stringify(status, null, 2));
      else out(formatStatus(status, dashboardUrl(`${endpoint.baseUrl}/`, endpoint.token)));
      return EXIT.ok;
    }
    case 'pause': {
      const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' }, for: { type: 'string' } } });
      const dataDir = resolveDataDirFromArgs(values['data-dir']).path;
      let req: SharingRequest = { mode: 'off' };
      if (values.for !== undefined) {
        let ms: number;
        try {
          ms = parseDuration(values.for);
        } catch (err) {
          throw new CliError((err as Error).message, EXIT.usage);
        }
        req = { mode: 'snooze', until: new Date(Date.now() + ms).toISOString() };
      }
      const status = await sharing(dataDir, req);
      out(`${status.sharing.reason.text}`);
      return EXIT.ok;
    }
    case 'resume':
    case 'drain': {
      const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' } } });
      const dataDir = resolveDataDirFromArgs(values['data-dir']).path;
      const status = await sharing(dataDir, { mode: command === 'resume' ? 'on' : 'drain' });
      out(status.sharing.reason.text);
      return EXIT.ok;
    }
    case 'storage':
      return runStorageCommand(rest, out);
    case 'hub':
      if (rest[0] === 'status') return runHubStatusCommand(rest.slice(1), out);
      if (rest[0] === 'redeem') return runHubRedeemCommand(rest.slice(1), out);
      return runHubCommand(rest, out);
    case 'job':
      return runJobCommand(rest, out);
    case 'store':
      return runStoreCommand(rest, out);
    case 'commp': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (positionals.length !== 1) throw new CliError('usage: offhours commp FILE [--json]', EXIT.usage);
      out(await commpCommand(positionals[0]!, values.json));
      return EXIT.ok;
    }
    default:
      process.stderr.write(`offhours: unknown command "${command}"\n\n${HELP}\n`);
      return EXIT.usage;
  }
}

// The CommP threads are chunks of this bundle; should one ever share this entry's chunk, it must
// not run the command again.
if (isMainThread) main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`offhours: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof UserFacingError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`offhours: ${err.message}\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.stderr.write(`offhours: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT.failed;
    }
  },
);
