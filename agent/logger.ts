// Structured logs: one JSON object per line in <data>/logs/agent.log, rotated by size so a
// long-running agent never fills the disk. Writes are synchronous: log volume is low and a line
// must survive a crash that follows it.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  close(): void;
}

export interface FileLoggerOptions {
  dir: string;
  name?: string;
  maxBytes?: number;
  keep?: number;
  level?: LogLevel;
  /** Also print a short line to stderr (foreground runs). */
  echo?: boolean;
  now?: () => Date;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export function createFileLogger(opts: FileLoggerOptions): Logger {
  const name = opts.name ?? 'agent';
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  const keep = opts.keep ?? 5;
  const minLevel = ORDER[opts.level ?? 'info'];
  const now = opts.now ?? (() => new Date());
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = join(opts.dir, `${name}.log`);
  let fd: number | null = openSync(file, 'a', 0o600);
  let size = fstatSync(fd).size;

  const rotate = () => {
    if (fd !== null) closeSync(fd);
    const oldest = join(opts.dir, `${name}.${keep}.log`);
    if (existsSync(oldest)) rmSync(oldest);
    for (let i = keep - 1; i >= 1; i--) {
      const from = join(opts.dir, `${name}.${i}.log`);
      if (existsSync(from)) renameSync(from, join(opts.dir, `${name}.${i + 1}.log`));
    }
    renameSync(file, join(opts.dir, `${name}.1.log`));
    fd = openSync(file, 'a', 0o600);
    size = 0;
  };

  const write = (level: LogLevel, base: Record<string, unknown>, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < minLevel || fd === null) return;
    const record: Record<string, unknown> = { t: now().toISOString(), level, msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = errorFields(v);
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    if (size > 0 && size + bytes > maxBytes) rotate();
    writeSync(fd, line);
    size += bytes;
    if (opts.echo) process.stderr.write(`${level.toUpperCase().padEnd(5)} ${msg}${fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields, (_k, v: unknown) => errorFields(v))}` : ''}\n`);
  };

  const make = (base: Record<string, unknown>): Logger => ({
    debug: (m, f) => write('debug', base, m, f),
    info: (m, f) => write('info', base, m, f),
    warn: (m, f) => write('warn', base, m, f),
    error: (m, f) => write('error', base, m, f),
    child: (more) => make({ ...base, ...more }),
    close: () => {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  });
  return make({});
}
