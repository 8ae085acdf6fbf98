// What the machine draws now, what a kWh costs now, and whether working pays for it: the top of
// the Power page. Every figure says whether a sensor measured it or it was estimated, and why.
import { useId } from 'react';
import type { HourlyProfit, PowerView, PriceQuote } from '../../protocol/index.js';
import { BASIS_LABEL, clockOf, deviceLabel, formatWatts, money, PRICE_SOURCE_LABEL, SOURCE_LABEL } from './words.js';

export function BasisBadge({ basis }: { basis: 'measured' | 'estimated' }) {
  return (
    <span className={`badge${basis === 'estimated' ? ' badge-warning' : ''}`} data-testid="basis-badge">
      {BASIS_LABEL[basis]}
    </span>
  );
}

export function LivePowerCard({ view }: { view: PowerView }) {
  const ids = useId();
  const { snapshot } = view;
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="live-power">
      <h2 id={`${ids}-title`} className="card-title">
        Power draw now
      </h2>
      {snapshot.devices.length === 0 ? (
        <p className="muted">No device reports its power, and none could be estimated.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col" data-numeric>
                Now
              </th>
              <th scope="col" data-numeric>
                Idle baseline
              </th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {snapshot.devices.map((d) => (
              <tr key={d.device} data-testid="power-row" data-device={d.device}>
                <th scope="row">
                  {d.name}
                  <BasisBadge basis={d.basis} />
                </th>
                <td data-numeric>{formatWatts(d.watts)}</td>
                <td data-numeric>{d.idleBaselineWatts === null ? <span className="muted">not learned yet</span> : formatWatts(d.idleBaselineWatts)}</td>
                <td>
                  {SOURCE_LABEL[d.source]}
                  {d.basis === 'estimated' && d.note && <p className="field-hint">{d.note}</p>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {snapshot.notes.length > 0 && (
        <ul className="field-hint" aria-label="Sensors that could not be read">
          {snapshot.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <p className="card-foot">
        Wall power counts a PSU efficiency of {Math.round(snapshot.psuEfficiency * 100)}%
        {snapshot.calibrationFactor !== 1 ? ` and a wall-meter calibration ×${snapshot.calibrationFactor.toFixed(2)}` : ''}. Estimated figures come from the
        device’s rated power, not a sensor: costs built on them are estimates too.
      </p>
    </section>
  );
}

export function PriceNow({ price }: { price: PriceQuote | null }) {
  if (!price) {
    return (
      <p className="muted" data-testid="price-now">
        No electricity price set: add a tariff below (or a flat price in Schedule) to see what sharing costs.
      </p>
    );
  }
  return (
    <p data-testid="price-now">
      <strong>{money(price.perKwh, price.currency)} per kWh</strong> <span className="badge">{price.label}</span>{' '}
      <span className="muted">
        ({PRICE_SOURCE_LABEL[price.source]}
        {price.validUntil ? `, until ${clockOf(price.validUntil)}` : ''})
      </span>
    </p>
  );
}

function profitLine(p: HourlyProfit): string {
  const earn = p.earnPerHour === null ? 'jobs pay: not known yet' : `jobs pay ${money(p.earnPerHour, p.currency)}/h`;
  const cost = p.costPerHour === null ? 'electricity cost: not known' : `electricity costs ${money(p.costPerHour, p.currency)}/h`;
  return `${earn}, ${cost}`;
}

export function ProfitCard({ view }: { view: PowerView }) {
  const ids = useId();
  const names = new Map(view.snapshot.devices.map((d) => [d.device, d.name]));
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="profit">
      <h2 id={`${ids}-title`} className="card-title">
        Price and profit per hour
      </h2>
      <PriceNow price={view.price} />
      {view.profit.length === 0 ? (
        <p className="muted">No device has done work yet, so there is nothing to compare.</p>
      ) : (
        <ul className="resource-list">
          {view.profit.map((p) => (
            <li key={p.device} className="resource-row" data-testid="profit-row" data-device={p.device}>
              <span className="resource-label">
                {deviceLabel(p.device, names)}
                <BasisBadge basis={p.basis} />
              </span>
              <span className="resource-reason">
                {profitLine(p)}
                {p.watts !== null ? ` (${formatWatts(p.watts)} above idle)` : ''}
              </span>
              <span className="field-hint">{p.note}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
