// `offhours hub [--listen HOST:PORT] [--data-dir DIR] [--config FILE]`: run the reference hub in
// the foreground on the embedded PGlite in DIR, or on the Postgres server named by DATABASE_URL (an
// environment variable rather than a flag, so its password stays out of `ps`), until SIGINT/SIGTERM.
// The config file (hub/config.ts) sets payments (chain, escrow, token, prices), spot checks and
// timings.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHub } from '../hub/hub.js';
import { describeDatabaseUrl } from '../hub/db/postgres.js';
import { HubConfigError, hubOptionsFromConfig, readHubConfig } from '../hub/config.js';
import { resolveDataDirFromArgs } from '../agent/args.js';
import { CliError, EXIT } from './api-client.js';

export const HUB_HELP = `  hub [--listen 127.0.0.1:8787] [--data-dir DIR] [--config FILE]
                        run a hub (coordinator) on an embedded Postgres in DIR/hub, or on the Postgres
                        server in $DATABASE_URL; FILE (JSON) sets payments, spot checks and timings`;

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new CliError(`--listen wants HOST:PORT (e.g. 127.0.0.1:8787), not ${text}`, EXIT.usage);
  return { host: m[1] ?? m[2]!, port };
}

export async function runHubCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { listen: { type: 'string', default: '127.0.0.1:8787' }, 'data-dir': { type: 'string' }, 'public-url': { type: 'string' }, config: { type: 'string' } },
  });
  const { host, port } = parseListen(values.listen);
  let fromConfig = {};
  if (values.config !== undefined) {
    try {
      fromConfig = hubOptionsFromConfig(readHubConfig(resolve(values.config)));
    } catch (err) {
      if (err instanceof HubConfigError) throw new CliError(err.message, EXIT.usage);
      throw err;
    }
  }
  // Beside the agent's files by default, in its own folder: the hub has its own lock and database.
  const dataDir = values['data-dir'] !== undefined ? resolve(values['data-dir']) : resolve(resolveDataDirFromArgs(undefined).path, 'hub');
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const hub = await startHub({
    ...fromConfig,
    dataDir,
    host,
    port,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
  });
  const where = databaseUrl
    ? `data on ${describeDatabaseUrl(databaseUrl)} from DATABASE_URL, no directory lock: other hubs may share it`
    : `data in ${dataDir}`;
  out(`Hub listening on ${hub.url} (${where}; customer API key in ${hub.customerKeyFile || '(given)'})`);
  const terms = hub.payments.terms;
  out(terms ? `Pays in ${terms.tokenSymbol} on chain ${terms.chainId} through escrow ${terms.escrow}; payer ${terms.payer} ${hub.payments.keyFile ? `(key in ${hub.payments.keyFile})` : ''}` : 'Payments are not configured (--config with "payments"): verified work is credited and paid once they are.');
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
