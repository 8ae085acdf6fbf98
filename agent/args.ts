// Argument parsing for the agent, shared by `offhours agent` and the utility-process entry.
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../protocol/index.js';
import { UserFacingError } from './errors.js';

export interface AgentArgs {
  dataDir: string;
  dataDirSource: 'flag' | 'env' | 'default';
  port: number | undefined;
  electron: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** false: run no sensor sources (debugging a misbehaving sensor; benchmarks). */
  sensors: boolean;
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new UserFacingError(`--port must be a number from 0 to 65535, got "${value}"`, 'bad_arguments');
  return Number(value);
}

export function resolveDataDirFromArgs(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; source: 'flag' | 'env' | 'default' } {
  try {
    return resolveDataDir({ flag, env, platform: process.platform, home: homedir() });
  } catch (err) {
    throw new UserFacingError((err as Error).message, 'bad_arguments');
  }
}

export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        electron: { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        sensors: { type: 'string', default: 'on' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UserFacingError((err as Error).message, 'bad_arguments');
  }
  const level = values['log-level'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UserFacingError(`--log-level must be debug, info, warn or error`, 'bad_arguments');
  if (values.sensors !== 'on' && values.sensors !== 'off') throw new UserFacingError('--sensors must be on or off', 'bad_arguments');
  const dir = resolveDataDirFromArgs(values['data-dir'], env);
  return { dataDir: dir.path, dataDirSource: dir.source, port: parsePort(values.port), electron: values.electron, logLevel: level as AgentArgs['logLevel'], sensors: values.sensors === 'on' };
}
