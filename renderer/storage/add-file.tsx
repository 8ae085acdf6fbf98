// Stores a file of this machine as a local piece (what `offhours storage add` does), and lists the
// files on their way in: waiting for the rules, copying, sealing, and the last ones that ended.
// Ingest runs under the schedule like any work, so "waiting" comes with the rules' reason.
import { useId } from 'react';
import type { Ingest } from '../../protocol/index.js';
import { OneFieldForm } from '../components/one-field-form.js';
import { formatDateTime } from '../format.js';
import { useAgent } from '../use-agent.js';
import { PieceCid } from './piece-cid.js';
import { INGEST_STATE_LABEL, INGEST_STATE_TONE } from './words.js';

export function AddFileCard({ ingests, onQueued }: { ingests: readonly Ingest[]; onQueued: (ingest: Ingest) => void }) {
  const ids = useId();
  const { agent } = useAgent();

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="storage-add">
      <h2 id={`${ids}-title`} className="card-title">
        Store a file
      </h2>
      <p className="field-hint">
        Stores and seals a file of the agent’s machine as a local piece, to check your own files or try proofs before any network sends data. The file is only
        read, never served.
      </p>
      <OneFieldForm
        label="File to store"
        field="file"
        placeholder="/home/you/backup.tar"
        hint="An absolute path."
        button="Store this file"
        pending="storage-add"
        refusalTestId="add-refusal"
        send={(file) => agent.addStorageFile(file)}
        refusal={(error) => (error.code === 'storage_off' ? 'Choose a storage folder and save it first: no disk is shared yet.' : error.message)}
        done={(ingest) => {
          onQueued(ingest);
          return `Queued ${ingest.file}.`;
        }}
      />
      {ingests.length > 0 && (
        <>
          <h3 className="card-subtitle">Files being added</h3>
          <table className="table" data-testid="ingests">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">State</th>
                <th scope="col">Why</th>
                <th scope="col">Piece</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {ingests.map((i) => (
                <tr key={i.id} data-testid="ingest-row" data-id={i.id}>
                  <th scope="row">
                    <code className="path">{i.file}</code>
                  </th>
                  <td>
                    <span className={INGEST_STATE_TONE[i.state]} data-testid="ingest-state">
                      {INGEST_STATE_LABEL[i.state]}
                    </span>
                  </td>
                  <td data-testid="ingest-reason">{i.reason ?? <span className="muted">—</span>}</td>
                  <td>{i.cid ? <PieceCid cid={i.cid} /> : <span className="muted">—</span>}</td>
                  <td>{formatDateTime(i.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
