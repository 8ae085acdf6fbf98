// The pieces kept here: what each holds, whether it is sealed, when it last proved it still holds
// the bytes, and whether its last integrity check found them intact. Each row can be challenged or
// re-hashed on demand; the answer shows in the row, the scheduled checks keep the columns current.
import { useId, useState } from 'react';
import type { PieceRecord, ScrubCheck } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { Bytes } from './bytes.js';
import { PieceCid } from './piece-cid.js';
import { PIECE_STATE_LABEL, PIECE_STATE_TONE, proofPassed, proofScore } from './words.js';

/** As many challenges as the CLI asks by default: small enough to answer at once. */
export const PROVE_CHALLENGES = 5;

interface RowOutcome {
  ok: boolean;
  text: string;
}

/** Only pieces whose bytes are kept can be challenged or checked: a sealing one is not complete yet,
 * a rejected one has been removed. */
const checkable = (p: PieceRecord) => p.state === 'sealed' || p.state === 'corrupt';

export function PiecesCard({ pieces, onChanged }: { pieces: readonly PieceRecord[]; onChanged: (piece?: PieceRecord) => void }) {
  const ids = useId();
  const { state, agent } = useAgent();
  const [outcomes, setOutcomes] = useState<ReadonlyMap<string, RowOutcome>>(new Map());
  const note = (cid: string, outcome: RowOutcome) => setOutcomes((m) => new Map(m).set(cid, outcome));

  const prove = async (cid: string) => {
    const result = await agent.provePiece(cid, PROVE_CHALLENGES);
    if (!result.ok) {
      note(cid, { ok: false, text: `Could not prove: ${result.error.message}` });
      return;
    }
    const r = result.value;
    note(cid, proofPassed(r) ? { ok: true, text: proofScore(r) } : { ok: false, text: `Failed: ${proofScore(r)}${r.problem ? `. ${r.problem}` : ''}` });
    onChanged();
  };

  const scrub = async (cid: string) => {
    const result = await agent.scrubPiece(cid);
    if (!result.ok) {
      note(cid, { ok: false, text: `Could not check: ${result.error.message}` });
      return;
    }
    const intact = result.value.state !== 'corrupt' && result.value.lastScrub?.ok !== false;
    note(cid, intact ? { ok: true, text: 'Intact: it still matches its CID.' } : { ok: false, text: 'Corrupt: it no longer matches its CID, and is never served.' });
    onChanged(result.value);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="storage-pieces">
      <h2 id={`${ids}-title`} className="card-title">
        Pieces
      </h2>
      {pieces.length === 0 ? (
        <p className="muted">No pieces stored yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Piece</th>
              <th scope="col" data-numeric>
                Size
              </th>
              <th scope="col" data-numeric>
                Padded
              </th>
              <th scope="col" data-numeric>
                On disk
              </th>
              <th scope="col">State</th>
              <th scope="col">Last proof</th>
              <th scope="col">Integrity</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pieces.map((p) => {
              const outcome = outcomes.get(p.cid);
              return (
                <tr key={p.cid} data-testid="piece-row" data-cid={p.cid}>
                  <th scope="row">
                    <PieceCid cid={p.cid} copy />
                    {p.origin && <p className="field-hint path">{p.origin}</p>}
                  </th>
                  <td data-numeric>
                    <Bytes value={p.payloadSize} />
                  </td>
                  <td data-numeric>
                    <Bytes value={p.paddedSize} />
                  </td>
                  <td data-numeric>
                    <Bytes value={p.diskBytes} />
                  </td>
                  <td>
                    <span className={PIECE_STATE_TONE[p.state]} data-testid="piece-state">
                      {PIECE_STATE_LABEL[p.state]}
                    </span>
                  </td>
                  <td data-testid="piece-proof">
                    {p.lastProof ? (
                      <>
                        <span className={proofPassed(p.lastProof) ? undefined : 'field-error'}>{`${p.lastProof.passed}/${p.lastProof.challenges}`}</span>{' '}
                        <span className="muted">{formatDateTime(p.lastProof.at)}</span>
                        {p.lastProof.problem && <p className="field-hint">{p.lastProof.problem}</p>}
                      </>
                    ) : (
                      <span className="muted">not proved yet</span>
                    )}
                  </td>
                  <td data-testid="piece-scrub">
                    <ScrubText scrub={p.lastScrub} />
                  </td>
                  <td>
                    <div className="form-actions">
                      <button
                        type="button"
                        className="button button-small button-secondary"
                        disabled={!canAct(state) || !checkable(p)}
                        aria-busy={state.pending === `prove:${p.cid}`}
                        aria-label={`Prove now: piece ${p.cid}`}
                        onClick={() => void prove(p.cid)}
                      >
                        Prove now
                      </button>
                      <button
                        type="button"
                        className="button button-small button-secondary"
                        disabled={!canAct(state) || !checkable(p)}
                        aria-busy={state.pending === `scrub:${p.cid}`}
                        aria-label={`Check integrity: piece ${p.cid}`}
                        onClick={() => void scrub(p.cid)}
                      >
                        Check integrity
                      </button>
                    </div>
                    {outcome && (
                      <p className={outcome.ok ? 'form-status' : 'field-error'} role="status" data-testid="piece-outcome">
                        {outcome.text}
                      </p>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p className="card-foot">
        A proof answers {PROVE_CHALLENGES} random challenges with Merkle proofs checked against the piece’s CID. The integrity check re-hashes the whole piece;
        Offhours also runs it on its own, slowly, in the background.
      </p>
    </section>
  );
}

function ScrubText({ scrub }: { scrub: ScrubCheck | null }) {
  if (!scrub) return <span className="muted">not checked yet</span>;
  return (
    <>
      <span className={scrub.ok ? undefined : 'field-error'}>{scrub.ok ? 'intact' : 'corrupt'}</span> <span className="muted">{formatDateTime(scrub.at)}</span>
      {scrub.problem && <p className="field-hint">{scrub.problem}</p>}
    </>
  );
}
