// `offhours hub [--listen HOST:PORT] [--data-dir DIR]`: run the reference hub in the foreground
// on the embedded PGlite in DIR, or on the Postgres server named by DATABASE_URL (an environment
// variable rather than a flag, so its password stays out of `ps`), until SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHub } from '../hub/hub.js';
import { describeDatabaseUrl } from '../hub/db/postgres.js';
import { resolveDataDirFromArgs } from '../agent/args.js';
import { CliError, EXIT } from './api-client.js';

export const HUB_HELP = `  hub [--listen 127.0.0.1:8787] [--data-dir DIR]   run a hub (coordinator) on an embedded Postgres in DIR/hub,
                                                   or on the Postgres server in $DATABASE_URL`;

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new CliError(`--listen wants HOST:PORT (e.g. 127.0.0.1:8787), not ${text}`, EXIT.usage);
  return { host: m[1] ?? m[2]!, port };
}

export async function runHubCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { listen: { type: 'string', default: '127.0.0.1:8787' }, 'data-dir': { type: 'string' }, 'public-url': { type: 'string' } } });
  const { host, port } = parseListen(values.listen);
  // Beside the agent's files by default, in its own folder: the hub has its own lock and database.
  const dataDir = values['data-dir'] !== undefined ? resolve(values['data-dir']) : resolve(resolveDataDirFromArgs(undefined).path, 'hub');
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const hub = await startHub({ dataDir, host, port, ...(databaseUrl ? { databaseUrl } : {}), ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}) });
  const where = databaseUrl
    ? `data on ${describeDatabaseUrl(databaseUrl)} from DATABASE_URL, no directory lock: other hubs may share it`
    : `data in ${dataDir}`;
  out(`Hub listening on ${hub.url} (${where}; customer API key in ${hub.customerKeyFile || '(given)'})`);
  const stop = (signal: string) => {
    out(`${signal}: stopping the hub`);
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return -1;
}
