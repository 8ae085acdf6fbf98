// The Storage page's copy of GET /storage: polled while the page is open and visible, and patched
// at once with what an action answered so the user sees it before the next poll.
import { useCallback } from 'react';
import type { Ingest, PieceRecord, StorageSettings, StorageView } from '../../protocol/index.js';
import type { AgentConnection } from '../agent-connection.js';
import { usePolled } from '../use-polled.js';

/** Ingests and proofs move within seconds; a few seconds follows them without chatter. */
export const STORAGE_REFRESH_MS = 4000;

export interface StorageViewState {
  view: StorageView | null;
  error: string | null;
  reload: () => void;
  putPiece: (piece: PieceRecord) => void;
  putIngest: (ingest: Ingest) => void;
  putSettings: (settings: StorageSettings) => void;
}

const loadStorage = (agent: AgentConnection) => agent.loadStorage();

export function useStorageView(): StorageViewState {
  const { value: view, error, reload, setValue: setView } = usePolled(loadStorage, STORAGE_REFRESH_MS);
  const putPiece = useCallback((piece: PieceRecord) => setView((v) => (v ? { ...v, pieces: v.pieces.map((p) => (p.cid === piece.cid ? piece : p)) } : v)), [setView]);
  const putIngest = useCallback(
    (ingest: Ingest) => setView((v) => (v ? { ...v, ingests: [ingest, ...v.ingests.filter((i) => i.id !== ingest.id)] } : v)),
    [setView],
  );
  const putSettings = useCallback((settings: StorageSettings) => setView((v) => (v ? { ...v, settings } : v)), [setView]);
  return { view, error, reload, putPiece, putIngest, putSettings };
}
