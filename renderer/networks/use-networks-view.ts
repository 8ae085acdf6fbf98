// The Networks page's copy of GET /networks: polled while the page is open and visible, patched at
// once with what an add or remove answered.
import { useCallback } from 'react';
import type { NetworkView } from '../../protocol/index.js';
import type { AgentConnection } from '../agent-connection.js';
import { usePolled } from '../use-polled.js';

/** Connection states change on heartbeats and retries, every few seconds at most. */
export const NETWORKS_REFRESH_MS = 3000;

const loadNetworks = (agent: AgentConnection) => agent.loadNetworks();

export function useNetworksView() {
  const { value: view, error, reload, setValue } = usePolled(loadNetworks, NETWORKS_REFRESH_MS);
  const putHub = useCallback(
    (hub: NetworkView) => setValue((v) => (v ? { ...v, hubs: [...v.hubs.filter((h) => h.id !== hub.id), hub] } : v)),
    [setValue],
  );
  const dropHub = useCallback((id: string) => setValue((v) => (v ? { ...v, hubs: v.hubs.filter((h) => h.id !== id) } : v)), [setValue]);
  return { view, error, reload, putHub, dropHub };
}
