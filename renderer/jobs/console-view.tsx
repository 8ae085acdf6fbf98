// A job's live console: subscribes through the agent connection (which owns the socket) and writes
// what arrives into a terminal. The terminal is created when the view mounts and disposed when it
// unmounts; `key` the view by job id so another job gets a fresh terminal.
import { createContext, useContext, useEffect, useRef } from 'react';
import { useAgent } from '../use-agent.js';
import { createXtermTerminal, type CreateTerminal } from './terminal.js';

/** Which terminal the console uses: xterm.js in the app, a recorder in component tests. */
export const TerminalContext = createContext<CreateTerminal>(createXtermTerminal);

export function ConsoleView({ jobId, label }: { jobId: string; label: string }) {
  const { agent } = useAgent();
  const createTerminal = useContext(TerminalContext);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const container = ref.current;
    if (!container) return;
    const terminal = createTerminal(container);
    const unsubscribe = agent.subscribeConsole(
      jobId,
      (data) => terminal.write(data),
      () => terminal.reset(),
    );
    return () => {
      unsubscribe();
      terminal.dispose();
    };
  }, [agent, createTerminal, jobId]);

  return <div ref={ref} className="console" data-testid="job-console" data-job-id={jobId} role="log" aria-label={label} />;
}
