// Every proof check, newest first, passed and failed alike: a failed one is the thing to look into
// (and, once networks are joined, the thing that costs money).
import { useId } from 'react';
import type { StorageView } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { PieceCid } from './piece-cid.js';
import { proofPassed, proofScore } from './words.js';

export function ProofHistoryCard({ proofs }: { proofs: StorageView['proofs'] }) {
  const ids = useId();
  const failed = proofs.filter((p) => !proofPassed(p)).length;
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="proof-history">
      <h2 id={`${ids}-title`} className="card-title">
        Proof history
      </h2>
      {proofs.length === 0 ? (
        <p className="muted">No proofs yet. They appear here when a piece is challenged.</p>
      ) : (
        <>
          <p className="field-hint" data-testid="proof-summary">
            {proofs.length - failed} passed, {failed} failed (the last {proofs.length}).
          </p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Piece</th>
                <th scope="col">Result</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {proofs.map((p, i) => {
                const passed = proofPassed(p);
                return (
                  <tr key={`${p.at}:${p.cid}:${i}`} data-testid="proof-row" data-passed={passed}>
                    <td>{formatDateTime(p.at)}</td>
                    <td>
                      <PieceCid cid={p.cid} />
                    </td>
                    <td>
                      <span className={passed ? 'badge' : 'badge badge-danger'}>{passed ? 'passed' : 'failed'}</span> {proofScore(p)}
                    </td>
                    <td>{p.problem ?? <span className="muted">—</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
