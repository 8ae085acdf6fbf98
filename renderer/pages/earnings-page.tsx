// Earnings: what sharing earned, what the electricity cost, and the net, over a range the user
// picks, bucketed by hour, day or month and optionally split by network, device or job.
import { useEffect, useId, useMemo, useState } from 'react';
import type { EarningsReport } from '../../protocol/index.js';
import { PageHeader } from '../components/page-header.js';
import { saveTextFile } from '../earnings/download.js';
import { EarningsChart } from '../earnings/earnings-chart.js';
import { browserTimeZone, customRange, dayText, PRESETS, presetRange, type GroupBy, type Preset, type SplitBy } from '../earnings/range.js';
import { chartSeries, currenciesOf, totalsByKey } from '../earnings/sums.js';
import { SplitTable, TotalsCard } from '../earnings/totals.js';
import { useAgent } from '../use-agent.js';

const GROUP_LABEL: Record<GroupBy, string> = { hour: 'Hour', day: 'Day', month: 'Month' };

export function EarningsPage() {
  const { agent, state } = useAgent();
  const ids = useId();
  const timeZone = useMemo(browserTimeZone, []);
  const [preset, setPreset] = useState<Preset>('30d');
  const [range, setRange] = useState(() => presetRange('30d'));
  const [customFrom, setCustomFrom] = useState(() => dayText(new Date(Date.now() - 7 * 86_400_000)));
  const [customTo, setCustomTo] = useState(() => dayText(new Date()));
  const [groupBy, setGroupBy] = useState<GroupBy>('day');
  const [by, setBy] = useState<SplitBy | ''>('');
  const [report, setReport] = useState<EarningsReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [currency, setCurrency] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const connected = state.phase === 'connected';

  useEffect(() => {
    if (!connected) return;
    let live = true;
    void agent.loadEarnings({ from: range.from, to: range.to, groupBy, ...(by ? { by } : {}), timeZone }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setReport(r.value);
        setError(null);
      } else setError(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [agent, connected, range, groupBy, by, timeZone]);

  const choosePreset = (p: Preset) => {
    setPreset(p);
    const def = PRESETS.find((x) => x.id === p)!;
    setGroupBy(def.groupBy);
    if (p === 'custom') {
      const r = customRange(customFrom, customTo);
      if (r) setRange(r);
    } else setRange(presetRange(p));
  };
  const customInvalid = preset === 'custom' && customRange(customFrom, customTo) === null;

  const currencies = report ? currenciesOf(report.totals) : [];
  const shownCurrency = currency && currencies.includes(currency) ? currency : (currencies[0] ?? null);
  const series = useMemo(() => (report && shownCurrency ? chartSeries(report.buckets, shownCurrency) : null), [report, shownCurrency]);
  const empty = report !== null && report.buckets.length === 0 && report.totals.earnings === 0 && report.totals.energyMwh === 0;

  const exportCsv = async () => {
    setExporting(true);
    const r = await agent.exportEarningsCsv({ from: range.from, to: range.to, timeZone });
    setExporting(false);
    if (!r.ok) {
      setExportError(r.error.message);
      return;
    }
    setExportError(null);
    saveTextFile(`offhours-ledger-${range.from.slice(0, 10)}-to-${range.to.slice(0, 10)}.csv`, r.value);
  };

  return (
    <>
      <PageHeader title="Earnings" subtitle="What sharing earned, what the electricity cost, and the net." />
      <section className="card" aria-label="What to show" data-testid="earnings-controls">
        <div className="queue-form">
          <div className="form-field">
            <label htmlFor={`${ids}-preset`}>Range</label>
            <select id={`${ids}-preset`} className="select" value={preset} onChange={(e) => choosePreset(e.target.value as Preset)}>
              {PRESETS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
          </div>
          {preset === 'custom' && (
            <>
              <div className="form-field">
                <label htmlFor={`${ids}-from`}>First day</label>
                <input id={`${ids}-from`} type="date" className="input" value={customFrom} aria-invalid={customInvalid || undefined} onChange={(e) => setCustomFrom(e.target.value)} />
              </div>
              <div className="form-field">
                <label htmlFor={`${ids}-to`}>Last day</label>
                <input id={`${ids}-to`} type="date" className="input" value={customTo} aria-invalid={customInvalid || undefined} onChange={(e) => setCustomTo(e.target.value)} />
              </div>
              <div className="form-actions">
                <button
                  type="button"
                  className="button button-secondary"
                  disabled={customInvalid}
                  onClick={() => {
                    const r = customRange(customFrom, customTo);
                    if (r) setRange(r);
                  }}
                >
                  Show these days
                </button>
                {customInvalid && <span className="field-error">The last day must be on or after the first.</span>}
              </div>
            </>
          )}
          <div className="form-field">
            <label htmlFor={`${ids}-group`}>Group by</label>
            <select id={`${ids}-group`} className="select" value={groupBy} onChange={(e) => setGroupBy(e.target.value as GroupBy)}>
              {(Object.keys(GROUP_LABEL) as GroupBy[]).map((g) => (
                <option key={g} value={g}>
                  {GROUP_LABEL[g]}
                </option>
              ))}
            </select>
          </div>
          <div className="form-field">
            <label htmlFor={`${ids}-by`}>Split by</label>
            <select id={`${ids}-by`} className="select" value={by} onChange={(e) => setBy(e.target.value as SplitBy | '')}>
              <option value="">Nothing</option>
              <option value="network">Network</option>
              <option value="device">Device</option>
              <option value="job">Job</option>
            </select>
          </div>
          <div className="form-actions">
            <button type="button" className="button button-secondary" disabled={!connected || exporting} aria-busy={exporting} onClick={() => void exportCsv()}>
              Export CSV
            </button>
            <span className="field-hint">Every ledger entry in this range, for your records or taxes.</span>
          </div>
        </div>
        {exportError && (
          <p className="field-error" role="alert">
            Could not export: {exportError}
          </p>
        )}
      </section>

      {error && (
        <div className="banner banner-danger" role="alert" data-testid="earnings-error">
          <p className="banner-text">Could not load the earnings: {error}</p>
        </div>
      )}
      {!report && !error && <p className="muted">Loading…</p>}

      {empty && (
        <section className="card empty-state" data-testid="empty-state">
          <div className="empty-icon" aria-hidden="true" />
          <p className="empty-title">Nothing in the ledger for this range.</p>
          <p className="empty-text">No earnings and no electricity were recorded between these dates. Pick a longer range, or come back after some work has run.</p>
        </section>
      )}

      {report && !empty && (
        <div className="page-grid">
          <TotalsCard totals={report.totals} />
          <section className="card" aria-labelledby={`${ids}-chart`}>
            <div className="card-head">
              <h2 id={`${ids}-chart`} className="card-title">
                Over time
              </h2>
              {currencies.length > 1 && shownCurrency && (
                <span className="form-field">
                  <label htmlFor={`${ids}-cur`}>Currency</label>
                  <select id={`${ids}-cur`} className="select" value={shownCurrency} onChange={(e) => setCurrency(e.target.value)}>
                    {currencies.map((c) => (
                      <option key={c}>{c}</option>
                    ))}
                  </select>
                </span>
              )}
            </div>
            {series ? (
              <EarningsChart data={series} label={`Earned, electricity and net in ${series.currency} per ${groupBy}`} />
            ) : (
              <p className="muted">No amount in this range has a fiat value, so there is nothing to plot.</p>
            )}
            {!report.hourAligned && <p className="field-hint">This time zone is not a whole number of hours from UTC: days start up to an hour off.</p>}
          </section>
          {by && <SplitTable by={by} rows={totalsByKey(report.buckets)} />}
        </div>
      )}
    </>
  );
}
