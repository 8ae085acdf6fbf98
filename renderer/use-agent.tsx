// React's view of the agent connection: one provider at the top, one hook for every screen.
import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { AgentConnection, ConnectionState } from './agent-connection.js';

const AgentContext = createContext<AgentConnection | null>(null);

export function AgentProvider({ connection, children }: { connection: AgentConnection; children: ReactNode }) {
  return <AgentContext.Provider value={connection}>{children}</AgentContext.Provider>;
}

export function useAgent(): { state: ConnectionState; agent: AgentConnection } {
  const agent = useContext(AgentContext);
  if (!agent) throw new Error('useAgent() needs an <AgentProvider> above it');
  const state = useSyncExternalStore(agent.subscribe, agent.getSnapshot);
  return { state, agent };
}

/** Whether a user action can be sent now: connected, and nothing else in flight. */
export function canAct(state: ConnectionState): boolean {
  return state.phase === 'connected' && state.pending === null;
}
