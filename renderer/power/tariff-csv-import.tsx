// A dynamic tariff's prices come from a table the supplier publishes (Octopus Agile, Tibber,
// ENTSO-E exports). The agent parses it; this shows what it understood, and every row it could
// not read by its line number, before the user takes the prices into the draft.
import { useId, useState } from 'react';
import type { DynamicSlot, TariffCsvPreview } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { useAgent } from '../use-agent.js';
import { summarizeSlots } from './tariff-draft.js';

type Unit = 'guess' | 'major' | 'minor';

const SHOWN_ROWS = 5;
const SHOWN_ERRORS = 50;

export function TariffCsvImport({ currency, onUse, disabled }: { currency: string; onUse: (slots: DynamicSlot[]) => void; disabled?: boolean }) {
  const { agent } = useAgent();
  const ids = useId();
  const [csv, setCsv] = useState('');
  const [unit, setUnit] = useState<Unit>('guess');
  const [preview, setPreview] = useState<TariffCsvPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const runPreview = async () => {
    setBusy(true);
    const result = await agent.previewTariffCsv(unit === 'guess' ? { csv } : { csv, unit });
    setBusy(false);
    if (result.ok) {
      setPreview(result.value);
      setError(null);
    } else {
      setPreview(null);
      setError(result.error.message);
    }
  };

  const summary = preview ? summarizeSlots(preview.slots) : null;
  return (
    <div className="csv-import" data-testid="csv-import">
      <h4 className="card-subtitle">Import prices from a CSV file</h4>
      <div className="form-field">
        <label htmlFor={`${ids}-file`}>CSV file</label>
        <input
          id={`${ids}-file`}
          type="file"
          accept=".csv,text/csv,text/plain"
          disabled={disabled}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then((text) => setCsv(text));
          }}
        />
      </div>
      <div className="form-field">
        <label htmlFor={`${ids}-text`}>Or paste the table</label>
        <textarea id={`${ids}-text`} className="input csv-text" rows={5} value={csv} spellCheck={false} disabled={disabled} onChange={(e) => setCsv(e.target.value)} />
      </div>
      <div className="form-field">
        <label htmlFor={`${ids}-unit`}>Prices are in</label>
        <select id={`${ids}-unit`} className="select" value={unit} onChange={(e) => setUnit(e.target.value as Unit)}>
          <option value="guess">Guess from the header</option>
          <option value="major">{currency} per kWh</option>
          <option value="minor">Cents or pence per kWh</option>
        </select>
      </div>
      <div className="actions">
        <button type="button" className="button button-secondary" disabled={disabled || busy || csv.trim() === ''} aria-busy={busy} onClick={() => void runPreview()}>
          Preview prices
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {preview && summary && (
        <div className="csv-preview" data-testid="csv-preview">
          <p role="status" data-testid="csv-summary">
            {summary.count === 0
              ? 'No prices could be read from this table.'
              : `${summary.count} prices from ${formatDateTime(summary.first!)} to ${formatDateTime(summary.last!)}, lowest ${summary.min} and highest ${summary.max} ${currency} per kWh (read as ${preview.unit === 'minor' ? 'cents/pence, converted' : `${currency}`}).`}
          </p>
          {preview.slots.length > 0 && (
            <table className="table">
              <caption className="visually-hidden">First prices in the table</caption>
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col" data-numeric>
                    Per kWh
                  </th>
                </tr>
              </thead>
              <tbody>
                {preview.slots.slice(0, SHOWN_ROWS).map((s) => (
                  <tr key={s.start}>
                    <td>{formatDateTime(s.start)}</td>
                    <td>{formatDateTime(s.end)}</td>
                    <td data-numeric>{s.perKwh}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.errors.length > 0 && (
            <div className="banner banner-warning" data-testid="csv-errors">
              <div className="banner-text">
                <p className="banner-title">
                  {preview.errors.length} {preview.errors.length === 1 ? 'row was' : 'rows were'} not read:
                </p>
                <ul className="field-errors">
                  {preview.errors.slice(0, SHOWN_ERRORS).map((e) => (
                    <li key={`${e.line}:${e.message}`}>
                      line {e.line}: {e.message}
                    </li>
                  ))}
                </ul>
                {preview.errors.length > SHOWN_ERRORS && <p>…and {preview.errors.length - SHOWN_ERRORS} more.</p>}
              </div>
            </div>
          )}
          {preview.slots.length > 0 && (
            <button type="button" className="button button-primary" disabled={disabled} onClick={() => onUse(preview.slots)}>
              Use these {preview.slots.length} prices
            </button>
          )}
        </div>
      )}
    </div>
  );
}
