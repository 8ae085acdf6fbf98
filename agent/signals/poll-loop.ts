// The one timer loop every polling source uses. A tick never overlaps the previous one (the next
// is scheduled when the last has finished), so a slow read (PowerShell, a hung gdbus) delays the
// source instead of piling up child processes. Errors are logged, never thrown into the agent.
import type { Logger } from '../logger.js';

export interface PollLoop {
  /** Stops the loop and waits for a tick in progress to finish. */
  stop(): Promise<void>;
}

export interface PollLoopOptions {
  name: string;
  /** Delay between the end of one tick and the start of the next; a function lets a source slow
   * down while nothing answers (D-Bus without a session) and speed up again. */
  periodMs: number | (() => number);
  log: Logger;
  tick: () => Promise<void> | void;
}

export function startPollLoop(opts: PollLoopOptions): PollLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  const period = () => (typeof opts.periodMs === 'function' ? opts.periodMs() : opts.periodMs);

  const run = () => {
    timer = null;
    if (stopped) return;
    inFlight = (async () => {
      try {
        await opts.tick();
      } catch (err) {
        opts.log.warn(`signal source ${opts.name}: read failed`, { err });
      }
    })();
    void inFlight.then(() => {
      inFlight = null;
      if (stopped) return;
      timer = setTimeout(run, period());
      // The agent's server keeps the process alive; a sensor timer alone must not.
      timer.unref();
    });
  };
  run();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (inFlight) await inFlight;
    },
  };
}
