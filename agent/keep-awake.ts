// Keeps a headless Linux box from sleeping while it shares: OS sleep after 15–30 idle minutes
// would otherwise end idle-time sharing. Inside the app, Electron's powerSaveBlocker does this
// (main/); here it is a `systemd-inhibit` child held for as long as sharing runs.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from './logger.js';

export interface KeepAwake {
  set(wanted: boolean): void;
  /** Why it cannot work here, if it cannot. */
  readonly problem: string | null;
  stop(): void;
}

export function systemdInhibitKeepAwake(log: Logger, command = 'systemd-inhibit'): KeepAwake {
  let child: ChildProcess | null = null;
  let problem: string | null = process.platform === 'linux' ? null : 'keeping the computer awake needs the desktop app on this system';
  const stop = () => {
    child?.kill();
    child = null;
  };
  return {
    get problem() {
      return problem;
    },
    set(wanted) {
      if (!wanted) return stop();
      if (child || problem) return;
      // The inhibitor holds `cat` on a pipe from us: if the agent dies, even by kill -9, the pipe
      // closes, cat ends, and the machine may sleep again. `sleep infinity` would outlive us.
      const c = spawn(command, ['--what=sleep:idle', '--who=Offhours', '--why=Sharing this computer while it is idle', '--mode=block', 'cat'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      c.stdin?.on('error', () => undefined);
      child = c;
      c.on('error', (err) => {
        problem = `cannot keep the computer awake: ${command} is not available (${(err as NodeJS.ErrnoException).code ?? err.message})`;
        log.warn(problem);
        if (child === c) child = null;
      });
      c.on('exit', (code) => {
        if (child === c) {
          child = null;
          if (code !== null && code !== 0) {
            problem = `cannot keep the computer awake: ${command} exited with ${code} (no systemd login session?)`;
            log.warn(problem);
          }
        }
      });
    },
    stop,
  };
}

export const noKeepAwake: KeepAwake = { set: () => undefined, problem: null, stop: () => undefined };
