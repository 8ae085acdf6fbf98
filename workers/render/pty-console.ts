// The engine on a real terminal without losing its last lines. node-pty's spawn reports the exit
// and then reads the master until the kernel says EIO; on Linux the slave's hangup can overtake the
// line discipline's last push of output to the master, and that output is gone (node-pty issues
// #72, #85, #726; a delay cannot bring it back). In bench/jobs-console.bench.ts and a 200,000-line
// run here, about half of node-pty spawns lost their tail.
//
// So the terminal is opened here (node-pty's openpty binding), the engine is started with
// child_process on the slave as its stdin, stdout and stderr, and this process keeps its own slave
// descriptor open: without a hangup the master never reads EIO early, every byte the engine wrote
// is read, and the slave is closed only once the engine has exited and the output has gone quiet.
// child_process also gives what pipes give: a reliable exit status, the pid before the exec, and a
// process group of its own (detached), so pause and kill work the same.
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { ReadStream } from 'node:tty';
import type { Invocation } from './command.js';
import type { EngineExit } from './outcome.js';

/** Wide enough that no status line is ever re-wrapped by the terminal (the parser reads lines). */
export const PTY_COLUMNS = 10_000;
export const PTY_ROWS = 50;
/** After the engine exits, the output counts as complete once it has been quiet this long. The
 * held slave means nothing is lost by waiting (the line discipline hands over what the engine
 * wrote within a millisecond or so); this only bounds how long "done" takes. */
const QUIET_MS = 20;
const QUIET_POLL_MS = 5;
/** A grandchild that inherited the terminal can keep it busy: stop reading after this long. */
const DRAIN_MAX_MS = 5_000;

interface PtyBinding {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

let binding: { open: PtyBinding['open'] } | { reason: string } | undefined;

/** node-pty's native binding, loaded once; on Windows or without it the engine uses pipes. */
export function loadPty(): { open: PtyBinding['open'] } | { reason: string } {
  if (binding) return binding;
  if (process.platform === 'win32') {
    binding = { reason: 'Windows: ConPTY delivers no POSIX signals (pause/kill of the group), so the engine uses pipes' };
    return binding;
  }
  try {
    const utils = createRequire(import.meta.url)('node-pty/lib/utils.js') as { loadNativeModule(name: string): { module: PtyBinding } };
    const native = utils.loadNativeModule('pty').module;
    binding = { open: (cols, rows) => native.open(cols, rows) };
  } catch (e) {
    binding = { reason: `node-pty could not be loaded (${e instanceof Error ? e.message : String(e)}); the engine uses pipes` };
    process.stderr.write(`offhours render: ${binding.reason}\n`);
  }
  return binding;
}

export interface SpawnedEngine {
  kind: 'pty' | 'pipes';
  pid: number | undefined;
  /** Resolves once the engine has exited and all of its output has been emitted. */
  ended: Promise<{ exit: EngineExit; error?: Error }>;
}

export type Emit = (text: string, stream: 'stdout' | 'stderr') => void;

export function spawnOnPty(open: PtyBinding['open'], inv: Invocation, emit: Emit): SpawnedEngine {
  let fds: { master: number; slave: number };
  try {
    fds = open(PTY_COLUMNS, PTY_ROWS);
  } catch (e) {
    return { kind: 'pty', pid: undefined, ended: Promise.resolve({ exit: { code: null, signal: null }, error: e instanceof Error ? e : new Error(String(e)) }) };
  }
  const master = new ReadStream(fds.master);
  const decoder = new StringDecoder('utf8');
  let lastData = Date.now();
  master.on('data', (buf: Buffer) => {
    lastData = Date.now();
    const text = decoder.write(buf);
    if (text !== '') emit(text, 'stdout');
  });
  // EIO once the slave is closed and everything is read: the end of the output, not an error.
  master.on('error', () => undefined);
  const masterClosed = new Promise<void>((resolve) => master.once('close', () => resolve()));

  let slaveOpen = true;
  const closeSlave = () => {
    if (!slaveOpen) return;
    slaveOpen = false;
    try {
      closeSync(fds.slave);
    } catch {}
  };

  // TERM names the terminal; COLUMNS/LINES tell programs that ask the environment, not the tty.
  const env = { ...inv.env, TERM: 'xterm-256color', COLUMNS: String(PTY_COLUMNS), LINES: String(PTY_ROWS) };
  const child = spawn(inv.file, inv.args, { cwd: inv.cwd, env, detached: true, stdio: [fds.slave, fds.slave, fds.slave] });

  const ended = new Promise<{ exit: EngineExit; error?: Error }>((resolve) => {
    let done = false;
    const finish = async (exit: EngineExit, error?: Error) => {
      if (done) return;
      done = true;
      const exitedAt = Date.now();
      // Wait until the output has been quiet (bounded), then let go of the slave: the master
      // reads what is left, then EIO, then closes.
      do await new Promise((r) => setTimeout(r, QUIET_POLL_MS));
      while (Date.now() - lastData < QUIET_MS && Date.now() - exitedAt < DRAIN_MAX_MS);
      closeSlave();
      const rest = await Promise.race([masterClosed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), DRAIN_MAX_MS))]);
      if (!rest) master.destroy();
      const tail = decoder.end();
      if (tail) emit(tail, 'stdout');
      resolve(error ? { exit, error } : { exit });
    };
    child.once('error', (error) => void finish({ code: null, signal: null }, error));
    child.once('exit', (code, signal) => void finish({ code, signal }));
  });
  return { kind: 'pty', pid: child.pid, ended };
}
