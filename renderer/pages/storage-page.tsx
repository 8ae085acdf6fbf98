// Storage: the folder and cap shared, the disk's figures as the file system reports them, the pieces
// kept and their proofs, and a way to store a local file. Proofs are what storage is paid for, so
// passed and failed ones are both on the page.
import type { PieceRecord, StorageSettings } from '../../protocol/index.js';
import { PageHeader } from '../components/page-header.js';
import { routeHref } from '../routes.js';
import { AddFileCard } from '../storage/add-file.js';
import { AllocationForm } from '../storage/allocation-form.js';
import { DiskCard } from '../storage/disk-card.js';
import { PiecesCard } from '../storage/pieces-table.js';
import { ProofHistoryCard } from '../storage/proof-history.js';
import { useStorageView } from '../storage/use-storage-view.js';

export function StoragePage() {
  const { view, error, reload, putPiece, putIngest, putSettings } = useStorageView();
  return (
    <>
      <PageHeader title="Storage" subtitle="Disk space shared with networks, and the proofs that it still holds what it stores." />
      <div className="banner banner-info" data-testid="storage-earning-note">
        <p className="banner-text">
          Storage earns only while this machine is on and online: a proof it cannot answer in time is a proof failed. No network is joined yet, so nothing
          stored here earns yet (see <a href={routeHref('networks')}>Networks</a>).
        </p>
      </div>
      {error && (
        <div className="banner banner-danger" role="alert" data-testid="storage-error">
          <p className="banner-text">Could not load the storage figures: {error}</p>
        </div>
      )}
      <div className="page-grid">
        {view ? (
          <>
            <DiskCard view={view} />
            <AllocationForm
              view={view}
              onSaved={(settings: StorageSettings) => {
                putSettings(settings);
                // Another folder is another disk: its figures come from the agent, not from here.
                reload();
              }}
            />
            <PiecesCard
              pieces={view.pieces}
              onChanged={(piece?: PieceRecord) => {
                if (piece) putPiece(piece);
                reload();
              }}
            />
            <AddFileCard
              ingests={view.ingests}
              onQueued={(ingest) => {
                putIngest(ingest);
                reload();
              }}
            />
            <ProofHistoryCard proofs={view.proofs} />
          </>
        ) : (
          !error && (
            <section className="card">
              <p className="muted">Loading the storage figures…</p>
            </section>
          )
        )}
      </div>
    </>
  );
}
