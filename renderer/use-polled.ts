// A value read from the agent again and again while the page is open, connected and visible (a
// hidden page has no reader), with the last error, a reload for after an action, and a setter to
// show an action's answer at once rather than at the next poll.
import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import type { AgentConnection, QueryResult } from './agent-connection.js';
import { useAgent } from './use-agent.js';

export interface Polled<T> {
  value: T | null;
  error: string | null;
  reload: () => void;
  setValue: Dispatch<SetStateAction<T | null>>;
}

export function usePolled<T>(load: (agent: AgentConnection) => Promise<QueryResult<T>>, periodMs: number): Polled<T> {
  const { agent, state } = useAgent();
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const connected = state.phase === 'connected';

  const reload = useCallback(() => {
    void load(agent).then((r) => {
      if (r.ok) {
        setValue(r.value);
        setError(null);
      } else setError(r.error.message);
    });
    // `load` is a module-level function at every call site: it never changes.
  }, [agent]);

  useEffect(() => {
    if (!connected) return;
    let live = true;
    const tick = () => {
      if (document.hidden) return;
      void load(agent).then((r) => {
        if (!live) return;
        if (r.ok) {
          setValue(r.value);
          setError(null);
        } else setError(r.error.message);
      });
    };
    tick();
    const timer = setInterval(tick, periodMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [agent, connected, periodMs]);

  return { value, error, reload, setValue };
}
