// The Storage page's copy of GET /storage: polled while the page is open and visible, and patched
// at once with what an action answered so the user sees it before the next poll.
import { useCallback, useEffect, useState } from 'react';
import type { Ingest, PieceRecord, StorageSettings, StorageView } from '../../protocol/index.js';
import { useAgent } from '../use-agent.js';

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

export function useStorageView(): StorageViewState {
  const { agent, state } = useAgent();
  const [view, setView] = useState<StorageView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const connected = state.phase === 'connected';

  const reload = useCallback(() => {
    void agent.loadStorage().then((r) => {
      if (r.ok) {
        setView(r.value);
        setError(null);
      } else setError(r.error.message);
    });
  }, [agent]);

  useEffect(() => {
    if (!connected) return;
    let live = true;
    const load = () => {
      // A hidden page (minimised window, other tab) has no reader: skip until it is seen again.
      if (document.hidden) return;
      void agent.loadStorage().then((r) => {
        if (!live) return;
        if (r.ok) {
          setView(r.value);
          setError(null);
        } else setError(r.error.message);
      });
    };
    load();
    const timer = setInterval(load, STORAGE_REFRESH_MS);
    document.addEventListener('visibilitychange', load);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', load);
    };
  }, [agent, connected]);

  const putPiece = useCallback((piece: PieceRecord) => setView((v) => (v ? { ...v, pieces: v.pieces.map((p) => (p.cid === piece.cid ? piece : p)) } : v)), []);
  const putIngest = useCallback(
    (ingest: Ingest) => setView((v) => (v ? { ...v, ingests: [ingest, ...v.ingests.filter((i) => i.id !== ingest.id)] } : v)),
    [],
  );
  const putSettings = useCallback((settings: StorageSettings) => setView((v) => (v ? { ...v, settings } : v)), []);
  return { view, error, reload, putPiece, putIngest, putSettings };
}
