// The disk as the agent reads it from the file system: every figure is the agent's own (statfs and
// allocated blocks), because numbers that do not add up with the file manager's are the first
// thing storage users distrust. Nothing here is derived except the bar's proportions.
import { useId } from 'react';
import type { StorageView } from '../../protocol/index.js';
import { Bytes } from './bytes.js';

export function DiskCard({ view }: { view: StorageView }) {
  const ids = useId();
  const { disk, settings, problem } = view;
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="storage-disk">
      <h2 id={`${ids}-title`} className="card-title">
        Disk space
      </h2>
      {problem && (
        <div className="banner banner-danger" role="alert" data-testid="storage-problem">
          <p className="banner-text">{problem}</p>
        </div>
      )}
      {!disk ? (
        !problem && <p className="muted">No folder chosen: Offhours stores nothing on this machine. Choose a folder and a cap below to share disk space.</p>
      ) : (
        <>
          <div className="progress-line">
            {/* The cap can be 0 (sharing nothing), which a progress element cannot show as a maximum. */}
            <progress className="progress" max={Math.max(settings.capBytes, 1)} value={Math.min(disk.usedBytes, Math.max(settings.capBytes, 1))} aria-labelledby={`${ids}-used`} />
          </div>
          <p id={`${ids}-used`} className="progress-text" data-testid="storage-used-line">
            <Bytes value={disk.usedBytes} testId="disk-used" /> used of <Bytes value={settings.capBytes} testId="disk-cap" /> allocated
          </p>
          <dl className="facts">
            <div>
              <dt>May still be stored</dt>
              <dd>
                <Bytes value={disk.availableBytes} testId="disk-available" />
              </dd>
            </div>
            <div>
              <dt>Free on this disk</dt>
              <dd>
                <Bytes value={disk.freeBytes} testId="disk-free" /> <span className="muted">of</span> <Bytes value={disk.totalBytes} testId="disk-total" />
              </dd>
            </div>
            <div>
              <dt>Always left free</dt>
              <dd>
                <Bytes value={disk.reserveBytes} testId="disk-reserve" />
              </dd>
            </div>
            <div>
              <dt>Folder</dt>
              <dd>
                <code className="path">{disk.folder}</code>
              </dd>
            </div>
          </dl>
          <p className="card-foot">
            Used counts the pieces and their proof trees as the file system allocates them. Offhours refuses new data rather than fill the cap or eat into the
            space always left free, whichever comes first.
          </p>
        </>
      )}
    </section>
  );
}
