// What each recent run of a job cost in electricity: the figures the ledger keeps, newest first.
import { useId } from 'react';
import type { PowerView } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { BasisBadge } from './live-power.js';
import { deviceLabel, formatEnergy, money } from './words.js';

export function JobCostsCard({ view }: { view: PowerView }) {
  const ids = useId();
  const names = new Map(view.snapshot.devices.map((d) => [d.device, d.name]));
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="job-costs">
      <h2 id={`${ids}-title`} className="card-title">
        Electricity per job
      </h2>
      {view.recentJobs.length === 0 ? (
        <p className="muted">No job has finished yet, so no electricity has been billed to one.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Device</th>
              <th scope="col">Ran</th>
              <th scope="col" data-numeric>
                Energy
              </th>
              <th scope="col" data-numeric>
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {view.recentJobs.map((j) => (
              <tr key={`${j.jobId}:${j.from}`} data-testid="job-cost-row">
                <td>{j.title ?? j.jobId}</td>
                <td>{deviceLabel(j.device, names)}</td>
                <td>
                  {formatDateTime(j.from)} – {formatDateTime(j.to)}
                </td>
                <td data-numeric>
                  {formatEnergy(j.mwh)}
                  <BasisBadge basis={j.basis} />
                </td>
                <td data-numeric>{j.cost !== null && j.currency !== null ? money(j.cost, j.currency) : <span className="muted">no price set</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
