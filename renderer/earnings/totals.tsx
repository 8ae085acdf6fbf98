// The range's totals, said plainly: earned per token, the electricity, the net per currency, and
// how much of the earnings has no fiat value (kept out of the net rather than guessed).
import { useId } from 'react';
import type { EarningsFigures } from '../../protocol/index.js';
import { formatEnergy } from '../power/words.js';
import { amountsText, type KeyTotals } from './sums.js';

export function TotalsCard({ totals }: { totals: EarningsFigures }) {
  const ids = useId();
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="earnings-totals">
      <h2 id={`${ids}-title`} className="card-title">
        Totals
      </h2>
      <dl className="facts">
        <div>
          <dt>Earned</dt>
          <dd data-testid="total-gross">
            {amountsText(totals.gross)} <span className="muted">({totals.earnings} earnings)</span>
          </dd>
        </div>
        <div>
          <dt>Worth when earned</dt>
          <dd data-testid="total-value">{amountsText(totals.fiatValue)}</dd>
        </div>
        <div>
          <dt>Electricity</dt>
          <dd data-testid="total-cost">
            {amountsText(totals.energyCost)} <span className="muted">({formatEnergy(totals.energyMwh)})</span>
          </dd>
        </div>
        <div>
          <dt>Net</dt>
          <dd data-testid="total-net">
            <strong>{amountsText(totals.net)}</strong>
          </dd>
        </div>
        {Object.keys(totals.payouts).length > 0 && (
          <div>
            <dt>Paid out</dt>
            <dd data-testid="total-payouts">{amountsText(totals.payouts)}</dd>
          </div>
        )}
      </dl>
      {totals.unvaluedCount > 0 && (
        <p className="note" data-testid="unvalued-note">
          {totals.unvaluedCount === 1 ? '1 earning has' : `${totals.unvaluedCount} earnings have`} no fiat value and {totals.unvaluedCount === 1 ? 'is' : 'are'} not in the net (
          {amountsText(totals.unvalued)}): no price was known when {totals.unvaluedCount === 1 ? 'it was' : 'they were'} earned, and Offhours does not guess one.
        </p>
      )}
    </section>
  );
}

const SPLIT_LABEL = { network: 'Network', device: 'Device', job: 'Job' } as const;

export function SplitTable({ by, rows }: { by: keyof typeof SPLIT_LABEL; rows: readonly KeyTotals[] }) {
  const ids = useId();
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="earnings-split">
      <h2 id={`${ids}-title`} className="card-title">
        By {SPLIT_LABEL[by].toLowerCase()}
      </h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{SPLIT_LABEL[by]}</th>
            <th scope="col">Earned</th>
            <th scope="col">Electricity</th>
            <th scope="col">Net</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid="split-row">
              <th scope="row">{r.key}</th>
              <td>{amountsText(r.gross)}</td>
              <td>{amountsText(r.energyCost)}</td>
              <td>
                {amountsText(r.net)}
                {r.unvaluedCount > 0 && <span className="muted"> ({r.unvaluedCount} without a value)</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
