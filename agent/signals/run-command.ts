// The one way sources run a short external command (gdbus, nvidia-smi queries, reg): async, with a
// timeout that kills it, so a hung tool can never block the event loop or pile up.
import { execFile } from 'node:child_process';

export type CommandResult =
  | { ok: true; stdout: string; stderr: string }
  | {
      ok: false;
      /** not-found: the program is not installed (ENOENT); timeout: killed after timeoutMs;
       * failed: it ran and exited non-zero, or could not be started. */
      reason: 'not-found' | 'timeout' | 'failed';
      code: number | null;
      stdout: string;
      stderr: string;
      message: string;
    };

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Output beyond this fails the command rather than growing without bound. */
  maxBytes?: number;
}

export type RunCommand = (file: string, args: readonly string[], opts?: RunOptions) => Promise<CommandResult>;

export const runCommand: RunCommand = (file, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: opts.timeoutMs ?? 5_000, killSignal: 'SIGKILL', env: opts.env ?? process.env, maxBuffer: opts.maxBytes ?? 1024 * 1024, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown; signal?: NodeJS.Signals | null };
        const reason = e.code === 'ENOENT' ? 'not-found' : e.killed && e.signal === 'SIGKILL' && e.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? 'timeout' : 'failed';
        resolve({ ok: false, reason, code: typeof e.code === 'number' ? e.code : null, stdout: stdout ?? '', stderr: stderr ?? '', message: e.message });
      },
    );
  });

/** The first meaningful line of a failed command's output, for a note the user can read. */
export function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  ).slice(0, 200);
}
